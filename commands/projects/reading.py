"""``!mesprojets`` and reading the groups: ``!projet liste|info|membres|historique``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.arguments import Text
from commands.context import Context
from commands.effects import Reply
from commands.errors import BadArgument
from commands.i18n import Translator
from commands.paging import Section, Window, more, paged
from commands.params import PAGE, Param
from commands.projects import render
from commands.projects.common import editors_only, projet
from commands.projects.names import GroupRef, group_label
from commands.registry import PageRequest, command
from commands.roles import Role
from commands.vocabulary import STATUSES, TERRITORIES, THEMES

if TYPE_CHECKING:
    from storage.models import ProjectGroup
    from storage.projects import GroupPage

ACTIVE_ORDER = ("en-cours", "en-definition", "idee", "en-pause", "realise")
HISTORY_PAGE = 20  # an entry quotes up to two texts of 200 characters


@command("mesprojets", fr=("mesprojets", "mes-projets"), en=("myprojects", "my-projects"),
         section="projects", options=(PAGE,))
async def mesprojets(ctx: Context, page: PageRequest) -> Reply:
    rows = await ctx.db().groups.groups_of(ctx.sender)
    if not rows:
        return Reply(ctx.t("projects.mine_none", prefix=ctx.club.prefix))
    lines = []
    for group, member in rows:
        role = " " + ctx.t("projects.referent_mark") if member.referent else ""
        lines.append(f"- **{group_label(group)}** (`{group.slug}`) — "
                     f"{STATUSES.label(group.status, ctx.t)}{role}")
    mine = Section(lines, heading=ctx.t("projects.mine_title", count=len(rows)))
    return Reply(paged(page, [mine], ctx.t, ctx.club.prefix))


@projet.subcommand("liste", fr=("liste", "lister", "tous"), en=("list", "all"),
                   params=(Param("filter", Text(max_length=80), required=False, rest=True),),
                   options=(PAGE,))
async def liste(ctx: Context, filter: str | None, page: PageRequest) -> Reply:
    criteria = _list_filter(filter) if filter else {}
    window = Window(page.number)
    found = await _listing(ctx, window, criteria)
    if not found.total:
        key = "projects.list_empty_filtered" if filter else "projects.list_empty"
        return Reply(ctx.t(key, prefix=ctx.club.prefix))
    if not found.rows:  # a page past the end: the last one
        window = window.within(found.total)
        found = await _listing(ctx, window, criteria)
    text = [ctx.t("projects.list_title", count=found.total), "",
            render.table(found.rows, ctx.t)]
    if "status" not in criteria and found.archived:
        text += ["", ctx.t("projects.list_archived", count=found.archived,
                           prefix=ctx.club.prefix)]
    footer = more(page, window.number, window.pages(found.total), ctx.t, ctx.club.prefix,
                  arguments=" ".join(criteria.values()))
    return Reply("\n".join(text + (["", footer] if footer else [])))


@projet.subcommand("info", fr=("info", "fiche", "voir"), en=("show", "details"),
                   params=(Param("group", GroupRef(), required=False, rest=True),),
                   options=(PAGE,), names_people=True)
async def info(ctx: Context, group: ProjectGroup, page: PageRequest) -> Reply:
    groups = ctx.db().groups
    members = await groups.members(group.id)
    needs = await groups.open_needs(group.id)
    progress = await groups.progress(group.id, limit=3)
    total = await groups.progress_count(group.id)
    funding = await groups.funding(group.id)
    sections = [render.need_section(needs, ctx.t),
                render.progress_section(progress, total, ctx.club.tz, ctx.t)]
    return Reply(paged(page, sections, ctx.t, ctx.club.prefix, arguments=group.slug,
                       head=render.card(group, members, ctx.club.tz, ctx.t, ctx.club.prefix,
                                        funding)))


@projet.subcommand("membres", fr=("membres",), en=("members",),
                   params=(Param("group", GroupRef(), required=False, rest=True),),
                   options=(PAGE,), names_people=True)
async def membres(ctx: Context, group: ProjectGroup, page: PageRequest) -> Reply:
    members = await ctx.db().groups.members(group.id)
    return Reply(paged(page, [render.member_lines(group, members, ctx.club.tz, ctx.t)],
                       ctx.t, ctx.club.prefix, arguments=group.slug))


@projet.subcommand("historique", fr=("historique", "journal"), en=("history", "log"),
                   params=(Param("group", GroupRef(), rest=True),), options=(PAGE,),
                   role=Role.REFERENT, names_people=True,
                   checks=(editors_only("projects.history_forbidden"),))
async def historique(ctx: Context, group: ProjectGroup, page: PageRequest) -> Reply:
    audit = ctx.db().audit
    total = await audit.count("group", group.id)
    window = Window(page.number, HISTORY_PAGE).within(total)
    entries = await audit.entries("group", group.id, limit=window.size, offset=window.offset)
    text = render.audit_lines(group, entries, total, ctx.club.tz, ctx.t)
    footer = more(page, window.number, window.pages(total), ctx.t, ctx.club.prefix,
                  arguments=group.slug)
    return Reply(text + ("\n\n" + footer if footer else ""))


async def _listing(ctx: Context, window: Window, criteria: dict[str, str]) -> GroupPage:
    return await ctx.db().groups.listing(order=ACTIVE_ORDER, limit=window.size,
                                         offset=window.offset, **criteria)


def _list_filter(raw: str) -> dict[str, str]:
    """``!projet liste énergie`` / ``sud`` / ``en cours``: a theme, a territory or a status."""
    for name, vocabulary in (("theme", THEMES), ("territory", TERRITORIES), ("status", STATUSES)):
        key = vocabulary.find(raw)
        if key is not None:
            return {name: key}
    t = Translator()
    raise BadArgument("projects.bad_filter", value=raw[:40], themes=THEMES.choices(t),
                      territories=TERRITORIES.choices(t), statuses=STATUSES.choices(t))

