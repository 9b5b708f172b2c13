"""An action's reminder, before its due date: a row of the reminders' table (kind ``action``),
planned when the action is recorded, cancelled when it is closed, sent by the reminders'
engine. A person is reminded in a direct message (the room opened first if there is none, or
told in the event's room, mentioned, if it cannot be opened); a group in its room (or the main
room), naming its referents."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from commands.actions.common import OPEN, due
from commands.context import Club, RoomOutcome
from commands.dates import wall_clock
from commands.digest import MAX_NAMED
from commands.effects import Effect, Leave, Outcome, Post, Reply
from commands.i18n import Translator
from commands.meetings.reminders import BOT
from commands.meetings.service import rooms_of
from commands.privately import message, tell_privately
from commands.text import escape_markdown, pill
from matrix_ids import is_user_id

if TYPE_CHECKING:
    from commands.ports import MatrixPort
    from storage.models import Action, Meeting, Reminder
    from storage.repositories import Repositories

ACTION_KIND = "action"  # the reminders' kind
ACTION_REMINDED = "action_reminder"  # the outcome of the direct room opened for a reminder
AT = time(9, 0)  # the reminder's time of day


def remind_at(action: Action, club: Club) -> datetime | None:
    """09:00 ``club.reminders.action_days`` days before the due date (none: no reminder)."""
    days = club.reminders.action_days
    if action.due_at is None or days <= 0:
        return None
    day = action.due_at.astimezone(club.tz).date() - timedelta(days=days)
    return wall_clock(datetime.combine(day, AT), club.tz)


async def plan_action(repos: Repositories, action: Action, meeting: Meeting, club: Club,
                      now: datetime) -> datetime | None:
    """The action's reminder, if its time is still to come; returns when it is sent."""
    moment = remind_at(action, club)
    if moment is None or moment <= now:
        return None
    room = next(iter(rooms_of(meeting)), None) or club.rooms.get("main", "")
    send = club.reminders.after_quiet_hours(moment, club.tz)
    await repos.reminders.add(kind=ACTION_KIND, room_id=room, owner=BOT, text="", rule=None,
                              due_at=moment, send_at=send, meeting_id=meeting.id,
                              action_id=action.id, offset=f"J-{club.reminders.action_days}",
                              created_at=now)
    return send


def _text(action: Action, club: Club, t: Translator, late: str) -> str:
    return t("action.reminder", number=action.id, text=escape_markdown(action.text),
             due=due(action, club, t), meeting=action.meeting_id, prefix=club.prefix, late=late,
             by=pill(action.created_by))


async def remind(repos: Repositories, reminder: Reminder, club: Club, t: Translator,
                 late: str, matrix: MatrixPort | None = None) -> tuple[list[Effect], str]:
    """The messages of an action's reminder and what became of it (sent, or dropped: the
    action is closed, or its person erased)."""
    action = await repos.actions.get(reminder.action_id or 0)
    if action is None or action.status != OPEN:
        return [], "dropped"
    key = f"reminder-{reminder.id}-{reminder.occurrence}"
    text = _text(action, club, t, late)
    if action.assignee is not None:
        user = action.assignee
        if not is_user_id(user):  # erased: a pseudonym
            return [], "dropped"
        return await tell_privately(
            repos, matrix, user, message(Reply(text), user, key), reminder.room_id,
            Outcome(ACTION_REMINDED, {"user_id": user, "action_id": action.id})), "sent"
    group = await repos.groups.get(action.group_id or 0)
    if group is None:
        return [], "dropped"
    # a group's referents, named and mentioned: at most MAX_NAMED, as in every digest
    referents = [m.user_id for m in await repos.groups.members(group.id) if m.referent][:MAX_NAMED]
    names = ", ".join(pill(r) for r in referents) or t("reminder.no_referent")
    room = group.room_id or club.rooms.get("main") or reminder.room_id
    body = t("action.reminder_group", group=escape_markdown(group.name), names=names) + "\n" + text
    return [Post(room, Reply(body, mentions=tuple(referents)), key=key)], "sent"


async def direct_room_opened(done: RoomOutcome) -> tuple[Effect, ...]:
    """The direct room for an action's reminder is open (remembered, the reminder posted
    there), or was refused (the person told where the event is, mentioned). An action closed
    meanwhile: nothing said, the room left."""
    user, number = str(done.data["user_id"]), int(done.data["action_id"])
    action = await done.repos.actions.get(number)
    if action is None or action.status != OPEN or action.assignee != user:
        return (Leave(done.room_id),) if done.room_id else ()
    text = _text(action, done.club, done.t, "")
    if done.room_id is None:
        told = done.t("action.reminder_no_direct_room", user=pill(user)) + "\n" + text
        return (Post(done.told_in, Reply(told, mentions=(user,)), about=(user,)),)
    await done.repos.participants.set_direct_room(user, done.room_id)
    return (Post(done.room_id, Reply(text), about=(user,)),)
