"""The rencontres' repository on SQLite and PostgreSQL: meetings, RSVPs, attendance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from storage.db import Database
from storage.repositories import Repositories

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
PARIS = ZoneInfo("Europe/Paris")


async def make(repos: Repositories, starts_at: datetime, territory: str = "nord",
               status: str = "prevue", poll_id: int | None = None):  # type: ignore[no-untyped-def]
    meeting = await repos.meetings.create(starts_at=starts_at, ends_at=starts_at + timedelta(hours=2),
                                          place="Salle des fêtes", territory=territory,
                                          created_by="@claire:x", at=NOW, poll_id=poll_id)
    meeting.status = status
    return meeting


async def test_create_and_get_keep_every_field_aware_utc(db: Database) -> None:
    async with db.transaction() as repos:
        created = await make(repos, NOW + DAY, poll_id=7)
    async with db.transaction() as repos:
        meeting = await repos.meetings.get(created.id)
        assert meeting is not None
        assert meeting.starts_at == NOW + DAY and meeting.starts_at.tzinfo is not None
        assert meeting.ends_at == NOW + DAY + timedelta(hours=2)
        assert (meeting.place, meeting.territory, meeting.status, meeting.poll_id) == (
            "Salle des fêtes", "nord", "prevue", 7)
        assert (meeting.sequence, meeting.minutes, meeting.cancel_reason, meeting.rooms) == (
            0, "", "", "[]")
        assert meeting.created_at == NOW == meeting.updated_at
        assert await repos.meetings.get(999) is None


async def test_next_planned_skips_past_cancelled_and_held_ones(db: Database) -> None:
    async with db.transaction() as repos:
        assert await repos.meetings.next_planned(NOW) is None
        await make(repos, NOW - DAY)  # past
        await make(repos, NOW + DAY, status="annulee")
        later = await make(repos, NOW + 3 * DAY)
        sooner = await make(repos, NOW + 2 * DAY)
        await make(repos, NOW + timedelta(hours=1), status="tenue")
    async with db.transaction() as repos:
        found = await repos.meetings.next_planned(NOW)
        assert found is not None and found.id == sooner.id
        at_start = await repos.meetings.next_planned(NOW + 2 * DAY)  # starting right now
        assert at_start is not None and at_start.id == sooner.id
        after = await repos.meetings.next_planned(NOW + 2 * DAY + timedelta(minutes=1))
        assert after is not None and after.id == later.id


async def test_upcoming_and_past_lists_with_counts(db: Database) -> None:
    async with db.transaction() as repos:
        old = await make(repos, NOW - 10 * DAY, status="tenue")
        recent = await make(repos, NOW - DAY)
        soon = await make(repos, NOW + DAY)
        cancelled = await make(repos, NOW + 2 * DAY, status="annulee")
        for user, answer in (("@a:x", "present"), ("@b:x", "present"), ("@c:x", "peutetre"),
                             ("@d:x", "absent")):
            await repos.meetings.set_rsvp(soon.id, user, answer, NOW, tz=PARIS)
        await repos.meetings.set_attendance(old.id, ["@a:x", "@b:x", "@c:x"], NOW, tz=PARIS)
    async with db.transaction() as repos:
        upcoming = await repos.meetings.upcoming(NOW)
        assert [s.meeting.id for s in upcoming] == [soon.id, cancelled.id]
        assert upcoming[0].answers == {"present": 2, "peutetre": 1, "absent": 1}
        assert upcoming[1].answers == {} and upcoming[1].attended == 0
        past = await repos.meetings.past(NOW)
        assert [s.meeting.id for s in past] == [recent.id, old.id]
        assert [s.attended for s in past] == [0, 3]
        assert [s.meeting.id for s in await repos.meetings.past(NOW, limit=1)] == [recent.id]
        assert [s.meeting.id for s in await repos.meetings.upcoming(NOW, limit=1)] == [soon.id]
        assert await repos.meetings.upcoming(NOW + 100 * DAY) == []


async def test_upcoming_and_past_lists_are_whole_unless_limited(db: Database) -> None:
    async with db.transaction() as repos:
        for day in range(-70, 70):
            await make(repos, NOW + day * DAY + timedelta(hours=1))
    async with db.transaction() as repos:
        assert len(await repos.meetings.upcoming(NOW)) == 70
        assert len(await repos.meetings.past(NOW)) == 70
        assert len(await repos.meetings.past(NOW, limit=20)) == 20


async def test_rsvp_set_replace_and_clear(db: Database) -> None:
    async with db.transaction() as repos:
        meeting = await make(repos, NOW + DAY)
        await repos.meetings.set_rsvp(meeting.id, "@a:x", "present", NOW, tz=PARIS)
        await repos.meetings.set_rsvp(meeting.id, "@b:x", "peutetre", NOW + timedelta(minutes=1),
                                      tz=PARIS)
        assert await repos.meetings.rsvp(meeting.id, "@a:x") == "present"
        await repos.meetings.set_rsvp(meeting.id, "@a:x", "absent", NOW + timedelta(minutes=2),
                                      tz=PARIS)
        assert await repos.meetings.rsvp(meeting.id, "@a:x") == "absent"  # same transaction
    async with db.transaction() as repos:
        rows = await repos.meetings.rsvps(meeting.id)
        assert [(r.user_id, r.answer, r.at) for r in rows] == [
            ("@b:x", "peutetre", NOW + timedelta(minutes=1)),
            ("@a:x", "absent", NOW + timedelta(minutes=2))]
        assert await repos.meetings.clear_rsvp(meeting.id, "@a:x") is True
        assert await repos.meetings.clear_rsvp(meeting.id, "@a:x") is False
        assert await repos.meetings.rsvp(meeting.id, "@a:x") is None
        assert await repos.meetings.rsvp(meeting.id, "@nobody:x") is None


async def test_attendance_replaces_the_whole_list(db: Database) -> None:
    async with db.transaction() as repos:
        meeting = await make(repos, NOW - DAY)
        assert await repos.meetings.set_attendance(meeting.id, ["@b:x", "@a:x", "@b:x"], NOW,
                                                   tz=PARIS) == ["@b:x", "@a:x"]
    async with db.transaction() as repos:
        rows = await repos.meetings.attendance(meeting.id)
        assert [(r.user_id, r.recorded_at) for r in rows] == [("@a:x", NOW), ("@b:x", NOW)]
        await repos.meetings.set_attendance(meeting.id, ["@c:x", "@a:x"], NOW + DAY, tz=PARIS)
        assert [r.user_id for r in await repos.meetings.attendance(meeting.id)] == ["@a:x", "@c:x"]
    async with db.transaction() as repos:
        assert [r.user_id for r in await repos.meetings.attendance(meeting.id)] == ["@a:x", "@c:x"]
        await repos.meetings.set_attendance(meeting.id, [], NOW, tz=PARIS)
        assert await repos.meetings.attendance(meeting.id) == []


async def test_a_groups_event_carries_the_groups_current_name_and_who_organises(
        db: Database) -> None:
    async with db.transaction() as repos:
        group = await repos.groups.create(name="Atelier vélo", name_key="atelier velo",
                                          slug="atelier-velo", description="", theme="mobilite",
                                          territory="nord", status="en-cours",
                                          created_by="@alice:x", at=NOW)
        created = await repos.meetings.create(starts_at=NOW + DAY, ends_at=NOW + 2 * DAY,
                                              place="", territory="nord", created_by="@claire:x",
                                              at=NOW, group_id=group.id, organiser="@olga:x")
        assert (created.group_name, created.group_slug) == ("Atelier vélo", "atelier-velo")
        created.place = "Local"  # a change flushed keeps them, with no hidden query
        await repos.session.flush()
        assert created.group_name == "Atelier vélo"
        club = await make(repos, NOW + DAY)
        assert (club.group_name, club.group_slug) == (None, None)
        assert await repos.meetings.organises("@olga:x")
        assert await repos.meetings.organises("@claire:x")  # the planner, of the club's one
        assert not await repos.meetings.organises("@bob:x")
    async with db.transaction() as repos:
        renamed = await repos.groups.get(group.id)
        assert renamed is not None
        renamed.name = "Atelier cycles"
    async with db.transaction() as repos:
        meeting = await repos.meetings.get(created.id)
        assert meeting is not None and meeting.group_name == "Atelier cycles"
        meeting.status = "annulee"
    async with db.transaction() as repos:
        assert not await repos.meetings.organises("@olga:x")  # only a cancelled one left
        assert await repos.actions.of_meeting(created.id) == []
