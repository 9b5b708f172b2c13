"""What a reminder says when its time comes, whether it is still worth saying, and what comes
next (the next occurrence of a recurring one, the weekly repeat of missing minutes)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from commands.actions import ACTION_KIND, remind
from commands.agenda import agenda_summary, suggestions_deadline
from commands.context import Club
from commands.dates import Recurrence, Slot, format_moment, format_slot
from commands.digest import Entry, parts_of, people_of
from commands.effects import Effect, Post, Reply
from commands.i18n import Translator
from commands.meetings.reminders import days_before, send_time
from commands.meetings.render import heading
from commands.meetings.vocabulary import CANCELLED
from commands.reminder_kinds import GROUP_ROOM, SET_WITH_RAPPEL
from commands.text import escape_markdown, pill

if TYPE_CHECKING:
    from commands.ports import MatrixPort
    from storage.models import Meeting, ProjectGroup, Reminder
    from storage.repositories import Repositories

log = logging.getLogger(__name__)
LATE = timedelta(minutes=5)  # sent later than this after its time: said to be late
ACTIVE_GROUPS = ("en-cours", "en-definition", "idee")


@dataclass
class Outcome:
    """The messages to send, and what became of the reminder."""

    effects: list[Effect]
    status: str  # sent, dropped, pending (a recurring one moved to its next occurrence)


def reminder_key(reminder: Reminder) -> str:
    """The effect key of one occurrence: a retry after a crash reuses it (sent once)."""
    return f"reminder-{reminder.id}-{reminder.occurrence}"


async def deliver(repos: Repositories, reminder: Reminder, club: Club, t: Translator,
                  now: datetime, matrix: MatrixPort | None = None) -> Outcome:
    """Sends one due reminder (its messages are queued by the caller in the same transaction as
    this change of state)."""
    late = now - reminder.send_at > LATE
    if reminder.kind == GROUP_ROOM and \
            not await in_their_group_room(repos, reminder.room_id, reminder.owner):
        log.info("reminder %s dropped: its owner left the group, or the room is no longer "
                 "the group's", reminder.id)
        outcome = Outcome([], "dropped")
    elif reminder.kind in SET_WITH_RAPPEL:
        outcome = Outcome(_personal(reminder, club, t, late), "sent")
    elif reminder.kind == ACTION_KIND:
        outcome = Outcome(*await remind(repos, reminder, club, t,
                                        t("reminder.late") if late else "", matrix))
    else:
        outcome = await _automatic(repos, reminder, club, t, now, late)
    reminder.sent_at = now
    if reminder.rule and outcome.status == "sent":
        _next_occurrence(reminder, club, now)
        outcome.status = "pending"
    elif outcome.status == "sent" and reminder.kind == "minutes_due":
        _repeat_weekly(reminder, club)
        outcome.status = "pending"
    reminder.status = outcome.status
    return outcome


def _next_occurrence(reminder: Reminder, club: Club, now: datetime) -> None:
    rule = Recurrence.from_rule(reminder.rule or "")
    after = max(reminder.due_at, now)
    reminder.due_at = rule.next_after(after, club.tz)
    reminder.send_at = reminder.due_at
    reminder.occurrence += 1


def _repeat_weekly(reminder: Reminder, club: Club) -> None:
    reminder.due_at = days_before(reminder.due_at, -club.reminders.minutes_repeat_days, club)
    reminder.send_at = send_time(reminder.due_at, reminder.offset, club)
    reminder.occurrence += 1


async def in_their_group_room(repos: Repositories, room_id: str, user_id: str) -> bool:
    """Whether ``room_id`` is the room of a group ``user_id`` is a member of (where a member may
    set reminders for the room, and where those are sent)."""
    group = await repos.groups.by_room(room_id)
    return group is not None and await repos.groups.membership(group.id, user_id) is not None


def _personal(reminder: Reminder, club: Club, t: Translator, late: bool) -> list[Effect]:
    text = escape_markdown(reminder.text)
    mark = t("reminder.late") if late else ""
    if reminder.kind == "personal":
        body = t("reminder.personal", who=pill(reminder.owner), text=text, late=mark)
        reply = Reply(body, mentions=(reminder.owner,))
    else:
        reply = Reply(t("reminder.room", who=pill(reminder.owner), text=text, late=mark))
    return [Post(reminder.room_id, reply, key=reminder_key(reminder))]


async def _automatic(repos: Repositories, reminder: Reminder, club: Club, t: Translator,
                     now: datetime, late: bool) -> Outcome:
    meeting = await repos.meetings.get(reminder.meeting_id) if reminder.meeting_id else None
    if meeting is None or meeting.status == CANCELLED:
        log.info("reminder %s dropped: its rencontre is gone or cancelled", reminder.id)
        return Outcome([], "dropped")
    mark = t("reminder.late") if late else ""
    if reminder.kind == "meeting":
        if meeting.starts_at <= now:
            log.info("reminder %s dropped: rencontre n°%s has started", reminder.id, meeting.id)
            return Outcome([], "dropped")
        agenda = await agenda_summary(repos, meeting, club, t)
        return Outcome(_before_meeting(meeting, reminder, club, t, mark, agenda), "sent")
    if reminder.kind == "minutes_due":
        if meeting.minutes:
            return Outcome([], "dropped")
        return Outcome(await _minutes_due(repos, meeting, reminder, club, t, mark), "sent")
    if reminder.kind == "progress_call":
        return Outcome(await _progress_call(repos, meeting, reminder, club, t, mark), "sent")
    if reminder.kind in ("agenda_call", "agenda_deadline"):
        if suggestions_deadline(meeting, club) <= now:
            return Outcome([], "dropped")
        return Outcome(_agenda_call(meeting, reminder, club, t, mark), "sent")
    log.warning("reminder %s of unknown kind %s dropped", reminder.id, reminder.kind)
    return Outcome([], "dropped")


def _rooms(meeting: Meeting, reminder: Reminder) -> list[str]:
    return [str(r) for r in json.loads(meeting.rooms or "[]")] or [reminder.room_id]


def _agenda_call(meeting: Meeting, reminder: Reminder, club: Club, t: Translator,
                 mark: str) -> list[Effect]:
    """J-14: suggest points for the agenda; the day before the deadline: last call."""
    when = format_slot(Slot(meeting.starts_at, meeting.ends_at), t.language, club.tz)
    deadline = format_moment(suggestions_deadline(meeting, club), t.language, club.tz)
    text = t(f"reminder.{reminder.kind}", number=meeting.id, when=when, deadline=deadline,
             prefix=club.prefix, late=mark)
    return [Post(room, Reply(text), key=f"{reminder_key(reminder)}-{index}")
            for index, room in enumerate(_rooms(meeting, reminder))]


def _before_meeting(meeting: Meeting, reminder: Reminder, club: Club, t: Translator,
                    mark: str, agenda: str | None) -> list[Effect]:
    when = format_slot(Slot(meeting.starts_at, meeting.ends_at), t.language, club.tz)
    lines = [t(f"reminder.meeting_{'hours' if reminder.offset.startswith('H') else 'days'}",
               heading=heading(meeting, club, t), count=int(reminder.offset[2:]), when=when, late=mark)]
    if meeting.place:
        lines.append(t("reminder.meeting_place", place=escape_markdown(meeting.place)))
    if meeting.link:  # an online event's reminders carry its link
        lines.append(t("reminder.meeting_link", link=f"<{meeting.link}>"))
    if agenda:
        lines += ["", agenda, ""]
    key = "reminder.meeting_register" if meeting.capacity is not None else "reminder.meeting_rsvp"
    lines.append(t(key, prefix=club.prefix, number=meeting.id))
    reply = Reply("\n".join(lines))
    return [Post(room, reply, key=f"{reminder_key(reminder)}-{index}")
            for index, room in enumerate(_rooms(meeting, reminder))]


async def _minutes_due(repos: Repositories, meeting: Meeting, reminder: Reminder, club: Club,
                       t: Translator, mark: str) -> list[Effect]:
    """The minutes are missing: the coordinators are told in the main room; for a group's
    meeting, its referents in its room."""
    people: tuple[str, ...] = club.coordinators
    room = club.rooms.get("main") or _rooms(meeting, reminder)[0]
    if meeting.group_id is not None:
        people = tuple(m.user_id for m in await repos.groups.members(meeting.group_id)
                       if m.referent) or people
        room = _rooms(meeting, reminder)[0]
    text = t("reminder.minutes_due", number=meeting.id, prefix=club.prefix, late=mark,
             when=format_moment(meeting.starts_at, t.language, club.tz),
             names=", ".join(pill(c) for c in people) or t("reminder.coordination"))
    return [Post(room, Reply(text, mentions=people), key=reminder_key(reminder))]


async def _progress_call(repos: Repositories, meeting: Meeting, reminder: Reminder, club: Club,
                         t: Translator, mark: str) -> list[Effect]:
    """Each active group of the territory is asked for news, in its room or the main room,
    naming its referents: one message per room (a digest where several groups share it);
    groups silent for two cycles are listed to the coordinators."""
    territories = {"nord": ("nord", "tout"), "sud": ("sud", "tout")}.get(meeting.territory)
    effects: list[Effect] = []
    silent = []
    since = await _previous_start(repos, meeting)
    by_room: dict[str, list[tuple[ProjectGroup, list[str]]]] = {}
    for group, referents, latest in await repos.groups.for_progress_call(ACTIVE_GROUPS,
                                                                         territories):
        room = group.room_id or club.rooms.get("main") or reminder.room_id
        by_room.setdefault(room, []).append((group, list(referents)))
        if since is not None and (latest is None or latest < since):
            silent.append(group)
    for room, groups in by_room.items():
        effects += _news_call(room, groups, reminder, club, t, mark)
    if silent and club.rooms.get("main"):
        listed = ", ".join(f"n°{g.id} {escape_markdown(g.name)}" for g in silent)
        text = t("reminder.silent_groups", groups=listed,
                 names=", ".join(pill(c) for c in club.coordinators) or t("reminder.coordination"))
        effects.append(Post(club.rooms["main"], Reply(text, mentions=club.coordinators),
                            key=f"{reminder_key(reminder)}-silent"))
    return effects


def _news_call(room: str, groups: list[tuple[ProjectGroup, list[str]]], reminder: Reminder,
               club: Club, t: Translator, mark: str) -> list[Effect]:
    """The call for news in one room: the group's own message, or a digest of the groups
    sharing the room (``commands.digest``: at most ``MAX_NAMED`` referents a message)."""
    if len(groups) == 1:
        group, referents = groups[0]
        names = ", ".join(pill(r) for r in referents) or t("reminder.no_referent")
        text = t("reminder.progress_call", group=escape_markdown(group.name), names=names,
                 prefix=club.prefix, slug=group.slug, late=mark)
        return [Post(room, Reply(text, mentions=tuple(referents)),
                     key=f"{reminder_key(reminder)}-group-{group.id}")]
    entries = [Entry(t("reminder.progress_line", group=escape_markdown(group.name),
                       slug=group.slug,
                       names=", ".join(pill(r) for r in referents) or t("reminder.no_referent")),
                     tuple(referents))
               for group, referents in groups]
    parts = parts_of(entries)
    effects: list[Effect] = []
    for index, part in enumerate(parts, start=1):
        numbered = t("reminder.digest_part", part=index, parts=len(parts)) if len(parts) > 1 else ""
        head = t("reminder.progress_digest", late=mark, part=numbered, prefix=club.prefix)
        text = "\n".join([head, "", *(entry.markdown for entry in part)])
        effects.append(Post(room, Reply(text, mentions=people_of(part)),
                            key=f"{reminder_key(reminder)}-news-{room}-{index}"))
    return effects


async def _previous_start(repos: Repositories, meeting: Meeting) -> datetime | None:
    """The start of the rencontre before this one: a group with no news since then has been
    silent for two cycles (before this rencontre, and since)."""
    return await repos.meetings.previous_start(meeting.id, meeting.starts_at)


