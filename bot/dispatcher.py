"""Queued command -> context -> handler, inside one transaction; errors mapped to replies.

Each command runs as a tracked background task, so a slow one never stalls the sync loop;
commands of one room run in the order they were sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.clock import Clock
from bot.effects import queue_effects
from bot.outbox import Outbox, Queued, txn_id
from bot.render import message_content
from commands.context import Club, Context, Reply
from commands.dispatch import (
    command_text,
    error_reply,
    internal_error_reply,
    new_reference,
    prepare,
    run,
)
from commands.errors import StorageUnavailable, UserError
from commands.i18n import Translator
from commands.ports import MatrixPort
from commands.registry import Registry, Role
from storage.db import Database
from storage.models import InboxEvent
from storage.repositories import Repositories

log = logging.getLogger(__name__)
RoleOf = Callable[[str], Awaitable[Role]]
RETRY_MAX_S = 60.0
Reschedule = Callable[[str], Awaitable[int]]


@dataclass
class Handling:
    """What the log says of one command: which one (``None``: not a command) and how it ended."""

    event_id: str
    room_id: str = ""
    command: str | None = None
    outcome: str = "ok"
    started: float = 0.0

    def log(self) -> None:
        if self.command is None:
            return
        log.info("command handled", extra={
            "command": self.command, "outcome": self.outcome, "room": self.room_id,
            "event": self.event_id, "ms": round((time.perf_counter() - self.started) * 1000, 1)})


class Dispatcher:
    """Runs queued commands and queues their replies."""

    def __init__(self, registry: Registry, db: Database, outbox: Outbox, clock: Clock,
                 club: Club, role_of: RoleOf, matrix: MatrixPort | None = None) -> None:
        self.registry = registry
        self.db = db
        self.outbox = outbox
        self.clock = clock
        self.club = club
        self.role_of = role_of
        self.matrix = matrix
        self.on_reschedule: Reschedule | None = None  # rebuilds a kind of scheduled jobs
        self.t = Translator(club.language)
        self._room_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, event_id: str, room_id: str) -> asyncio.Task[None]:
        """Handles one queued command in the background."""
        task = asyncio.create_task(self._handle_in_order(event_id, room_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self, limit_s: float = 30.0) -> None:
        """Waits for the commands under way; those still waiting for the database after
        ``limit_s`` seconds are left queued (they run at the next start)."""
        deadline = asyncio.get_running_loop().time() + limit_s
        while self._tasks:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
                return
            await asyncio.wait(list(self._tasks), timeout=left)

    async def resume(self) -> int:
        """Submits every command queued but not handled (after a restart)."""
        async with self.db.transaction() as repos:
            pending = [(row.event_id, row.room_id) for row in await repos.inbox.pending(100000)]
        for event_id, room_id in pending:
            self.submit(event_id, room_id)
        return len(pending)

    async def _handle_in_order(self, event_id: str, room_id: str) -> None:
        delay = 1.0
        while True:
            async with self._room_locks[room_id]:
                try:
                    await self.handle(event_id)
                    return
                except StorageUnavailable:
                    log.error("command %s kept queued: the database is unavailable; retrying in "
                              "%.0f s", event_id, delay)
                except Exception:
                    log.exception("command %s could not be handled", event_id)
                    return
            await asyncio.sleep(delay)  # the database may come back: the command then runs
            delay = min(delay * 2, RETRY_MAX_S)

    async def handle(self, event_id: str) -> None:
        """Runs the command once: its changes, its reply and its 'handled' mark in one commit."""
        failure: Reply | None = None
        queued: list[Queued] = []
        reschedule: tuple[str, ...] = ()
        handling = Handling(event_id, started=time.perf_counter())
        try:
            async with self.db.transaction() as repos:
                item = await repos.inbox.get(event_id)
                if item is None or item.handled_at is not None:
                    return
                reply = await self._run(item, repos, handling)
                queued = await self._finish(repos, item, reply)
                reschedule = reply.reschedule
        except UserError as error:
            handling.outcome = "unavailable" if isinstance(error, StorageUnavailable) else "refused"
            failure = self._refusal(error, event_id)
        except Exception:
            handling.outcome = "error"
            failure = self._internal_error(event_id)
        if failure is not None:
            async with self.db.transaction() as repos:
                item = await repos.inbox.get(event_id)
                if item is None or item.handled_at is not None:
                    return
                if command_text(item.body, self.club.prefix) is not None:
                    await self._touch(repos, item)
                queued = await self._finish(repos, item, failure)
        for message in queued:
            self.outbox.push(message)
        handling.log()
        for kind in reschedule:
            if self.on_reschedule is not None:
                await self.on_reschedule(kind)

    def _refusal(self, error: UserError, event_id: str) -> Reply:
        try:
            return error_reply(error, self.t, self.club.prefix)
        except Exception:
            return self._internal_error(event_id)

    def _internal_error(self, event_id: str) -> Reply:
        reference = new_reference()
        log.exception("internal error (ref. %s) on command %s", reference, event_id)
        return internal_error_reply(self.t, reference)

    async def _run(self, item: InboxEvent, repos: Repositories, handling: Handling) -> Reply:
        line = command_text(item.body, self.club.prefix)
        if line is None:
            return Reply("")
        handling.room_id, handling.command = item.room_id, "?"
        await self._touch(repos, item)
        role = await self.role_of(item.sender)
        prepared = prepare(self.registry, line, role)
        handling.command = prepared.command.key
        ctx = Context(sender=item.sender, room_id=item.room_id, event_id=item.event_id,
                      sent_at=item.sent_at, now=self.clock.now(), role=role, club=self.club,
                      t=self.t, repos=repos, matrix=self.matrix)
        return await run(prepared, ctx)

    async def _touch(self, repos: Repositories, item: InboxEvent) -> None:
        """The sender took part (one cheap upsert, in the command's transaction)."""
        await repos.participants.touch(item.sender, item.sent_at,
                                       item.sent_at.astimezone(self.club.tz).year)

    async def _finish(self, repos: Repositories, item: InboxEvent, reply: Reply) -> list[Queued]:
        """Queues the reply and its effects, and marks the command handled (same transaction)."""
        now = self.clock.now()
        queued = []
        if reply.markdown:
            content = message_content(reply, in_reply_to=item.event_id, reply_sender=item.sender)
            row = await repos.outbox.add(txn_id=txn_id("reply", item.event_id),
                                         room_id=item.room_id, content=content, created_at=now)
            if row is not None:
                queued.append(Queued.of(row))
        queued += await queue_effects(repos, reply.effects, item.event_id, now)
        await repos.inbox.mark_handled(item.event_id, now)
        return queued

