"""What follows a command's commit: its messages handed to the sender, its follow-ups
(``Reply.then``) run once the reply is on its way, its scheduled jobs rebuilt."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bot.clock import Clock
from bot.effects import queue_effects
from bot.outbox import Outbox
from bot.running import Handled
from storage.db import Database

log = logging.getLogger("bot.dispatcher")  # the dispatcher's records, as the log names them
FOLLOW_UP_WAIT_S = 1.0  # a follow-up waits (at most this long) for the reply to be sent
# ... and then this long, so that the follow-ups of a burst of commands (the edit of a poll's
# message after each vote) find one another's work done: one edit for the votes of 2 s.
FOLLOW_UP_DELAY_S = 2.0
Reschedule = Callable[[str], Awaitable[int]]
Track = Callable[[asyncio.Task[None]], asyncio.Task[None]]


class AfterCommit:
    """Runs what a committed command leaves to do; ``track`` keeps its tasks (the dispatcher's
    ``drain`` waits for them)."""

    def __init__(self, db: Database, outbox: Outbox, clock: Clock, track: Track,
                 follow_up_delay_s: float = FOLLOW_UP_DELAY_S) -> None:
        self.db = db
        self.outbox = outbox
        self.clock = clock
        self.track = track
        self.follow_up_delay_s = follow_up_delay_s
        self.on_reschedule: Reschedule | None = None  # rebuilds a kind of scheduled jobs
        self._hurry = asyncio.Event()  # set: follow-ups no longer wait out their delay
        self._rescheduling = asyncio.Lock()  # one rebuild of scheduled jobs at a time

    async def run(self, handled: Handled) -> None:
        """Once the command's transaction is committed: its messages go, its follow-ups start,
        its jobs are rebuilt."""
        handed_over = self.outbox.pushes
        for message in handled.queued:
            self.outbox.push(message)
        if handled.queued:  # the reply leaves now; the rest (and the next sync) can wait for it:
            await asyncio.sleep(0)  # the sender's turn hands the request to aiohttp,
            await asyncio.sleep(0)  # whose task writes it (on Python < 3.12, not at once)
        handled.handling.log()
        if handled.reply.then:
            self.track(asyncio.create_task(self._follow_up(handled, handed_over)))
        if handled.reply.reschedule and self.on_reschedule is not None:
            self.track(asyncio.create_task(self._reschedule(handled.reply.reschedule,
                                                            handed_over)))

    def hurry(self) -> None:
        """The bot is stopping: follow-ups waiting out their delay run now, and later ones
        without it."""
        self._hurry.set()

    async def _reschedule(self, kinds: tuple[str, ...], since: int) -> None:
        """Rebuilds the jobs of ``kinds`` once the reply is sent (or after
        ``FOLLOW_UP_WAIT_S``), one rebuild at a time: the rebuild reads the database, and on
        Python < 3.12 the reply's request is written by a task of its own, which would wait for
        it. Jobs come from the database: a stop before this runs loses nothing (the start
        rebuilds them)."""
        await self._unless_hurried(self.outbox.settled(FOLLOW_UP_WAIT_S, since))
        async with self._rescheduling:
            for kind in kinds:
                try:
                    if self.on_reschedule is not None:
                        await self.on_reschedule(kind)
                except Exception:
                    log.exception("the %s jobs could not be rebuilt; they will be at the next "
                                  "start", kind)

    async def _follow_up(self, handled: Handled, since: int) -> None:
        """Runs the reply's follow-ups once it is sent (or after ``FOLLOW_UP_WAIT_S``) and
        ``follow_up_delay_s`` more (less if the bot stops), each in its own transaction; a
        failure is logged (the view catches up later)."""
        await self._unless_hurried(self.outbox.settled(FOLLOW_UP_WAIT_S, since))
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

    async def _unless_hurried(self, waiting: Coroutine[Any, Any, None]) -> None:
        """Waits for ``waiting``, or until the bot is stopping (``hurry``)."""
        tasks = {asyncio.ensure_future(waiting), asyncio.ensure_future(self._hurry.wait())}
        _done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
