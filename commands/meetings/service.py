"""Creating a rencontre and announcing its changes: shared by ``!rencontre`` and the date polls.

Announcements go to the rooms of the meeting's territory (``Club.rooms_for``), remembered in
``meeting.rooms`` so that a later change (new date, cancellation) is announced in the same
rooms. Each announcement is a message and the meeting's ``.ics``; their effect keys carry the
meeting's id and SEQUENCE, so a replay never posts twice and each change posts once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from commands.context import Club, Context
from commands.dates import Slot, format_slot
from commands.effects import Effect, Post, Reply, Upload
from commands.errors import BadArgument, UserError
from commands.i18n import Translator
from commands.meetings import render
from commands.meetings.calendar import ics_filename, meeting_ics
from commands.meetings.details import PLACE_MAX, EventDetails, clean_text
from commands.meetings.reminders import plan_meeting
from commands.meetings.vocabulary import MEETING_TERRITORIES

if TYPE_CHECKING:
    from storage.models import Meeting
    from storage.repositories import Repositories

ICS_MIMETYPE = "text/calendar"
# Announced to the other capabilities when a rencontre moves or is cancelled, with the
# transaction's repositories, the meeting, the club and the translator; each listener returns
# the effects to add to the announcement (the pinned agenda follows: ``commands.agenda``).
MEETING_CHANGED = "meeting_changed"
# ``!rencontre info`` asks the capabilities listening to it for lines about the event (its
# actions): each listener is called with the context and the event, and returns its lines
MEETING_CARD = "meeting_card"


def rooms_of(meeting: Meeting) -> list[str]:
    """The rooms a meeting was announced in."""
    rooms = json.loads(meeting.rooms or "[]")
    return [str(room) for room in rooms]


def ics_upload(meeting: Meeting, club: Club, t: Translator, room_id: str,
               key: str | None = None) -> Upload:
    """The event's ``.ics`` (the file uploaded once per version: ``Upload.shared``)."""
    return Upload(room_id, ics_filename(meeting.id), ICS_MIMETYPE,
                  meeting_ics(meeting, club, t, club.tz), key=key, shared=True)


def announce(meeting: Meeting, club: Club, t: Translator, markdown: str, rooms: list[str],
             kind: str) -> list[Effect]:
    """A message and the current ``.ics`` in each room, keyed by meeting, SEQUENCE and kind."""
    effects: list[Effect] = []
    for room in rooms:
        key = f"meeting-{meeting.id}-{meeting.sequence}-{kind}-{room}"
        effects.append(Post(room, Reply(markdown), key=key))
        effects.append(ics_upload(meeting, club, t, room, key=f"{key}-ics"))
    return effects


async def audit(repos: Repositories, meeting: Meeting, actor: str, action: str, at: datetime,
                **details: Any) -> None:
    await repos.audit.record(actor=actor, subject="meeting", subject_id=meeting.id,
                             action=action, at=at, **details)


async def create_meeting(repos: Repositories, club: Club, t: Translator, *, start: datetime,
                         end: datetime, details: EventDetails, created_by: str, now: datetime,
                         poll_id: int | None = None,
                         fallback_room: str | None = None) -> tuple[Meeting, list[Effect]]:
    """Creates an event (status « prévue ») with its ``details`` (``read_details``), records it
    in the audit trail, and returns the announcements to queue: for each of its rooms (its
    group's room, or ``club.rooms_for(territory)``) a message and the ``.ics``
    (``rencontre-<n>.ics``). Those rooms are stored in ``meeting.rooms``; with none,
    ``fallback_room`` (where it was decided) is its room, or there are no effects (the caller
    says it where it is).

    The territory is read like people type it (``nord``, ``sud``, ``commun``, ``tous``…).
    ``start`` and ``end`` must be aware. Raises ``UserError`` for a start already past, an end
    not after the start, an unknown territory or a bad place (``UserError`` subclasses, with a
    French message); nothing is written then.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    key = MEETING_TERRITORIES.convert(details.territory)
    if end <= start:
        raise BadArgument("meeting.end_before_start")
    if start < now:
        raise UserError("meeting.start_in_past",
                        when=format_slot(Slot(start, end), t.language, club.tz))
    where = clean_text(details.place, "place", PLACE_MAX) if details.place.strip() else ""
    rooms = list(details.rooms) if details.rooms is not None else club.rooms_for(key)
    if not rooms and fallback_room is not None:
        rooms = [fallback_room]
    meeting = await repos.meetings.create(
        starts_at=start.astimezone(UTC), ends_at=end.astimezone(UTC), place=where,
        territory=key, created_by=created_by, at=now, poll_id=poll_id, rooms=json.dumps(rooms),
        **details.columns())
    await audit(repos, meeting, created_by, "created", now, start=meeting.starts_at.isoformat(),
                end=meeting.ends_at.isoformat(), place=where[:200], territory=key, poll=poll_id,
                kind=details.kind, capacity=details.capacity, group=details.group_id)
    await plan_meeting(repos, meeting, club, now)
    return meeting, announce(meeting, club, t, render.announcement(meeting, club, t), rooms,
                             "created")


async def announce_change(ctx: Context, meeting: Meeting, markdown: str,
                          change: str) -> list[Effect]:
    """The change announced in the event's rooms, its reminders planned again, and what the
    capabilities listening to ``MEETING_CHANGED`` add (the pinned agenda follows)."""
    await plan_meeting(ctx.db(), meeting, ctx.club, ctx.now)
    effects = announce(meeting, ctx.club, ctx.t, markdown, rooms_of(meeting), change)
    return effects + await ctx.announce(MEETING_CHANGED, ctx.db(), meeting, ctx.club, ctx.t)
