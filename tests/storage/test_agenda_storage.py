"""The agenda's and the remontées' repositories on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.repositories import Repositories

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)


async def meeting_id(repos: Repositories) -> int:
    meeting = await repos.meetings.create(starts_at=NOW + timedelta(days=3),
                                          ends_at=NOW + timedelta(days=3, hours=2), place="",
                                          territory="nord", created_by="@claire:x", at=NOW)
    return meeting.id


async def test_suggestions_and_supports(db: Database) -> None:
    async with db.transaction() as repos:
        mid = await meeting_id(repos)
        first = await repos.agenda.add_suggestion(meeting_id=mid, author="@a:x", text="Un",
                                                  room_id="!r:x", confirmation_txn="cct-reply-1",
                                                  at=NOW)
        second = await repos.agenda.add_suggestion(meeting_id=mid, author="@b:x", text="Deux",
                                                   room_id="!r:x", confirmation_txn="cct-reply-2",
                                                   at=NOW)
    async with db.transaction() as repos:
        assert [s.id for s in await repos.agenda.suggestions(mid)] == [first.id, second.id]
        found = await repos.agenda.suggestion_confirmed_by("cct-reply-2")
        assert found is not None and found.id == second.id and found.created_at == NOW
        assert await repos.agenda.suggestion_confirmed_by("cct-reply-9") is None
        assert await repos.agenda.add_support(first.id, "@b:x", NOW, "$reaction")
        assert not await repos.agenda.add_support(first.id, "@b:x", NOW)  # once per person
        assert await repos.agenda.add_support(first.id, "@c:x", NOW + timedelta(minutes=1))
        assert await repos.agenda.add_support(second.id, "@c:x", NOW)
    async with db.transaction() as repos:
        assert await repos.agenda.support_counts(mid) == {first.id: 2, second.id: 1}
        assert await repos.agenda.supporters(first.id) == ["@b:x", "@c:x"]
        given = await repos.agenda.support_by_reaction("$reaction")
        assert given is not None and (given.suggestion_id, given.user_id) == (first.id, "@b:x")
        assert await repos.agenda.support_by_reaction("$other") is None
        assert await repos.agenda.remove_support(first.id, "@b:x")
        assert await repos.agenda.remove_support(second.id, "@c:x")
        assert not await repos.agenda.remove_support(second.id, "@c:x")
    async with db.transaction() as repos:
        assert await repos.agenda.support_counts(mid) == {first.id: 1}


async def test_items_are_appended_moved_and_removed_in_order(db: Database) -> None:
    async with db.transaction() as repos:
        mid = await meeting_id(repos)
        ids = []
        for title in ("A", "B", "C", "D"):
            item = await repos.agenda.add_item(meeting_id=mid, title=title, minutes=10, method="",
                                               presenter=None, created_by="@claire:x", at=NOW)
            ids.append(item.id)
    async with db.transaction() as repos:
        assert [(i.title, i.position) for i in await repos.agenda.items(mid)] == [
            ("A", 1), ("B", 2), ("C", 3), ("D", 4)]
        d = await repos.agenda.item(ids[3])
        assert d is not None
        await repos.agenda.move_item(d, 1)
    async with db.transaction() as repos:
        assert [i.title for i in await repos.agenda.items(mid)] == ["D", "A", "B", "C"]
        b = await repos.agenda.item(ids[1])
        assert b is not None
        await repos.agenda.remove_item(b)
    async with db.transaction() as repos:
        assert [(i.title, i.position) for i in await repos.agenda.items(mid)] == [
            ("D", 1), ("A", 2), ("C", 3)]
        last = await repos.agenda.add_item(meeting_id=mid, title="E", minutes=5, method="m",
                                           presenter="@a:x @b:x", created_by="@claire:x", at=NOW)
        assert last.position == 4


async def test_state_is_created_once(db: Database) -> None:
    async with db.transaction() as repos:
        mid = await meeting_id(repos)
        assert await repos.agenda.state(mid) is None
        state = await repos.agenda.state_for_update(mid)
        assert (state.version, state.published, state.rooms, state.published_at) == (
            0, "[]", "[]", None)
        state.version = 2
    async with db.transaction() as repos:
        again = await repos.agenda.state_for_update(mid)
        assert again.version == 2


async def test_remontees(db: Database) -> None:
    async with db.transaction() as repos:
        one = await repos.remontees.add(author="@a:x", room_id="!r:x", text="Abri vélo", at=NOW)
        two = await repos.remontees.add(author="@b:x", room_id="!r:x", text="Bus", at=NOW)
        two.status, two.sent_at = "transmise", NOW
    async with db.transaction() as repos:
        assert [r.id for r in await repos.remontees.listing()] == [one.id, two.id]
        assert [r.id for r in await repos.remontees.listing("transmise")] == [two.id]
        assert [r.id for r in await repos.remontees.listing(limit=1)] == [one.id]
        assert set(await repos.remontees.many([one.id, 999])) == {one.id}
        assert await repos.remontees.many([]) == {}
        assert await repos.remontees.count_by_status() == {"nouvelle": 1, "transmise": 1}
        found = await repos.remontees.get(two.id)
        assert found is not None and found.sent_at == NOW
