"""While another program holds the database's write lock: what a read can answer is answered
at once, without the outbox; the sender of a command that must wait is told, once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.outbox import txn_id
from bot.render import answer_content
from bot.running import CommandRunner, Handling, Received, answer_alone
from commands.dispatch import command_text
from commands.effects import Reply
from storage.db import Database
from storage.faults import StorageUnavailable
from storage.undo import Undo

log = logging.getLogger("bot.dispatcher")  # the dispatcher's records, as the log names them
SEND_NOW_LIMIT_S = 30.0  # a message sent without the outbox: how long it may take
SendNow = Callable[[str, dict[str, Any], str], Awaitable[Any]]  # room, content, txn id


@dataclass(frozen=True)
class _Waiting:
    """What ``tell_busy`` needs of a command: where to answer, whom, and in which thread."""

    event_id: str
    room_id: str
    sender: str
    thread_root: str | None


class BusyDatabase:
    """Answers from a read, and the « database busy » notice."""

    def __init__(self, db: Database, runner: CommandRunner) -> None:
        self.db = db
        self.runner = runner
        # sends at once, without the outbox (which needs a write): ``Transport.send``
        self.send_now: SendNow | None = None
        self._told_busy: set[str] = set()  # commands whose sender was told the database is busy

    def handled(self, event_id: str) -> None:
        """The command ran: a notice about it is no longer due."""
        self._told_busy.discard(event_id)

    async def answer_from_read(self, item: Received) -> bool:
        """Answers ``item`` at once if a read is enough — run in a read-only transaction, its
        handler wrote nothing and asks nothing more (no effect, follow-up or job to rebuild) —
        and returns ``True``; else ``False`` (it waits for the lock). The reply goes without
        the outbox, with the transaction id the outbox would give it (sent again after a
        crash, the homeserver keeps one); the caller records the command as handled once the
        lock is freed."""
        line = command_text(item.body, self.runner.club().prefix)
        if line is None or self.send_now is None:
            return False
        handling = Handling(item.event_id, item.room_id, "?", started=time.perf_counter())
        try:
            async with self.db.reading() as repos:
                reply = await self.runner.reply(item, line, repos, handling, undo=Undo.NOTHING)
        except StorageUnavailable:  # it writes: it waits for the lock
            return False
        content = answer_alone(reply, item)
        if content is None:
            return False
        if not await self._send_now(item, content, txn_id("reply", item.event_id)):
            return False
        handling.log()
        return True

    async def tell_busy(self, item: Received | _Waiting) -> None:
        """Tells the sender of ``item``, once, that the database is busy and the command will
        be run when it frees (without the outbox: writing there waits for the lock too)."""
        if item.event_id in self._told_busy:
            return
        content = answer_content(Reply(self.runner.t("error.storage_busy")), item)
        if await self._send_now(item, content, txn_id("busy", item.event_id)):
            self._told_busy.add(item.event_id)

    async def tell_queued_busy(self, event_id: str) -> None:
        """``tell_busy`` for a command of the inbox (read without waiting for the lock)."""
        try:
            async with self.db.reading() as repos:
                item = await repos.inbox.get(event_id)
                if item is None or item.handled_at is not None:
                    return
                command = _Waiting(item.event_id, item.room_id, item.sender, item.thread_root)
        except StorageUnavailable:
            return
        await self.tell_busy(command)

    async def _send_now(self, item: Received | _Waiting, content: dict[str, Any],
                        txn: str) -> bool:
        """Sends ``content`` in the command's room at once; ``False`` if it could not be."""
        if self.send_now is None:
            return False
        try:
            await asyncio.wait_for(self.send_now(item.room_id, content, txn), SEND_NOW_LIMIT_S)
        except Exception as error:  # the message waits for the lock, with the command
            log.warning("could not answer %s at once (%s)", item.event_id, error)
            return False
        return True
