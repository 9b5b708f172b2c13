"""``!initiative …``: the panorama of transition initiatives already alive on the territory."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from commands.arguments import Integer, Text
from commands.capability import Capability
from commands.context import Context
from commands.csvfiles import csv_text
from commands.effects import Reply
from commands.errors import BadArgument, Forbidden, NotFound, UserError
from commands.exports import Export, ExportRun
from commands.i18n import Translator
from commands.limits import check_daily
from commands.lookalikes import find_lookalike
from commands.paging import Window, more
from commands.params import PAGE, Option, Param
from commands.projects.names import clean_name, name_key
from commands.registry import PageRequest, group
from commands.roles import Role
from commands.text import escape_markdown, fold, pill
from commands.vocabulary import THEMES

if TYPE_CHECKING:
    from storage.models import Initiative
    from storage.repositories import Repositories

_URL = re.compile(r"^https?://[^\s<>\"]+\.[^\s<>\"]+$")


def search_key(name: str, description: str, commune: str) -> str:
    """What ``!initiative chercher`` looks in: folded name, description and commune."""
    return " ".join(fold(f"{name} {description} {commune}").split())


initiative = group("initiative", fr=("initiative", "initiatives", "panorama"), section="projects")


@dataclass(frozen=True)
class InitiativeRef:
    """An initiative by its number (``n°3``, ``#3``, ``3``)."""

    kind: str = "integer"

    async def convert(self, ctx: Context, raw: str) -> Initiative:
        number = Integer().convert(raw)
        item = await ctx.db().initiatives.get(number)
        if item is None:
            raise NotFound("initiatives.not_found", number=number, prefix=ctx.club.prefix)
        return item


@initiative.subcommand(
    "ajouter", fr=("ajouter", "nouvelle"), en=("add", "new"),
    params=(Param("name", Text(max_length=10_000), rest=True),),
    options=(Option("theme", THEMES, fr=("theme", "thematique"), required=True),
             Option("commune", Text(max_length=80), fr=("commune", "lieu"),
                    en=("town", "place"), required=True),
             Option("description", Text(max_length=1000), fr=("description", "desc")),
             Option("contact", Text(max_length=200), fr=("contact",)),
             Option("link", Text(max_length=500), fr=("lien", "site"), en=("link", "url"))))
async def ajouter(ctx: Context, name: str, theme: str, commune: str, description: str | None,
                  contact: str | None, link: str | None) -> Reply:
    repos = ctx.db()
    await check_daily(ctx, "initiatives_per_day")
    clean = clean_name(name)
    town = clean_name(commune)
    if link and not _URL.match(link):
        raise BadArgument("initiatives.bad_link", value=link[:80])
    existing = await repos.initiatives.by_name_key(name_key(clean))
    if existing is not None:
        raise UserError("initiatives.duplicate", number=existing.id,
                        name=escape_markdown(existing.name))
    twin = find_lookalike(clean, await repos.initiatives.names())
    if twin is not None:
        raise UserError("initiatives.name_lookalike", name=clean, number=twin[0],
                        other=twin[1])
    item = await repos.initiatives.add(
        name=clean, name_key=name_key(clean), description=description or "", theme=theme,
        commune=town, contact=contact or "", link=link or "", created_by=ctx.sender,
        created_at=ctx.now, search_key=search_key(clean, description or "", town))
    await repos.audit.record(actor=ctx.sender, subject="initiative", subject_id=item.id,
                             action="created", at=ctx.now, name=clean)
    await ctx.took_part()
    return Reply(ctx.t("initiatives.added", number=item.id, name=escape_markdown(clean),
                       theme=THEMES.label(theme, ctx.t), commune=escape_markdown(town)))


@initiative.subcommand("chercher", fr=("chercher", "recherche", "trouver"),
                       en=("search", "find"),
                       params=(Param("words", Text(max_length=200), rest=True),),
                       options=(PAGE,))
async def chercher(ctx: Context, words: str, page: PageRequest) -> Reply:
    folded = fold(words).split()
    repos = ctx.db().initiatives
    total = await repos.count_matching(folded)
    if not total:
        return Reply(ctx.t("initiatives.search_none", words=escape_markdown(words)))
    window = Window(page.number).within(total)
    found = await repos.search(folded, limit=window.size, offset=window.offset)
    title = ctx.t("initiatives.search_title", words=escape_markdown(words), count=total)
    footer = more(page, window.number, window.pages(total), ctx.t, ctx.club.prefix,
                  arguments=" ".join(words.split()))
    return Reply(_listing(title, found, footer, ctx.t))


@initiative.subcommand("liste", fr=("liste",), en=("list",),
                       params=(Param("theme", THEMES, required=False, rest=True),),
                       options=(PAGE,))
async def liste(ctx: Context, theme: str | None, page: PageRequest) -> Reply:
    repos = ctx.db().initiatives
    total = await repos.count(theme)
    if not total:
        return Reply(ctx.t("initiatives.list_empty", prefix=ctx.club.prefix))
    window = Window(page.number).within(total)
    found = await repos.listing(theme, limit=window.size, offset=window.offset)
    label = THEMES.label(theme, ctx.t) if theme else ctx.t("initiatives.all_themes")
    title = ctx.t("initiatives.list_title", theme=label, count=total)
    footer = more(page, window.number, window.pages(total), ctx.t, ctx.club.prefix,
                  arguments=theme or "")
    return Reply(_listing(title, found, footer, ctx.t))


@initiative.subcommand("info", fr=("info", "fiche", "voir"), en=("show",),
                       params=(Param("item", InitiativeRef(), shows=("number",)),),
                       names_people=True)
async def info(ctx: Context, item: Initiative) -> Reply:
    return Reply(card(item, ctx.t))


async def its_author(ctx: Context, arguments: Mapping[str, Any]) -> None:
    """A check: the initiative named (``item``) is for its author and the coordinators."""
    item = arguments["item"]
    if item.created_by != ctx.sender and ctx.role < Role.COORDINATOR:
        raise Forbidden("initiatives.remove_forbidden", number=item.id)


@initiative.subcommand("retirer", fr=("retirer", "supprimer"), en=("remove", "delete"),
                       params=(Param("item", InitiativeRef(), shows=("number",)),),
                       checks=(its_author,))
async def retirer(ctx: Context, item: Initiative) -> Reply:
    await ctx.db().audit.record(actor=ctx.sender, subject="initiative", subject_id=item.id,
                                action="removed", at=ctx.now, name=item.name)
    await ctx.db().initiatives.remove(item)
    return Reply(ctx.t("initiatives.removed", number=item.id, name=escape_markdown(item.name)))


def _listing(title: str, items: Sequence[Initiative], footer: str, t: Translator) -> str:
    lines = [title, ""]
    for item in items:
        lines.append(f"- n°{item.id} **{escape_markdown(item.name)}** — "
                     f"{escape_markdown(item.commune)} · {THEMES.label(item.theme, t)}")
    if footer:
        lines += ["", footer]
    return "\n".join(lines)


def card(item: Initiative, t: Translator) -> str:
    """One initiative in full."""
    lines = [f"**n°{item.id} {escape_markdown(item.name)}** — {escape_markdown(item.commune)}",
             "", t("initiatives.card_theme", theme=THEMES.label(item.theme, t))]
    if item.description:
        lines += ["", escape_markdown(item.description)]
    if item.contact:
        lines.append(t("initiatives.card_contact", contact=escape_markdown(item.contact)))
    if item.link:
        lines.append(t("initiatives.card_link", link=f"<{item.link}>"))
    lines.append(t("initiatives.card_added_by", who=pill(item.created_by)))
    return "\n".join(lines)


EXPORT_COLUMNS = ("number", "name", "theme", "commune", "description", "contact", "link", "added")


def export_csv(items: Sequence[Initiative], t: Translator) -> str:
    """The panorama as CSV (UTF-8, one initiative per row, headers in the club's language)."""
    head = [t(f"initiatives.column_{column}") for column in EXPORT_COLUMNS]
    return csv_text([head, *([item.id, item.name, THEMES.label(item.theme, t), item.commune,
                              item.description, item.contact, item.link,
                              item.created_at.date().isoformat()] for item in items)])


def export_markdown(items: Sequence[Initiative], t: Translator, club: str) -> str:
    """The panorama as Markdown, one section per theme (for the PETR's website)."""
    lines = [f"# {t('initiatives.export_title', club=club)}", ""]
    for theme in THEMES.keys:
        chosen = [item for item in items if item.theme == theme]
        if not chosen:
            continue
        lines += [f"## {THEMES.label(theme, t).capitalize()}", ""]
        for item in chosen:
            line = f"- **{escape_markdown(item.name)}** ({escape_markdown(item.commune)})"
            if item.description:
                line += f" — {escape_markdown(item.description)}"
            if item.link:
                line += f" — <{item.link}>"
            if item.contact:
                line += f" — {t('initiatives.export_contact', contact=escape_markdown(item.contact))}"
            lines.append(line)
        lines.append("")
    if not items:
        lines.append(t("initiatives.export_empty"))
    return "\n".join(lines).rstrip() + "\n"


async def _panorama(repos: Repositories, run: ExportRun) -> dict[str, bytes]:
    """``cct-bot export initiatives``: the panorama, CSV or Markdown."""
    items = await repos.initiatives.listing()
    text = (export_csv(items, run.t) if run.format == "csv"
            else export_markdown(items, run.t, run.club.name))
    return {f"initiatives.{run.format}": text.encode()}


PANORAMA = Export("initiatives", "le panorama des initiatives (CSV ou Markdown) / the panorama",
                  _panorama, formats=("md", "csv"))
CAPABILITY = Capability("initiatives", commands=(initiative,), exports=(PANORAMA,))
