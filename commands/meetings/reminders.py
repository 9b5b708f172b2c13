"""The automatic reminders of a rencontre, derived from it: created when it is planned, moved
when it is moved, dropped when it is cancelled; when any reminder is sent (quiet hours).

Below the agenda and the reminders' delivery (which reads the agenda): the rencontres and the
date polls plan reminders without importing ``commands.reminders``."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from dateutil.relativedelta import relativedelta

from commands.context import Club
from commands.dates import wall_clock

if TYPE_CHECKING:
    from storage.models import Meeting
    from storage.repositories import Repositories

REMINDERS_KIND = "reminders"  # the scheduler's job kind of every reminder
BOT = "@cct-bot"  # the owner of the club's own reminders
MEETING_KINDS = ("meeting", "agenda_call", "agenda_deadline", "minutes_due", "progress_call")
URGENT = ("meeting-H",)  # offsets sent even in the quiet hours (H-2)


def days_before(start: datetime, days: int, club: Club) -> datetime:
    """The same wall-clock time, ``days`` calendar days earlier (DST-safe)."""
    local = start.astimezone(club.tz).replace(tzinfo=None) - relativedelta(days=days)
    return wall_clock(local, club.tz)


def send_time(due: datetime, offset: str, club: Club) -> datetime:
    """After the quiet hours, unless it is an urgent one (H-2)."""
    if offset.startswith("H-"):
        return due
    return club.reminders.after_quiet_hours(due, club.tz)


async def plan_meeting(repos: Repositories, meeting: Meeting, club: Club, now: datetime,
                       extra: list[tuple[str, str, datetime]] | None = None) -> int:
    """Replaces the pending automatic reminders of ``meeting`` by those its current date calls
    for (none for a cancelled one); returns how many are pending. ``extra`` adds (kind, offset,
    due) of other capabilities (the agenda's call and deadline)."""
    await repos.reminders.cancel_of_meeting(meeting.id, MEETING_KINDS)
    if meeting.status == "annulee":
        return 0
    rooms = _rooms(meeting, club)
    if not rooms:
        return 0
    count = 0
    for kind, offset, due in [*_due_times(meeting, club), *(extra or [])]:
        if due <= now:
            continue
        await repos.reminders.add(kind=kind, room_id=rooms[0], owner=BOT, text="", rule=None,
                                  due_at=due, send_at=send_time(due, offset, club),
                                  meeting_id=meeting.id, offset=offset, created_at=now)
        count += 1
    return count


def _due_times(meeting: Meeting, club: Club) -> list[tuple[str, str, datetime]]:
    """(kind, offset, due) of the reminders of ``meeting``: those before it if it is still
    planned, the minutes and the progress calls after it (the groups' calls for news follow the
    club's events, not a group's own meetings)."""
    rules = club.reminders
    planned = _before(meeting, club) if meeting.status == "prevue" else []
    if rules.minutes_days > 0:
        planned.append(("minutes_due", f"J+{rules.minutes_days}",
                        days_before(meeting.ends_at, -rules.minutes_days, club)))
    if rules.progress_weeks > 0 and meeting.group_id is None:
        planned.append(("progress_call", f"S+{rules.progress_weeks}",
                        days_before(meeting.ends_at, -7 * rules.progress_weeks, club)))
    return planned


def _before(meeting: Meeting, club: Club) -> list[tuple[str, str, datetime]]:
    """The reminders before a planned rencontre: days and hours before, the agenda's call and
    the day before its suggestions close."""
    rules = club.reminders
    planned = [("meeting", f"J-{d}", days_before(meeting.starts_at, d, club))
               for d in rules.meeting_days if d > 0]
    planned += [("meeting", f"H-{h}", meeting.starts_at - timedelta(hours=h))
                for h in rules.meeting_hours if h > 0]
    if rules.agenda_call_days > 0:
        planned.append(("agenda_call", f"J-{rules.agenda_call_days}",
                        days_before(meeting.starts_at, rules.agenda_call_days, club)))
        # The day before the agenda's suggestions close (commands.agenda: same rule).
        deadline = meeting.starts_at - club.agenda_deadline
        planned.append(("agenda_deadline", "D-1", days_before(deadline, 1, club)))
    return planned


def _rooms(meeting: Meeting, club: Club) -> list[str]:
    rooms = [str(r) for r in json.loads(meeting.rooms or "[]")]
    return rooms or club.rooms_for(meeting.territory)
