"""Queued command -> context -> handler, inside one transaction; errors mapped to replies.

Each command runs as a tracked background task, so a slow one never stalls the sync loop;
commands of one room run in the order they were sent. Commands beyond a person's rate
(``CommandRate``) are set aside before they are queued. While another program holds SQLite's
write lock, a command waits for it (without stopping the event loop) and its sender is told
once when that lasts; one that a read can answer is answered at once (``answer_from_read``).
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import math
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.clock import Clock
from bot.effects import queue_effects
from bot.matrix import NewRoom
from bot.outbox import Outbox, Queued, txn_id
from bot.render import message_content
from commands.context import Club, Context, Reply, RoomOutcome, Standing
from commands.delivery import failure_report
from commands.dispatch import (
    Prepared,
    command_text,
    convert,
    error_reply,
    internal_error_reply,
    new_reference,
    resolve,
    run,
)
from commands.effects import Leave
from commands.errors import StorageBusy, StorageUnavailable, UserError
from commands.events import Redaction
from commands.i18n import Translator
from commands.ports import MatrixPort
from commands.registry import Registry
from commands.roles import Role
from storage.db import Database
from storage.faults import storage_faults
from storage.repositories import Repositories

log = logging.getLogger(__name__)
RETRY_MAX_S = 60.0
FOLLOW_UP_WAIT_S = 1.0  # a follow-up waits (at most this long) for the reply to be sent
# ... and then this long, so that the follow-ups of a burst of commands (the edit of a poll's
# message after each vote) find one another's work done: one edit for the votes of 2 s.
FOLLOW_UP_DELAY_S = 2.0
# how long a command waits for another program's write lock before its sender is told
BUSY_NOTICE_S = 5.0
SEND_NOW_LIMIT_S = 30.0  # a message sent without the outbox: how long it may take
Reschedule = Callable[[str], Awaitable[int]]
SendNow = Callable[[str, dict[str, Any], str], Awaitable[Any]]  # room, content, txn id


class Membership(Protocol):
    """Who belongs to the club and where a command is said, read in the command's transaction
    (the groups' rooms are in the database)."""

    async def standing_of(self, user_id: str, room_id: str, repos: Repositories) -> Standing:
        """The sender's role (``VISITOR`` if not a club member) and the place of the room."""
        ...

    async def is_member(self, user_id: str, repos: Repositories) -> bool:
        """Whether ``user_id`` is a club member."""
        ...

    async def role_of(self, user_id: str) -> Role:
        """The person's role in the club, from the synced state alone (membership unchecked)."""
        ...


class Received(Protocol):
    """A command as received: queued in the inbox, or still in its sync batch."""

    @property
    def event_id(self) -> str: ...
    @property
    def room_id(self) -> str: ...
    @property
    def sender(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def sent_at(self) -> datetime: ...
    @property
    def thread_root(self) -> str | None: ...  # the thread it was sent in (answered there)


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


@dataclass
class Handled:
    """A command run in a transaction, and what to do once it is committed."""

    queued: list[Queued]
    reply: Reply
    handling: Handling


@dataclass(frozen=True)
class _Waiting:
    """What ``tell_busy`` needs of a command: where to answer and whom."""

    event_id: str
    room_id: str
    sender: str


RATE_WINDOW = timedelta(minutes=1)


@dataclass
class _Sent:
    """One sender's commands run in the last minute (times, oldest first), and when they were
    last told they were over the rate."""

    times: list[datetime] = field(default_factory=list)
    noticed: datetime | None = None


class CommandRate:
    """At most ``limit`` commands a minute per person (a sliding window in memory, by the
    time the homeserver gave each command; 0: no limit). Beyond it a command is not run: the
    first of a minute is answered with a notice (``over`` gives how long until the person is
    under the rate again), the others of that minute are dropped without a word."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._senders: dict[str, _Sent] = {}
        self._checks = 0

    def over(self, sender: str, at: datetime) -> timedelta | None:
        """``None`` if a command of ``sender`` sent ``at`` is within the rate (it is counted),
        else how long until it would be."""
        if self.limit <= 0:
            return None
        self._checks += 1
        if self._checks % 1000 == 0:
            self._forget_before(at - RATE_WINDOW)
        sent = self._senders.setdefault(sender, _Sent())
        first = bisect.bisect_right(sent.times, at - RATE_WINDOW)
        del sent.times[:first]
        recent = bisect.bisect_right(sent.times, at)
        if recent < self.limit:
            sent.times.insert(recent, at)
            return None
        return sent.times[recent - self.limit] + RATE_WINDOW - at

    def notice_due(self, sender: str, at: datetime) -> bool:
        """Whether a command over the rate gets the notice: the first of each minute does."""
        sent = self._senders.setdefault(sender, _Sent())
        if sent.noticed is not None and at - sent.noticed < RATE_WINDOW:
            return False
        sent.noticed = at
        return True

    def _forget_before(self, moment: datetime) -> None:
        """Drops the senders with nothing in the window (memory stays bounded)."""
        self._senders = {sender: sent for sender, sent in self._senders.items()
                         if (sent.times and sent.times[-1] > moment)
                         or (sent.noticed is not None and sent.noticed > moment)}


class Undone(Exception):
    """A command's handler refused or failed: the transaction it ran in is to be rolled back
    and ``reply`` recorded in a new one. (Cheaper than a savepoint around every handler: most
    commands succeed.)"""

    def __init__(self, reply: Reply, handling: Handling) -> None:
        super().__init__(handling.outcome)
        self.reply = reply
        self.handling = handling


class Dispatcher:
    """Runs queued commands and queues their replies."""

    def __init__(self, registry: Registry, db: Database, outbox: Outbox, clock: Clock,
                 club: Club, membership: Membership, matrix: MatrixPort | None = None,
                 follow_up_delay_s: float = FOLLOW_UP_DELAY_S,
                 busy_notice_s: float = BUSY_NOTICE_S) -> None:
        self.registry = registry
        self.db = db
        self.outbox = outbox
        self.clock = clock
        self.club = club
        self.membership = membership
        self.matrix = matrix
        self.on_reschedule: Reschedule | None = None  # rebuilds a kind of scheduled jobs
        # sends at once, without the outbox (which needs a write): ``Transport.send``
        self.send_now: SendNow | None = None
        self.busy_notice_s = busy_notice_s
        self._told_busy: set[str] = set()  # commands whose sender was told the database is busy
        self.t = Translator(club.language)
        self._room_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._tasks: set[asyncio.Task[None]] = set()
        self._waiting: defaultdict[str, int] = defaultdict(int)  # room id -> tasks not done
        self.follow_up_delay_s = follow_up_delay_s
        self._hurry = asyncio.Event()  # set: follow-ups no longer wait out their delay
        self._rescheduling = asyncio.Lock()  # one rebuild of scheduled jobs at a time
        # event id -> a redaction seen by the sync that may take back a command queued here
        self._redactions: dict[str, Redaction] = {}
        self.rate = CommandRate(club.limits.commands_per_minute)

    async def screen(self, commands: Iterable[Received]) -> dict[str, Reply | None]:
        """The commands of a sync batch over their sender's rate (coordinators have none), by
        event id: the notice to answer with, or ``None`` to drop silently. None of them is run;
        the others count towards their sender's rate. Cheap when nobody is over it: no read."""
        limited: dict[str, Reply | None] = {}
        for command in commands:
            wait = self.rate.over(command.sender, command.sent_at)
            if wait is None or await self.membership.role_of(command.sender) >= Role.COORDINATOR:
                continue
            notice = None
            if self.rate.notice_due(command.sender, command.sent_at):
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
        return await self._finish(repos, item, notice, mark_handled=False)

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
        self._hurry.set()

    async def resume(self, hold: asyncio.Event | None = None) -> int:
        """Submits every command queued but not handled (after a restart); with ``hold``, they
        run once it is set (when the batch that caught up, which may redact some, is saved)."""
        async with self.db.transaction() as repos:
            pending = [(row.event_id, row.room_id) for row in await repos.inbox.pending(100000)]
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
                    try:
                        await self.handle(event_id, self.busy_notice_s)
                    except StorageBusy:  # another program's lock: told, and waiting its end
                        await self._tell_queued_busy(event_id)
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

    async def handle(self, event_id: str, patience: float | None = None) -> None:
        """Runs the queued command once: its changes, its reply and its 'handled' mark in one
        commit (a refused or failed command commits only its reply, the mark and the sender's
        participation). Waits at most ``patience`` seconds for another program's write lock
        (``StorageBusy``)."""
        try:
            handled = await self._handle_queued(event_id, None, patience)
        except Undone as undone:  # rolled back: its reply and mark go in a transaction of their own
            handled = await self._handle_queued(event_id, undone, patience)
        self._told_busy.discard(event_id)
        if handled is not None:
            await self.after_commit(handled)

    async def _handle_queued(self, event_id: str, undone: Undone | None,
                             patience: float | None) -> Handled | None:
        """One transaction running the queued command (or recording its answer when it was
        ``undone``); ``None`` if it is unknown or handled already."""
        async with self.db.transaction(patience=patience) as repos:
            item = await repos.inbox.get(event_id)
            if item is None or item.handled_at is not None:
                return None
            redaction = self._redactions.get(event_id)
            if redaction is not None and redaction.takes_back(item.room_id, item.sender):
                await repos.inbox.withdraw(event_id, item.room_id, None, self.clock.now())
                log.info("command %s taken back before it ran", event_id)
                return None
            return await self.run_command(repos, item, undone=undone)

    async def run_command(self, repos: Repositories, item: Received, *,
                          mark_handled: bool = True, undone: Undone | None = None) -> Handled:
        """Runs a received command in the caller's transaction: the handler's changes, then its
        reply, effects and 'handled' mark. A handler that refuses or fails raises ``Undone``:
        the caller rolls the transaction back (what the handler wrote is gone) and calls again
        with it, which records the refusal or error reply and the mark. The storage failing
        raises ``StorageUnavailable`` (nothing is kept)."""
        line = command_text(item.body, self.club.prefix)
        handling = undone.handling if undone else Handling(item.event_id,
                                                           started=time.perf_counter())
        reply = undone.reply if undone else Reply("")
        if line is not None:
            handling.room_id = item.room_id
            if undone is None:
                handling.command = "?"
                reply = await self._outcome(item, line, repos, handling)
        queued = await self._finish(repos, item, reply, mark_handled)
        return Handled(queued, reply, handling)

    async def answer_from_read(self, item: Received) -> bool:
        """While another program holds the database's write lock: answers ``item`` at once if
        a read is enough — run in a read-only transaction, its handler wrote nothing and asks
        nothing more (no effect, follow-up or job to rebuild) — and returns ``True``; else
        ``False`` (it waits for the lock). The reply goes without the outbox, with the
        transaction id the outbox would give it (sent again after a crash, the homeserver
        keeps one); the caller records the command as handled once the lock is freed."""
        line = command_text(item.body, self.club.prefix)
        if line is None or self.send_now is None:
            return False
        handling = Handling(item.event_id, item.room_id, "?", started=time.perf_counter())
        try:
            async with self.db.reading() as repos:
                try:
                    reply = await self._outcome(item, line, repos, handling)
                except Undone as undone:  # a refusal writes nothing either
                    reply = undone.reply
        except StorageUnavailable:  # it writes: it waits for the lock
            return False
        if not reply.markdown or reply.effects or reply.then or reply.reschedule:
            return False
        content = message_content(reply, in_reply_to=item.event_id, reply_sender=item.sender)
        if not await self._send_now(item, content, txn_id("reply", item.event_id)):
            return False
        handling.log()
        return True

    async def tell_busy(self, item: Received | _Waiting) -> None:
        """Tells the sender of ``item``, once, that the database is busy and the command will
        be run when it frees (without the outbox: writing there waits for the lock too)."""
        if item.event_id in self._told_busy:
            return
        content = message_content(Reply(self.t("error.storage_busy")),
                                  in_reply_to=item.event_id, reply_sender=item.sender)
        if await self._send_now(item, content, txn_id("busy", item.event_id)):
            self._told_busy.add(item.event_id)

    async def _tell_queued_busy(self, event_id: str) -> None:
        """``tell_busy`` for a command of the inbox (read without waiting for the lock)."""
        try:
            async with self.db.reading() as repos:
                item = await repos.inbox.get(event_id)
                if item is None or item.handled_at is not None:
                    return
                command = _Waiting(item.event_id, item.room_id, item.sender)
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

    async def _outcome(self, item: Received, line: str, repos: Repositories,
                       handling: Handling) -> Reply:
        """The handler's reply. A command refused before its handler runs (unknown, badly
        written, not allowed, naming nothing that exists) is answered at once: nothing was
        written. ``Undone``, with the reply to give instead, if the handler refuses or fails, or
        a converter fails (what the handler left to write fails here too, not at the
        commit)."""
        event_id = item.event_id  # ``item`` may be a row, unreadable once a failure rolled back
        try:
            prepared, ctx = await self._prepare(item, line, repos, handling)
        except (StorageUnavailable, Undone):
            raise
        except Exception as error:
            return self._failure_reply(error, event_id, handling)
        try:
            async with storage_faults():
                reply = await run(prepared, ctx)
                await repos.flush()
                return reply
        except StorageUnavailable:
            raise
        except Exception as error:
            raise Undone(self._failure_reply(error, event_id, handling), handling) from error

    def _failure_reply(self, error: Exception, event_id: str, handling: Handling) -> Reply:
        """The answer to a command that was refused (``UserError``: why, in French) or failed
        (an internal error, logged with a reference); called while handling ``error``."""
        if isinstance(error, UserError):
            handling.outcome = "refused"
            return self._refusal(error, event_id)
        handling.outcome = "error"
        return self._internal_error(event_id)

    async def _prepare(self, item: Received, line: str, repos: Repositories,
                       handling: Handling) -> tuple[Prepared, Context]:
        """The command named by ``line``, the sender's right to it here checked, its arguments
        converted (the objects they name looked up) and its checks passed (``UserError`` if
        not); and the context its handler runs with."""
        standing = await self.membership.standing_of(item.sender, item.room_id, repos)
        resolved = resolve(self.registry, line, standing.role, standing.place,
                           self.club.entrance)
        handling.command = resolved.command.key
        ctx = Context(sender=item.sender, room_id=item.room_id, event_id=item.event_id,
                      sent_at=item.sent_at, now=self.clock.now(), role=standing.role,
                      club=self.club, t=self.t, place=standing.place, repos=repos,
                      matrix=self.matrix, commands=self.registry,
                      membership=lambda user: self.membership.is_member(user, repos))
        try:
            async with storage_faults():
                return await convert(resolved, ctx), ctx
        except UserError:
            raise
        except Exception as error:  # a converter or a check failing: undone like a handler
            raise Undone(self._failure_reply(error, item.event_id, handling), handling) from error

    async def after_commit(self, handled: Handled) -> None:
        """Once the command's transaction is committed: its messages go, its follow-ups start,
        its jobs are rebuilt."""
        for message in handled.queued:
            self.outbox.push(message)
        if handled.queued:  # the reply leaves now; the rest (and the next sync) can wait for it:
            await asyncio.sleep(0)  # the sender's turn hands the request to aiohttp,
            await asyncio.sleep(0)  # whose task writes it (on Python < 3.12, not at once);
            # two turns: what nio 0.26 and aiohttp 3.14 take (``bench.latency --trace``'s "wire")
        handled.handling.log()
        if handled.reply.then:
            self._track(asyncio.create_task(self._follow_up(handled)))
        if handled.reply.reschedule and self.on_reschedule is not None:
            self._track(asyncio.create_task(self._reschedule(handled.reply.reschedule)))

    async def _reschedule(self, kinds: tuple[str, ...]) -> None:
        """Rebuilds the jobs of ``kinds`` once the reply is sent (or after
        ``FOLLOW_UP_WAIT_S``), one of the dispatcher's rebuilds at a time: the rebuild reads the
        database, and on Python < 3.12 the reply's request is written by a task of its own,
        which would wait for it (0.8 ms, measured with ``bench.latency --trace``). Jobs come
        from the database: a stop before this runs loses nothing (the start rebuilds them)."""
        await self._unless_hurried(self.outbox.settled(FOLLOW_UP_WAIT_S))
        async with self._rescheduling:
            for kind in kinds:
                try:
                    if self.on_reschedule is not None:
                        await self.on_reschedule(kind)
                except Exception:
                    log.exception("the %s jobs could not be rebuilt; they will be at the next "
                                  "start", kind)

    async def _follow_up(self, handled: Handled) -> None:
        """Runs the reply's follow-ups once it is sent (or after ``FOLLOW_UP_WAIT_S``) and
        ``follow_up_delay_s`` more (less if the bot stops), each in its own transaction; a
        failure is logged (the view catches up later)."""
        await self._unless_hurried(self.outbox.settled(FOLLOW_UP_WAIT_S))
        await self._unless_hurried(asyncio.sleep(self.follow_up_delay_s))
        event_id = handled.handling.event_id
        for index, follow_up in enumerate(handled.reply.then):
            try:
                async with self.db.transaction() as repos:
                    effects = await follow_up(repos)
                    queued = await queue_effects(repos, effects, f"{event_id}~then{index}",
                                                 self.clock.now())
            except Exception:
                log.exception("follow-up %d of command %s failed", index, event_id)
                continue
            for message in queued:
                self.outbox.push(message)

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

    async def room_opened(self, repos: Repositories, row: Queued, outcome: dict[str, Any],
                          room: NewRoom | None) -> list[Queued]:
        """What became of a room an outbox row opened (``None``: refused), in the caller's
        transaction: the outcome's handler records it and says so (``Outbox.on_room_opened``).
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
                           space_refused=room.space_refused if room else False)
        async with storage_faults():
            effects = await handler(done)
            return await queue_effects(repos, effects, key, now)

    async def _unless_hurried(self, waiting: Coroutine[Any, Any, None]) -> None:
        """Waits for ``waiting``, or until the bot is stopping (``hurry``)."""
        tasks = {asyncio.ensure_future(waiting), asyncio.ensure_future(self._hurry.wait())}
        _done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()

    def _refusal(self, error: UserError, event_id: str) -> Reply:
        try:
            return error_reply(error, self.t, self.club.prefix)
        except Exception:
            return self._internal_error(event_id)

    def _internal_error(self, event_id: str) -> Reply:
        reference = new_reference()
        log.exception("internal error (ref. %s) on command %s", reference, event_id)
        return internal_error_reply(self.t, reference)

    async def _finish(self, repos: Repositories, item: Received, reply: Reply,
                      mark_handled: bool) -> list[Queued]:
        """Queues the reply and its effects, and marks the command handled (same transaction;
        not when it was recorded as handled already)."""
        now = self.clock.now()
        queued = []
        if reply.markdown:
            content = message_content(reply, in_reply_to=item.event_id, reply_sender=item.sender,
                                      thread=item.thread_root)
            row = await repos.outbox.add(txn_id=txn_id("reply", item.event_id),
                                         room_id=item.room_id, content=content, created_at=now)
            if row is not None:
                queued.append(Queued.of(row))
        queued += await queue_effects(repos, reply.effects, item.event_id, now)
        if mark_handled:
            await repos.inbox.mark_handled(item.event_id, now)
        return queued

