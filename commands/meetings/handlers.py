"""``!rencontre …``: one handler per subcommand, declared once."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import TYPE_CHECKING, Any

from commands.arguments import Integer, Text, UserId
from commands.context import Club, Context, Reply
from commands.dates import Slot, parse_slot
from commands.effects import Effect, React
from commands.errors import NotFound, UserError
from commands.i18n import Translator
from commands.meetings import programme, registration, render
from commands.meetings.details import (
    EVENT_OPTIONS,
    PLACE,
    PLACE_MAX,
    TERRITORY,
    clean_text,
    read_details,
)
from commands.meetings.registration import answer_with_places, refuse_if_closed
from commands.meetings.service import announce, audit, create_meeting, ics_upload, rooms_of
from commands.meetings.vocabulary import ANSWERS, CANCELLED, HELD
from commands.paging import Window, more, paged
from commands.params import PAGE, Param
from commands.registry import Command, PageRequest, Registry
from commands.reminders.handlers import REMINDERS_KIND
from commands.reminders.plan import plan_meeting
from commands.roles import Role

if TYPE_CHECKING:
    from storage.models import Meeting
    from storage.repositories import Repositories

# What else changes when a rencontre moves or is cancelled: effects to add to the announcement.
Follow = Callable[["Repositories", "Meeting", Club, Translator], Awaitable[list[Effect]]]

NUMBER = Integer()
WHEN = Text(max_length=10_000)  # the date layer refuses long texts with its own message
REASON_MAX = 500
MINUTES_MAX = 5000
_PEOPLE_SEPARATORS = re.compile(r"[\s,;]+")


async def _nothing_follows(_repos: Repositories, _meeting: Meeting, _club: Club,
                           _t: Translator) -> list[Effect]:
    return []


def register(registry: Registry, follow: Follow = _nothing_follows) -> None:
    """Declares ``!rencontre`` and its subcommands. ``follow`` gives what else must change
    when a rencontre moves or is cancelled (the pinned agenda: ``commands.agenda``)."""
    rencontre = registry.group("rencontre", fr=("rencontre", "rencontres"),
                               en=("meeting", "meetings"), section="meetings")
    _register_reading(rencontre)
    _register_answers(rencontre)
    _register_coordination(rencontre, follow)
    registration.register(registry)
    programme.register(registry)


# --- reading ------------------------------------------------------------------------------------

def _register_reading(rencontre: Command) -> None:
    @rencontre.subcommand("liste", fr=("liste", "lister", "toutes"), en=("list", "all"),
                          options=(PAGE,))
    async def liste(ctx: Context, page: PageRequest) -> Reply:
        meetings = ctx.db().meetings
        upcoming = await meetings.upcoming(ctx.now)
        past = await meetings.past(ctx.now)
        if not upcoming and not past:
            return Reply(ctx.t("meeting.list_empty", prefix=ctx.club.prefix))
        return Reply(paged(page, render.listing(upcoming, past, ctx.club, ctx.t), ctx.t,
                           ctx.club.prefix))

    @rencontre.subcommand("info", fr=("info", "fiche", "voir", "prochaine"), en=("show", "next"),
                          params=(Param("number", NUMBER, required=False),), options=(PAGE,),
                          names_people=True)
    async def info(ctx: Context, number: int | None, page: PageRequest) -> Reply:
        meeting = await _target(ctx, number)
        meetings = ctx.db().meetings
        rsvps = await meetings.rsvps(meeting.id)
        attendance = await meetings.attendance(meeting.id)
        most = render.most_named(rsvps, attendance)
        window = Window(page.number, render.NAMES_SHOWN).within(most)
        text = render.card(meeting, rsvps, attendance, ctx.club, ctx.t,
                           upcoming=meeting.starts_at >= ctx.now, window=window)
        footer = more(page, window.number, window.pages(most), ctx.t, ctx.club.prefix,
                      arguments=str(meeting.id))
        return Reply(text + ("\n\n" + footer if footer else ""))

    @rencontre.subcommand("ics", fr=("ics", "calendrier", "ical"), en=("calendar",),
                          params=(Param("number", NUMBER, required=False),))
    async def ics(ctx: Context, number: int | None) -> Reply:
        meeting = await _target(ctx, number)
        return Reply(ctx.t("meeting.ics_here", number=meeting.id,
                           when=render.when(meeting, ctx.club, ctx.t)),
                     effects=(ics_upload(meeting, ctx.club, ctx.t, ctx.room_id),))


# --- answers (anyone) ---------------------------------------------------------------------------

def _register_answers(rencontre: Command) -> None:
    number = (Param("number", NUMBER, required=False),)

    @rencontre.subcommand("present", fr=("present", "presente", "oui", "viens", "inscrire",
                                         "inscription", "sinscrire"),
                          en=("yes", "attending", "going", "register", "sign-up"), params=number)
    async def present(ctx: Context, number: int | None) -> Reply:
        return await _answer(ctx, number, "present")

    @rencontre.subcommand("absent", fr=("absent", "absente", "non"), en=("no", "not-going"),
                          params=number)
    async def absent(ctx: Context, number: int | None) -> Reply:
        return await _answer(ctx, number, "absent")

    @rencontre.subcommand("peutetre", fr=("peutetre", "peut-etre", "peut-etre?"), en=("maybe",),
                          params=number)
    async def peutetre(ctx: Context, number: int | None) -> Reply:
        return await _answer(ctx, number, "peutetre")


async def _answer(ctx: Context, number: int | None, answer: str) -> Reply:
    """Records the answer and reacts to the command: no message in the room."""
    repos = ctx.db()
    meeting = await _target(ctx, number)
    refuse_if_closed(meeting, ctx.now)
    if meeting.capacity is not None:
        return await answer_with_places(ctx, meeting, answer)
    if await repos.meetings.rsvp(meeting.id, ctx.sender) != answer:
        await repos.meetings.set_rsvp(meeting.id, ctx.sender, answer, ctx.now, tz=ctx.club.tz)
        await audit(repos, meeting, ctx.sender, "rsvp", ctx.now, answer=answer)
    return Reply("", effects=(React(ctx.room_id, ctx.event_id, ANSWERS[answer]),))


# --- coordination -------------------------------------------------------------------------------

def _register_coordination(rencontre: Command, follow: Follow) -> None:
    rencontre.subcommand("planifier", fr=("planifier", "prevoir", "nouvelle"),
                         en=("plan", "schedule", "new"), params=(Param("when", WHEN, rest=True),),
                         options=(*EVENT_OPTIONS, TERRITORY), role=Role.COORDINATOR)(planifier)

    @rencontre.subcommand("reporter", fr=("reporter", "deplacer", "decaler"),
                          en=("reschedule", "move", "postpone"),
                          params=(Param("number", NUMBER), Param("when", WHEN, rest=True)),
                          options=(PLACE,), role=Role.COORDINATOR)
    async def reporter(ctx: Context, number: int, when: str, place: str | None) -> Reply:
        meeting = await _get(ctx, number)
        if meeting.status == CANCELLED:
            raise UserError("meeting.move_cancelled", number=meeting.id)
        if meeting.status == HELD:
            raise UserError("meeting.move_held", number=meeting.id)
        slot = _slot(ctx, when, duration_of=meeting)
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
        rooms = rooms_of(meeting)
        await plan_meeting(ctx.db(), meeting, ctx.club, ctx.now)
        effects = announce(meeting, ctx.club, ctx.t,
                           render.rescheduled(meeting, old, ctx.club, ctx.t), rooms, "moved")
        effects += await follow(ctx.db(), meeting, ctx.club, ctx.t)
        return Reply(ctx.t("meeting.moved", number=meeting.id,
                           when=render.when(meeting, ctx.club, ctx.t),
                           place=render.place(meeting.place, ctx.t), rooms=len(rooms)),
                     effects=tuple(effects), reschedule=(REMINDERS_KIND,))

    @rencontre.subcommand("annuler", fr=("annuler",), en=("cancel",),
                          params=(Param("number", NUMBER),
                                  Param("reason", Text(10_000), required=False, rest=True)),
                          role=Role.COORDINATOR)
    async def annuler(ctx: Context, number: int, reason: str | None) -> Reply:
        meeting = await _get(ctx, number)
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
        rooms = rooms_of(meeting)
        await plan_meeting(ctx.db(), meeting, ctx.club, ctx.now)
        effects = announce(meeting, ctx.club, ctx.t,
                           render.cancelled(meeting, ctx.club, ctx.t), rooms, "cancelled")
        effects += await follow(ctx.db(), meeting, ctx.club, ctx.t)
        return Reply(ctx.t("meeting.cancelled", number=meeting.id,
                           when=render.when(meeting, ctx.club, ctx.t), rooms=len(rooms)),
                     effects=tuple(effects), reschedule=(REMINDERS_KIND,))

    @rencontre.subcommand("presences", fr=("presences", "presence", "venus"),
                          en=("attendance", "attended"),
                          params=(Param("number", NUMBER),
                                  Param("people", Text(10_000), required=False, rest=True)),
                          role=Role.COORDINATOR, names_people=True)
    async def presences(ctx: Context, number: int, people: str | None) -> Reply:
        repos = ctx.db()
        meeting = await _get(ctx, number)
        if meeting.status == CANCELLED:
            raise UserError("meeting.attendance_cancelled", number=meeting.id)
        if meeting.starts_at > ctx.now:
            raise UserError("meeting.attendance_too_early", number=meeting.id,
                            when=render.when(meeting, ctx.club, ctx.t))
        outsiders: list[str] = []
        if people:
            named = [UserId().convert(word) for word in _PEOPLE_SEPARATORS.split(people) if word]
            users = [user for user in dict.fromkeys(named) if await ctx.is_member(user)]
            outsiders = [user for user in dict.fromkeys(named) if user not in users]
            if not users:
                raise UserError("meeting.attendance_no_member", names=", ".join(outsiders))
        else:
            users = [r.user_id for r in await repos.meetings.rsvps(meeting.id)
                     if r.answer == "present"]
            if not users:
                raise UserError("meeting.attendance_nobody", number=meeting.id)
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

    @rencontre.subcommand("compte-rendu", fr=("compte-rendu", "cr", "compterendu"),
                          en=("minutes", "report"),
                          params=(Param("number", NUMBER), Param("text", Text(10_000), rest=True)),
                          role=Role.COORDINATOR)
    async def compte_rendu(ctx: Context, number: int, text: str) -> Reply:
        meeting = await _get(ctx, number)
        if meeting.status == CANCELLED:
            raise UserError("meeting.minutes_cancelled", number=meeting.id)
        if meeting.starts_at > ctx.now:
            raise UserError("meeting.minutes_too_early", number=meeting.id)
        value = clean_text(text, "text", MINUTES_MAX)
        replaced = bool(meeting.minutes)
        meeting.minutes = value
        meeting.updated_at = ctx.now
        await audit(ctx.db(), meeting, ctx.sender, "minutes", ctx.now, text=value[:200])
        key = "meeting.minutes_replaced" if replaced else "meeting.minutes_saved"
        return Reply(ctx.t(key, number=meeting.id))


async def planifier(ctx: Context, when: str, **options: Any) -> Reply:
    """``!rencontre planifier <quand> [--type …] [--titre …] [--lieu …] [--lien …] …``: an
    event of any kind, announced in its rooms (or here, when it has none) with its ``.ics``."""
    slot = _slot(ctx, when)
    details = await read_details(ctx, options)
    meeting, effects = await create_meeting(ctx.db(), ctx.club, ctx.t, start=slot.start,
                                            end=slot.end, details=details, created_by=ctx.sender,
                                            now=ctx.now)
    if not effects:  # no room for its audience: the announcement is the reply
        meeting.rooms = json.dumps([ctx.room_id])
        await plan_meeting(ctx.db(), meeting, ctx.club, ctx.now)
        return Reply(render.announcement(meeting, ctx.club, ctx.t),
                     effects=(ics_upload(meeting, ctx.club, ctx.t, ctx.room_id),),
                     reschedule=(REMINDERS_KIND,))
    return Reply(ctx.t("meeting.planned", heading=render.heading(meeting, ctx.club, ctx.t),
                       when=render.when(meeting, ctx.club, ctx.t),
                       place=render.where(meeting, ctx.t),
                       territory=render.territory(meeting, ctx.t),
                       rooms=len(rooms_of(meeting))), effects=tuple(effects),
                 reschedule=(REMINDERS_KIND,))


# --- shared helpers -----------------------------------------------------------------------------

def _slot(ctx: Context, text: str, duration_of: Meeting | None = None) -> Slot:
    """A slot read by the date layer (its ``DateError`` goes through with its own message)."""
    duration = (duration_of.ends_at - duration_of.starts_at if duration_of is not None
                else ctx.club.meeting_duration)
    return parse_slot(text, now=ctx.now, tz=ctx.club.tz, default_duration=duration,
                      language=ctx.t.language)


async def _get(ctx: Context, number: int) -> Meeting:
    meeting = await ctx.db().meetings.get(number)
    if meeting is None:
        raise NotFound("meeting.not_found", number=number)
    return meeting


async def _target(ctx: Context, number: int | None) -> Meeting:
    """The rencontre named, or the next planned one."""
    if number is not None:
        return await _get(ctx, number)
    meeting = await ctx.db().meetings.next_planned(ctx.now)
    if meeting is None:
        raise NotFound("meeting.none_upcoming")
    return meeting

