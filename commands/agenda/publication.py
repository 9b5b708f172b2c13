"""``!odj brouillon|publier``: the coordinators post the draft of a rencontre's agenda (opening
with the actions to follow up), then publish it (pinned in its rooms, « mis à jour » afterwards)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.actions import follow_up
from commands.agenda import render, service
from commands.agenda.common import GROUPS, MEETING, audit, coordination
from commands.agenda.lines import schedule
from commands.agenda.service import PROPOSED
from commands.context import Context
from commands.effects import Effect, Post, Reply
from commands.errors import UserError
from commands.params import Param
from commands.text import room_link

if TYPE_CHECKING:
    from storage.models import Meeting


@coordination.subcommand("brouillon", fr=("brouillon", "projet-odj"), en=("draft",),
                         params=(Param("groups", GROUPS, required=False),), options=(MEETING,),
                         names_people=True)
async def brouillon(ctx: Context, groups: str | None, meeting: Meeting) -> Reply:
    repos = ctx.db()
    added = []
    if groups:
        added = await service.add_group_tour(repos, meeting, ctx.sender, ctx.now, ctx.t)
    lines = await service.lines_of(repos, meeting, ctx.club, ctx.t)
    pending = [s for s in await repos.agenda.suggestions(meeting.id) if s.status == PROPOSED]
    deadline = service.suggestions_deadline(meeting, ctx.club)
    text = render.draft(meeting, schedule(meeting.starts_at, lines), pending, deadline,
                        ctx.now, ctx.club, ctx.t,
                        await follow_up(repos, meeting, ctx.club, ctx.t, ctx.now))
    rooms = service.agenda_rooms(meeting, ctx.club)
    state = await repos.agenda.state_for_update(meeting.id)
    state.draft_posted_at = ctx.now
    await audit(ctx, meeting, "draft_posted", rooms=rooms, groups=[i.id for i in added])
    effects: list[Effect] = list(await service.after_change(repos, meeting, ctx.club, ctx.t)
                                 if added else [])
    if not rooms:
        return Reply(text, effects=tuple(effects))
    effects += [Post(room, Reply(text)) for room in rooms]
    return Reply(ctx.t("odj.draft_posted", meeting=meeting.id, rooms=len(rooms),
                       groups=len(added)), effects=tuple(effects))


@coordination.subcommand("publier", fr=("publier", "publication"), en=("publish",),
                         options=(MEETING,))
async def publier(ctx: Context, meeting: Meeting) -> Reply:
    repos = ctx.db()
    lines = await service.lines_of(repos, meeting, ctx.club, ctx.t)
    if not lines:
        raise UserError("odj.empty", meeting=meeting.id, prefix=ctx.club.prefix)
    effects, rooms = await service.publish(repos, meeting, ctx.club, ctx.t, ctx.now,
                                           ctx.room_id)
    version = (await repos.agenda.state_for_update(meeting.id)).version
    await audit(ctx, meeting, "published", version=version, rooms=rooms,
                items=[line.id for line in lines])
    return Reply(ctx.t("odj.published", meeting=meeting.id, version=version,
                       rooms=_rooms_named(ctx, rooms), items=len(lines)),
                 effects=tuple(effects))


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
