"""Sends queued messages in order, exactly once: each row has a transaction id derived from what
it is, so a retry after a crash is deduplicated by the homeserver."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.clock import Clock
from bot.matrix import MatrixError, Transport
from commands.effects import REF_PREFIX, txn_id
from storage.db import Database
from storage.models import OutboxMessage

log = logging.getLogger(__name__)
RECENTLY_SENT = 10000
# A sent message is marked sent in the database a moment later, with the others sent meanwhile:
# not while the homeserver is busy delivering it. Until then, a crash sends it again with the
# same transaction id, which the homeserver deduplicates.
MARK_AFTER_S = 0.2
__all__ = ["Outbox", "Queued", "UnresolvedReference", "txn_id"]


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
        """Does what the row asks; returns the event id (empty for an invite)."""
        content = json.loads(message.content)
        if REF_PREFIX in message.content:  # names an earlier message (most do not)
            content = await self._resolve(content)
        if message.action == "invite":
            await self.transport.invite(message.room_id, str(content["user_id"]))
            return ""
        if message.action == "state":
            return await self.transport.put_state(message.room_id, message.event_type,
                                                  message.state_key or "", content)
        if message.action == "leave":
            await self.transport.leave(message.room_id)
            return ""
        if message.action == "pin":
            return await self.transport.pin(message.room_id, content["pin"], content["unpin"])
        if message.action == "upload":
            data = base64.b64decode(content.pop("data"))
            content.update(await self.transport.upload(message.room_id, data,
                                                       content["info"]["mimetype"],
                                                       content["body"]))
        return await self.transport.send(message.room_id, content, message.txn_id,
                                         message.event_type)

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
