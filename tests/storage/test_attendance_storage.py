"""Everyone who came, on SQLite and PostgreSQL: headcounts, guests, members added by a sheet,
the counts of one event and of a period (the report's), and the guests' names expiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage.db import Database
from storage.models import MeetingGuest
from storage.repositories import Repositories

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
PARIS = ZoneInfo("Europe/Paris")


async def make(repos: Repositories, starts_at: datetime, status: str = "tenue") -> int:
    meeting = await repos.meetings.create(starts_at=starts_at, ends_at=starts_at + DAY / 12,
                                          place="Gap", territory="nord", created_by="@c:x",
                                          at=NOW)
    meeting.status = status
    return meeting.id


async def test_one_event_counted_three_ways_by_territory_and_category(db: Database) -> None:
    async with db.transaction() as repos:
        first = await make(repos, NOW - DAY)
        other = await make(repos, NOW - 2 * DAY)
        await repos.participants.set_profile("@a:x", NOW, territory="nord", category="habitant")
        await repos.meetings.set_attendance(first, ["@a:x", "@b:x"], NOW, tz=PARIS)
        await repos.attendance.set_headcount(first, "nord", {"elu": 8, "habitant": 0}, NOW)
        await repos.attendance.set_headcount(first, "sud", {"habitant": 3}, NOW)
        await repos.attendance.add_guests(first, [("Marie", "elu", "sud")], NOW)
        await repos.attendance.set_headcount(other, "nord", {"elu": 100}, NOW)
    async with db.transaction() as repos:
        turnout = await repos.attendance.turnout(first)
        assert turnout.ways == {"membres": 2, "invites": 1, "effectif": 11}
        assert turnout.total == 14 and turnout.members == 2
        assert turnout.cells == {("nord", "habitant"): 1, ("non-renseigne", "non-renseigne"): 1,
                                 ("nord", "elu"): 8, ("sud", "habitant"): 3, ("sud", "elu"): 1}
        assert turnout.by_category() == {"habitant": 4, "non-renseigne": 1, "elu": 9}
        assert turnout.by_territory() == {"nord": 9, "non-renseigne": 1, "sud": 4}
        assert await repos.attendance.headcounts(first) == {("nord", "elu"): 8,
                                                           ("sud", "habitant"): 3}
        # a territory's headcount is replaced as a whole
        await repos.attendance.set_headcount(first, "nord", {"association": 2}, NOW)
        assert await repos.attendance.headcounts(first) == {("nord", "association"): 2,
                                                           ("sud", "habitant"): 3}


async def test_a_period_counts_each_event_and_leaves_cancelled_ones_out(db: Database) -> None:
    async with db.transaction() as repos:
        march = await make(repos, NOW - DAY)
        april = await make(repos, NOW + 30 * DAY)
        cancelled = await make(repos, NOW - 2 * DAY, status="annulee")
        last_year = await make(repos, NOW - 400 * DAY)
        for meeting in (march, april, cancelled, last_year):
            await repos.attendance.set_headcount(meeting, "nord", {"elu": 2}, NOW)
            await repos.meetings.set_attendance(meeting, ["@a:x"], NOW, tz=PARIS)
    async with db.transaction() as repos:
        start = datetime(2027, 1, 1, tzinfo=UTC)
        turnout = await repos.attendance.turnout_between(start, start + 365 * DAY)
        assert turnout.ways == {"membres": 2, "effectif": 4}  # @a:x once per event
        assert turnout.by_category() == {"elu": 4, "non-renseigne": 2}


async def test_members_added_by_a_sheet_keep_those_already_there(db: Database) -> None:
    async with db.transaction() as repos:
        number = await make(repos, NOW - DAY)
        await repos.meetings.set_attendance(number, ["@a:x"], NOW, tz=PARIS)
        meeting = await repos.meetings.get(number)
        assert meeting is not None
        added = await repos.attendance.add_members(meeting, ["@a:x", "@b:x", "@b:x"], NOW,
                                                   tz=PARIS)
        assert added == ["@b:x"]
        assert [a.user_id for a in await repos.meetings.attendance(number)] == ["@a:x", "@b:x"]
        assert await repos.participants.get("@b:x") is not None  # took part


async def test_guests_of_old_events_become_headcounts(db: Database) -> None:
    async with db.transaction() as repos:
        old = await make(repos, NOW - 800 * DAY)
        recent = await make(repos, NOW - DAY)
        await repos.attendance.set_headcount(old, "nord", {"elu": 2}, NOW)
        await repos.attendance.add_guests(old, [("Marie", "elu", "nord"), ("Jean", "elu", "nord"),
                                                ("Zoé", "autre", "hors")], NOW)
        await repos.attendance.add_guests(recent, [("Luc", "elu", "nord")], NOW)
        before = await repos.attendance.turnout(old)
    async with db.transaction() as repos:
        assert await repos.attendance.expire_guests(NOW - 730 * DAY) == 3
    async with db.transaction() as repos:
        names = (await repos.session.scalars(select(MeetingGuest.name))).all()
        assert names == ["Luc"]
        assert await repos.attendance.headcounts(old) == {("nord", "elu"): 4, ("hors", "autre"): 1}
        after = await repos.attendance.turnout(old)
        assert after.cells == before.cells and after.total == before.total == 5
        assert await repos.attendance.expire_guests(NOW - 730 * DAY) == 0


async def test_a_forgotten_guest_stays_counted_when_the_headcount_is_typed_again(
        db: Database) -> None:
    async with db.transaction() as repos:
        first = await make(repos, NOW - DAY)
        await repos.attendance.set_headcount(first, "sud", {"elu": 2}, NOW)
        await repos.attendance.add_guests(first, [("Marie", "elu", "sud"),
                                                  ("Paul", "habitant", "sud")], NOW)
        assert await repos.attendance.forget_guest(first, "marie", NOW) == 1
        assert await repos.attendance.forget_guest(first, "Paul", NOW) == 1
    async with db.transaction() as repos:
        assert (await repos.attendance.turnout(first)).total == 4
        # the organiser types the south's headcount again: Marie and Paul are still counted
        await repos.attendance.set_headcount(first, "sud", {"elu": 3}, NOW)
    async with db.transaction() as repos:
        assert await repos.attendance.headcounts(first) == {("sud", "elu"): 4,
                                                           ("sud", "habitant"): 1}
        assert (await repos.attendance.turnout(first)).total == 5
        await repos.attendance.set_headcount(first, "sud", {}, NOW)
        assert await repos.attendance.headcounts(first) == {("sud", "elu"): 1,
                                                           ("sud", "habitant"): 1}
