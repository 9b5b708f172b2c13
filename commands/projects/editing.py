"""Changing a group: ``!projet avancement`` (its members), ``besoin|statut|modifier|referent|
archiver`` (its referents and the coordinators)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.arguments import Integer, Text, UserId
from commands.context import Context
from commands.effects import Reply
from commands.errors import BadArgument, Forbidden, MissingArgument, UserError
from commands.limits import check_daily
from commands.params import Option, Param
from commands.projects.common import (
    DESCRIPTION_MAX,
    TEXT_MAX,
    audit,
    editing,
    non_empty,
    projet,
    require_editor,
)
from commands.projects.names import (
    Found,
    GroupRef,
    GroupThen,
    clean_name,
    group_label,
    name_key,
    refuse_group_lookalike,
    slugify,
)
from commands.roles import Role
from commands.text import escape_markdown, pill
from commands.vocabulary import NEED_KINDS, STATUSES, TERRITORIES, THEMES, normalise

if TYPE_CHECKING:
    from storage.models import ProjectGroup

EDITABLE = {
    "name": ("nom", "name", "titre", "title"),
    "description": ("description", "desc"),
    "theme": ("theme", "thematique"),
    "territory": ("territoire", "territory"),
    "slug": ("slug", "identifiant", "id"),
    "funding": ("financement", "financements", "funding"),
    "status": ("statut", "status", "etat"),
}
REMOVE_WORDS = ("retirer", "enlever", "remove", "supprimer")


@projet.subcommand("avancement", fr=("avancement", "avancee", "nouvelles"),
                   en=("progress", "update"),
                   params=(Param("group", GroupThen(Text(TEXT_MAX)), rest=True,
                                 shows=("group", "text")),))
async def avancement(ctx: Context, group: Found) -> Reply:
    repos = ctx.db()
    entry = non_empty(group.rest, "text", TEXT_MAX)
    member = await repos.groups.membership(group.group.id, ctx.sender)
    if member is None and ctx.role < Role.COORDINATOR:
        raise Forbidden("projects.progress_forbidden", group=group_label(group.group),
                        prefix=ctx.club.prefix, slug=group.group.slug)
    await repos.groups.add_progress(group.group.id, ctx.sender, entry, ctx.now)
    await audit(ctx, group.group, "progress", text=entry[:200])
    await ctx.took_part()
    return Reply(ctx.t("projects.progress_added", group=group_label(group.group)))


@editing.subcommand("besoin", fr=("besoin", "besoins"), en=("need", "needs"),
                    params=(Param("group", GroupThen(Text(TEXT_MAX), optional=True), rest=True,
                                  shows=("group", "text?…")),),
                    options=(Option("remove", Integer(), fr=("retirer", "fait", "satisfait"),
                                    en=("remove", "done")),))
async def besoin(ctx: Context, group: Found, remove: int | None) -> Reply:
    repos = ctx.db()
    target, label = group.group, group_label(group.group)
    if remove is not None:
        need = await repos.groups.need(target.id, remove)
        if need is None or need.met_at is not None:
            raise UserError("projects.no_such_need", number=remove, group=label)
        need.met_at = ctx.now
        await audit(ctx, target, "need_met", text=need.text[:200])
        return Reply(ctx.t("projects.need_met", number=remove, group=label))
    kind, need_text = _need_kind(non_empty(group.rest, "text", TEXT_MAX))
    await check_daily(ctx, "needs_per_day")
    need = await repos.groups.add_need(target.id, kind, need_text, ctx.sender, ctx.now)
    await audit(ctx, target, "need", text=need_text[:200])
    await ctx.took_part()
    return Reply(ctx.t("projects.need_added", number=need.id, group=label,
                       kind=NEED_KINDS.label(kind, ctx.t), prefix=ctx.club.prefix,
                       slug=target.slug))


@editing.subcommand("statut", fr=("statut", "etat"), en=("status", "state"),
                    params=(Param("group", GroupThen(Text(100), "status"), rest=True,
                                  shows=("group", "status")),))
async def statut(ctx: Context, group: Found) -> Reply:
    return await _change(ctx, group.group, "status", group.rest)


@projet.subcommand("modifier", fr=("modifier", "changer", "editer"), en=("edit", "set"),
                   params=(Param("group", GroupThen(Text(10_000), "field"), rest=True,
                                 shows=("group", "field", "value")),),
                   role=Role.REFERENT)
async def modifier(ctx: Context, group: Found) -> Reply:
    """A field's word is read before the editor's right is checked, as for any argument."""
    field_word, _, raw = group.rest.strip().partition(" ")
    field = _field(field_word)
    await require_editor(ctx, group.group)
    return await _change(ctx, group.group, field, raw)


@editing.subcommand("referent", fr=("referent", "referente", "referents"), en=("lead", "leads"),
                    params=(Param("group", GroupThen(Text(400), "user"), rest=True,
                                  shows=("group", "user", "action?")),))
async def referent(ctx: Context, group: Found) -> Reply:
    words = group.rest.split()
    if not words:
        raise MissingArgument("error.missing_argument", name="user")
    user = UserId().convert(words[0])
    removing = len(words) > 1 and normalise(words[1]) in REMOVE_WORDS
    if len(words) > 1 and not removing and normalise(words[1]) not in ("ajouter", "add"):
        raise BadArgument("projects.bad_referent_action", value=words[1][:40])
    if removing:
        return await _remove_referent(ctx, group.group, user)
    return await _add_referent(ctx, group.group, user)


@projet.subcommand("archiver", fr=("archiver",), en=("archive",),
                   params=(Param("group", GroupRef(), rest=True),), role=Role.REFERENT)
async def archiver(ctx: Context, group: ProjectGroup) -> Reply:
    if group.status == "archive":
        return Reply(ctx.t("projects.already_archived", group=group_label(group)))
    await require_editor(ctx, group)
    return await _change(ctx, group, "status", "archive")


async def _add_referent(ctx: Context, group: ProjectGroup, user: str) -> Reply:
    label = group_label(group)
    member = await ctx.db().groups.membership(group.id, user)
    if member is None:
        raise UserError("projects.referent_not_member", user=user, group=label,
                        prefix=ctx.club.prefix, slug=group.slug)
    if member.referent:
        return Reply(ctx.t("projects.referent_already", user=pill(user), group=label))
    member.referent = True
    await audit(ctx, group, "referent_added", user=user)
    return Reply(ctx.t("projects.referent_added", user=pill(user), group=label),
                 mentions=(user,))


async def _remove_referent(ctx: Context, group: ProjectGroup, user: str) -> Reply:
    label = group_label(group)
    member = await ctx.db().groups.membership(group.id, user)
    if member is None or not member.referent:
        return Reply(ctx.t("projects.referent_not", user=pill(user), group=label))
    referents = [m for m in await ctx.db().groups.members(group.id) if m.referent]
    if len(referents) == 1:
        raise UserError("projects.last_referent", group=label)
    member.referent = False
    await audit(ctx, group, "referent_removed", user=user)
    return Reply(ctx.t("projects.referent_removed", user=pill(user), group=label))


async def _change(ctx: Context, target: ProjectGroup, field: str, raw: str) -> Reply:
    """Sets one field of a group (``modifier``, ``statut``, ``archiver``; its editor's right
    already checked)."""
    repos = ctx.db()
    if field == "name":
        clean = clean_name(raw)
        duplicate = await repos.groups.by_name_key(name_key(clean))
        if duplicate is not None and duplicate.id != target.id:
            raise UserError("projects.duplicate", group=group_label(duplicate),
                            slug=duplicate.slug, prefix=ctx.club.prefix)
        await refuse_group_lookalike(repos, clean, besides=target.id)
    if field == "slug":
        other = await repos.groups.by_slug(slugify(raw))
        if other is not None and other.id != target.id:
            raise UserError("projects.slug_taken", slug=other.slug)
    old, new = _apply(ctx, target, field, raw.strip())
    target.updated_at = ctx.now
    action = "status" if field == "status" else "edited"
    await audit(ctx, target, action, field=ctx.t(f"projects.field_{field}"), old=old, new=new)
    return Reply(ctx.t("projects.edited", group=group_label(target),
                       field=ctx.t(f"projects.field_{field}"), value=escape_markdown(new)))


def _field(word: str) -> str:
    wanted = normalise(word)
    for field, names in EDITABLE.items():
        if wanted in names:
            return field
    if not wanted:
        raise MissingArgument("error.missing_argument", name="field")
    raise BadArgument("projects.bad_field", value=word[:40],
                      fields=", ".join(names[0] for names in EDITABLE.values()))


def _apply(ctx: Context, group: ProjectGroup, field: str, raw: str) -> tuple[str, str]:
    """Sets one field from the typed value; returns the old and new values as shown."""
    t = ctx.t
    if field in ("theme", "territory", "status"):
        vocabulary = {"theme": THEMES, "territory": TERRITORIES, "status": STATUSES}[field]
        if not raw:
            raise MissingArgument("error.missing_argument", name=field)
        key = vocabulary.convert(raw)
        old = vocabulary.label(getattr(group, field), t)
        setattr(group, field, key)
        return old, vocabulary.label(key, t)
    if field == "name":
        clean = clean_name(raw)
        old, group.name, group.name_key = group.name, clean, name_key(clean)
        return old, clean
    if field == "slug":
        slug = slugify(raw) if raw else ""
        if not slug or (slug == "groupe" and normalise(raw) != "groupe"):
            raise BadArgument("projects.bad_slug", value=raw[:40])
        old, group.slug = group.slug, slug
        return old, slug
    value = non_empty(raw, "value", DESCRIPTION_MAX) if raw else ""
    old = getattr(group, field)
    setattr(group, field, value)
    return old[:200], value[:200] or t("projects.none")


def _need_kind(text: str) -> tuple[str, str]:
    """``matériel : un pied d'atelier`` → (materiel, un pied d'atelier); no kind → autre."""
    first, _, rest = text.partition(" ")
    word = first.rstrip(":")
    key = NEED_KINDS.find(word) if word and rest.strip() else None
    if key is None and ":" in first and rest.strip():
        key = "autre"
    if key is None:
        return "autre", text
    return key, rest.strip().lstrip(":").strip()
