"""``!programme``: the club's coming events of every kind, month by month, filtered by kind,
territory, group or theme; one message, in pages."""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import groupby
from typing import TYPE_CHECKING, cast

from commands.arguments import Converter
from commands.context import Context
from commands.dates import format_month
from commands.effects import Reply
from commands.meetings import render
from commands.meetings.details import GROUP, KIND, TERRITORY, THEME
from commands.paging import Section, paged
from commands.params import PAGE
from commands.projects.names import find_group
from commands.registry import PageRequest, command

if TYPE_CHECKING:
    from storage.meetings import MeetingSummary
    from storage.models import ProjectGroup

GROUP_NAME = cast(Converter, GROUP.converter)  # what may name a group here
# Whom a territory's filter shows: its own events and the whole club's.
CONCERNS = {"nord": ("nord", "commun"), "sud": ("sud", "commun"), "commun": ("commun",)}


@dataclass(frozen=True)
class ProgrammeGroup:
    """``--groupe``: the group whose events are shown (``find_group``)."""

    kind: str = "group"

    def read(self, raw: str) -> None:
        GROUP_NAME.convert(raw)

    async def convert(self, ctx: Context, raw: str) -> ProjectGroup:
        return await find_group(ctx.db(), GROUP_NAME.convert(raw))


@command("programme", fr=("programme", "prog"), en=("program", "schedule"), section="meetings",
         options=(KIND, TERRITORY, replace(GROUP, converter=ProgrammeGroup()), THEME, PAGE))
async def programme(ctx: Context, page: PageRequest, kind: str | None, territory: str | None,
                    group: ProjectGroup | None, theme: str | None) -> Reply:
    """The coming events matching the filters, under a heading per month."""
    events = await ctx.db().meetings.programme(
        ctx.now, kind=ctx.club.event_kinds.convert(kind) if kind else None,
        territories=CONCERNS[territory] if territory else (),
        group_id=group.id if group else None, theme=theme)
    if not events:
        return Reply(ctx.t("programme.empty", prefix=ctx.club.prefix))
    return Reply(paged(page, _months(ctx, events), ctx.t, ctx.club.prefix,
                       head=ctx.t("programme.title", count=len(events))))


def _months(ctx: Context, events: list[MeetingSummary]) -> list[Section]:
    def month(summary: MeetingSummary) -> str:
        return format_month(summary.meeting.starts_at, ctx.t.language, ctx.club.tz).capitalize()

    return [Section([_line(ctx, summary) for summary in summaries], heading=f"**{name}**")
            for name, summaries in ((name, list(group)) for name, group in groupby(events, month))]


def _line(ctx: Context, summary: MeetingSummary) -> str:
    meeting, t = summary.meeting, ctx.t
    parts = [render.heading(meeting, ctx.club, t, group=False), render.when(meeting, ctx.club, t),
             render.territory(meeting, t), render.where(meeting, t, render.PLACE_IN_LIST)]
    if meeting.capacity is not None:
        free = max(meeting.capacity - summary.answers.get("present", 0), 0)
        parts.append(t("programme.free", free=free) if free else t("programme.full"))
    return "- " + " — ".join(parts)

