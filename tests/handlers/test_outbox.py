"""The Outbox: in order, exactly once (stable transaction ids), permanent failures dropped."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from bot.clock import FakeClock
from bot.matrix_api import MatrixError
from bot.outbox import Outbox, txn_id
from commands.effects import effect_txn, ref
from commands.registry import Registry
from storage.db import Database
from storage.models import OutboxMessage
from tests.handlers.conftest import COORDINATOR, ROOM, Harness, make_club, make_harness
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
    assert transport.bodies(ROOM) == ["un", "trois"]  # each room's in order
    assert transport.bodies(OTHER) == ["deux"]
    assert sorted(s.txn_id for s in transport.sent) == sorted(
        txn_id("test", b) for b in ("un", "deux", "trois"))
    assert outbox.sent_count == 3
    by_body = {s.content["body"]: s for s in transport.sent}
    async with db.transaction() as repos:
        assert await repos.outbox.pending() == []
        for row_id, sent in zip(ids, [by_body[b] for b in ("un", "deux", "trois")], strict=True):
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
    restarted = Outbox(db, transport, clock)
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


async def test_a_pushed_message_is_sent_without_reading_the_database(
        db: Database, clock: FakeClock, transport: FakeTransport) -> None:
    """Sending what was handed over does not scan the outbox table (a read per reply); rows
    committed without being handed over are read when ``wake()`` says so, and at start. A
    row that failed stays in its room's queue and is tried again (once sent, once only)."""
    from bot.outbox import Queued

    outbox = _quick(db, transport, clock)
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
        await _until(lambda: "poussé" in transport.bodies(), "the failed row was not retried")
        await outbox.settled(5)
        outbox.push(Queued.of(row))  # handed over again: not sent again
        await outbox.settled(5)
        assert transport.bodies() == ["poussé"]  # the other row was never read
        outbox.wake()
        await _until(lambda: "pas annoncé" in transport.bodies(), "wake() read nothing")
        assert transport.bodies() == ["poussé", "pas annoncé"]
        assert unannounced
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_sent_message_is_marked_a_moment_later_with_the_others(
        db: Database, clock: FakeClock, transport: FakeTransport, outbox: Outbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Not while the homeserver is delivering it; until the mark, a restart would send it
    again with the same transaction id (deduplicated by the homeserver)."""
    from bot.outbox import Queued

    monkeypatch.setattr("bot.marks.MARK_AFTER_S", 0.3)
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


# --- rows that fail ----------------------------------------------------------------------------
def _quick(db: Database, transport: FakeTransport, clock: FakeClock, **kwargs: Any) -> Outbox:
    """An outbox whose waits between tries are a few milliseconds."""
    settings: dict[str, Any] = {"first_wait_s": 0.01, "longest_wait_s": 0.05, "hold_s": 0.1,
                                   **kwargs}
    return Outbox(db, transport, clock, **settings)


async def _homeserver_answering(transport: FakeTransport) -> None:
    """The sync loop's requests go through, again and again."""
    while True:
        transport.answered_at = asyncio.get_running_loop().time()
        await asyncio.sleep(0.01)


async def _until(check: Callable[[], bool], what: str) -> None:
    async with asyncio.timeout(10):
        while not check():
            await asyncio.sleep(0.01)
    assert check(), what


async def test_a_row_that_keeps_failing_holds_no_other_room(
        db: Database, clock: FakeClock, transport: FakeTransport) -> None:
    """An invitation the homeserver answers M_UNKNOWN every time: the other rooms' rows go,
    in order, while it is retried with growing waits — not thousands of times a second."""
    transport.refuse[OTHER] = "M_UNKNOWN"
    outbox = _quick(db, transport, clock, longest_wait_s=0.2)
    await _queue(db, clock, (OTHER, "bloqué"), (ROOM, "un"), (ROOM, "deux"))
    task = asyncio.create_task(outbox.run())
    try:
        await _until(lambda: len(transport.sent) == 2, "the other room's rows were held")
        assert transport.bodies() == ["un", "deux"]
        await asyncio.sleep(0.5)
        tries = [c[0] for c in transport.calls].count(OTHER)
        assert 2 <= tries < 25  # retried, with waits (0.01 s, 0.02 s… up to 0.2 s)
        async with db.transaction() as repos:
            (failing,) = await repos.outbox.pending()
        assert failing.failing_since == clock.now() and failing.failed_at is None
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_waiting_for_the_replies_does_not_wait_for_a_failing_row(
        db: Database, clock: FakeClock, transport: FakeTransport) -> None:
    """The sync loop waits for the batch's replies (``settled``) before syncing again: a room
    held by a row that keeps failing does not make that wait last its whole limit."""
    transport.refuse[OTHER] = "M_UNKNOWN"
    outbox = _quick(db, transport, clock, first_wait_s=3600.0, longest_wait_s=3600.0)
    await _queue(db, clock, (OTHER, "bloqué"))
    task = asyncio.create_task(outbox.run())
    try:
        await _until(lambda: OTHER in [c[0] for c in transport.calls], "never tried")
        await _queue(db, clock, (ROOM, "réponse"))
        outbox.wake()
        async with asyncio.timeout(60):  # an hour if the failing row were waited for
            await outbox.settled(3600.0)
        assert transport.bodies() == ["réponse"]
        assert not outbox.idle  # the failing row is still there, to be tried again
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_waiting_for_new_replies_does_not_wait_for_an_older_row_still_in_its_try(
        db: Database, clock: FakeClock, transport: FakeTransport) -> None:
    """A row whose first try lasts (a homeserver slow to refuse an invite) has not failed yet;
    waiting for the rows handed over after it (``since``) does not wait for it."""
    transport.stalled.add(OTHER)
    outbox = _quick(db, transport, clock)
    await _queue(db, clock, (OTHER, "lent"))
    task = asyncio.create_task(outbox.run())
    try:
        await _until(lambda: OTHER in [c[0] for c in transport.calls], "never tried")
        since = outbox.pushes
        await _queue(db, clock, (ROOM, "réponse"))
        outbox.wake()
        async with asyncio.timeout(60):  # an hour if the older row were waited for
            await outbox.settled(3600.0, since)
        assert transport.bodies() == ["réponse"]
        transport.unstalled.set()
        await _until(lambda: "lent" in transport.bodies(), "the slow row never went")
        await outbox.settled(3600.0)
        assert outbox.idle
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_the_sync_does_not_wait_for_a_reply_long_to_send(
        db: Database, clock: FakeClock, transport: FakeTransport) -> None:
    """The sync loop's wait (``quick_only``) is for replies sent in one short request: a reply
    to cut into parts (a homeserver slow to take it) is not waited for, so the next sync (the
    other rooms' commands) does not wait for it; a short reply handed over with it is."""
    transport.stalled.add(OTHER)
    outbox = _quick(db, transport, clock)
    await outbox.read_queue()
    task = asyncio.create_task(outbox.run())
    try:
        since = outbox.pushes
        await _queue(db, clock, (OTHER, "charte " * 20_000), (ROOM, "réponse"))
        outbox.wake()
        async with asyncio.timeout(60):  # an hour if the long reply were waited for
            await outbox.settled(3600.0, since, quick_only=True)
        assert transport.bodies(ROOM) == ["réponse"]  # the short one was waited for
        assert transport.bodies(OTHER) == []
        with pytest.raises(TimeoutError):  # what other waits (follow-ups) still wait for
            async with asyncio.timeout(0.3):
                await outbox.settled(3600.0, since)
        transport.unstalled.set()
        await outbox.settled(3600.0)
        assert outbox.idle
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@dataclass(frozen=True)
class _RateLimited:
    """nio's answer to a 429 asking for ten minutes."""

    status_code: str = "M_LIMIT_EXCEEDED"
    message: str = "slow down"
    retry_after_ms: int = 600_000


async def test_a_429_is_waited_out_by_the_outbox_and_holds_its_room(
        db: Database, clock: FakeClock, transport: FakeTransport) -> None:
    """The transport asks once and hands the 429 over; the outbox tries the row again no
    sooner than asked, and the row, failing for the homeserver's pace, is never to blame:
    its room's later rows wait behind it."""
    transport.fail_next.append(MatrixError("send", _RateLimited()))
    outbox = _quick(db, transport, clock, hold_s=0.0)
    first, _ = await _queue(db, clock, (ROOM, "un"), (ROOM, "deux"))
    await outbox.flush()
    failing = outbox.failures.rows[first]
    assert failing.paced and failing.tries == 1
    assert failing.retry_at - asyncio.get_running_loop().time() > 590
    assert not outbox.failures.to_blame(failing, answered=failing.first + 1)
    assert transport.bodies() == [] and len(transport.calls) == 1


async def test_later_rows_of_its_room_pass_a_row_to_blame_not_one_that_names_it(
        db: Database, clock: FakeClock, transport: FakeTransport) -> None:
    """Its room's next rows wait while the failing row may be a passing trouble; once it has
    failed for ``hold_s`` while the homeserver answered others, they go on — except one that
    names it (``ref``), which waits for it."""
    transport.refuse_body["cassé"] = "M_UNKNOWN"
    outbox = _quick(db, transport, clock)
    async with db.transaction() as repos:
        broken = await repos.outbox.add(txn_id=effect_txn("broken"), room_id=ROOM,
                                        content={"msgtype": "m.notice", "body": "cassé"},
                                        created_at=clock.now())
        after = await repos.outbox.add(txn_id=effect_txn("after"), room_id=ROOM, content={
            "msgtype": "m.notice", "body": "après",
            "m.relates_to": {"m.in_reply_to": {"event_id": ref("broken")}}},
            created_at=clock.now())
        plain = await repos.outbox.add(txn_id=effect_txn("plain"), room_id=ROOM,
                                       content={"msgtype": "m.notice", "body": "ensuite"},
                                       created_at=clock.now())
    assert broken and after and plain
    await _queue(db, clock, (OTHER, "ailleurs"))
    task = asyncio.create_task(outbox.run())
    sync = asyncio.create_task(_homeserver_answering(transport))
    try:
        await _until(lambda: "ensuite" in transport.bodies(), "the room stayed held")
        assert "après" not in transport.bodies()  # it names the failing row: it waits
        transport.refuse_body.clear()  # the trouble ends
        await _until(lambda: "après" in transport.bodies(), "the waiting row never went")
        sent = {s.content["body"]: s for s in transport.sent}
        assert sent["après"].content["m.relates_to"]["m.in_reply_to"]["event_id"] == \
            sent["cassé"].event_id
        assert sorted(transport.bodies()) == ["ailleurs", "après", "cassé", "ensuite"]
    finally:
        task.cancel()
        sync.cancel()
        await asyncio.gather(task, sync, return_exceptions=True)


async def test_a_row_failing_past_the_limit_is_set_aside_and_reported_once(
        db: Database, clock: FakeClock, transport: FakeTransport, registry: Registry) -> None:
    """Past ``send_retry_hours`` since its first failure (kept across restarts), a row is set
    aside: never tried again, reported once to the coordinators in the main room."""
    club = replace(make_club(), rooms={"main": ROOM}, coordinators=(COORDINATOR,))
    transport.refuse[OTHER] = "M_UNKNOWN"
    outbox = _quick(db, transport, clock, retry_for=timedelta(hours=24))
    make_harness(db, clock, transport, outbox, registry, club)
    (row_id,) = await _queue(db, clock, (OTHER, "jamais"))
    await outbox.flush()  # fails once: noted
    clock.advance(timedelta(hours=23))
    restarted = _quick(db, transport, clock, retry_for=timedelta(hours=24))
    make_harness(db, clock, transport, restarted, registry, club)
    await restarted.flush()  # 23 h after its first failure: still retried
    assert transport.bodies() == []
    clock.advance(timedelta(hours=2))
    await restarted.flush()  # 25 h: set aside, reported
    await restarted.flush()
    (report,) = transport.sent
    assert report.room_id == ROOM
    assert report.content["body"] == (
        f"⚠️ {COORDINATOR} : j'ai abandonné un message pour le salon {OTHER}, après 25 h "
        f"d'échecs (le serveur Matrix l'a refusé ou n'a pas répondu). Le détail est dans le "
        f"journal du bot (envoi n° {row_id}).")
    assert report.content["m.mentions"] == {"user_ids": [COORDINATOR]}
    async with db.transaction() as repos:
        (failed,) = await repos.outbox.failed()
        assert failed.id == row_id and failed.failed_at == clock.now()
        assert await repos.outbox.pending() == []
    tries = len(transport.calls)
    again = _quick(db, transport, clock)
    make_harness(db, clock, transport, again, registry, club)
    await again.flush()
    assert len(transport.calls) == tries  # neither tried nor reported again
    assert len(transport.sent) == 1


async def test_a_room_creation_set_aside_is_told_and_can_be_asked_again(
        db: Database, clock: FakeClock, transport: FakeTransport, registry: Registry) -> None:
    """A group's room the homeserver never creates: the replies after it in its room go on
    once it is the one to blame; once set aside for good, the asker is told it was not created
    (not « en cours de création » forever), the coordinators too, and it may be asked again."""
    club = replace(make_club(), rooms={"main": ROOM}, coordinators=(COORDINATOR,))
    outbox = _quick(db, transport, clock, retry_for=timedelta(hours=1))
    bot = make_harness(db, clock, transport, outbox, registry, club)
    await bot.reply_to("!projet creer Vélo-école")
    transport.creation_error = "M_UNKNOWN"
    task = asyncio.create_task(outbox.run())
    sync = asyncio.create_task(_homeserver_answering(transport))

    async def answer(body: str) -> list[str]:
        event_id = await bot.queue(body)
        await bot.dispatcher.handle(event_id)

        def replies() -> list[str]:
            return [s.content["body"] for s in transport.sent if s.content.get(
                "m.relates_to", {}).get("m.in_reply_to", {}).get("event_id") == event_id]
        await _until(lambda: bool(replies()), f"no reply to {body}")
        return replies()

    try:
        assert (await answer("!projet salon vélo"))[0].startswith("Je crée le salon")
        assert "en cours de création" in (await answer("!projet salon vélo"))[0]
        clock.advance(timedelta(hours=2))
        await _until(lambda: any(b.startswith("Je n'ai pas pu créer le salon de **n°1 Vélo-école**")
                                 for b in transport.bodies()), "the asker was not told")
        await _until(lambda: any("j'ai abandonné la création du salon « Vélo-école »" in b
                                 for b in transport.bodies()), "no report")
        transport.creation_error = None
        assert (await answer("!projet salon vélo"))[0].startswith("Je crée le salon")
        await _until(lambda: len(transport.created) == 1, "the second creation never came")
        assert [room["name"] for room in transport.created] == ["Vélo-école"]
    finally:
        task.cancel()
        sync.cancel()
        await asyncio.gather(task, sync, return_exceptions=True)
