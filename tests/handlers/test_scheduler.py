"""Scheduler + ScheduledMessages: jobs mirror the pending rows; fire() sends once, when due."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from bot.clock import FakeClock
from bot.outbox import Outbox, txn_id
from bot.scheduled import ScheduledMessages
from bot.scheduler import Scheduler, job_id
from storage.db import Database
from tests.handlers.conftest import ROOM, START
from tests.handlers.fakes import FakeTransport

DUE = START + timedelta(hours=2)


async def _add(db: Database, markdown: str, due: datetime, *, sent: bool = False,
               cancelled: bool = False) -> int:
    async with db.transaction() as repos:
        row = await repos.scheduled.add(room_id=ROOM, markdown=markdown, due_at=due,
                                        created_at=START)
        if sent:
            row.sent_at = START
        if cancelled:
            row.cancelled_at = START
        return row.id


@pytest.fixture
def messages(db: Database, outbox: Outbox, clock: FakeClock) -> ScheduledMessages:
    return ScheduledMessages(db, outbox, clock)


@pytest_asyncio.fixture
async def scheduler(messages: ScheduledMessages) -> AsyncIterator[Scheduler]:
    scheduler = Scheduler([messages])
    yield scheduler
    scheduler.shutdown()


def test_job_id() -> None:
    assert job_id("message", 42) == "message:42"


async def test_start_creates_one_job_per_pending_row(db: Database, scheduler: Scheduler) -> None:
    soon = await _add(db, "bientôt", DUE)
    later = await _add(db, "plus tard", DUE + timedelta(days=3))
    await _add(db, "déjà envoyé", DUE, sent=True)
    await _add(db, "annulé", DUE, cancelled=True)
    await scheduler.start()
    assert scheduler.jobs() == {f"message:{soon}": DUE, f"message:{later}": DUE + timedelta(days=3)}


async def test_fire_before_due_does_nothing(db: Database, scheduler: Scheduler, clock: FakeClock,
                                            outbox: Outbox, transport: FakeTransport) -> None:
    item = await _add(db, "rappel", DUE)
    await scheduler.start()
    clock.set(DUE - timedelta(seconds=1))
    await scheduler.fire("message", item)
    await outbox.flush()
    assert transport.sent == []
    async with db.transaction() as repos:
        row = await repos.scheduled.get(item)
        assert row is not None and row.sent_at is None


async def test_fire_at_due_sends_once(db: Database, scheduler: Scheduler, clock: FakeClock,
                                      outbox: Outbox, transport: FakeTransport) -> None:
    item = await _add(db, "**Rencontre** ce soir @room", DUE)
    await scheduler.start()
    clock.set(DUE)
    await scheduler.fire("message", item)
    await scheduler.fire("message", item)
    await outbox.flush()
    clock.advance(timedelta(minutes=5))
    await scheduler.fire("message", item)
    await outbox.flush()
    assert len(transport.sent) == 1
    sent = transport.sent[0]
    assert sent.room_id == ROOM
    assert sent.txn_id == txn_id("scheduled", str(item))
    assert sent.content["msgtype"] == "m.notice"
    assert "<strong>Rencontre</strong>" in sent.content["formatted_body"]
    assert "m.relates_to" not in sent.content
    assert "room" not in sent.content["m.mentions"]
    async with db.transaction() as repos:
        row = await repos.scheduled.get(item)
        assert row is not None and row.sent_at == DUE
        assert await repos.scheduled.pending() == []


async def test_fire_late_still_sends(db: Database, scheduler: Scheduler, clock: FakeClock,
                                     outbox: Outbox, transport: FakeTransport) -> None:
    item = await _add(db, "en retard", DUE)
    clock.set(DUE + timedelta(hours=6))
    await scheduler.fire("message", item)
    await outbox.flush()
    assert transport.bodies() == ["en retard"]


async def test_cancelled_row_is_skipped(db: Database, scheduler: Scheduler, clock: FakeClock,
                                        outbox: Outbox, transport: FakeTransport) -> None:
    item = await _add(db, "annulé", DUE)
    await scheduler.start()
    assert f"message:{item}" in scheduler.jobs()
    async with db.transaction() as repos:
        row = await repos.scheduled.get(item)
        assert row is not None
        row.cancelled_at = START + timedelta(minutes=1)
    clock.set(DUE)
    await scheduler.fire("message", item)
    await outbox.flush()
    assert transport.sent == []


async def test_fire_of_a_missing_row_or_kind_is_harmless(scheduler: Scheduler, clock: FakeClock,
                                                         transport: FakeTransport,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    clock.set(DUE)
    await scheduler.fire("message", 999)
    await scheduler.fire("nope", 1)
    assert transport.calls == []
    assert "scheduled nope:1 failed" in caplog.text


async def test_rebuild_after_restart(db: Database, messages: ScheduledMessages, clock: FakeClock,
                                     outbox: Outbox, transport: FakeTransport) -> None:
    first = Scheduler([messages])
    one = await _add(db, "un", DUE)
    two = await _add(db, "deux", DUE + timedelta(hours=1))
    cancelled = await _add(db, "trois", DUE + timedelta(hours=2))
    await first.start()
    assert set(first.jobs()) == {f"message:{one}", f"message:{two}", f"message:{cancelled}"}
    clock.set(DUE)
    await first.fire("message", one)
    async with db.transaction() as repos:
        row = await repos.scheduled.get(cancelled)
        assert row is not None
        row.cancelled_at = DUE
    first.shutdown()
    # A new process: new scheduler, same database.
    second = Scheduler([ScheduledMessages(db, outbox, clock)])
    try:
        await second.start()
        assert second.jobs() == {f"message:{two}": DUE + timedelta(hours=1)}
        assert await second.rebuild() == 1
        assert set(second.jobs()) == {f"message:{two}"}
    finally:
        second.shutdown()
    await outbox.flush()
    assert transport.bodies() == ["un"]


async def test_schedule_moves_and_cancel_removes(db: Database, scheduler: Scheduler) -> None:
    item = await _add(db, "x", DUE)
    await scheduler.start()
    scheduler.schedule("message", item, DUE + timedelta(days=1))
    assert scheduler.jobs() == {f"message:{item}": DUE + timedelta(days=1)}
    scheduler.cancel("message", item)
    scheduler.cancel("message", item)  # twice is harmless
    assert scheduler.jobs() == {}


async def test_job_due_during_downtime_runs_at_start(db: Database, clock: FakeClock,
                                                     outbox: Outbox,
                                                     transport: FakeTransport) -> None:
    """A row whose time passed while the bot was down is sent when the scheduler starts."""
    fired = asyncio.Event()

    class Watched(ScheduledMessages):
        async def fire(self, item_id: int) -> None:
            await super().fire(item_id)
            fired.set()

    past = datetime(2020, 1, 1, 9, 0, tzinfo=UTC)
    await _add(db, "rattrapage", past)
    scheduler = Scheduler([Watched(db, outbox, clock)])
    try:
        await scheduler.start()
        async with asyncio.timeout(5):
            await fired.wait()
    finally:
        scheduler.shutdown()
    await outbox.flush()
    assert transport.bodies() == ["rattrapage"]
