"""The actions' repository on SQLite and PostgreSQL: open ones in order, by group, those to
follow up before an event, closing one cancels its pending reminder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.models import Meeting
from storage.repositories import Repositories

T0 = datetime(2099, 1, 5, 18, tzinfo=UTC)


async def _meeting(repos: Repositories, days: int, group_id: int | None = None) -> Meeting:
    start = T0 + timedelta(days=days)
    return await repos.meetings.create(starts_at=start, ends_at=start + timedelta(hours=2),
                                       place="", territory="nord", created_by="@c:x", at=T0,
                                       group_id=group_id)


async def _action(repos: Repositories, meeting: Meeting, text: str, *, user: str | None = None,
                  group: int | None = None) -> int:
    action = await repos.actions.add(meeting_id=meeting.id, assignee=user, group_id=group,
                                     text=text, due_at=None, created_by="@c:x", created_at=T0)
    return action.id


async def test_open_actions_by_event_then_number_and_by_group(db: Database) -> None:
    async with db.transaction() as repos:
        first, second = await _meeting(repos, 0), await _meeting(repos, 7)
        await _action(repos, second, "b", user="@b:x")
        await _action(repos, first, "a", group=4)
        closed = await _action(repos, first, "gone", user="@b:x")
        action = await repos.actions.get(closed)
        assert action is not None
        await repos.actions.close(action, "faite", "@b:x", T0)
    async with db.transaction() as repos:
        assert [a.text for a in await repos.actions.open()] == ["a", "b"]
        assert [a.text for a in await repos.actions.open(group_id=4)] == ["a"]
        assert [a.text for a in await repos.actions.open(offset=1, limit=1)] == ["b"]
        assert (await repos.actions.count_open(), await repos.actions.count_open(4)) == (2, 1)
        assert await repos.actions.count_open_of_meeting(first.id) == 1


async def test_the_actions_to_follow_up_come_from_earlier_events(db: Database) -> None:
    async with db.transaction() as repos:
        club, group_meeting, later = (await _meeting(repos, 0), await _meeting(repos, 3, 4),
                                      await _meeting(repos, 14, 4))
        await _action(repos, club, "club's, for a person", user="@b:x")
        await _action(repos, club, "club's, for the group", group=4)
        await _action(repos, group_meeting, "the group's own")
        await _action(repos, later, "at the event itself", user="@b:x")
        everything = await repos.actions.open_before(later.starts_at, 999)
        mine = await repos.actions.open_before(later.starts_at, later.id, group_id=4)
    assert [a.text for a in everything] == ["club's, for a person", "club's, for the group",
                                            "the group's own"]
    assert [a.text for a in mine] == ["club's, for the group", "the group's own"]


async def test_closing_an_action_cancels_its_pending_reminder(db: Database) -> None:
    async with db.transaction() as repos:
        meeting = await _meeting(repos, 0)
        number = await _action(repos, meeting, "x", user="@b:x")
        for action_id in (number, None):
            await repos.reminders.add(kind="action", room_id="!r:x", owner="@cct-bot", text="",
                                      rule=None, due_at=T0, send_at=T0, meeting_id=meeting.id,
                                      action_id=action_id, offset="J-2", created_at=T0)
        action = await repos.actions.get(number)
        assert action is not None
        await repos.actions.close(action, "annulee", "@c:x", T0 + timedelta(hours=1))
    async with db.transaction() as repos:
        assert await repos.reminders.count_pending() == 1  # the other one stays
        closed = await repos.actions.get(number)
        assert closed is not None
        assert (closed.status, closed.closed_by, closed.closed_at) == (
            "annulee", "@c:x", T0 + timedelta(hours=1))
