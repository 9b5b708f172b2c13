"""The scheduler's jobs derived from what the capabilities declare (``commands.jobs.Job``):
each declared job becomes one job source, whose timers the scheduler rebuilds from the
database at start and after a command changes their rows. A run is one transaction: the item
re-read, its effects queued in the outbox and its change of state saved in the same commit;
what the run needs of the homeserver (a room's members) is asked before it, never inside it.
At start, the answers to native polls given while the bot was down are read again and the
capabilities' start work is run (``start_work``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.clock import Clock
from bot.effects import queue_effects
from bot.matrix_api import MatrixError
from bot.outbox import Outbox
from bot.poll_responses import responses_of
from commands.context import Club
from commands.effects import Effect
from commands.events import PollResponse
from commands.i18n import Translator
from commands.jobs import AtStart, Item, Job, JobRun
from commands.ports import MatrixPort
from commands.registry import Registry
from storage.db import Database
from storage.repositories import Repositories

log = logging.getLogger(__name__)
# Items due this soon after a timer's firing are run by the same firing (a timer set while its
# own job still runs could be skipped by the scheduler as a second instance).
LOOK_AHEAD = timedelta(seconds=2)


class Homeserver(Protocol):
    """What the jobs ask of the homeserver, outside their transactions."""

    @property
    def user_id(self) -> str: ...

    async def joined_members(self, room_id: str) -> list[str]: ...

    async def relations(self, room_id: str, event_id: str) -> list[Any]: ...


class DeclaredJob:
    """A scheduler source made from one declared job."""

    refresh_after_fire = True  # the scheduler re-reads ``pending`` once a firing is done

    def __init__(self, job: Job, db: Database, outbox: Outbox, clock: Clock,
                 club: Callable[[], Club], homeserver: Homeserver,
                 matrix: MatrixPort | None = None) -> None:
        self.job, self.kind = job, job.kind
        self.db, self.outbox, self.clock, self.club = db, outbox, clock, club
        self.homeserver = homeserver
        self.matrix = matrix  # what the runs see of the rooms (``JobRun.matrix``)
        self.ran = 0  # items run (what they asked queued)
        self._retry_at: dict[Item, datetime] = {}  # an item whose run failed: tried again then

    async def pending(self) -> Sequence[tuple[Item, datetime]]:
        """One timer per item; a ``timer`` job's one timer at its earliest item (``<kind>:0``)."""
        due = await self._due(self.clock.now())
        if not self.job.timer:
            return due
        return [(0, min(at for _item, at in due))] if due else []

    async def _due(self, now: datetime) -> list[tuple[Item, datetime]]:
        async with self.db.transaction() as repos:
            due = await self.job.pending(repos, self.club(), now)
        return [(item, max(at, self._retry_at.get(item, at))) for item, at in due]

    async def fire(self, item: Item = 0) -> None:
        """Runs the item (a ``timer`` job: every item due now, and those due in the next
        seconds as their time comes)."""
        if not self.job.timer:
            await self._run_or_retry(item)
            return
        ran: set[Item] = set()
        while True:
            now = self.clock.now()
            due = await self._due(now)
            ready = [item for item, at in due if at <= now and item not in ran]
            for item in ready:
                ran.add(item)
                await self._run_or_retry(item)
            if ready:
                continue  # others may have come due meanwhile
            upcoming = [at for _item, at in due if at > now]
            if not upcoming or min(upcoming) - now > LOOK_AHEAD:
                return
            await asyncio.sleep(max((min(upcoming) - now).total_seconds(), 0))
            if self.clock.now() == now:  # a clock that does not move by itself (tests)
                return

    async def _run_or_retry(self, item: Item) -> None:
        """One item; a failure is logged and the item tried again ``Job.retry`` later, without
        holding back the others."""
        try:
            await self.run(item)
        except Exception:
            log.exception("scheduled %s:%s failed; tried again later", self.kind, item,
                          extra={"job": self.kind})
            self._retry_at[item] = self.clock.now() + self.job.retry(self.club())
        else:
            self._retry_at.pop(item, None)

    async def run(self, item: Item) -> int:
        """Runs one item in its own transaction; returns how many messages it queued."""
        members = await self._members(item)
        if members is None:
            return 0
        club = self.club()
        now = self.clock.now()
        async with self.db.transaction() as repos:
            job = JobRun(repos, club, Translator(club.language), now, members,
                         matrix=self.matrix, key=f"{self.kind}-{item}")
            effects = await self.job.run(job, item)
            queued = await queue_effects(repos, effects, job.key, now)
        for message in queued:
            self.outbox.push(message)
        self.ran += 1
        return len(queued)

    async def _members(self, item: Item) -> Sequence[str] | None:
        """The members (the bot left out) of the room the job names, asked of the homeserver
        outside any transaction; ``None`` if the item names none any more."""
        if self.job.room is None:
            return ()
        async with self.db.transaction() as repos:
            room_id = await self.job.room(repos, item)
        if room_id is None:
            return None
        bot = self.homeserver.user_id
        return [m for m in await self.homeserver.joined_members(room_id) if m != bot]


