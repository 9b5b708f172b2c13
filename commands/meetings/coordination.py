"""``!rencontre planifier|reporter|annuler|presences|compte-rendu``: the coordinators (and a
group's referents, for their group: ``organisers``) plan, move and cancel events (announced in
their rooms, the other capabilities told through ``MEETING_CHANGED``) and record the minutes
(posted in the event's rooms); they and the event's organiser record who came, once it has
begun. Planned in a group's room without ``--groupe`` nor ``--territoire``, an event is the
group's."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

from commands.arguments import People, Text
from commands.context import Context
from commands.effects import Reply
from commands.errors import UserError
from commands.meetings import render
from commands.meetings.common import MEETING, WHEN, coordination, read_slot, recording
from commands.meetings.details import (
    EVENT_OPTIONS,
    PLACE,
    PLACE_MAX,
    TERRITORY,
    clean_text,
    read_details,
)
from commands.meetings.minutes import publish_minutes
from commands.meetings.organisers import group_by_default
from commands.meetings.reminders import REMINDERS_KIND
from commands.meetings.service import (
    announce_change,
    audit,
    create_meeting,
    rooms_of,
)
from commands.meetings.vocabulary import CANCELLED, HELD
from commands.params import Param

if TYPE_CHECKING:
    from storage.models import Meeting

REASON_MAX = 500
MINUTES_MAX = 5000


@coordination.subcommand("planifier", fr=("planifier", "prevoir", "nouvelle"),
                         en=("plan", "schedule", "new"), params=(Param("when", WHEN, rest=True),),
                         options=(*EVENT_OPTIONS, TERRITORY))
async def planifier(ctx: Context, when: str, **options: Any) -> Reply:
    """``!rencontre planifier <quand> [--type …] [--titre …] [--lieu …] [--lien …] …``: an
    event of any kind, announced in its rooms (or here, when it has none: ``fallback_room``)
    with its ``.ics``."""
    slot = read_slot(ctx, when)
    details = await read_details(ctx, await group_by_default(ctx, options))
    meeting, effects = await create_meeting(ctx.db(), ctx.club, ctx.t, start=slot.start,
                                            end=slot.end, details=details, created_by=ctx.sender,
                                            now=ctx.now, fallback_room=ctx.room_id)
    heading = render.heading(meeting, ctx.club, ctx.t, group=False)  # its audience follows
    return Reply(ctx.t("meeting.planned", heading=heading,
                       when=render.when(meeting, ctx.club, ctx.t),
                       place=render.where(meeting, ctx.t),
                       territory=render.territory(meeting, ctx.t),
                       rooms=len(rooms_of(meeting))), effects=tuple(effects),
                 reschedule=(REMINDERS_KIND,))


@coordination.subcommand("reporter", fr=("reporter", "deplacer", "decaler"),
                         en=("reschedule", "move", "postpone"),
                         params=(MEETING, Param("when", WHEN, rest=True)), options=(PLACE,))
async def reporter(ctx: Context, meeting: Meeting, when: str, place: str | None) -> Reply:
    if meeting.status == CANCELLED:
        raise UserError("meeting.move_cancelled", number=meeting.id)
    if meeting.status == HELD:
        raise UserError("meeting.move_held", number=meeting.id)
    slot = read_slot(ctx, when, duration_of=meeting)
    new_place = clean_text(place, "place", PLACE_MAX) if place is not None else meeting.place
    old = render.slot_of(meeting)
    if (slot.start, slot.end, new_place) == (old.start, old.end, meeting.place):
        return Reply(ctx.t("meeting.move_same", number=meeting.id))
    meeting.starts_at = slot.start.astimezone(UTC)
    meeting.ends_at = slot.end.astimezone(UTC)
    meeting.place = new_place
    meeting.sequence += 1
    meeting.updated_at = ctx.now
    await audit(ctx.db(), meeting, ctx.sender, "rescheduled", ctx.now,
                old=old.start.isoformat(), new=meeting.starts_at.isoformat(),
                place=new_place[:200])
    effects = await announce_change(ctx, meeting, render.rescheduled(meeting, old, ctx.club,
                                                                      ctx.t), "moved")
    return Reply(ctx.t("meeting.moved", number=meeting.id,
                       when=render.when(meeting, ctx.club, ctx.t),
                       place=render.place(meeting.place, ctx.t),
                       rooms=len(rooms_of(meeting))),
                 effects=tuple(effects), reschedule=(REMINDERS_KIND,))


@coordination.subcommand("annuler", fr=("annuler",), en=("cancel",),
                         params=(MEETING, Param("reason", Text(10_000), required=False,
                                                rest=True)))
async def annuler(ctx: Context, meeting: Meeting, reason: str | None) -> Reply:
    if meeting.status == CANCELLED:
        raise UserError("meeting.already_cancelled", number=meeting.id)
    if meeting.status == HELD or meeting.starts_at < ctx.now:
        raise UserError("meeting.cancel_past", number=meeting.id)
    why = clean_text(reason, "reason", REASON_MAX) if reason else ""
    meeting.status = CANCELLED
    meeting.cancel_reason = why
    meeting.sequence += 1
    meeting.updated_at = ctx.now
    await audit(ctx.db(), meeting, ctx.sender, "cancelled", ctx.now, reason=why[:200])
    effects = await announce_change(ctx, meeting, render.cancelled(meeting, ctx.club, ctx.t),
                                     "cancelled")
    return Reply(ctx.t("meeting.cancelled", number=meeting.id,
                       when=render.when(meeting, ctx.club, ctx.t),
                       rooms=len(rooms_of(meeting))),
                 effects=tuple(effects), reschedule=(REMINDERS_KIND,))


@recording.subcommand("presences", fr=("presences", "presence", "venus"),
                      en=("attendance", "attended"),
                      params=(MEETING, Param("people", People(), required=False, rest=True)),
                      names_people=True)
async def presences(ctx: Context, meeting: Meeting,
                    people: tuple[str, ...] | None) -> Reply:
    repos = ctx.db()
    users, outsiders = await _who_came(ctx, meeting, people)
    came = await repos.meetings.set_attendance(meeting.id, users, ctx.now, tz=ctx.club.tz)
    meeting.status = HELD
    meeting.updated_at = ctx.now
    await audit(repos, meeting, ctx.sender, "attendance", ctx.now, count=len(came),
                people=came[:100])
    text = ctx.t("meeting.attendance_saved", number=meeting.id, count=len(came),
                 names=render.names(came, ctx.t))
    if outsiders:
        text += "\n\n" + ctx.t("meeting.attendance_outsiders",
                                 names=render.names(outsiders, ctx.t))
    return Reply(text)


@coordination.subcommand("compte-rendu", fr=("compte-rendu", "cr", "compterendu"),
                         en=("minutes", "report"),
                         params=(MEETING, Param("text", Text(10_000), rest=True)))
async def compte_rendu(ctx: Context, meeting: Meeting, text: str) -> Reply:
    if meeting.status == CANCELLED:
        raise UserError("meeting.minutes_cancelled", number=meeting.id)
    if meeting.starts_at > ctx.now:
        raise UserError("meeting.minutes_too_early", number=meeting.id)
    value = clean_text(text, "text", MINUTES_MAX)
    replaced = bool(meeting.minutes)
    meeting.minutes = value
    meeting.updated_at = ctx.now
    await audit(ctx.db(), meeting, ctx.sender, "minutes", ctx.now, text=value[:200])
    done = await publish_minutes(ctx.db(), meeting, ctx.club, ctx.t, replaced=replaced)
    key = "meeting.minutes_replaced" if replaced else "meeting.minutes_saved"
    return Reply(" ".join([ctx.t(key, number=meeting.id), *done.told(ctx.t, replaced)]),
                 effects=tuple(done.effects))


async def _who_came(ctx: Context, meeting: Meeting,
                    people: tuple[str, ...] | None) -> tuple[list[str], list[str]]:
    """The members named (and the others named, not recorded), or those who said they
    would come."""
    if people:
        users = [user for user in people if await ctx.is_member(user)]
        outsiders = [user for user in people if user not in users]
        if not users:
            raise UserError("meeting.attendance_no_member", names=", ".join(outsiders))
        return users, outsiders
    users = [r.user_id for r in await ctx.db().meetings.rsvps(meeting.id)
             if r.answer == "present"]
    if not users:
        raise UserError("meeting.attendance_nobody", number=meeting.id)
    return users, []
