"""``!odj …`` (``!agenda …``): suggestions from everyone, the agenda built and published by the
coordinators. One handler per subcommand, declared once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from commands.agenda import render, service
from commands.agenda.service import ACCEPTED, CANCELLED, HELD, PROPOSED, REFUSED, WITHDRAWN
from commands.arguments import Choice, Integer, Text, UserId
from commands.context import Context, Reply
from commands.dates import format_moment, parse_duration
from commands.effects import Effect, Post, txn_id
from commands.errors import Forbidden, NotFound, UserError
from commands.limits import LimitReached, exempt
from commands.meetings import render as meeting_render
from commands.meetings.details import clean_text
from commands.paging import paged
from commands.params import PAGE, Option, Param
from commands.registry import Command, PageRequest, Registry
from commands.roles import Role
from commands.text import escape_markdown, pill, room_link, shorten

if TYPE_CHECKING:
    from storage.models import AgendaItem, AgendaSuggestion, Meeting

NUMBER = Integer()
TEXT_MAX = 500
METHOD_MAX = 200
REASON_MAX = 500
SUPPORTABLE = (PROPOSED, ACCEPTED)


@dataclass(frozen=True)
class Minutes:
    """A duration as people write it (``20min``, ``1h``, ``1h30``), in whole minutes."""

    kind: str = "duration"

    def convert(self, raw: str) -> int:
        return max(1, round(parse_duration(raw).total_seconds() / 60))


MEETING = Option("meeting", Integer(), fr=("rencontre",), en=("meeting",))
DURATION = Option("duration", Minutes(), fr=("duree", "temps"), en=("duration", "length"))
METHOD = Option("method", Text(METHOD_MAX), fr=("animation", "methode"), en=("method",))
PRESENTER = Option("presenter", UserId(), fr=("intervenant", "intervenante", "avec"),
                   en=("presenter", "speaker", "with"))
GROUPS = Choice((("groupes", ("groups", "tour", "avec-groupes")),))


def register(registry: Registry) -> None:
    """Declares ``!odj`` (``!agenda``) and its subcommands."""
    odj = registry.group("odj", fr=("odj", "ordre-du-jour", "ordredujour"), en=("agenda",),
                         section="agenda")
    _register_participants(odj)
    _register_coordination(odj)
    _register_publication(odj)


# --- everyone -----------------------------------------------------------------------------------

def _register_participants(odj: Command) -> None:
    @odj.subcommand("proposer", fr=("proposer", "suggerer", "suggestion"),
                    en=("suggest", "propose"), params=(Param("text", Text(10_000), rest=True),),
                    options=(MEETING,))
    async def proposer(ctx: Context, text: str, meeting: int | None) -> Reply:
        repos = ctx.db()
        found = await _meeting(ctx, meeting)
        _check_open(found, ctx)
        deadline = service.suggestions_deadline(found, ctx.club)
        if ctx.now >= deadline:
            raise UserError("odj.suggestions_closed", number=found.id,
                            deadline=format_moment(deadline, ctx.t.language, ctx.club.tz))
        await _check_waiting_suggestions(ctx, found)
        value = clean_text(text, "text", TEXT_MAX)
        suggestion = await repos.agenda.add_suggestion(
            meeting_id=found.id, author=ctx.sender, text=value, room_id=ctx.room_id,
            confirmation_txn=txn_id("reply", ctx.event_id), at=ctx.now)
        await _audit(ctx, found, "suggested", suggestion=suggestion.id, text=value[:200])
        await ctx.took_part()
        return Reply(ctx.t("odj.suggested", number=suggestion.id, meeting=found.id,
                           when=meeting_render.when(found, ctx.club, ctx.t),
                           deadline=format_moment(deadline, ctx.t.language, ctx.club.tz),
                           prefix=ctx.club.prefix))

    @odj.subcommand("liste", fr=("liste", "voir", "brouillon-actuel"), en=("list", "show"),
                    options=(MEETING, PAGE), names_people=True)
    async def liste(ctx: Context, meeting: int | None, page: PageRequest) -> Reply:
        repos = ctx.db()
        found = await _meeting(ctx, meeting)
        suggestions = await repos.agenda.suggestions(found.id)
        supports = await repos.agenda.support_counts(found.id)
        lines = await service.lines_of(repos, found, ctx.club, ctx.t)
        state = await repos.agenda.state(found.id)
        version = state.version if state is not None and state.published_at else None
        head, sections = render.listing(found, suggestions, supports,
                                        service.schedule(found.starts_at, lines),
                                        service.suggestions_deadline(found, ctx.club), version,
                                        ctx.now, ctx.club, ctx.t)
        which = f"--{MEETING.name_in(ctx.t.language)} {found.id}"
        return Reply(paged(page, sections, ctx.t, ctx.club.prefix, head=head, arguments=which))

    @odj.subcommand("soutenir", fr=("soutenir", "soutien", "plussoyer"), en=("support", "upvote"),
                    params=(Param("number", NUMBER),))
    async def soutenir(ctx: Context, number: int) -> Reply:
        repos = ctx.db()
        suggestion, found = await _suggestion(ctx, number)
        _check_open(found, ctx)
        if suggestion.status not in SUPPORTABLE:
            raise UserError("odj.support_closed", number=suggestion.id,
                            status=ctx.t(f"odj.status_{suggestion.status}"))
        if suggestion.author == ctx.sender:
            raise UserError("odj.support_own", number=suggestion.id)
        if not await repos.agenda.add_support(suggestion.id, ctx.sender, ctx.now):
            raise UserError("odj.support_twice", number=suggestion.id, prefix=ctx.club.prefix)
        await _audit(ctx, found, "supported", suggestion=suggestion.id)
        await ctx.took_part()
        count = len(await repos.agenda.supporters(suggestion.id))
        return Reply(ctx.t("odj.supported", number=suggestion.id, count=count))

    @odj.subcommand("retirer-soutien", fr=("retirer-soutien", "plus-soutenir", "desoutenir"),
                    en=("unsupport", "withdraw-support"), params=(Param("number", NUMBER),))
    async def retirer_soutien(ctx: Context, number: int) -> Reply:
        repos = ctx.db()
        suggestion, found = await _suggestion(ctx, number)
        _check_open(found, ctx)
        if not await repos.agenda.remove_support(suggestion.id, ctx.sender):
            raise UserError("odj.support_none", number=suggestion.id)
        await _audit(ctx, found, "unsupported", suggestion=suggestion.id)
        return Reply(ctx.t("odj.unsupported", number=suggestion.id))

    @odj.subcommand("retirer", fr=("retirer", "annuler"), en=("withdraw",),
                    params=(Param("number", NUMBER),))
    async def retirer(ctx: Context, number: int) -> Reply:
        repos = ctx.db()
        suggestion, found = await _suggestion(ctx, number)
        if suggestion.author != ctx.sender and ctx.role < Role.COORDINATOR:
            raise Forbidden("odj.withdraw_forbidden", number=suggestion.id)
        _check_open(found, ctx)
        if suggestion.status not in SUPPORTABLE:
            raise UserError("odj.withdraw_closed", number=suggestion.id,
                            status=ctx.t(f"odj.status_{suggestion.status}"))
        effects: list[Effect] = []
        items = [i for i in await repos.agenda.items(found.id) if i.suggestion_id == suggestion.id]
        for item in items:
            await repos.agenda.remove_item(item)
        suggestion.status, suggestion.decided_at, suggestion.decided_by = (
            WITHDRAWN, ctx.now, ctx.sender)
        await _audit(ctx, found, "withdrawn", suggestion=suggestion.id,
                     items=[i.id for i in items])
        if items:
            effects = await service.after_change(repos, found, ctx.club, ctx.t)
        return _with_update(ctx, ctx.t("odj.withdrawn", number=suggestion.id), effects)


# --- coordinators: deciding and building --------------------------------------------------------

def _register_coordination(odj: Command) -> None:
    @odj.subcommand("accepter", fr=("accepter", "retenir"), en=("accept",),
                    params=(Param("number", NUMBER),), options=(DURATION, METHOD, PRESENTER),
                    role=Role.COORDINATOR)
    async def accepter(ctx: Context, number: int, duration: int | None, method: str | None,
                       presenter: str | None) -> Reply:
        repos = ctx.db()
        suggestion, found = await _suggestion(ctx, number)
        _check_open(found, ctx)
        if suggestion.status != PROPOSED:
            raise UserError("odj.decided_already", number=suggestion.id,
                            status=ctx.t(f"odj.status_{suggestion.status}"))
        item = await repos.agenda.add_item(
            meeting_id=found.id, title=suggestion.text,
            minutes=duration or service.DEFAULT_MINUTES, method=_method(method),
            presenter=presenter or suggestion.author, created_by=ctx.sender, at=ctx.now,
            suggestion_id=suggestion.id)
        suggestion.status, suggestion.decided_at, suggestion.decided_by = (
            ACCEPTED, ctx.now, ctx.sender)
        await _audit(ctx, found, "accepted", suggestion=suggestion.id, item=item.id)
        effects = await service.after_change(repos, found, ctx.club, ctx.t)
        return _with_update(ctx, ctx.t("odj.accepted", number=suggestion.id, item=item.id,
                                       position=item.position, minutes=item.minutes), effects)

    @odj.subcommand("refuser", fr=("refuser", "rejeter"), en=("refuse", "reject", "decline"),
                    params=(Param("number", NUMBER),
                            Param("reason", Text(10_000), required=False, rest=True)),
                    role=Role.COORDINATOR)
    async def refuser(ctx: Context, number: int, reason: str | None) -> Reply:
        suggestion, found = await _suggestion(ctx, number)
        _check_open(found, ctx)
        if suggestion.status != PROPOSED:
            raise UserError("odj.decided_already", number=suggestion.id,
                            status=ctx.t(f"odj.status_{suggestion.status}"))
        why = clean_text(reason, "reason", REASON_MAX) if reason else ""
        suggestion.status, suggestion.reason = REFUSED, why
        suggestion.decided_at, suggestion.decided_by = ctx.now, ctx.sender
        await _audit(ctx, found, "refused", suggestion=suggestion.id, reason=why[:200])
        told = ctx.t("odj.refused_told", author=pill(suggestion.author), number=suggestion.id,
                     text=escape_markdown(shorten(suggestion.text, 200)),
                     reason=escape_markdown(why) or ctx.t("odj.no_reason"),
                     meeting=found.id)
        author = (suggestion.author,)
        if suggestion.room_id == ctx.room_id:  # the author reads it here
            return Reply(told, mentions=author)
        return Reply(ctx.t("odj.refused", number=suggestion.id),
                     effects=(Post(suggestion.room_id, Reply(told, mentions=author)),))

    @odj.subcommand("ajouter", fr=("ajouter", "point"), en=("add",),
                    params=(Param("text", Text(10_000), rest=True),),
                    options=(DURATION, METHOD, PRESENTER, MEETING), role=Role.COORDINATOR)
    async def ajouter(ctx: Context, text: str, duration: int | None, method: str | None,
                      presenter: str | None, meeting: int | None) -> Reply:
        repos = ctx.db()
        found = await _meeting(ctx, meeting)
        _check_open(found, ctx)
        item = await repos.agenda.add_item(
            meeting_id=found.id, title=clean_text(text, "text", TEXT_MAX),
            minutes=duration or service.DEFAULT_MINUTES, method=_method(method),
            presenter=presenter, created_by=ctx.sender, at=ctx.now)
        await _audit(ctx, found, "item_added", item=item.id, title=item.title[:200])
        effects = await service.after_change(repos, found, ctx.club, ctx.t)
        return _with_update(ctx, ctx.t("odj.added", item=item.id, meeting=found.id,
                                       position=item.position, minutes=item.minutes), effects)

    @odj.subcommand("modifier", fr=("modifier", "changer"), en=("edit", "change"),
                    params=(Param("number", NUMBER),
                            Param("text", Text(10_000), required=False, rest=True)),
                    options=(DURATION, METHOD, PRESENTER), role=Role.COORDINATOR)
    async def modifier(ctx: Context, number: int, text: str | None, duration: int | None,
                       method: str | None, presenter: str | None) -> Reply:
        repos = ctx.db()
        item, found = await _item(ctx, number)
        _check_open(found, ctx)
        if text is None and duration is None and method is None and presenter is None:
            raise UserError("odj.edit_nothing", prefix=ctx.club.prefix)
        if text is not None:
            item.title = clean_text(text, "text", TEXT_MAX)
        if duration is not None:
            item.minutes = duration
        if method is not None:
            item.method = _method(method)
        if presenter is not None:
            item.presenter = presenter
        await _audit(ctx, found, "item_edited", item=item.id, title=item.title[:200],
                     minutes=item.minutes, method=item.method, presenter=item.presenter)
        effects = await service.after_change(repos, found, ctx.club, ctx.t)
        return _with_update(ctx, ctx.t("odj.edited", item=item.id), effects)

    @odj.subcommand("deplacer", fr=("deplacer", "bouger"), en=("move",),
                    params=(Param("number", NUMBER), Param("position", NUMBER)),
                    role=Role.COORDINATOR)
    async def deplacer(ctx: Context, number: int, position: int) -> Reply:
        repos = ctx.db()
        item, found = await _item(ctx, number)
        _check_open(found, ctx)
        count = len(await repos.agenda.items(found.id))
        if position > count:
            raise UserError("odj.bad_position", position=position, count=count)
        if position == item.position:
            return Reply(ctx.t("odj.move_same", item=item.id, position=position))
        old = item.position
        await repos.agenda.move_item(item, position)
        await _audit(ctx, found, "item_moved", item=item.id, old=old, new=position)
        effects = await service.after_change(repos, found, ctx.club, ctx.t, moved=item.id)
        return _with_update(ctx, ctx.t("odj.moved", item=item.id, position=position), effects)

    @odj.subcommand("supprimer", fr=("supprimer", "enlever"), en=("remove", "delete"),
                    params=(Param("number", NUMBER),), role=Role.COORDINATOR)
    async def supprimer(ctx: Context, number: int) -> Reply:
        repos = ctx.db()
        item, found = await _item(ctx, number)
        _check_open(found, ctx)
        suggestion = (await repos.agenda.suggestion(item.suggestion_id)
                      if item.suggestion_id is not None else None)
        if suggestion is not None and suggestion.status == ACCEPTED:
            suggestion.status, suggestion.decided_at, suggestion.decided_by = PROPOSED, None, None
        item_id, title = item.id, item.title
        await repos.agenda.remove_item(item)
        await _audit(ctx, found, "item_removed", item=item_id, title=title[:200])
        effects = await service.after_change(repos, found, ctx.club, ctx.t)
        text = ctx.t("odj.removed", item=item_id)
        if suggestion is not None:
            text += " " + ctx.t("odj.removed_suggestion_back", number=suggestion.id)
        return _with_update(ctx, text, effects)

    @odj.subcommand("tour", fr=("tour", "groupes", "tour-des-groupes"), en=("groups", "round"),
                    options=(MEETING,), role=Role.COORDINATOR)
    async def tour(ctx: Context, meeting: int | None) -> Reply:
        repos = ctx.db()
        found = await _meeting(ctx, meeting)
        _check_open(found, ctx)
        added = await service.add_group_tour(repos, found, ctx.sender, ctx.now, ctx.t)
        if not added:
            return Reply(ctx.t("odj.tour_none", meeting=found.id))
        await _audit(ctx, found, "group_tour", items=[i.id for i in added])
        effects = await service.after_change(repos, found, ctx.club, ctx.t)
        return _with_update(ctx, ctx.t("odj.tour_added", count=len(added), meeting=found.id),
                            effects)


# --- coordinators: draft and publication --------------------------------------------------------

def _register_publication(odj: Command) -> None:
    @odj.subcommand("brouillon", fr=("brouillon", "projet-odj"), en=("draft",),
                    params=(Param("groups", GROUPS, required=False),), options=(MEETING,),
                    role=Role.COORDINATOR, names_people=True)
    async def brouillon(ctx: Context, groups: str | None, meeting: int | None) -> Reply:
        repos = ctx.db()
        found = await _meeting(ctx, meeting)
        _check_open(found, ctx)
        added = []
        if groups:
            added = await service.add_group_tour(repos, found, ctx.sender, ctx.now, ctx.t)
        lines = await service.lines_of(repos, found, ctx.club, ctx.t)
        pending = [s for s in await repos.agenda.suggestions(found.id) if s.status == PROPOSED]
        deadline = service.suggestions_deadline(found, ctx.club)
        text = render.draft(found, service.schedule(found.starts_at, lines), pending, deadline,
                            ctx.now, ctx.club, ctx.t)
        rooms = service.agenda_rooms(found, ctx.club)
        state = await repos.agenda.state_for_update(found.id)
        state.draft_posted_at = ctx.now
        await _audit(ctx, found, "draft_posted", rooms=rooms, groups=[i.id for i in added])
        effects: list[Effect] = list(await service.after_change(repos, found, ctx.club, ctx.t)
                                     if added else [])
        if not rooms:
            return Reply(text, effects=tuple(effects))
        effects += [Post(room, Reply(text)) for room in rooms]
        return Reply(ctx.t("odj.draft_posted", meeting=found.id, rooms=len(rooms),
                           groups=len(added)), effects=tuple(effects))

    @odj.subcommand("publier", fr=("publier", "publication"), en=("publish",),
                    options=(MEETING,), role=Role.COORDINATOR)
    async def publier(ctx: Context, meeting: int | None) -> Reply:
        repos = ctx.db()
        found = await _meeting(ctx, meeting)
        _check_open(found, ctx)
        lines = await service.lines_of(repos, found, ctx.club, ctx.t)
        if not lines:
            raise UserError("odj.empty", meeting=found.id, prefix=ctx.club.prefix)
        effects, rooms = await service.publish(repos, found, ctx.club, ctx.t, ctx.now,
                                               ctx.room_id)
        version = (await repos.agenda.state_for_update(found.id)).version
        await _audit(ctx, found, "published", version=version, rooms=rooms,
                     items=[line.id for line in lines])
        return Reply(ctx.t("odj.published", meeting=found.id, version=version,
                           rooms=_rooms_named(ctx, rooms), items=len(lines)),
                     effects=tuple(effects))


# --- shared helpers -----------------------------------------------------------------------------

def _method(method: str | None) -> str:
    return clean_text(method, "method", METHOD_MAX) if method else ""


def _rooms_named(ctx: Context, rooms: list[str]) -> str:
    """Rooms as links named by their place in the club (« salon nord »), or « ce salon »."""
    roles = {room_id: role for role, room_id in ctx.club.rooms.items()}
    names = []
    for room in rooms:
        role = roles.get(room)
        label = (ctx.t(f"odj.room_{role}") if role and ctx.t.has(f"odj.room_{role}")
                 else ctx.t("odj.room_here") if room == ctx.room_id else room)
        names.append(room_link(room, label))
    return ", ".join(names)


def _with_update(ctx: Context, text: str, effects: list[Effect]) -> Reply:
    """The reply to a change; once published, it says the rooms were told."""
    if effects:
        rooms = len({effect.room_id for effect in effects if isinstance(effect, Post)})
        text += " " + ctx.t("odj.update_posted", rooms=rooms)
    return Reply(text, effects=tuple(effects))


async def _meeting(ctx: Context, number: int | None) -> Meeting:
    """The rencontre named by ``--rencontre``, or the next planned one."""
    meetings = ctx.db().meetings
    if number is not None:
        found = await meetings.get(number)
        if found is None:
            raise NotFound("meeting.not_found", number=number)
        return found
    upcoming = await meetings.next_planned(ctx.now)
    if upcoming is None:
        raise NotFound("odj.no_meeting", prefix=ctx.club.prefix)
    return upcoming


def _check_open(meeting: Meeting, ctx: Context) -> None:
    """A cancelled or past rencontre's agenda no longer changes."""
    if meeting.status == CANCELLED:
        raise UserError("odj.meeting_cancelled", number=meeting.id)
    if meeting.status == HELD or meeting.starts_at <= ctx.now:
        raise UserError("odj.meeting_past", number=meeting.id,
                        when=meeting_render.when(meeting, ctx.club, ctx.t))


