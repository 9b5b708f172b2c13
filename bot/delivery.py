"""What performing an outbox row may use (``Delivery``): the transport, the database for a room's
outcome or a refusal's message, the club's language; and the row as the sender holds it
(``Queued``). The executors of each kind of row are in ``bot.effects``."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.clock import Clock
from bot.matrix_api import MatrixError
from bot.transport import NewRoom, Transport
from commands.dispatch import new_reference
from commands.effects import REF_PREFIX, txn_id
from commands.i18n import Translator
from storage.db import Database
from storage.faults import StorageUnavailable
from storage.models import OutboxMessage
from storage.repositories import Repositories

log = logging.getLogger("bot.outbox")
REFUSED = "refused"  # in an invite's or a pin's row: the message posted if it is forbidden
OUTCOME = "outcome"  # in a row opening a room: what to do once it is opened (or refused)
SHARED = "shared"  # in an upload's row: the same bytes uploaded before may be posted again
UPLOADED = "uploaded:"  # bot_state: the content fields of a shared file, by its bytes' digest
OPENING = "opening:"  # bot_state: a room asked for a row (its txn id), outcome not recorded yet
# Longer content is not sent in one short request: a reply is a few KB, one cut in parts 60+
QUICK_CONTENT_CHARS = 16_384


class UnresolvedReference(Exception):
    """A message names an earlier one that was never sent (refused or set aside for good)."""


class WaitingForReference(Exception):
    """A message names an earlier one not sent yet (set aside, retried): it waits for it."""


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
    failing_since: datetime | None = None

    @property
    def quick(self) -> bool:
        """Sent in one short request: an event of ordinary size (not one to cut into parts or
        to send as a file), not an upload, an invitation, a room to open…"""
        return self.action == "send" and len(self.content) <= QUICK_CONTENT_CHARS

    @classmethod
    def of(cls, row: OutboxMessage) -> Queued:
        return cls(row.id, row.room_id, row.event_type, row.content, row.txn_id, row.action,
                   row.state_key, row.failing_since)


RoomOpened = Callable[[Repositories, Queued, dict[str, Any], NewRoom | None],
                      Awaitable[list[Queued]]]
"""Records what became of a room a row opened (``None``: refused), in the caller's transaction;
returns the rows it queued (the messages telling it, the invitations)."""
OutcomeFailed = Callable[[Repositories, Queued, dict[str, Any], str], Awaitable[list[Queued]]]
"""Tells, in the caller's transaction, that the outcome of a row could not be recorded (its
handler failed: error reference given); returns the rows it queued."""


@dataclass
class _Opening:
    """A room opened for a row whose outcome is not recorded yet (``None``: refused);
    ``final``: nothing more is asked of the homeserver for it (a row given up)."""

    room: NewRoom | None
    final: bool = False


class Delivery:
    """The sender's side an executor sees. Rows it queues (a refusal's message, what a room's
    outcome says) are handed to ``push``; ``write_marks`` writes the sent rows' event ids (a
    ``ref`` may name one sent a moment ago)."""

    def __init__(self, db: Database, transport: Transport, clock: Clock,
                 push: Callable[[Queued], None], write_marks: Callable[[], Awaitable[None]]) -> None:
        self.db = db
        self.transport = transport
        self.clock = clock
        self.push = push
        self.write_marks = write_marks
        self.t = Translator("fr")  # set by the runtime (the club's language)
        self.on_room_opened: RoomOpened | None = None  # set by the runtime (the dispatcher)
        self.on_outcome_failed: OutcomeFailed | None = None  # likewise
        self._opened: dict[int, _Opening] = {}

    async def send(self, message: Queued, content: dict[str, Any], txn: str | None = None) -> str:
        """Sends ``content`` as the row's event (with another transaction id: a part of it)."""
        if txn is not None:
            message = dataclasses.replace(message, txn_id=txn)
        return await self.transport.send(message.room_id, content, message.txn_id,
                                         message.event_type)

    async def uploaded(self, room_id: str, data: bytes, mimetype: str,
                       filename: str) -> dict[str, Any]:
        """The content fields naming ``data`` uploaded for ``room_id``: the same bytes are
        uploaded once (per kind of room: encrypted or not) and their fields kept in the
        database; no transaction is open while the homeserver answers."""
        encrypted = self.transport.is_encrypted(room_id)
        key = UPLOADED + hashlib.sha256(data).hexdigest()[:40] + (":e2e" if encrypted else "")
        async with self.db.transaction() as repos:
            kept = await repos.state.get(key)
        if kept is not None:
            return dict(json.loads(kept))
        fields = await self.transport.upload(room_id, data, mimetype, filename)
        async with self.db.transaction() as repos:
            await repos.state.set(key, json.dumps(fields))
        return fields

    def give_up_opening(self, row_id: int) -> None:
        """The row opening a room is given up: its outcome is recorded as it stands (a room
        created is told as such, its space listing refused; none is told as refused)."""
        opening = self._opened.setdefault(row_id, _Opening(None, True))
        if not opening.final and opening.room is not None:  # created, not completed
            opening.room = NewRoom(opening.room.room_id, space_refused=True)
        opening.final = True

    async def open_room(self, message: Queued, outcome: dict[str, Any],
                        create: Callable[[], Awaitable[NewRoom]],
                        complete: Callable[[NewRoom], Awaitable[NewRoom]] | None = None,
                        find: Callable[[], Awaitable[NewRoom | None]] | None = None) -> str:
        """Opens a room, then ``complete``s it (no transaction is open meanwhile), then records
        its outcome and marks the row sent in one transaction. A room is created once per row
        in this process: a retry (``complete`` failed, or recording) uses the same room. With
        ``find``, once across runs too (``_create``); without, a crash before the record opens
        it again at the next start (the first one stays empty)."""
        if message.id not in self._opened:
            try:
                self._opened[message.id] = _Opening(await self._create(message, create, find),
                                                    final=complete is None)
            except MatrixError as error:
                if not error.permanent:
                    raise
                log.warning("%s %s refused for good (%s)", message.action, message.id, error)
                self._opened[message.id] = _Opening(None, True)
        opening = self._opened[message.id]
        if opening.room is not None and complete is not None and not opening.final:
            opening.room = await complete(opening.room)
            opening.final = True
        room = opening.room
        await self._record(message, outcome, room,
                           forget=None if find is None else OPENING + message.txn_id)
        del self._opened[message.id]
        return room.room_id if room else ""

    async def fetch(self, message: Queued, outcome: dict[str, Any],
                    source: dict[str, Any]) -> str:
        """Downloads a posted file (no transaction is open meanwhile; a failure is told, not
        retried), then records its outcome, given ``content`` or ``problem``, and marks the row
        sent in one transaction. A row given up is told unreadable."""
        given_up = message.id in self._opened
        got = ({"problem": "unreadable"} if given_up
               else await self.transport.fetch_file(source))
        await self._record(message, {**outcome, "args": {**outcome["args"], **got}}, None)
        self._opened.pop(message.id, None)
        return ""

    async def _record(self, message: Queued, outcome: dict[str, Any],
                      room: NewRoom | None, forget: str | None = None) -> None:
        """The outcome recorded and the row marked sent, in one transaction (which deletes the
        ``forget`` state key: the record of a room asked for). An outcome whose handler fails
        (not the storage: that is tried again) is final: logged with a reference, told where
        it was asked (``on_outcome_failed``), the row marked sent; nothing is asked again of
        the homeserver (a room, a download) for it."""
        if self.on_room_opened is None:
            raise RuntimeError("no one records the outcome of the rows that open rooms")
        try:
            async with self.db.transaction() as repos:
                queued = await self.on_room_opened(repos, message, outcome, room)
                await self._sent(repos, message, room, forget)
        except StorageUnavailable:
            raise
        except Exception:
            reference = new_reference()
            log.exception("the outcome of %s %s failed (ref. %s): recorded as it stands",
                          message.action, message.id, reference)
            async with self.db.transaction() as repos:
                queued = ([] if self.on_outcome_failed is None else
                          await self.on_outcome_failed(repos, message, outcome, reference))
                await self._sent(repos, message, room, forget)
        for row in queued:
            self.push(row)

    async def _sent(self, repos: Repositories, message: Queued, room: NewRoom | None,
                    forget: str | None) -> None:
        await repos.outbox.mark_sent(message.id, room.room_id if room else "", self.clock.now())
        if forget is not None:
            await repos.state.delete(forget)

    async def _create(self, message: Queued, create: Callable[[], Awaitable[NewRoom]],
                      find: Callable[[], Awaitable[NewRoom | None]] | None) -> NewRoom:
        """The room created for the row. With ``find``, the request is recorded before it is
        made (committed: no transaction stays open while the homeserver answers); a row already
        asked for (an answer lost, or a crash before the outcome was recorded) first looks for
        the room that request made (``find``), and uses it."""
        if find is None:
            return await create()
        key = OPENING + message.txn_id
        async with self.db.transaction() as repos:
            asked = await repos.state.get(key)
            if asked is None:
                await repos.state.set(key, self.clock.now().isoformat())
        if asked is not None:
            found = await find()
            if found is not None:
                log.info("%s %s: the room asked for before is %s", message.action, message.id,
                         found.room_id)
                return found
        return await create()

    async def tell_refusal(self, message: Queued, refused: dict[str, Any]) -> None:
        """Queues the message an invite or a pin carries for when it is forbidden: once, by a
        transaction id derived from the row's."""
        async with self.db.transaction() as repos:
            row = await repos.outbox.add(txn_id=txn_id("refused", message.txn_id),
                                         room_id=str(refused["room_id"]),
                                         content=refused["content"], created_at=self.clock.now())
        if row is not None:
            self.push(Queued.of(row))

    async def resolve(self, content: Any) -> Any:
        """Puts the event ids of the messages named by ``ref`` placeholders in their place."""
        if isinstance(content, dict):
            return {key: await self.resolve(value) for key, value in content.items()}
        if isinstance(content, list):
            return [await self.resolve(value) for value in content]
        if isinstance(content, str) and content.startswith(REF_PREFIX):
            await self.write_marks()  # the message named may have just been sent
            async with self.db.reading() as repos:  # a read: no wait for the write lock
                event_id = await repos.outbox.reference(content[len(REF_PREFIX):])
            if event_id is None:
                raise WaitingForReference(content)
            if not event_id:
                raise UnresolvedReference(content)
            return event_id
        return content
