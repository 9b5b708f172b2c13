"""``!rencontre liste|info|ics``: the rencontres, one in full (with everyone who came), its
calendar file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.context import Context
from commands.effects import Reply
from commands.meetings import render
from commands.meetings.common import NEXT_MEETING, rencontre
from commands.meetings.service import MEETING_CARD, ics_upload
from commands.meetings.turnout import card_lines
from commands.meetings.vocabulary import PRESENT, WAITING
from commands.paging import Window, more, paged
from commands.params import PAGE
from commands.registry import PageRequest
from commands.roles import Role

if TYPE_CHECKING:
    from collections.abc import Sequence

    from storage.models import Meeting, MeetingRsvp


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
                      params=(NEXT_MEETING,), options=(PAGE,), names_people=True)
async def info(ctx: Context, meeting: Meeting, page: PageRequest) -> Reply:
    """The event's card. The registrations to an event with places (and its waiting list)
    are named to its organiser and the coordination only; others see the counts and their
    own place."""
    meetings = ctx.db().meetings
    rsvps = await meetings.rsvps(meeting.id)
    attendance = await meetings.attendance(meeting.id)
    named = meeting.capacity is None or ctx.role >= Role.COORDINATOR \
        or ctx.sender in (meeting.organiser, meeting.created_by)
    parts: list[tuple[str, list[str]]] = await ctx.gather(MEETING_CARD, ctx, meeting)
    most = max([render.most_named(rsvps if named else (), attendance),
                *(len(lines) for _, lines in parts)])
    window = Window(page.number, render.NAMES_SHOWN).within(most)
    text = render.card(meeting, rsvps, attendance, ctx.club, ctx.t,
                       upcoming=meeting.starts_at >= ctx.now, window=window, named=named)
    text += await card_lines(ctx, meeting)
    for head, lines in parts:  # the same page of each list as of the names
        if shown := lines[window.offset:window.offset + window.size]:
            text += "\n\n" + "\n".join([head, *shown])
    if not named:
        text += "\n\n" + _own_place(ctx, rsvps, over=meeting.ends_at <= ctx.now)
    footer = more(page, window.number, window.pages(most), ctx.t, ctx.club.prefix,
                  arguments=str(meeting.id))
    return Reply(text + ("\n\n" + footer if footer else ""))


def _own_place(ctx: Context, rsvps: Sequence[MeetingRsvp], *, over: bool) -> str:
    """Where the sender stands among the registrations (the names are not shown to them); in
    the past tense once the event is ``over``."""
    tense = "_past" if over else ""
    waiting = [rsvp.user_id for rsvp in rsvps if rsvp.answer == WAITING]
    if ctx.sender in waiting:
        return ctx.t(f"meeting.card_you_waiting{tense}",
                     position=waiting.index(ctx.sender) + 1)
    if any(r.user_id == ctx.sender and r.answer == PRESENT for r in rsvps):
        return ctx.t(f"meeting.card_you_registered{tense}")
    return ctx.t("meeting.card_names_private")


@rencontre.subcommand("ics", fr=("ics", "calendrier", "ical"), en=("calendar",),
                      params=(NEXT_MEETING,))
async def ics(ctx: Context, meeting: Meeting) -> Reply:
    return Reply(ctx.t("meeting.ics_here", number=meeting.id,
                       when=render.when(meeting, ctx.club, ctx.t)),
                 effects=(ics_upload(meeting, ctx.club, ctx.t, ctx.room_id),))
