"""Sends queued messages in order, exactly once: each row has a transaction id derived from what
it is, so a retry after a crash is deduplicated by the homeserver. Besides messages, a row may
invite, set state, pin, upload, leave, or open a room (``create_room``, ``direct_room``: the
room's outcome is recorded with the row marked sent, in one transaction)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import oversize
from bot.clock import Clock
from bot.matrix import MatrixError, NewRoom, Transport
from commands.effects import REF_PREFIX, txn_id
from commands.i18n import Translator
from storage.db import Database
from storage.models import OutboxMessage
from storage.repositories import Repositories

log = logging.getLogger(__name__)
RECENTLY_SENT = 10000
# A sent message is marked sent in the database a moment later, with the others sent meanwhile:
# not while the homeserver is busy delivering it. Until then, a crash sends it again with the
# same transaction id, which the homeserver deduplicates.
MARK_AFTER_S = 0.2
REFUSED = "refused"  # in an invite's or a pin's row: the message posted if it is forbidden
OUTCOME = "outcome"  # in a row opening a room: what to do once it is opened (or refused)
__all__ = ["OUTCOME", "REFUSED", "Outbox", "Queued", "RoomOpened", "UnresolvedReference",
           "txn_id"]


class UnresolvedReference(Exception):
    """A message names an earlier one that was never sent (refused for good)."""


@dataclass(frozen=True)
class Queued:
    """A committed outbox row, handed to the sender in memory (no re-read before sending)."""

    id: int
    room_id: str
    event_type: str
    content: str
    txn_id: str
    action: str = "send"
    state_key: str | None = None

    @classmethod
    def of(cls, row: OutboxMessage) -> Queued:
        return cls(row.id, row.room_id, row.event_type, row.content, row.txn_id, row.action,
                   row.state_key)


RoomOpened = Callable[[Repositories, Queued, dict[str, Any], NewRoom | None],
                      Awaitable[list[Queued]]]
"""Records what became of a room a row opened (``None``: refused), in the caller's transaction;
returns the rows it queued (the messages telling it, the invitations)."""


class Outbox:
    """The single sender: wakes when a message is queued, sends pending rows oldest first."""

    def __init__(self, db: Database, transport: Transport, clock: Clock) -> None:
        self.db = db
        self.transport = transport
        self.clock = clock
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._ready: deque[Queued] = deque()
        self._scan = True  # rows may be in the database that were not handed over in memory
        self._sent: OrderedDict[int, None] = OrderedDict()  # recently sent row ids
        self._marks: list[tuple[int, str, datetime]] = []  # sent, not yet marked in the database
        self._marking: asyncio.Task[None] | None = None
        self.sent_count = 0
        self.on_room_opened: RoomOpened | None = None  # set by the runtime (the dispatcher)
        self._opened: dict[int, NewRoom | None] = {}  # rooms opened, their outcome not recorded
        self.t = Translator("fr")  # set by the runtime (the club's language)

    def push(self, message: Queued) -> None:
        """Sends a just-committed message as soon as possible."""
        self._ready.append(message)
        self._signal()

    def wake(self) -> None:
        """Messages were committed without being handed over: the database is read for them."""
        self._scan = True
        self._signal()

    def _signal(self) -> None:
        self._idle.clear()
        self._wake.set()

    @property
    def idle(self) -> bool:
        """Nothing handed over or woken for is left to send."""
        return self._idle.is_set()

    async def settled(self, limit_s: float) -> None:
        """Waits until nothing is left to send (at most ``limit_s`` seconds)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), limit_s)

    async def run(self) -> None:
        """Sends forever (until cancelled)."""
        delay = 1.0
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._send_pending()
                delay = 1.0
                if not self._wake.is_set():
                    self._idle.set()
            except Exception:
                log.exception("outbox: sending failed; retrying in %.0fs", delay)
                self._scan = True  # what was handed over and not sent is still in the database
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
                self._wake.set()

    async def flush(self) -> None:
        """Sends every pending message now: those handed over in memory, then the database's;
        and marks them sent."""
        self._scan = True
        await self._send_pending()
        if self._marking is not None:
            self._marking.cancel()  # written now instead
            self._marking = None
        await self.write_marks()
        if not self._ready:
            self._idle.set()

    async def write_marks(self) -> None:
        """Marks what was sent as sent in the database, in one transaction."""
        marks, self._marks = self._marks, []
        if not marks:
            return
        try:
            async with self.db.transaction() as repos:
                for row_id, event_id, at in marks:
                    await repos.outbox.mark_sent(row_id, event_id, at)
        except BaseException:
            self._marks = marks + self._marks  # kept for the next try (sent only once meanwhile)
            raise

    async def _write_marks_soon(self) -> None:
        await asyncio.sleep(MARK_AFTER_S)
        self._marking = None
        try:
            await self.write_marks()
        except Exception:
            log.exception("outbox: could not mark %d message(s) sent; retrying", len(self._marks))
            self._schedule_marks()

    def _schedule_marks(self) -> None:
        if self._marking is None:
            self._marking = asyncio.create_task(self._write_marks_soon())

    async def _send_pending(self) -> None:
        """Sends what was handed over in memory, then, when rows may have been committed
        without it (at start, after a failure, ``wake()``), what the database holds."""
        while self._ready:
            await self._send_one(self._ready.popleft())
        if not self._scan:
            return
        self._scan = False
        while True:
            await self.write_marks()  # what is sent is not read as pending
            async with self.db.transaction() as repos:
                pending = [Queued.of(row) for row in await repos.outbox.pending(limit=100)]
            if not pending:
                return
            for message in pending:
                await self._send_one(message)

    async def _send_one(self, message: Queued) -> None:
        if message.id in self._sent:
            return
        try:
            event_id = await self._perform(message)
        except UnresolvedReference as error:
            log.error("%s %s to %s names a message never sent (%s); dropped", message.action,
                      message.id, message.room_id, error)
            async with self.db.transaction() as repos:
                await repos.outbox.drop(message.id)
            return
        except MatrixError as error:
            log.error("%s %s to %s refused for good (%s); dropped", message.action, message.id,
                      message.room_id, error)
            async with self.db.transaction() as repos:
                await repos.outbox.drop(message.id)
            return
        log.debug("outbox: %s sent", message.action, extra={  # done, whatever happens next
            "action": message.action, "row": message.id, "room": message.room_id,
            "sent_event": event_id})
        self._marks.append((message.id, event_id, self.clock.now()))
        self._schedule_marks()
        self._sent[message.id] = None
        while len(self._sent) > RECENTLY_SENT:
            self._sent.popitem(last=False)
        self.sent_count += 1

    async def _perform(self, message: Queued) -> str:
        """Does what the row asks; returns the event id (empty for an invite). An invite or a
        pin the homeserver forbids posts the message it carries for that, then raises."""
        content = json.loads(message.content)
        if REF_PREFIX in message.content:  # names an earlier message (most do not)
            content = await self._resolve(content)
        refused = content.pop(REFUSED, None) if message.action in ("invite", "pin") else None
        try:
            return await ACTIONS.get(message.action, Outbox._send)(self, message, content)
        except MatrixError as error:
            if refused is not None and error.code == "M_FORBIDDEN":
                await self._tell_refusal(message, refused)
            raise

    async def _send(self, message: Queued, content: dict[str, Any]) -> str:
        return await self.transport.send(message.room_id, content, message.txn_id,
                                         message.event_type)

    async def _send_sized(self, message: Queued, content: dict[str, Any]) -> str:
        """A message too large for one event goes in parts or as a file (``bot.oversize``)."""
        room_id = message.room_id

        async def send(part: dict[str, Any], txn: str) -> str:
            return await self._send(dataclasses.replace(message, txn_id=txn), part)

        async def upload(data: bytes, mimetype: str, filename: str) -> dict[str, Any]:
            return await self.transport.upload(room_id, data, mimetype, filename)

        sized = oversize.Message(room_id, content, message.txn_id, message.event_type,
                                 self.transport.is_encrypted(room_id))
        return await oversize.deliver(sized, send, upload, self.t)

    async def _upload(self, message: Queued, content: dict[str, Any]) -> str:
        data = base64.b64decode(content.pop("data"))
        content.update(await self.transport.upload(message.room_id, data,
                                                   content["info"]["mimetype"], content["body"]))
        return await self._send(message, content)

    async def _invite(self, message: Queued, content: dict[str, Any]) -> str:
        await self.transport.invite(message.room_id, str(content["user_id"]))
        return ""

    async def _state(self, message: Queued, content: dict[str, Any]) -> str:
        return await self.transport.put_state(message.room_id, message.event_type,
                                              message.state_key or "", content)

    async def _leave(self, message: Queued, _content: dict[str, Any]) -> str:
        await self.transport.leave(message.room_id)
        return ""

    async def _pin(self, message: Queued, content: dict[str, Any]) -> str:
        return await self.transport.pin(message.room_id, content["pin"], content["unpin"])

    async def _create_room(self, message: Queued, content: dict[str, Any]) -> str:
        room = content["room"]
        return await self._open(message, content[OUTCOME], lambda: self.transport.create_room(
            name=room["name"], topic=room["topic"], space=room["space"],
            moderators=room["user_ids"]))

    async def _direct_room(self, message: Queued, content: dict[str, Any]) -> str:
        async def direct() -> NewRoom:
            return NewRoom(await self.transport.direct_room(str(content["user_id"])))
        return await self._open(message, content[OUTCOME], direct)

    async def _open(self, message: Queued, outcome: dict[str, Any],
                    create: Callable[[], Awaitable[NewRoom]]) -> str:
        """Opens a room (no transaction is open meanwhile), then records its outcome and marks
        the row sent in one transaction. A room is opened once per row in this process: when
        recording fails, the retry records the same room. A crash before the record opens it
        again at the next start (the first one stays empty)."""
        if message.id not in self._opened:
            try:
                self._opened[message.id] = await create()
            except MatrixError as error:
                if not error.permanent:
                    raise
                log.warning("%s %s refused for good (%s)", message.action, message.id, error)
                self._opened[message.id] = None
        room = self._opened[message.id]
        if self.on_room_opened is None:
            raise RuntimeError("no one records the outcome of the rooms the bot opens")
        async with self.db.transaction() as repos:
            queued = await self.on_room_opened(repos, message, outcome, room)
            await repos.outbox.mark_sent(message.id, room.room_id if room else "",
                                         self.clock.now())
        del self._opened[message.id]
        for row in queued:
            self.push(row)
        return room.room_id if room else ""

    async def _tell_refusal(self, message: Queued, refused: dict[str, Any]) -> None:
        """Queues the message an invite or a pin carries for when it is forbidden: once, by a
        transaction id derived from the row's."""
        async with self.db.transaction() as repos:
            row = await repos.outbox.add(txn_id=txn_id("refused", message.txn_id),
                                         room_id=str(refused["room_id"]),
                                         content=refused["content"], created_at=self.clock.now())
        if row is not None:
            self.push(Queued.of(row))

    async def _resolve(self, content: Any) -> Any:
        """Puts the event ids of the messages named by ``ref`` placeholders in their place."""
        if isinstance(content, dict):
            return {key: await self._resolve(value) for key, value in content.items()}
        if isinstance(content, list):
            return [await self._resolve(value) for value in content]
        if isinstance(content, str) and content.startswith(REF_PREFIX):
            await self.write_marks()  # the message named may have just been sent
            async with self.db.transaction() as repos:
                event_id = await repos.outbox.event_id_of(content[len(REF_PREFIX):])
            if not event_id:
                raise UnresolvedReference(content)
            return event_id
        return content


Action = Callable[[Outbox, Queued, dict[str, Any]], Awaitable[str]]
ACTIONS: dict[str, Action] = {
    "send": Outbox._send_sized, "upload": Outbox._upload, "invite": Outbox._invite,
    "state": Outbox._state, "leave": Outbox._leave, "pin": Outbox._pin,
    "create_room": Outbox._create_room, "direct_room": Outbox._direct_room}
"""What each row's ``action`` does (``bot.effects`` makes the rows)."""