async def _check_waiting_suggestions(ctx: Context, meeting: Meeting) -> None:
    """A person has at most ``suggestions_per_meeting`` suggestions waiting for a decision
    per rencontre (``LimitReached``): one decided or withdrawn makes room for another."""
    limit = ctx.club.limits.suggestions_per_meeting
    if exempt(ctx, limit):
        return
    if await ctx.db().agenda.waiting_suggestions_of(meeting.id, ctx.sender) >= limit:
        raise LimitReached("limit.suggestions", limit=limit, meeting=meeting.id)


async def _suggestion(ctx: Context, number: int) -> tuple[AgendaSuggestion, Meeting]:
    repos = ctx.db()
    suggestion = await repos.agenda.suggestion(number)
    if suggestion is None:
        raise NotFound("odj.suggestion_not_found", number=number)
    meeting = await repos.meetings.get(suggestion.meeting_id)
    assert meeting is not None  # a foreign key with ON DELETE CASCADE
    return suggestion, meeting


async def _item(ctx: Context, number: int) -> tuple[AgendaItem, Meeting]:
    repos = ctx.db()
    item = await repos.agenda.item(number)
    if item is None:
        raise NotFound("odj.item_not_found", number=number)
    meeting = await repos.meetings.get(item.meeting_id)
    assert meeting is not None
    return item, meeting


async def _audit(ctx: Context, meeting: Meeting, action: str, **details: object) -> None:
    await ctx.db().audit.record(actor=ctx.sender, subject="agenda", subject_id=meeting.id,
                                action=action, at=ctx.now, **details)
