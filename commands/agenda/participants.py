"""``!odj proposer|liste|soutenir|retirer-soutien|retirer``: what everyone does with the agenda
of a rencontre (suggest, read, support, withdraw their suggestion)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from commands.agenda import render, service
from commands.agenda.common import (
    MEETING,
    TEXT_MAX,
    OnAgenda,
    SuggestionRef,
    audit,
    changing,
    meeting_open,
    odj,
    with_update,
)
from commands.agenda.lines import schedule
from commands.agenda.service import ACCEPTED, PROPOSED, WITHDRAWN
from commands.arguments import Text
from commands.context import Context
from commands.dates import format_moment
from commands.effects import Effect, Reply, txn_id
from commands.errors import Forbidden, UserError
from commands.limits import LimitReached, exempt
from commands.meetings import render as meeting_render
from commands.meetings.details import clean_text
from commands.paging import paged
from commands.params import PAGE, Param
from commands.registry import PageRequest
from commands.roles import Role

if TYPE_CHECKING:
    from storage.models import AgendaSuggestion, Meeting

SUPPORTABLE = (PROPOSED, ACCEPTED)
SUGGESTION = Param("suggestion", SuggestionRef(), shows=("number",))


@changing.subcommand("proposer", fr=("proposer", "suggerer", "suggestion"),
                     en=("suggest", "propose"), params=(Param("text", Text(10_000), rest=True),),
                     options=(MEETING,))
async def proposer(ctx: Context, text: str, meeting: Meeting) -> Reply:
    deadline = service.suggestions_deadline(meeting, ctx.club)
    if ctx.now >= deadline:
        raise UserError("odj.suggestions_closed", number=meeting.id,
                        deadline=format_moment(deadline, ctx.t.language, ctx.club.tz))
    await _check_waiting_suggestions(ctx, meeting)
    value = clean_text(text, "text", TEXT_MAX)
    suggestion = await ctx.db().agenda.add_suggestion(
        meeting_id=meeting.id, author=ctx.sender, text=value, room_id=ctx.room_id,
        confirmation_txn=txn_id("reply", ctx.event_id), at=ctx.now)
    await audit(ctx, meeting, "suggested", suggestion=suggestion.id, text=value[:200])
    await ctx.took_part()
    return Reply(ctx.t("odj.suggested", number=suggestion.id, meeting=meeting.id,
                       when=meeting_render.when(meeting, ctx.club, ctx.t),
                       deadline=format_moment(deadline, ctx.t.language, ctx.club.tz),
                       prefix=ctx.club.prefix))


@odj.subcommand("liste", fr=("liste", "voir", "brouillon-actuel"), en=("list", "show"),
                options=(MEETING, PAGE), names_people=True)
async def liste(ctx: Context, meeting: Meeting, page: PageRequest) -> Reply:
    repos = ctx.db()
    suggestions = await repos.agenda.suggestions(meeting.id)
    supports = await repos.agenda.support_counts(meeting.id)
    lines = await service.lines_of(repos, meeting, ctx.club, ctx.t)
    state = await repos.agenda.state(meeting.id)
    version = state.version if state is not None and state.published_at else None
    head, sections = render.listing(meeting, suggestions, supports,
                                    schedule(meeting.starts_at, lines),
                                    service.suggestions_deadline(meeting, ctx.club), version,
                                    ctx.now, ctx.club, ctx.t)
    which = f"--{MEETING.name_in(ctx.t.language)} {meeting.id}"
    return Reply(paged(page, sections, ctx.t, ctx.club.prefix, head=head, arguments=which))


@changing.subcommand("soutenir", fr=("soutenir", "soutien", "plussoyer"),
                     en=("support", "upvote"), params=(SUGGESTION,))
async def soutenir(ctx: Context, suggestion: OnAgenda[AgendaSuggestion]) -> Reply:
    repos, row = ctx.db(), suggestion.row
    if row.status not in SUPPORTABLE:
        raise UserError("odj.support_closed", number=row.id,
                        status=ctx.t(f"odj.status_{row.status}"))
    if row.author == ctx.sender:
        raise UserError("odj.support_own", number=row.id)
    if not await repos.agenda.add_support(row.id, ctx.sender, ctx.now):
        raise UserError("odj.support_twice", number=row.id, prefix=ctx.club.prefix)
    await audit(ctx, suggestion.meeting, "supported", suggestion=row.id)
    await ctx.took_part()
    count = len(await repos.agenda.supporters(row.id))
    return Reply(ctx.t("odj.supported", number=row.id, count=count))


@changing.subcommand("retirer-soutien", fr=("retirer-soutien", "plus-soutenir", "desoutenir"),
                     en=("unsupport", "withdraw-support"), params=(SUGGESTION,))
async def retirer_soutien(ctx: Context, suggestion: OnAgenda[AgendaSuggestion]) -> Reply:
    if not await ctx.db().agenda.remove_support(suggestion.row.id, ctx.sender):
        raise UserError("odj.support_none", number=suggestion.row.id)
    await audit(ctx, suggestion.meeting, "unsupported", suggestion=suggestion.row.id)
    return Reply(ctx.t("odj.unsupported", number=suggestion.row.id))


async def author_or_coordinator(ctx: Context, arguments: Mapping[str, Any]) -> None:
    """A suggestion is withdrawn by its author or a coordinator."""
    suggestion: AgendaSuggestion = arguments["suggestion"].row
    if suggestion.author != ctx.sender and ctx.role < Role.COORDINATOR:
        raise Forbidden("odj.withdraw_forbidden", number=suggestion.id)


@odj.subcommand("retirer", fr=("retirer", "annuler"), en=("withdraw",), params=(SUGGESTION,),
                checks=(author_or_coordinator, meeting_open))
async def retirer(ctx: Context, suggestion: OnAgenda[AgendaSuggestion]) -> Reply:
    repos, row, meeting = ctx.db(), suggestion.row, suggestion.meeting
    if row.status not in SUPPORTABLE:
        raise UserError("odj.withdraw_closed", number=row.id,
                        status=ctx.t(f"odj.status_{row.status}"))
    effects: list[Effect] = []
    items = [i for i in await repos.agenda.items(meeting.id) if i.suggestion_id == row.id]
    for item in items:
        await repos.agenda.remove_item(item)
    row.status, row.decided_at, row.decided_by = WITHDRAWN, ctx.now, ctx.sender
    await audit(ctx, meeting, "withdrawn", suggestion=row.id, items=[i.id for i in items])
    if items:
        effects = await service.after_change(repos, meeting, ctx.club, ctx.t)
    return with_update(ctx, ctx.t("odj.withdrawn", number=row.id), effects)


async def _check_waiting_suggestions(ctx: Context, meeting: Meeting) -> None:
    """A person has at most ``suggestions_per_meeting`` suggestions waiting for a decision
    per rencontre (``LimitReached``): one decided or withdrawn makes room for another."""
    limit = ctx.club.limits.suggestions_per_meeting
    if exempt(ctx, limit):
        return
    if await ctx.db().agenda.waiting_suggestions_of(meeting.id, ctx.sender) >= limit:
        raise LimitReached("limit.suggestions", limit=limit, meeting=meeting.id)
