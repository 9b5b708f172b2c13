"""A capability's declared job (``commands.jobs.Job``) becomes scheduler jobs through the one
generic source (``bot.jobs``): one timer per due row (or one for all, ``timer``), rebuilt from
the database, run when due in its own transaction, and run after a restart when it came due
while the bot was stopped."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from bot.clock import Clock, FakeClock, SystemClock
from bot.jobs import declared_jobs
from bot.outbox import Outbox
from bot.scheduler import Scheduler
from commands.capability import Capability, build
from commands.context import Club
from commands.effects import Effect, Post, Reply
from commands.jobs import Item, Job, JobRun
from storage.db import Database
from storage.repositories import Repositories
from tests.handlers.conftest import ROOM, START, make_club
from tests.handlers.fakes import FakeTransport

DUE = START + timedelta(hours=2)


async def _notes(repos: Repositories, _club: Club,
                 _now: datetime) -> Sequence[tuple[Item, datetime]]:
    """The capability's due items: its rows not sent yet (here, scheduled messages)."""
    return [(row.id, row.due_at) for row in await repos.scheduled.pending()]


async def _send(job: JobRun, item: Item) -> Sequence[Effect]:
    row = await job.repos.scheduled.get(int(item))
    if row is None or row.sent_at is not None or row.due_at > job.now:
        return ()
    row.sent_at = job.now
    return (Post(row.room_id, Reply(row.markdown)),)


NOTES = Job("note", pending=_notes, run=_send)
CAPABILITY = Capability("notes", jobs=(NOTES,))


async def _add(db: Database, markdown: str, due: datetime) -> int:
    async with db.transaction() as repos:
        return (await repos.scheduled.add(room_id=ROOM, markdown=markdown, due_at=due,
                                          created_at=START)).id


def scheduler_of(capability: Capability, db: Database, outbox: Outbox, clock: Clock,
                 transport: FakeTransport) -> Scheduler:
    """The scheduler as the bot builds it: its sources derived from the registry's jobs."""
    jobs = build([capability]).jobs
    return Scheduler(declared_jobs(jobs, db, outbox, clock, make_club, transport))


async def test_a_declared_job_becomes_one_scheduler_job_per_due_row(
        db: Database, outbox: Outbox, clock: FakeClock, transport: FakeTransport) -> None:
    first = await _add(db, "un", DUE)
    second = await _add(db, "deux", DUE + timedelta(days=1))
    scheduler = scheduler_of(CAPABILITY, db, outbox, clock, transport)
    try:
        await scheduler.start()
        assert scheduler.jobs() == {f"note:{first}": DUE, f"note:{second}": DUE + timedelta(days=1)}
        await scheduler.fire("note", first)  # not due yet: nothing
        clock.set(DUE)
        await scheduler.fire("note", first)
        await scheduler.fire("note", first)  # done: a second firing sends nothing
        await outbox.flush()
        assert transport.bodies() == ["un"]
        assert scheduler.jobs() == {f"note:{second}": DUE + timedelta(days=1)}  # re-read after
        third = await _add(db, "trois", DUE + timedelta(hours=1))  # as a command would
        assert await scheduler.refresh("note") == 2  # what ``Reply.reschedule`` asks
        assert f"note:{third}" in scheduler.jobs()
    finally:
        scheduler.shutdown()


async def test_a_timer_job_has_one_timer_at_its_earliest_item(
        db: Database, outbox: Outbox, clock: FakeClock, transport: FakeTransport) -> None:
    timed = Capability("notes", jobs=(replace(NOTES, timer=True),))
    await _add(db, "plus tard", DUE + timedelta(hours=1))
    await _add(db, "d'abord", DUE)
    scheduler = scheduler_of(timed, db, outbox, clock, transport)
    try:
        await scheduler.start()
        assert scheduler.jobs() == {"note:0": DUE}
        clock.set(DUE + timedelta(hours=1))
        await scheduler.fire("note", 0)  # every item due by now, in its own transaction
        await outbox.flush()
        assert transport.bodies() == ["d'abord", "plus tard"]
        assert scheduler.jobs() == {}
    finally:
        scheduler.shutdown()


async def test_a_failing_item_is_tried_again_later_not_in_a_loop(
        db: Database, outbox: Outbox, clock: FakeClock, transport: FakeTransport,
        caplog: pytest.LogCaptureFixture) -> None:
    failures = []

    async def failing_once(job: JobRun, item: Item) -> Sequence[Effect]:
        if not failures:
            failures.append(item)
            raise RuntimeError("a bug")
        return await _send(job, item)

    item = await _add(db, "un", DUE)
    scheduler = scheduler_of(Capability("notes", jobs=(replace(NOTES, run=failing_once),)),
                             db, outbox, clock, transport)
    try:
        await scheduler.start()
        clock.set(DUE)
        await scheduler.fire("note", item)
        assert "scheduled note:" in caplog.text
        assert scheduler.jobs() == {f"note:{item}": DUE + timedelta(minutes=1)}  # Job.retry
        clock.set(DUE + timedelta(minutes=1))
        await scheduler.fire("note", item)
        await outbox.flush()
        assert transport.bodies() == ["un"]
    finally:
        scheduler.shutdown()


async def test_a_job_that_came_due_while_stopped_runs_after_the_restart(
        db: Database, transport: FakeTransport) -> None:
    """The first process plans the job and stops before it is due; the item is due when the
    second one starts: the scheduler rebuilt from the database runs it by itself, once."""
    clock = SystemClock()
    outbox = Outbox(db, transport, clock)
    item = await _add(db, "pendant l'arrêt", clock.now() + timedelta(hours=1))
    first = scheduler_of(CAPABILITY, db, outbox, clock, transport)
    await first.start()
    assert list(first.jobs()) == [f"note:{item}"]
    first.shutdown()  # stopped; meanwhile the time comes
    async with db.transaction() as repos:
        row = await repos.scheduled.get(item)
        assert row is not None
        row.due_at = clock.now() - timedelta(minutes=5)
    second = scheduler_of(CAPABILITY, db, outbox, clock, transport)
    try:
        await second.start()  # no one calls fire: APScheduler runs the late job
        for _ in range(100):
            if transport.bodies():
                break
            await asyncio.sleep(0.05)
            await outbox.flush()
        assert transport.bodies() == ["pendant l'arrêt"]
        assert second.jobs() == {}
    finally:
        second.shutdown()
        await outbox.close()
