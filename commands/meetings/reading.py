"""``!rencontre liste|info|ics``: the rencontres, one in full, its calendar file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.context import Context
from commands.effects import Reply
from commands.meetings import render
from commands.meetings.common import NEXT_MEETING, rencontre
from commands.meetings.service import ics_upload
from commands.paging import Window, more, paged
from commands.params import PAGE
from commands.registry import PageRequest

if TYPE_CHECKING:
    from storage.models import Meeting


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
                      params=(NEXT_MEETING,))
async def ics(ctx: Context, meeting: Meeting) -> Reply:
    return Reply(ctx.t("meeting.ics_here", number=meeting.id,
                       when=render.when(meeting, ctx.club, ctx.t)),
                 effects=(ics_upload(meeting, ctx.club, ctx.t, ctx.room_id),))