def declared_jobs(jobs: Iterable[Job], db: Database, outbox: Outbox, clock: Clock,
                  club: Callable[[], Club], homeserver: Homeserver,
                  matrix: MatrixPort | None = None) -> list[DeclaredJob]:
    """The scheduler's sources of the capabilities' jobs (``Registry.jobs``)."""
    return [DeclaredJob(job, db, outbox, clock, club, homeserver, matrix) for job in jobs]


async def start_work(registry: Registry, db: Database, outbox: Outbox, club: Club,
                     homeserver: Homeserver, now: datetime) -> int:
    """At start: the answers to native polls given while the bot was down counted, then the
    capabilities' ``at_start`` work; returns how many answers were read."""
    t = Translator(club.language)
    responses = await _answers_again(registry, db, homeserver)
    if responses:
        async def record(repos: Repositories) -> list[Effect]:
            return await _record(registry, repos, responses, club, t)
        await _queue(db, outbox, f"recount-{now.isoformat()}", now, record)
    for index, work in enumerate(registry.at_start):
        await _queue(db, outbox, f"start-{now.isoformat()}-{index}", now,
                     _with_run(work, club, t, now))
    return len(responses)


async def _answers_again(registry: Registry, db: Database,
                         homeserver: Homeserver) -> list[PollResponse]:
    """Every answer to the events the capabilities name (``Registry.answered``), read from the
    homeserver (``/relations``) after the transaction that found them."""
    async with db.transaction() as repos:
        targets = [target for answered in registry.answered for target in await answered(repos)]
    responses: list[PollResponse] = []
    for room_id, event_id in targets:
        try:
            events = await homeserver.relations(room_id, event_id)
        except MatrixError as error:
            log.warning("cannot recount the votes of %s in %s (%s)", event_id, room_id, error)
            continue
        responses += responses_of(room_id, events, registry.answer_events)
    log.info("recounted %d poll responses of %d native polls", len(responses), len(targets))
    return sorted(responses, key=lambda r: r.at)


def _with_run(work: AtStart, club: Club, t: Translator,
              now: datetime) -> Callable[[Repositories], Awaitable[Sequence[Effect]]]:
    async def run(repos: Repositories) -> Sequence[Effect]:
        return await work(JobRun(repos, club, t, now))
    return run


async def _record(registry: Registry, repos: Repositories, responses: Sequence[PollResponse],
                  club: Club, t: Translator) -> list[Effect]:
    effects: list[Effect] = []
    for answers in registry.poll_answers:
        effects += await answers(repos, responses, club, t)
    return effects


async def _queue(db: Database, outbox: Outbox, key: str, now: datetime,
                 make: Callable[[Repositories], Awaitable[Sequence[Effect]]]) -> None:
    """What ``make`` asks, queued in the transaction it runs in, then handed to the sender."""
    async with db.transaction() as repos:
        queued = await queue_effects(repos, await make(repos), key, now)
    for message in queued:
        outbox.push(message)
