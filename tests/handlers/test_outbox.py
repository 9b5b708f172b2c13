"""The Outbox: in order, exactly once (stable transaction ids), permanent failures dropped."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import update

from bot.clock import FakeClock
from bot.outbox import Outbox, txn_id
from storage.db import Database
from storage.models import OutboxMessage
from tests.handlers.conftest import ROOM, Harness
from tests.handlers.fakes import FakeTransport

OTHER = "!other:example.org"


async def _queue(db: Database, clock: FakeClock, *items: tuple[str, str]) -> list[int]:
    ids = []
    async with db.transaction() as repos:
        for room_id, body in items:
            row = await repos.outbox.add(txn_id=txn_id("test", body), room_id=room_id,
                                         content={"msgtype": "m.notice", "body": body},
                                         created_at=clock.now())
            assert row is not None
            ids.append(row.id)
    return ids


def test_txn_id_is_stable_and_distinct() -> None:
    assert txn_id("reply", "$abc") == txn_id("reply", "$abc")
    assert txn_id("reply", "$abc") != txn_id("reply", "$abd")
    assert txn_id("reply", "$abc") != txn_id("welcome", "$abc")
    assert txn_id("reply", "$abc").startswith("cct-reply-")
    assert len(txn_id("reply", "x" * 10_000)) < 64


async def test_sends_in_order_and_marks_sent(db: Database, clock: FakeClock, outbox: Outbox,
                                             transport: FakeTransport) -> None:
    ids = await _queue(db, clock, (ROOM, "un"), (OTHER, "deux"), (ROOM, "trois"))
    clock.advance(timedelta(seconds=3))
    await outbox.flush()
    assert transport.bodies() == ["un", "deux", "trois"]
    assert [s.txn_id for s in transport.sent] == [txn_id("test", b) for b in ("un", "deux", "trois")]
    assert outbox.sent_count == 3
    async with db.transaction() as repos:
        assert await repos.outbox.pending() == []
        for row_id, sent in zip(ids, transport.sent, strict=True):
            row = await repos.outbox.get(row_id)
            assert row is not None
            assert row.sent_at == clock.now()
            assert row.event_id == sent.event_id
    await outbox.flush()
    assert len(transport.calls) == 3  # nothing sent twice


async def test_flush_sends_more_than_one_page(db: Database, clock: FakeClock, outbox: Outbox,
                                              transport: FakeTransport) -> None:
    await _queue(db, clock, *[(ROOM, f"m{i:03}") for i in range(230)])
    await outbox.flush()
    assert transport.bodies() == [f"m{i:03}" for i in range(230)]


async def test_crash_before_the_mark_resends_with_the_same_txn_id(
        db: Database, clock: FakeClock, outbox: Outbox, transport: FakeTransport) -> None:
    (row_id,) = await _queue(db, clock, (ROOM, "réponse"))
    await outbox.flush()
    first_txn = transport.calls[0][1]
    # The process died after the homeserver accepted the event but before the mark was saved.
    async with db.transaction() as repos:
        await repos.session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                                    .values(sent_at=None, event_id=None))
    restarted = Outbox(db, transport, clock)  # type: ignore[arg-type]
    await restarted.flush()
    assert [call[1] for call in transport.calls] == [first_txn, first_txn]
    assert transport.bodies() == ["réponse"]  # the homeserver deduplicated the retry
    async with db.transaction() as repos:
        row = await repos.outbox.get(row_id)
        assert row is not None and row.sent_at is not None
        assert row.event_id == transport.sent[0].event_id


async def test_permanent_failure_drops_the_row(db: Database, clock: FakeClock, outbox: Outbox,
                                               transport: FakeTransport,
                                               caplog: pytest.LogCaptureFixture) -> None:
    transport.refuse[OTHER] = "M_FORBIDDEN"
    ids = await _queue(db, clock, (ROOM, "a"), (OTHER, "refusé"), (ROOM, "b"))
    caplog.set_level(logging.ERROR)
    await outbox.flush()
    assert transport.bodies() == ["a", "b"]
    assert outbox.sent_count == 2
    assert "refused for good" in caplog.text
    async with db.transaction() as repos:
        assert await repos.outbox.get(ids[1]) is None
        assert await repos.outbox.pending() == []
    await outbox.flush()
    assert [c[0] for c in transport.calls].count(OTHER) == 1  # not retried


async def test_replies_are_sent_through_the_dispatcher_with_stable_txn(
        bot: Harness, transport: FakeTransport) -> None:
    await bot.command("!ping", event_id="$p")
    assert transport.sent[0].txn_id == txn_id("reply", "$p")


async def test_run_sends_when_woken(db: Database, clock: FakeClock, outbox: Outbox,
                                    transport: FakeTransport) -> None:
    task = asyncio.create_task(outbox.run())
    try:
        await _queue(db, clock, (ROOM, "réveil"))
        outbox.wake()
        async with asyncio.timeout(5):
            while not transport.sent:
                await asyncio.sleep(0.01)
        assert transport.bodies() == ["réveil"]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_run_survives_a_transient_failure(db: Database, clock: FakeClock, outbox: Outbox,
                                                transport: FakeTransport) -> None:
    transport.fail_next.append(ConnectionResetError("réseau coupé"))
    task = asyncio.create_task(outbox.run())
    try:
        await _queue(db, clock, (ROOM, "premier"))
        outbox.wake()
        async with asyncio.timeout(5):
            while not transport.calls:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        await _queue(db, clock, (ROOM, "second"))
        outbox.wake()
        async with asyncio.timeout(5):
            while len(transport.sent) < 2 and not task.done():
                await asyncio.sleep(0.01)
        assert not task.done()
        assert transport.bodies() == ["premier", "second"]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_pushed_message_is_sent_once_even_if_the_database_scan_sees_it(
        db: Database, clock: FakeClock, transport: FakeTransport, outbox: Outbox) -> None:
    from bot.outbox import Queued

    (row_id,) = await _queue(db, clock, (ROOM, "poussé"))
    async with db.transaction() as repos:
        row = await repos.outbox.get(row_id)
        assert row is not None
        message = Queued.of(row)
    outbox.push(message)
    outbox.push(message)  # handed over twice (a retry, a race with the scan)
    await outbox.flush()
    await outbox.flush()
    assert [s.content["body"] for s in transport.sent] == ["poussé"]
    assert len(transport.calls) == 1  # not even a second request
    async with db.transaction() as repos:
        assert await repos.outbox.pending() == []


async def test_a_pushed_message_is_sent_without_reading_the_database_and_a_failure_rereads_it(
        db: Database, clock: FakeClock, transport: FakeTransport, outbox: Outbox) -> None:
    """Sending what was handed over does not scan the outbox table (a read per reply); rows
    committed without being handed over are read when ``wake()`` says so, at start, and after
    a failure (a message popped and not sent is still in the table)."""
    from bot.outbox import Queued

    await outbox.flush()  # the start's scan
    (unannounced,) = await _queue(db, clock, (ROOM, "pas annoncé"))
    (pushed_id,) = await _queue(db, clock, (ROOM, "poussé"))
    async with db.transaction() as repos:
        row = await repos.outbox.get(pushed_id)
        assert row is not None
    transport.fail_next.append(ConnectionResetError("réseau coupé"))
    task = asyncio.create_task(outbox.run())
    try:
        outbox.push(Queued.of(row))
        async with asyncio.timeout(10):
            while "poussé" not in transport.bodies():
                await asyncio.sleep(0.01)
        await outbox.settled(5)
        # The failure made the sender read the table: both are sent, each once.
        assert sorted(transport.bodies()) == sorted(["poussé", "pas annoncé"])
        (later,) = await _queue(db, clock, (ROOM, "plus tard"))
        await asyncio.sleep(0.1)
        outbox.push(Queued.of(row))  # a push alone does not read the table again
        await asyncio.sleep(0.1)
        assert "plus tard" not in transport.bodies()
        outbox.wake()
        async with asyncio.timeout(5):
            while "plus tard" not in transport.bodies():
                await asyncio.sleep(0.01)
        assert sorted(transport.bodies()) == sorted(["plus tard", "poussé", "pas annoncé"])
        assert unannounced and later
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_sent_message_is_marked_a_moment_later_with_the_others(
        db: Database, clock: FakeClock, transport: FakeTransport, outbox: Outbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Not while the homeserver is delivering it; until the mark, a restart would send it
    again with the same transaction id (deduplicated by the homeserver)."""
    from bot.outbox import Queued

    monkeypatch.setattr("bot.outbox.MARK_AFTER_S", 0.3)
    await outbox.flush()
    ids = await _queue(db, clock, (ROOM, "un"), (ROOM, "deux"))
    async with db.transaction() as repos:
        rows = [await repos.outbox.get(row_id) for row_id in ids]
    task = asyncio.create_task(outbox.run())
    try:
        for row in rows:
            assert row is not None
            outbox.push(Queued.of(row))
        async with asyncio.timeout(5):
            while len(transport.sent) < 2:
                await asyncio.sleep(0.01)
        async with db.transaction() as repos:
            assert len(await repos.outbox.pending()) == 2  # sent, not marked yet
        await asyncio.sleep(0.5)
        async with db.transaction() as repos:
            assert await repos.outbox.pending() == []
            marked = [await repos.outbox.get(row_id) for row_id in ids]
        assert [m.event_id for m in marked if m] == [s.event_id for s in transport.sent]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
