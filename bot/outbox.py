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
from typing import Any

from bot.clock import Clock
from bot.matrix import MatrixError, Transport
from commands.effects import REF_PREFIX, txn_id
from storage.db import Database
from storage.models import OutboxMessage

log = logging.getLogger(__name__)
RECENTLY_SENT = 10000
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
        """Sends every pending message now: those handed over in memory, then the database's."""
        self._scan = True
        await self._send_pending()
        if not self._ready:
            self._idle.set()

    async def _send_pending(self) -> None:
        """Sends what was handed over in memory, then, when rows may have been committed
        without it (at start, after a failure, ``wake()``), what the database holds."""
        while self._ready:
            await self._send_one(self._ready.popleft())
        if not self._scan:
            return
        self._scan = False
        while True:
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
        async with self.db.transaction() as repos:
            await repos.outbox.mark_sent(message.id, event_id, self.clock.now())
        self._sent[message.id] = None
        while len(self._sent) > RECENTLY_SENT:
            self._sent.popitem(last=False)
        self.sent_count += 1

    async def _perform(self, message: Queued) -> str:
        """Does what the row asks; returns the event id (empty for an invite)."""
        content = await self._resolve(json.loads(message.content))
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
            async with self.db.transaction() as repos:
                event_id = await repos.outbox.event_id_of(content[len(REF_PREFIX):])
            if not event_id:
                raise UnresolvedReference(content)
            return event_id
        return content
