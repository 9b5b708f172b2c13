"""Every repository of storage/repositories.py, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from sqlalchemy import event, select

from storage.db import Database
from storage.models import OutboxMessage
from storage.outbox import MARK_CHUNK

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


async def test_state_get_set(db: Database) -> None:
    async with db.transaction() as repos:
        assert await repos.state.get("sync_token") is None
        await repos.state.set("sync_token", "s1")
    async with db.transaction() as repos:
        assert await repos.state.get("sync_token") == "s1"
        await repos.state.set("sync_token", "s2_" + "x" * 5000)
        await repos.state.set("other", "o")
    async with db.transaction() as repos:
        assert await repos.state.get("sync_token") == "s2_" + "x" * 5000
        assert await repos.state.get("other") == "o"


async def test_rooms_mark_joined_records_the_latest_join(db: Database) -> None:
    async with db.transaction() as repos:
        row = await repos.rooms.mark_joined("!a:example.org", T0)
        assert row.joined_at == T0
        await repos.rooms.set_last_event("!a:example.org", "$e1")
    async with db.transaction() as repos:  # joined again (kicked, invited back)
        row = await repos.rooms.mark_joined("!a:example.org", T0 + timedelta(hours=5))
        assert row.joined_at == T0 + timedelta(hours=5)
    async with db.transaction() as repos:
        again = await repos.rooms.get("!a:example.org")
        assert again is not None and again.joined_at == T0 + timedelta(hours=5)
        assert again.last_event_id == "$e1"


async def test_rooms_last_event_all_and_forget(db: Database) -> None:
    async with db.transaction() as repos:
        await repos.rooms.mark_joined("!a:example.org", T0)
        await repos.rooms.mark_joined("!b:example.org", T0)
    async with db.transaction() as repos:
        await repos.rooms.set_last_event("!a:example.org", "$e1")
        await repos.rooms.set_last_event("!unknown:example.org", "$e9")  # no row: nothing happens
    async with db.transaction() as repos:
        a = await repos.rooms.get("!a:example.org")
        b = await repos.rooms.get("!b:example.org")
        assert a is not None and a.last_event_id == "$e1"
        assert b is not None and b.last_event_id is None
        assert await repos.rooms.get("!unknown:example.org") is None
        assert sorted(r.room_id for r in await repos.rooms.all()) == ["!a:example.org", "!b:example.org"]
    async with db.transaction() as repos:
        await repos.rooms.forget("!a:example.org")
        await repos.rooms.forget("!never:example.org")
    async with db.transaction() as repos:
        assert [r.room_id for r in await repos.rooms.all()] == ["!b:example.org"]
        # Joining again after forgetting records the new join time.
        row = await repos.rooms.mark_joined("!a:example.org", T0 + timedelta(days=1))
        assert row.joined_at == T0 + timedelta(days=1)


async def _queue(db: Database, event_id: str, received: datetime, sent: datetime | None = None) -> bool:
    async with db.transaction() as repos:
        return await repos.inbox.add_if_new(event_id=event_id, room_id="!r:example.org",
                                            sender="@u:example.org", body=f"!ping {event_id}",
                                            sent_at=sent or received, received_at=received)


async def test_inbox_add_if_new(db: Database) -> None:
    assert await _queue(db, "$1", T0) is True
    assert await _queue(db, "$1", T0 + timedelta(seconds=5)) is False
    async with db.transaction() as repos:
        row = await repos.inbox.get("$1")
        assert row is not None
        assert (row.room_id, row.sender, row.body) == ("!r:example.org", "@u:example.org", "!ping $1")
        assert row.received_at == T0 and row.handled_at is None
        assert await repos.inbox.get("$nope") is None


async def test_inbox_dedup_within_one_transaction(db: Database) -> None:
    async with db.transaction() as repos:
        for expected in (True, False):
            added = await repos.inbox.add_if_new(event_id="$x", room_id="!r:example.org",
                                                 sender="@u:example.org", body="!ping", sent_at=T0,
                                                 received_at=T0)
            assert added is expected


async def test_inbox_pending_order_and_mark_handled(db: Database) -> None:
    await _queue(db, "$late", T0 + timedelta(seconds=30))
    await _queue(db, "$early", T0)
    await _queue(db, "$same_b", T0 + timedelta(seconds=10), sent=T0 + timedelta(seconds=2))
    await _queue(db, "$same_a", T0 + timedelta(seconds=10), sent=T0 + timedelta(seconds=1))
    async with db.transaction() as repos:
        pending = [r.event_id for r in await repos.inbox.pending()]
        assert pending == ["$early", "$same_a", "$same_b", "$late"]
        assert [r.event_id for r in await repos.inbox.pending(limit=2)] == ["$early", "$same_a"]
        assert await repos.inbox.count_handled() == 0
        await repos.inbox.mark_handled("$same_a", T0 + timedelta(minutes=1))
    async with db.transaction() as repos:
        assert [r.event_id for r in await repos.inbox.pending()] == ["$early", "$same_b", "$late"]
        row = await repos.inbox.get("$same_a")
        assert row is not None and row.handled_at == T0 + timedelta(minutes=1)
        assert await repos.inbox.count_handled() == 1
    # A handled event is still known: it is never queued again.
    assert await _queue(db, "$same_a", T0 + timedelta(hours=1)) is False


async def test_inbox_withdraw_empties_the_text_of_the_author_s_command_only(db: Database) -> None:
    await _queue(db, "$queued", T0)
    await _queue(db, "$handled", T0)
    await _queue(db, "$other", T0)
    later = T0 + timedelta(minutes=1)
    async with db.transaction() as repos:
        await repos.inbox.mark_handled("$handled", T0)
        withdraw = repos.inbox.withdraw
        assert not await withdraw("$queued", "!r:example.org", "@mallory:example.org", later)
        assert not await withdraw("$queued", "!elsewhere:example.org", "@u:example.org", later)
        assert not await withdraw("$unknown", "!r:example.org", None, later)
        assert await withdraw("$queued", "!r:example.org", "@u:example.org", later)
        assert await withdraw("$handled", "!r:example.org", None, later)  # a moderator
    async with db.transaction() as repos:
        queued, handled, other = [await repos.inbox.get(e)
                                  for e in ("$queued", "$handled", "$other")]
        assert queued is not None and (queued.body, queued.handled_at) == ("", later)
        assert handled is not None and (handled.body, handled.handled_at) == ("", T0)
        assert other is not None and (other.body, other.handled_at) == ("!ping $other", None)
        assert [r.event_id for r in await repos.inbox.pending()] == ["$other"]


async def test_outbox_add_dedup_pending_sent_drop(db: Database) -> None:
    content = {"msgtype": "m.notice", "body": "Bienvenue à l'atelier ✓"}
    async with db.transaction() as repos:
        first = await repos.outbox.add(txn_id="cct-reply-1", room_id="!r:example.org",
                                       content=content, created_at=T0)
        assert first is not None and first.id is not None
        assert await repos.outbox.add(txn_id="cct-reply-1", room_id="!other:example.org",
                                      content={"body": "autre"}, created_at=T0) is None
        second = await repos.outbox.add(txn_id="cct-reply-2", room_id="!r:example.org",
                                        content={"body": "2"}, created_at=T0,
                                        event_type="m.reaction")
        third = await repos.outbox.add(txn_id="cct-reply-3", room_id="!r:example.org",
                                       content={"body": "3"}, created_at=T0)
        assert second is not None and third is not None
        ids = (first.id, second.id, third.id)
    assert ids[0] < ids[1] < ids[2]
    async with db.transaction() as repos:
        pending = await repos.outbox.pending()
        assert [r.txn_id for r in pending] == ["cct-reply-1", "cct-reply-2", "cct-reply-3"]
        assert json.loads(pending[0].content) == content
        assert pending[0].event_type == "m.room.message"
        assert pending[1].event_type == "m.reaction"
        assert [r.id for r in await repos.outbox.pending(limit=1)] == [ids[0]]
        await repos.outbox.mark_sent(ids[0], "$sent1", T0 + timedelta(seconds=1))
        await repos.outbox.drop(ids[1])
        await repos.outbox.drop(999_999)
    async with db.transaction() as repos:
        assert [r.id for r in await repos.outbox.pending()] == [ids[2]]
        sent = await repos.outbox.get(ids[0])
        assert sent is not None and sent.event_id == "$sent1"
        assert sent.sent_at == T0 + timedelta(seconds=1)
        assert await repos.outbox.get(ids[1]) is None
        # A dropped or sent message's txn id is still not reusable for a sent one.
        assert await repos.outbox.add(txn_id="cct-reply-1", room_id="!r:example.org",
                                      content={}, created_at=T0) is None


async def _outbox_rows(db: Database, count: int) -> list[int]:
    async with db.transaction() as repos:
        rows = [await repos.outbox.add(txn_id=f"cct-m-{n}", room_id="!r:example.org",
                                       content={"body": str(n)}, created_at=T0)
                for n in range(count)]
    return [row.id for row in rows if row is not None]


async def test_outbox_marks_many_rows_sent_in_one_statement(db: Database) -> None:
    """The bot's events synced since the last saved position are marked by one statement run
    for many (up to ``MARK_CHUNK``), by id or by transaction id; a row marked already keeps its
    event id, an unknown transaction id changes nothing."""
    ids = await _outbox_rows(db, 300)
    statements: list[tuple[str, bool]] = []

    def note(_conn: object, _cursor: object, sql: str, _params: object, _context: object,
             executemany: bool) -> None:
        statements.append((sql.split()[0], executemany))

    event.listen(db.engine.sync_engine, "before_cursor_execute", note)
    try:
        async with db.transaction() as repos:
            await repos.outbox.mark_all_sent([(ids[0], "$first", T0)])
            await repos.outbox.mark_all_sent_by_txn(
                {f"cct-m-{n}": f"$e{n}" for n in range(200)} | {"cct-unknown": "$u"}, T0)
            await repos.outbox.mark_all_sent(
                [(row_id, f"$id{row_id}", T0) for row_id in ids[150:250]])
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", note)
    assert [s for s in statements if s[0] == "UPDATE"] == [("UPDATE", False), ("UPDATE", True),
                                                            ("UPDATE", True)]
    async with db.transaction() as repos:
        rows = await repos.session.execute(
            select(OutboxMessage.id, OutboxMessage.event_id).order_by(OutboxMessage.id))
        marked = {row_id: event_id for row_id, event_id in rows}
    assert marked[ids[0]] == "$first"
    assert all(marked[ids[n]] == f"$e{n}" for n in range(1, 200))
    assert all(marked[ids[n]] == f"$id{ids[n]}" for n in range(200, 250))
    async with db.transaction() as repos:
        assert [row.id for row in await repos.outbox.pending()] == ids[250:]


async def test_outbox_marks_a_storm_in_chunks_letting_the_loop_go(db: Database) -> None:
    """A reminder storm's thousand messages come back through the sync and are marked at once
    when the position is saved: ``MARK_CHUNK`` at a time, the event loop let go between two
    (SQLite runs in the loop's thread)."""
    await _outbox_rows(db, 300)
    events = {f"cct-m-{n}": f"$e{n}" for n in range(300)} | {f"cct-x-{n}": "$x" for n in range(300)}
    order: list[str] = []

    def note(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        if sql.lstrip().upper().startswith("UPDATE OUTBOX"):
            order.append("update")

    async def ticker() -> None:
        while True:
            order.append("tick")
            await asyncio.sleep(0)

    event.listen(db.engine.sync_engine, "before_cursor_execute", note)
    task = asyncio.create_task(ticker())
    try:
        async with db.transaction() as repos:
            await repos.outbox.mark_all_sent_by_txn(events, T0)
    finally:
        task.cancel()
        event.remove(db.engine.sync_engine, "before_cursor_execute", note)
    updates = [index for index, step in enumerate(order) if step == "update"]
    assert len(updates) == -(-600 // MARK_CHUNK) > 1
    assert all("tick" in order[a:b] for a, b in pairwise(updates))
    async with db.transaction() as repos:
        assert await repos.outbox.pending() == []


async def test_welcomes_first_time(db: Database) -> None:
    async with db.transaction() as repos:
        assert await repos.welcomes.first_time("@new:example.org", "!r:example.org", T0) is True
    async with db.transaction() as repos:
        assert await repos.welcomes.first_time("@new:example.org", "!other:example.org", T0) is False
        assert await repos.welcomes.first_time("@other:example.org", "!r:example.org", T0) is True


async def test_scheduled_add_pending_get(db: Database) -> None:
    async with db.transaction() as repos:
        later = await repos.scheduled.add(room_id="!r:example.org", markdown="plus tard",
                                          due_at=T0 + timedelta(days=2), created_at=T0)
        soon = await repos.scheduled.add(room_id="!r:example.org", markdown="bientôt",
                                         due_at=T0 + timedelta(hours=1), created_at=T0)
        sent = await repos.scheduled.add(room_id="!r:example.org", markdown="déjà envoyé",
                                         due_at=T0 - timedelta(hours=1), created_at=T0)
        cancelled = await repos.scheduled.add(room_id="!r:example.org", markdown="annulé",
                                              due_at=T0 + timedelta(hours=3), created_at=T0)
        sent.sent_at = T0
        cancelled.cancelled_at = T0
        ids = {"later": later.id, "soon": soon.id, "sent": sent.id, "cancelled": cancelled.id}
    assert all(isinstance(v, int) for v in ids.values())
    async with db.transaction() as repos:
        pending = await repos.scheduled.pending()
        assert [r.id for r in pending] == [ids["soon"], ids["later"]]
        row = await repos.scheduled.get(ids["cancelled"])
        assert row is not None and row.markdown == "annulé" and row.cancelled_at == T0
        row = await repos.scheduled.get(ids["soon"])
        assert row is not None and row.due_at == T0 + timedelta(hours=1)
        assert row.sent_at is None and row.cancelled_at is None
        assert await repos.scheduled.get(123_456) is None


async def test_votes_and_the_results_version(db: Database) -> None:
    """``cast`` keeps the latest answer of each slot whatever the order they arrive in; its
    write leaves alone an answer recorded later by another transaction (it read before that
    one committed); ``bump_results`` moves the version in the database and in the object."""
    from zoneinfo import ZoneInfo

    from storage import statements

    paris = ZoneInfo("Europe/Paris")
    async with db.transaction() as repos:
        poll = await repos.polls.create(question="Quand ?", territory="nord", room_id="!r:x",
                                        closes_at=None, created_by="@c:x", at=T0)
        one = await repos.polls.add_slot(poll.id, 1, T0 + timedelta(days=9),
                                         T0 + timedelta(days=9, hours=2))
        two = await repos.polls.add_slot(poll.id, 2, T0 + timedelta(days=10),
                                         T0 + timedelta(days=10, hours=2))
        poll_id, slot_ids = poll.id, (one.id, two.id)
    later, earlier = T0 + timedelta(minutes=5), T0 + timedelta(minutes=1)
    async with db.transaction() as repos:
        changed, mine = await repos.polls.cast(
            poll_id=poll_id, user_id="@a:x", answers=[(slot_ids[0], "yes"), (slot_ids[1], "no")],
            source="native", at=later, event_id="$later", tz=paris)
        assert changed and mine == {slot_ids[0]: "yes", slot_ids[1]: "no"}
    async with db.transaction() as repos:
        changed, mine = await repos.polls.cast(
            poll_id=poll_id, user_id="@a:x", answers=[(slot_ids[0], "maybe")], source="text",
            at=earlier, event_id="$earlier", tz=paris)
        assert not changed and mine == {slot_ids[0]: "yes", slot_ids[1]: "no"}
        # What a transaction that read before "$later" committed would write:
        await repos.session.execute(statements.vote_upsert(statements.dialect_of(repos.session)),
                                    [{"slot_id": slot_ids[1], "user_id": "@a:x",
                                      "poll_id": poll_id, "answer": "maybe", "source": "text",
                                      "voted_at": earlier, "event_id": "$stale"}])
        assert await repos.polls.counts(poll_id) == {(slot_ids[0], "yes"): 1,
                                                     (slot_ids[1], "no"): 1}
        poll = await repos.polls.get(poll_id)
        assert poll is not None and poll.results_version == 0
        assert await repos.polls.bump_results(poll) == 1 and poll.results_version == 1
    async with db.transaction() as repos:
        poll = await repos.polls.get(poll_id)
        assert poll is not None and poll.results_version == 1


async def test_the_first_refusals_of_each_slot_in_one_read(db: Database) -> None:
    """``refusals``: per slot, the first ``limit`` people who answered no, earliest first (ties
    by id), whatever the other slots hold; nothing for a slot without a no, nor for no slot."""
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    async with db.transaction() as repos:
        poll = await repos.polls.create(question="Quand ?", territory="nord", room_id="!r:x",
                                        closes_at=None, created_by="@c:x", at=T0)
        slots = [(await repos.polls.add_slot(poll.id, n, T0 + timedelta(days=9 + n),
                                             T0 + timedelta(days=9 + n, hours=2))).id
                 for n in (1, 2, 3)]
        votes = [("@e:x", 5, ["no", "no", "yes"]), ("@b:x", 1, ["no", "maybe", "yes"]),
                 ("@d:x", 3, ["no", "no", "yes"]), ("@a:x", 3, ["yes", "no", "yes"]),
                 ("@c:x", 2, ["no", "yes", None])]
        for user, minute, answers in votes:
            await repos.polls.cast(poll_id=poll.id, user_id=user, answers=list(zip(
                slots, answers, strict=True)), source="text", at=T0 + timedelta(minutes=minute),
                event_id=f"${user}", tz=paris)
        assert await repos.polls.refusals(slots, 3) == {slots[0]: ["@b:x", "@c:x", "@d:x"],
                                                        slots[1]: ["@a:x", "@d:x", "@e:x"]}
        assert await repos.polls.refusals(slots, 1) == {slots[0]: ["@b:x"], slots[1]: ["@a:x"]}
        assert await repos.polls.refusals(slots[1:2], 5) == {slots[1]: ["@a:x", "@d:x", "@e:x"]}
        assert await repos.polls.refusals(slots[2:], 5) == {}
        assert await repos.polls.refusals([], 5) == {}


async def test_many_rooms_are_marked_joined_in_a_few_statements(db: Database) -> None:
    """At the bot's first start every room it is in is marked joined: a few statements per
    batch of rooms, not two per room (the club's 63 rooms stalled the loop); a room already
    known gets the new time and keeps its last event."""
    rooms = [f"!r{n}:example.org" for n in range(20)]
    async with db.transaction() as repos:
        await repos.rooms.mark_joined(rooms[3], T0)
        await repos.rooms.set_last_event(rooms[3], "$seen")
    statements: list[str] = []

    def note(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        statements.append(sql.split()[0])

    later = T0 + timedelta(days=1)
    event.listen(db.engine.sync_engine, "before_cursor_execute", note)
    try:
        async with db.transaction() as repos:
            await repos.rooms.mark_all_joined(rooms, later, batch=10)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", note)
    assert len([s for s in statements if s in ("SELECT", "INSERT", "UPDATE")]) <= 6
    async with db.transaction() as repos:
        rows = {row.room_id: row for row in await repos.rooms.all()}
    assert sorted(rows) == sorted(rooms)
    assert all(row.joined_at == later for row in rows.values())
    assert rows[rooms[3]].last_event_id == "$seen"
