"""``!odj accepter|refuser|ajouter|modifier|deplacer|supprimer|tour``: the coordinators decide on
the suggestions and build the agenda of a rencontre still to come (the ``coordination``
family's role and check)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.agenda import service
from commands.agenda.common import (
    DURATION,
    MEETING,
    METHOD,
    NUMBER,
    PRESENTER,
    TEXT_MAX,
    ItemRef,
    OnAgenda,
    SuggestionRef,
    audit,
    clean_method,
    coordination,
    with_update,
)
from commands.agenda.service import ACCEPTED, PROPOSED, REFUSED
from commands.arguments import Text
from commands.context import Context
from commands.effects import Post, Reply
from commands.errors import UserError
from commands.meetings.details import clean_text
from commands.params import Param
from commands.text import escape_markdown, pill, shorten

if TYPE_CHECKING:
    from storage.models import AgendaItem, AgendaSuggestion, Meeting

REASON_MAX = 500
SUGGESTION = Param("suggestion", SuggestionRef(), shows=("number",))
ITEM = Param("item", ItemRef(), shows=("number",))


@coordination.subcommand("accepter", fr=("accepter", "retenir"), en=("accept",),
                         params=(SUGGESTION,), options=(DURATION, METHOD, PRESENTER))
async def accepter(ctx: Context, suggestion: OnAgenda[AgendaSuggestion], duration: int | None,
                   method: str | None, presenter: str | None) -> Reply:
    repos, row, meeting = ctx.db(), suggestion.row, suggestion.meeting
    _undecided(ctx, row)
    item = await repos.agenda.add_item(
        meeting_id=meeting.id, title=row.text, minutes=duration or service.DEFAULT_MINUTES,
        method=clean_method(method), presenter=presenter or row.author, created_by=ctx.sender,
        at=ctx.now, suggestion_id=row.id)
    row.status, row.decided_at, row.decided_by = ACCEPTED, ctx.now, ctx.sender
    await audit(ctx, meeting, "accepted", suggestion=row.id, item=item.id)
    effects = await service.after_change(repos, meeting, ctx.club, ctx.t)
    return with_update(ctx, ctx.t("odj.accepted", number=row.id, item=item.id,
                                  position=item.position, minutes=item.minutes), effects)


@coordination.subcommand("refuser", fr=("refuser", "rejeter"), en=("refuse", "reject", "decline"),
                         params=(SUGGESTION,
                                 Param("reason", Text(10_000), required=False, rest=True)))
async def refuser(ctx: Context, suggestion: OnAgenda[AgendaSuggestion],
                  reason: str | None) -> Reply:
    row = suggestion.row
    _undecided(ctx, row)
    why = clean_text(reason, "reason", REASON_MAX) if reason else ""
    row.status, row.reason, row.decided_at, row.decided_by = REFUSED, why, ctx.now, ctx.sender
    await audit(ctx, suggestion.meeting, "refused", suggestion=row.id, reason=why[:200])
    told = ctx.t("odj.refused_told", author=pill(row.author), number=row.id,
                 text=escape_markdown(shorten(row.text, 200)),
                 reason=escape_markdown(why) or ctx.t("odj.no_reason"),
                 meeting=suggestion.meeting.id)
    author = (row.author,)
    if row.room_id == ctx.room_id:  # the author reads it here
        return Reply(told, mentions=author)
    return Reply(ctx.t("odj.refused", number=row.id),
                 effects=(Post(row.room_id, Reply(told, mentions=author)),))


@coordination.subcommand("ajouter", fr=("ajouter", "point"), en=("add",),
                         params=(Param("text", Text(10_000), rest=True),),
                         options=(DURATION, METHOD, PRESENTER, MEETING))
async def ajouter(ctx: Context, text: str, duration: int | None, method: str | None,
                  presenter: str | None, meeting: Meeting) -> Reply:
    repos = ctx.db()
    item = await repos.agenda.add_item(
        meeting_id=meeting.id, title=clean_text(text, "text", TEXT_MAX),
        minutes=duration or service.DEFAULT_MINUTES, method=clean_method(method),
        presenter=presenter, created_by=ctx.sender, at=ctx.now)
    await audit(ctx, meeting, "item_added", item=item.id, title=item.title[:200])
    effects = await service.after_change(repos, meeting, ctx.club, ctx.t)
    return with_update(ctx, ctx.t("odj.added", item=item.id, meeting=meeting.id,
                                  position=item.position, minutes=item.minutes), effects)


@coordination.subcommand("modifier", fr=("modifier", "changer"), en=("edit", "change"),
                         params=(ITEM, Param("text", Text(10_000), required=False, rest=True)),
                         options=(DURATION, METHOD, PRESENTER))
async def modifier(ctx: Context, item: OnAgenda[AgendaItem], text: str | None,
                   duration: int | None, method: str | None, presenter: str | None) -> Reply:
    row = item.row
    if text is None and duration is None and method is None and presenter is None:
        raise UserError("odj.edit_nothing", prefix=ctx.club.prefix)
    if text is not None:
        row.title = clean_text(text, "text", TEXT_MAX)
    if duration is not None:
        row.minutes = duration
    if method is not None:
        row.method = clean_method(method)
    if presenter is not None:
        row.presenter = presenter
    await audit(ctx, item.meeting, "item_edited", item=row.id, title=row.title[:200],
                minutes=row.minutes, method=row.method, presenter=row.presenter)
    effects = await service.after_change(ctx.db(), item.meeting, ctx.club, ctx.t)
    return with_update(ctx, ctx.t("odj.edited", item=row.id), effects)


@coordination.subcommand("deplacer", fr=("deplacer", "bouger"), en=("move",),
                         params=(ITEM, Param("position", NUMBER)))
async def deplacer(ctx: Context, item: OnAgenda[AgendaItem], position: int) -> Reply:
    repos, row, meeting = ctx.db(), item.row, item.meeting
    count = len(await repos.agenda.items(meeting.id))
    if position > count:
        raise UserError("odj.bad_position", position=position, count=count)
    if position == row.position:
        return Reply(ctx.t("odj.move_same", item=row.id, position=position))
    old = row.position
    await repos.agenda.move_item(row, position)
    await audit(ctx, meeting, "item_moved", item=row.id, old=old, new=position)
    effects = await service.after_change(repos, meeting, ctx.club, ctx.t, moved=row.id)
    return with_update(ctx, ctx.t("odj.moved", item=row.id, position=position), effects)


@coordination.subcommand("supprimer", fr=("supprimer", "enlever"), en=("remove", "delete"),
                         params=(ITEM,))
async def supprimer(ctx: Context, item: OnAgenda[AgendaItem]) -> Reply:
    repos, row, meeting = ctx.db(), item.row, item.meeting
    suggestion = (await repos.agenda.suggestion(row.suggestion_id)
                  if row.suggestion_id is not None else None)
    if suggestion is not None and suggestion.status == ACCEPTED:
        suggestion.status, suggestion.decided_at, suggestion.decided_by = PROPOSED, None, None
    item_id, title = row.id, row.title
    await repos.agenda.remove_item(row)
    await audit(ctx, meeting, "item_removed", item=item_id, title=title[:200])
    effects = await service.after_change(repos, meeting, ctx.club, ctx.t)
    text = ctx.t("odj.removed", item=item_id)
    if suggestion is not None:
        text += " " + ctx.t("odj.removed_suggestion_back", number=suggestion.id)
    return with_update(ctx, text, effects)


@coordination.subcommand("tour", fr=("tour", "groupes", "tour-des-groupes"),
                         en=("groups", "round"), options=(MEETING,))
async def tour(ctx: Context, meeting: Meeting) -> Reply:
    repos = ctx.db()
    added = await service.add_group_tour(repos, meeting, ctx.sender, ctx.now, ctx.t)
    if not added:
        return Reply(ctx.t("odj.tour_none", meeting=meeting.id))
    await audit(ctx, meeting, "group_tour", items=[i.id for i in added])
    effects = await service.after_change(repos, meeting, ctx.club, ctx.t)
    return with_update(ctx, ctx.t("odj.tour_added", count=len(added), meeting=meeting.id),
                       effects)


def _undecided(ctx: Context, suggestion: AgendaSuggestion) -> None:
    """Only a suggestion still waiting is accepted or refused."""
    if suggestion.status != PROPOSED:
        raise UserError("odj.decided_already", number=suggestion.id,
                        status=ctx.t(f"odj.status_{suggestion.status}"))

