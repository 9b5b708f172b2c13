"""Creating a group, joining it, leaving it: ``!projet creer|rejoindre|quitter``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.arguments import Text
from commands.context import Context
from commands.effects import Effect, Reply
from commands.errors import UserError
from commands.limits import check_daily
from commands.params import Option, Param
from commands.projects.common import DESCRIPTION_MAX, audit, invites, projet
from commands.projects.names import (
    GroupRef,
    clean_name,
    group_label,
    name_key,
    refuse_group_lookalike,
    slugify,
    unique_slug,
)
from commands.reminder_kinds import GROUP_ROOM, SET_WITH_RAPPEL
from commands.roles import Role
from commands.text import room_link
from commands.vocabulary import STATUSES, TERRITORIES, THEMES

if TYPE_CHECKING:
    from storage.models import ProjectGroup




@projet.subcommand("creer", fr=("creer", "nouveau", "ajouter"), en=("create", "new", "add"),
                   params=(Param("name", Text(max_length=10_000), rest=True),),
                   options=(Option("theme", THEMES, fr=("theme", "thematique")),
                            Option("territory", TERRITORIES, fr=("territoire",),
                                   en=("territory",)),
                            Option("description", Text(max_length=DESCRIPTION_MAX),
                                   fr=("description", "desc"))))
async def creer(ctx: Context, name: str, theme: str | None, territory: str | None,
                description: str | None) -> Reply:
    repos = ctx.db()
    await check_daily(ctx, "groups_per_day")
    clean = clean_name(name)
    existing = await repos.groups.by_name_key(name_key(clean))
    if existing is not None:
        raise UserError("projects.duplicate", group=group_label(existing),
                        slug=existing.slug, prefix=ctx.club.prefix)
    await refuse_group_lookalike(repos, clean)
    slug = unique_slug(slugify(clean), await repos.groups.slugs_like(slugify(clean)))
    group = await repos.groups.create(
        name=clean, name_key=name_key(clean), slug=slug, description=description or "",
        theme=theme or "vie-locale", territory=territory or "tout", status="idee",
        created_by=ctx.sender, at=ctx.now)
    await repos.groups.add_member(group.id, ctx.sender, ctx.now, tz=ctx.club.tz, referent=True)
    await audit(ctx, group, "created", name=clean)
    text = ctx.t("projects.created", group=group_label(group), slug=slug,
                 theme=THEMES.label(group.theme, ctx.t),
                 territory=TERRITORIES.label(group.territory, ctx.t),
                 status=STATUSES.label(group.status, ctx.t), prefix=ctx.club.prefix)
    if theme is None or territory is None:
        text += "\n\n" + ctx.t("projects.created_defaults", prefix=ctx.club.prefix, slug=slug)
    return Reply(text)


@projet.subcommand("rejoindre", fr=("rejoindre", "adherer", "entrer"), en=("join",),
                   params=(Param("group", GroupRef(), rest=True),))
async def rejoindre(ctx: Context, group: ProjectGroup) -> Reply:
    """The sender becomes a member of ``group`` (not an archived one), invited into its room."""
    repos = ctx.db()
    label = group_label(group)
    if await repos.groups.membership(group.id, ctx.sender) is not None:
        return Reply(ctx.t("projects.already_member", group=label))
    if group.status == "archive":
        raise UserError("projects.join_archived", group=label)
    await repos.groups.add_member(group.id, ctx.sender, ctx.now, tz=ctx.club.tz)
    await audit(ctx, group, "joined")
    count = len(await repos.groups.members(group.id))
    text = ctx.t("projects.joined", group=label, count=count)
    effects: tuple[Effect, ...] = ()
    if group.room_id:
        text += " " + ctx.t("projects.joined_room", room=room_link(group.room_id, group.name))
        effects = invites(ctx.t, group, [ctx.sender], ctx.room_id, notify=True)
    return Reply(text, effects=effects)


@projet.subcommand("quitter", fr=("quitter", "partir"), en=("leave", "quit"),
                   params=(Param("group", GroupRef(), rest=True),))
async def quitter(ctx: Context, group: ProjectGroup) -> Reply:
    repos = ctx.db()
    member = await repos.groups.membership(group.id, ctx.sender)
    if member is None:
        return Reply(ctx.t("projects.not_member", group=group_label(group)))
    await repos.groups.remove_member(group.id, ctx.sender)
    await audit(ctx, group, "left")
    text = ctx.t("projects.left", group=group_label(group))
    if cancelled := await _cancel_room_reminders(ctx, group):
        text += " " + ctx.t("projects.left_reminders", count=cancelled)
    remaining = await repos.groups.members(group.id)
    if member.referent and not any(m.referent for m in remaining):
        text += "\n\n" + ctx.t("projects.left_no_referent", prefix=ctx.club.prefix,
                               slug=group.slug)
    return Reply(text)


async def _cancel_room_reminders(ctx: Context, group: ProjectGroup) -> int:
    """The reminders a member set in their group's room (for the room, which only members may
    set there, or for themselves) stop when they leave the group; a coordinator's stay, but
    for those they set there as a member. How many were cancelled (their timers find them no
    longer due)."""
    if group.room_id is None:
        return 0
    kinds = (GROUP_ROOM,) if ctx.role >= Role.COORDINATOR else SET_WITH_RAPPEL
    return await ctx.db().reminders.cancel_set_in(ctx.sender, group.room_id, kinds)
