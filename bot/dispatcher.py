"""Received commands → run, each in one transaction, in their room's order.

The entry point is ``Dispatcher.take``: the commands of a sync batch, in the batch's
transaction; a lone one whose room has nothing waiting runs there and then, the others each in
a tracked background task once the batch is committed (a slow one never stalls the sync).
Commands beyond a person's rate (``CommandRate``) are set aside before they are queued. While
another program holds SQLite's write lock, a command waits for it (without stopping the event
loop) and its sender is told once when that lasts (``bot.busy``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from bot.after_commit import FOLLOW_UP_DELAY_S, AfterCommit, Reschedule
from bot.busy import BusyDatabase, SendNow
from bot.clock import Clock
from bot.effects import queue_effects
from bot.outbox import Outbox, Queued
from bot.rate import CommandRate
from bot.running import CommandRunner, Handled, Membership, Prepared, Received, SendAhead
from bot.transport import NewRoom
from commands.arguments import split_first
from commands.context import Club, RoomOutcome
from commands.delivery import failure_report
from commands.dispatch import command_text
from commands.effects import Leave, Post, Reply
from commands.events import Redaction
from commands.i18n import Translator
from commands.ports import MatrixPort
from commands.registry import Registry
from commands.roles import Role
from storage.db import Database
from storage.faults import StorageBusy, StorageUnavailable, storage_faults
from storage.repositories import Repositories

R = TypeVar("R", bound=Received)
log = logging.getLogger(__name__)
RETRY_MAX_S = 60.0
# how long a command waits for another program's write lock before its sender is told
BUSY_NOTICE_S = 5.0


@dataclass
class Taken:
    """Commands handed over in their batch's transaction: ``handled``, run in it; ``later``,
    to run in the background once it is committed (``start``)."""

    dispatcher: Dispatcher
    handled: list[Handled] = field(default_factory=list)
    later: list[Received] = field(default_factory=list)

    async def start(self) -> list[asyncio.Task[None]]:
        """Once the batch is committed: the replies of the commands run go, the others start
        (their tasks are returned)."""
        for handled in self.handled:
            await self.dispatcher.after_commit(handled)
        return [self.dispatcher.submit(c.event_id, c.room_id, self.dispatcher.hold(c.room_id))
                for c in self.later]


class Dispatcher:
    """Runs received commands and queues their replies."""

    def __init__(self, registry: Registry, db: Database, outbox: Outbox, clock: Clock,
                 club: Club, membership: Membership, matrix: MatrixPort | None = None,
                 follow_up_delay_s: float = FOLLOW_UP_DELAY_S,
                 busy_notice_s: float = BUSY_NOTICE_S) -> None:
        self.registry = registry
        self.db = db
        self.clock = clock
        self.club = club
        self.membership = membership
        self.busy_notice_s = busy_notice_s
        # What a command in a room waits for before it runs (the start finding the club's
        # rooms: ``bot.rooms.Rooms.held``); nothing by default.
        self.hold: Callable[[str], asyncio.Event | None] = lambda _room_id: None
        self.t = Translator(club.language)
        self.runner = CommandRunner(registry, clock, membership, matrix, lambda: self.club,
                                    self.t)
        self.reads = BusyDatabase(db, self.runner)
        self.after = AfterCommit(db, outbox, clock, self._track, follow_up_delay_s)
        self._room_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        # queued commands of many rooms at once (each room's in order): as many as the database
        # runs well (none on SQLite, where a command waiting for another program's lock must not
        # keep the others from being told so)
        at_once = db.transactions_at_once
        self._running: contextlib.AbstractAsyncContextManager[Any] = (
            contextlib.nullcontext() if at_once is None else asyncio.Semaphore(at_once))
        self._tasks: set[asyncio.Task[None]] = set()
        self._waiting: defaultdict[str, int] = defaultdict(int)  # room id -> tasks not done
        # event id -> a redaction seen by the sync that may take back a command queued here
        self._redactions: dict[str, Redaction] = {}
        self._slow_ids: set[str] = set()  # slow commands queued (``_prepared``)
        self.rate = CommandRate(club.limits.commands_per_minute)

    @property
    def on_reschedule(self) -> Reschedule | None:
        """Rebuilds a kind of scheduled jobs (``Scheduler.refresh``)."""
        return self.after.on_reschedule

    @on_reschedule.setter
    def on_reschedule(self, rebuild: Reschedule | None) -> None:
        self.after.on_reschedule = rebuild

    @property
    def follow_up_delay_s(self) -> float:
        return self.after.follow_up_delay_s

    @follow_up_delay_s.setter
    def follow_up_delay_s(self, delay: float) -> None:
        self.after.follow_up_delay_s = delay

    @property
    def send_now(self) -> SendNow | None:
        """Sends at once, without the outbox (which needs a write): ``Transport.send``."""
        return self.reads.send_now

    @send_now.setter
    def send_now(self, send: SendNow | None) -> None:
        self.reads.send_now = send

    def runs_with_batch(self, commands: Sequence[R]) -> R | None:
        """The command of a sync batch to run in the transaction that saves it (one commit
        before its reply leaves): a lone one, not slow, whose room has nothing waiting before
        it; ``None`` if there is none."""
        if len(commands) != 1:
            return None
        room_id = commands[0].room_id
        if self.busy(room_id) or self.hold(room_id) is not None or self._slow(commands[0]):
            return None
        return commands[0]

    async def take(self, repos: Repositories, commands: Sequence[Received],
                   run_here: Received | None = None, *, alone: bool = False) -> Taken:
        """The commands of a sync batch, just saved in ``repos``' transaction: ``run_here``
        (``runs_with_batch``, recorded as handled with its batch), if among them, runs in that
        transaction; the others run once it is committed (``Taken.start``). ``alone``: the
        batch saves nothing else (``Batch.answers_only``): a reply that is all its handler did
        is sent before its row is written and committed (``bot.ahead``)."""
        self._slow_ids |= {command.event_id for command in commands if self._slow(command)}
        if run_here is not None and [c.event_id for c in commands] == [run_here.event_id]:
            ahead = self.after.outbox.send_ahead if alone else None
            return Taken(self, [await self.run_command(repos, run_here, with_batch=True,
                                                       ahead=ahead)])
        return Taken(self, later=list(commands))

    def _slow(self, item: Received) -> bool:
        """Whether ``item`` names a slow command (``Command.slow``: ``!bilan``): run with its
        batch, the sync would wait for it, and the bot's other rooms with it."""
        line = command_text(item.body, self.club.prefix)
        found = None if line is None else self.registry.find(split_first(line)[0])
        return found is not None and found.slow

    async def run_command(self, repos: Repositories, item: Received,
                          prepared: Prepared | None = None, *, with_batch: bool = False,
                          ahead: SendAhead | None = None) -> Handled:
        """Runs a received command in the caller's transaction (``CommandRunner.run``)."""
        return await self.runner.run(repos, item, prepared, with_batch=with_batch, ahead=ahead)

    async def screen(self, commands: Iterable[Received]) -> dict[str, Reply | None]:
        """The commands of a sync batch over their sender's rate (coordinators have none), by
        event id: the notice to answer with, or ``None`` to drop silently. None of them is run;
        the others count towards their sender's rate. Cheap when nobody is over it: no read."""
        limited: dict[str, Reply | None] = {}
        now = self.clock.now()
        for command in commands:
            wait = self.rate.over(command.sender, command.sent_at, now)
            if wait is None or await self.membership.role_of(command.sender) >= Role.COORDINATOR:
                continue
            notice = None
            if self.rate.notice_due(command.sender, now):
                notice = Reply(self.t("limit.commands", limit=self.rate.limit,
                                      seconds=max(1, math.ceil(wait.total_seconds()))))
            limited[command.event_id] = notice
            log.info("command over its sender's rate: %s", "told" if notice else "dropped",
                     extra={"event": command.event_id, "room": command.room_id,
                            "outcome": "limited"})
        return limited

    async def answer_limited(self, repos: Repositories, item: Received,
                             notice: Reply) -> list[Queued]:
        """Queues the notice answering a command over its sender's rate (recorded as handled
        with its batch, never run)."""
        return await self.runner.finish(repos, item, notice)

    def submit(self, event_id: str, room_id: str,
               hold: asyncio.Event | None = None) -> asyncio.Task[None]:
        """Handles one queued command in the background (once ``hold`` is set, if given)."""
        task = self._track(asyncio.create_task(self._handle_in_order(event_id, room_id, hold)))
        self._waiting[room_id] += 1
        task.add_done_callback(lambda _done: self._done(room_id))
        return task

    def note_redactions(self, redactions: Iterable[Redaction]) -> None:
        """Redactions read by the sync, before their batch is saved: a command of a busy room
        that one of them takes back is not run, even if its task gets the database before the
        batch does (the database was unavailable to both)."""
        for redaction in redactions:
            if self.busy(redaction.room_id):
                self._redactions[redaction.redacts] = redaction

    def _track(self, task: asyncio.Task[None]) -> asyncio.Task[None]:
        """Keeps the task until it ends (``drain`` waits for it)."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _done(self, room_id: str) -> None:
        self._waiting[room_id] -= 1
        if not self._waiting[room_id]:
            del self._waiting[room_id]
            if self._redactions:  # nothing of the room is queued here any more
                self._redactions = {event_id: redaction for event_id, redaction
                                    in self._redactions.items() if redaction.room_id != room_id}

    def busy(self, room_id: str) -> bool:
        """Whether commands of this room are queued or running in the background (a newer one
        must wait for them)."""
        return room_id in self._waiting

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

    def hurry(self) -> None:
        """The bot is stopping: follow-ups waiting out their delay run now, and later ones
        without it."""
        self.after.hurry()

    async def resume(self, hold: asyncio.Event | None = None) -> int:
        """Submits every command queued but not handled (after a restart); with ``hold``, they
        run once it is set (when the batch that caught up, which may redact some, is saved)."""
        async with self.db.transaction() as repos:
            rows = await repos.inbox.pending(100000)
            pending = [(row.event_id, row.room_id) for row in rows]
            self._slow_ids |= {row.event_id for row in rows if self._slow(row)}
        for event_id, room_id in pending:
            self.submit(event_id, room_id, hold)
        return len(pending)

    async def _handle_in_order(self, event_id: str, room_id: str,
                               hold: asyncio.Event | None) -> None:
        delay = 1.0
        while True:
            async with self._room_locks[room_id]:
                if hold is not None:
                    await hold.wait()  # holding the room's turn: later commands wait behind
                try:
                    async with self._running:
                        prepared = await self._prepared(event_id)
                        try:
                            await self.handle(event_id, self.busy_notice_s, prepared)
                        except StorageBusy:  # another program's lock: told, and waiting its end
                            await self.reads.tell_queued_busy(event_id)
                            await self.handle(event_id, prepared=prepared)
                    return
                except StorageUnavailable:
                    log.error("command %s kept queued: the database is unavailable; retrying in "
                              "%.0f s", event_id, delay)
                except Exception:
                    log.exception("command %s could not be handled", event_id)
                    return
            await asyncio.sleep(delay)  # the database may come back: the command then runs
            delay = min(delay * 2, RETRY_MAX_S)

    async def handle(self, event_id: str, patience: float | None = None,
                     prepared: Prepared | None = None) -> None:
        """Runs the queued command once: its changes, its reply and its 'handled' mark in one
        commit (a refused or failed command commits only its reply, the mark and the sender's
        participation); ``prepared``: its reply made already (``_prepared``). Waits at most
        ``patience`` seconds for another program's write lock (``StorageBusy``)."""
        async with self.db.transaction(patience=patience) as repos:
            handled = await self._handle_queued(repos, event_id, prepared)
        self.reads.handled(event_id)
        self._slow_ids.discard(event_id)
        if handled is not None:
            await self.after_commit(handled)

    async def _prepared(self, event_id: str) -> Prepared | None:
        """A slow command's reply (``Command.slow``: ``!bilan``), made in a read-only
        transaction before the one that queues it: its seconds of work never hold the write
        lock (nothing is kept until that one commits: a stop in between runs it again).
        ``None`` for any other command, or if its handler writes (it runs as any other)."""
        if event_id not in self._slow_ids:
            return None
        try:
            async with self.db.reading() as repos:
                item = await repos.inbox.get(event_id)
                if item is None or item.handled_at is not None:
                    return None
                return await self.runner.prepare(repos, item)
        except StorageUnavailable:
            return None
        except Exception:  # it runs as any other: what failed here fails there, answered
            log.exception("command %s could not be prepared; run in its transaction", event_id)
            return None

    async def _handle_queued(self, repos: Repositories, event_id: str,
                             prepared: Prepared | None = None) -> Handled | None:
        """Runs the queued command in the caller's transaction; ``None`` if it is unknown,
        handled already or taken back."""
        item = await repos.inbox.get(event_id)
        if item is None or item.handled_at is not None:
            return None
        redaction = self._redactions.get(event_id)
        if redaction is not None and redaction.takes_back(item.room_id, item.sender):
            await repos.inbox.withdraw(event_id, item.room_id, None, self.clock.now())
            log.info("command %s taken back before it ran", event_id)
            return None
        return await self.run_command(repos, item, prepared)

    async def after_commit(self, handled: Handled) -> None:
        """Once the command's transaction is committed (``AfterCommit.run``)."""
        await self.after.run(handled)

    async def answer_from_read(self, item: Received) -> bool:
        """While another program holds the write lock (``BusyDatabase.answer_from_read``)."""
        return await self.reads.answer_from_read(item)

    async def tell_busy(self, item: Received) -> None:
        """Tells the sender, once, that the database is busy (``BusyDatabase.tell_busy``)."""
        await self.reads.tell_busy(item)

    async def row_failed(self, repos: Repositories, row: Queued,
                         since: datetime) -> list[Queued]:
        """A row the outbox set aside for good: reported once to the coordinators in the main
        room (its key derives from the row's), in the caller's transaction."""
        report = failure_report(self.club, self.t, row=row.id, action=row.action,
                                room_id=row.room_id, content=row.content, since=since,
                                now=self.clock.now())
        if report is None:
            return []
        return await queue_effects(repos, (report,), f"{row.txn_id}~failed", self.clock.now())

    async def outcome_failed(self, repos: Repositories, row: Queued, outcome: dict[str, Any],
                             reference: str) -> list[Queued]:
        """An outcome whose handler failed (``Delivery._record``): told where it was asked, the
        person it was for mentioned, with the error's reference; in the caller's
        transaction."""
        user = outcome.get("args", {}).get("user_id")
        mentions = (str(user),) if isinstance(user, str) and user else ()
        told = Reply(self.t("error.internal", reference=reference), mentions=mentions)
        return await queue_effects(repos, (Post(row.room_id, told, about=mentions),),
                                   f"{row.txn_id}~outcome-failed", self.clock.now())

    async def room_opened(self, repos: Repositories, row: Queued, outcome: dict[str, Any],
                          room: NewRoom | None) -> list[Queued]:
        """What became of a room an outbox row opened (``None``: refused), in the caller's
        transaction: the outcome's handler records it and says so (``Delivery.on_room_opened``).
        A row withdrawn meanwhile (its person erased) records nothing; the bot leaves the room."""
        now = self.clock.now()
        key = f"{row.txn_id}~opened"
        stored = await repos.outbox.get(row.id)
        if stored is None or stored.sent_at is not None:
            left = (Leave(room.room_id),) if room else ()
            return await queue_effects(repos, left, key, now)
        handler = self.registry.outcomes[str(outcome["kind"])]
        done = RoomOutcome(room.room_id if room else None, row.room_id, outcome["args"], repos,
                           self.club, self.t, now,
                           space_refused=room.space_refused if room else False,
                           membership=lambda user: self.membership.is_member(user, repos))
        async with storage_faults():
            effects = await handler(done)
            return await queue_effects(repos, effects, key, now)
