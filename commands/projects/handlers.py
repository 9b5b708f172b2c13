"""``!projet …`` and ``!mesprojets``: one handler per subcommand, declared once."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from commands.arguments import Integer, Text, UserId
from commands.context import Context, Reply, RoomOutcome
from commands.effects import CreateRoom, Effect, Invite, Leave, Outcome, Post, effect_txn
from commands.errors import BadArgument, Forbidden, MissingArgument, UserError
from commands.i18n import Translator
from commands.limits import check_daily
from commands.paging import Section, Window, more, paged
from commands.projects import render
from commands.projects.names import (
    clean_name,
    find_group,
    find_group_then_text,
    group_label,
    name_key,
    refuse_group_lookalike,
    slugify,
    unique_slug,
)
from commands.registry import PAGE, Command, Option, PageRequest, Param, Registry, Role
from commands.text import escape_markdown, pill, room_link
from commands.vocabulary import NEED_KINDS, STATUSES, TERRITORIES, THEMES, normalise

if TYPE_CHECKING:
    from storage.models import ProjectGroup
    from storage.projects import GroupPage

ACTIVE_ORDER = ("en-cours", "en-definition", "idee", "en-pause", "realise")
HISTORY_PAGE = 20  # an entry quotes up to two texts of 200 characters
MODERATOR = 50  # the power level of a room's moderators (Element's « Modérateur »)
ROOM_OPENED = "group_room"  # the outcome of a group's room creation
DESCRIPTION_MAX = 1000
TEXT_MAX = 2000
GROUP = Text(max_length=200)
EDITABLE = {
    "name": ("nom", "name", "titre", "title"),
    "description": ("description", "desc"),
    "theme": ("theme", "thematique"),
    "territory": ("territoire", "territory"),
    "slug": ("slug", "identifiant", "id"),
    "funding": ("financement", "financements", "funding"),
    "status": ("statut", "status", "etat"),
}


def register(registry: Registry) -> None:
    """Declares ``!projet`` and its subcommands, and ``!mesprojets``."""
    projet = registry.group("projet", fr=("projet", "projets"), en=("project", "projects"),
                            section="projects")
    _register_reading(projet)
    _register_membership(projet)
    _register_editing(projet)
    registry.outcome(ROOM_OPENED)(_room_opened)

    @registry.command("mesprojets", fr=("mesprojets", "mes-projets"),
                      en=("myprojects", "my-projects"), section="projects", options=(PAGE,))
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


# --- reading ------------------------------------------------------------------------------------

def _register_reading(projet: Command) -> None:
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
                       params=(Param("group", GROUP, required=False, rest=True),),
                       options=(PAGE,), names_people=True)
    async def info(ctx: Context, group: str | None, page: PageRequest) -> Reply:
        found = await _group_or_room(ctx, group)
        groups = ctx.db().groups
        members = await groups.members(found.id)
        needs = await groups.open_needs(found.id)
        progress = await groups.progress(found.id, limit=3)
        total = await groups.progress_count(found.id)
        sections = [render.need_section(needs, ctx.t),
                    render.progress_section(progress, total, ctx.club.tz, ctx.t)]
        return Reply(paged(page, sections, ctx.t, ctx.club.prefix, arguments=found.slug,
                           head=render.card(found, members, ctx.club.tz, ctx.t, ctx.club.prefix)))

    @projet.subcommand("membres", fr=("membres",), en=("members",),
                       params=(Param("group", GROUP, required=False, rest=True),),
                       options=(PAGE,), names_people=True)
    async def membres(ctx: Context, group: str | None, page: PageRequest) -> Reply:
        found = await _group_or_room(ctx, group)
        members = await ctx.db().groups.members(found.id)
        return Reply(paged(page, [render.member_lines(found, members, ctx.club.tz, ctx.t)],
                           ctx.t, ctx.club.prefix, arguments=found.slug))

    @projet.subcommand("historique", fr=("historique", "journal"), en=("history", "log"),
                       params=(Param("group", GROUP, rest=True),), options=(PAGE,),
                       role=Role.REFERENT, names_people=True)
    async def historique(ctx: Context, group: str, page: PageRequest) -> Reply:
        found = await find_group(ctx.db(), group)
        await _require_editor(ctx, found, "projects.history_forbidden")
        audit = ctx.db().audit
        total = await audit.count("group", found.id)
        window = Window(page.number, HISTORY_PAGE).within(total)
        entries = await audit.entries("group", found.id, limit=window.size, offset=window.offset)
        text = render.audit_lines(found, entries, total, ctx.club.tz, ctx.t)
        footer = more(page, window.number, window.pages(total), ctx.t, ctx.club.prefix,
                      arguments=found.slug)
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


async def _group_or_room(ctx: Context, ref: str | None) -> ProjectGroup:
    """The group named, or the group whose room this is."""
    if ref:
        return await find_group(ctx.db(), ref)
    here = await ctx.db().groups.by_room(ctx.room_id)
    if here is None:
        raise MissingArgument("error.missing_argument", name="group")
    return here


# --- creating, joining, leaving -----------------------------------------------------------------

def _register_membership(projet: Command) -> None:
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
        await check_daily(ctx, ctx.club.limits.groups_per_day, "group", "created",
                          "limit.groups")
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
        await repos.groups.add_member(group.id, ctx.sender, ctx.now, tz=ctx.club.tz,
                                      referent=True)
        await _audit(ctx, group, "created", name=clean)
        text = ctx.t("projects.created", group=group_label(group), slug=slug,
                     theme=THEMES.label(group.theme, ctx.t),
                     territory=TERRITORIES.label(group.territory, ctx.t),
                     status=STATUSES.label(group.status, ctx.t), prefix=ctx.club.prefix)
        if theme is None or territory is None:
            text += "\n\n" + ctx.t("projects.created_defaults", prefix=ctx.club.prefix, slug=slug)
        return Reply(text)

    @projet.subcommand("rejoindre", fr=("rejoindre", "adherer", "entrer"), en=("join",),
                       params=(Param("group", GROUP, rest=True),))
    async def rejoindre(ctx: Context, group: str) -> Reply:
        repos = ctx.db()
        found = await find_group(repos, group)
        label = group_label(found)
        if await repos.groups.membership(found.id, ctx.sender) is not None:
            return Reply(ctx.t("projects.already_member", group=label))
        if found.status == "archive":
            raise UserError("projects.join_archived", group=label)
        await repos.groups.add_member(found.id, ctx.sender, ctx.now, tz=ctx.club.tz)
        await _audit(ctx, found, "joined")
        count = len(await repos.groups.members(found.id))
        text = ctx.t("projects.joined", group=label, count=count)
        effects: tuple[Effect, ...] = ()
        if found.room_id:
            text += " " + ctx.t("projects.joined_room", room=room_link(found.room_id,
                                                                              found.name))
            effects = _invites(ctx.t, found, [ctx.sender], ctx.room_id, notify=True)
        return Reply(text, effects=effects)

    @projet.subcommand("quitter", fr=("quitter", "partir"), en=("leave", "quit"),
                       params=(Param("group", GROUP, rest=True),))
    async def quitter(ctx: Context, group: str) -> Reply:
        repos = ctx.db()
        found = await find_group(repos, group)
        member = await repos.groups.membership(found.id, ctx.sender)
        if member is None:
            return Reply(ctx.t("projects.not_member", group=group_label(found)))
        await repos.groups.remove_member(found.id, ctx.sender)
        await _audit(ctx, found, "left")
        text = ctx.t("projects.left", group=group_label(found))
        remaining = await repos.groups.members(found.id)
        if member.referent and not any(m.referent for m in remaining):
            text += "\n\n" + ctx.t("projects.left_no_referent", prefix=ctx.club.prefix,
                                   slug=found.slug)
        return Reply(text)


# --- editing (referents and coordinators) -------------------------------------------------------

def _register_editing(projet: Command) -> None:
    @projet.subcommand("avancement", fr=("avancement", "avancee", "nouvelles"),
                       en=("progress", "update"),
                       params=(Param("group", GROUP), Param("text", Text(TEXT_MAX), rest=True)))
    async def avancement(ctx: Context, group: str, text: str) -> Reply:
        repos = ctx.db()
        found = await find_group_then_text(repos, group, text)
        entry = _non_empty(found.rest, "text", TEXT_MAX)
        member = await repos.groups.membership(found.group.id, ctx.sender)
        if member is None and ctx.role < Role.COORDINATOR:
            raise Forbidden("projects.progress_forbidden", group=group_label(found.group),
                            prefix=ctx.club.prefix, slug=found.group.slug)
        await repos.groups.add_progress(found.group.id, ctx.sender, entry, ctx.now)
        await _audit(ctx, found.group, "progress", text=entry[:200])
        await ctx.took_part()
        return Reply(ctx.t("projects.progress_added", group=group_label(found.group)))

    @projet.subcommand("besoin", fr=("besoin", "besoins"), en=("need", "needs"),
                       params=(Param("group", GROUP),
                               Param("text", Text(TEXT_MAX), required=False, rest=True)),
                       options=(Option("remove", Integer(), fr=("retirer", "fait", "satisfait"),
                                       en=("remove", "done")),),
                       role=Role.REFERENT)
    async def besoin(ctx: Context, group: str, text: str | None, remove: int | None) -> Reply:
        repos = ctx.db()
        found = await find_group_then_text(repos, group, text or "")
        await _require_editor(ctx, found.group)
        label = group_label(found.group)
        if remove is not None:
            need = await repos.groups.need(found.group.id, remove)
            if need is None or need.met_at is not None:
                raise UserError("projects.no_such_need", number=remove, group=label)
            need.met_at = ctx.now
            await _audit(ctx, found.group, "need_met", text=need.text[:200])
            return Reply(ctx.t("projects.need_met", number=remove, group=label))
        kind, need_text = _need_kind(_non_empty(found.rest, "text", TEXT_MAX))
        need = await repos.groups.add_need(found.group.id, kind, need_text, ctx.sender, ctx.now)
        await _audit(ctx, found.group, "need", text=need_text[:200])
        await ctx.took_part()
        return Reply(ctx.t("projects.need_added", number=need.id, group=label,
                           kind=NEED_KINDS.label(kind, ctx.t), prefix=ctx.club.prefix,
                           slug=found.group.slug))

    @projet.subcommand("statut", fr=("statut", "etat"), en=("status", "state"),
                       params=(Param("group", GROUP), Param("status", Text(100), rest=True)),
                       role=Role.REFERENT)
    async def statut(ctx: Context, group: str, status: str) -> Reply:
        found = await find_group_then_text(ctx.db(), group, status)
        return await _change(ctx, found.group, "status", found.rest)

    @projet.subcommand("modifier", fr=("modifier", "changer", "editer"), en=("edit", "set"),
                       params=(Param("group", GROUP),
                               Param("change", Text(10_000), rest=True, shows=("field", "value"))),
                       role=Role.REFERENT)
    async def modifier(ctx: Context, group: str, change: str) -> Reply:
        found = await find_group_then_text(ctx.db(), group, change)
        field_word, _, raw = found.rest.strip().partition(" ")
        return await _change(ctx, found.group, _field(field_word), raw)

    @projet.subcommand("referent", fr=("referent", "referente", "referents"),
                       en=("lead", "leads"),
                       params=(Param("group", GROUP),
                               Param("change", Text(400), rest=True, shows=("user", "action?"))),
                       role=Role.REFERENT)
    async def referent(ctx: Context, group: str, change: str) -> Reply:
        return await _set_referent(ctx, group, change)

    @projet.subcommand("archiver", fr=("archiver",), en=("archive",),
                       params=(Param("group", GROUP, rest=True),), role=Role.REFERENT)
    async def archiver(ctx: Context, group: str) -> Reply:
        found = await find_group(ctx.db(), group)
        if found.status == "archive":
            return Reply(ctx.t("projects.already_archived", group=group_label(found)))
        return await _change(ctx, found, "status", "archive")

    @projet.subcommand("salon", fr=("salon",), en=("room",),
                       params=(Param("group", GROUP),
                               Param("room", Text(400), required=False, rest=True)),
                       role=Role.REFERENT)
    async def salon(ctx: Context, group: str, room: str | None) -> Reply:
        return await _room(ctx, group, room)


async def _change(ctx: Context, target: ProjectGroup, field: str, raw: str) -> Reply:
    """Sets one field of a group (``modifier``, ``statut``, ``archiver``), for its editors."""
    repos = ctx.db()
    await _require_editor(ctx, target)
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
    await _audit(ctx, target, action, field=ctx.t(f"projects.field_{field}"), old=old, new=new)
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
    limit = DESCRIPTION_MAX
    value = _non_empty(raw, "value", limit) if raw else ""
    old = getattr(group, field)
    setattr(group, field, value)
    return old[:200], value[:200] or t("projects.none")


async def _set_referent(ctx: Context, group: str, change: str) -> Reply:
    repos = ctx.db()
    found = await find_group_then_text(repos, group, change)
    await _require_editor(ctx, found.group)
    words = found.rest.split()
    if not words:
        raise MissingArgument("error.missing_argument", name="user")
    user = UserId().convert(words[0])
    removing = len(words) > 1 and normalise(words[1]) in ("retirer", "enlever", "remove", "supprimer")
    if len(words) > 1 and not removing and normalise(words[1]) not in ("ajouter", "add"):
        raise BadArgument("projects.bad_referent_action", value=words[1][:40])
    label = group_label(found.group)
    member = await repos.groups.membership(found.group.id, user)
    if removing:
        if member is None or not member.referent:
            return Reply(ctx.t("projects.referent_not", user=pill(user), group=label))
        referents = [m for m in await repos.groups.members(found.group.id) if m.referent]
        if len(referents) == 1:
            raise UserError("projects.last_referent", group=label)
        member.referent = False
        await _audit(ctx, found.group, "referent_removed", user=user)
        return Reply(ctx.t("projects.referent_removed", user=pill(user), group=label))
    if member is None:
        raise UserError("projects.referent_not_member", user=user, group=label,
                        prefix=ctx.club.prefix, slug=found.group.slug)
    if member.referent:
        return Reply(ctx.t("projects.referent_already", user=pill(user), group=label))
    member.referent = True
    await _audit(ctx, found.group, "referent_added", user=user)
    return Reply(ctx.t("projects.referent_added", user=pill(user), group=label),
                 mentions=(user,))


async def _room(ctx: Context, group: str, room: str | None) -> Reply:
    """Links an existing room to the group and invites its members, or asks for the group's
    room to be created: « Salon créé » (or why not) follows once it exists (``_room_opened``)."""
    repos = ctx.db()
    found = await find_group_then_text(repos, group, room or "")
    target = found.group
    await _require_editor(ctx, target)
    existing = found.rest.strip()
    label = group_label(target)
    if not existing and target.room_id:
        return Reply(ctx.t("projects.room_exists", group=label, prefix=ctx.club.prefix,
                           room=room_link(target.room_id, target.name)))
    key = await _creation_key(ctx, target)
    if key is None:
        raise UserError("projects.room_under_way", group=label)
    if not existing:
        members = await repos.groups.members(target.id)
        create = CreateRoom(ctx.room_id, name=target.name, topic=target.description,
                            space=ctx.club.space,
                            moderators=tuple(m.user_id for m in members if m.referent),
                            outcome=Outcome(ROOM_OPENED, {"group": target.id,
                                                          "user_id": ctx.sender}), key=key)
        return Reply(ctx.t("projects.room_creating", group=label), effects=(create,))
    room_id = await _linkable_room(ctx, target, existing)
    target.room_id = room_id
    target.updated_at = ctx.now
    await _audit(ctx, target, "room_linked", room=room_id)
    members = await repos.groups.members(target.id)
    invites = _invites(ctx.t, target, [m.user_id for m in members], ctx.room_id)
    return Reply(ctx.t("projects.room_linked", group=label,
                       room=room_link(room_id, target.name), count=len(members)),
                 effects=invites)


async def _creation_key(ctx: Context, group: ProjectGroup) -> str | None:
    """The key of a new creation of ``group``'s room, ``None`` while one is under way (queued,
    its outcome not recorded yet): one key per attempt, so a refused one, or one set aside
    after failing for ``send_retry_hours``, can be tried again."""
    outbox = ctx.db().outbox
    for attempt in itertools.count(1):
        key = f"group-{group.id}-room-{attempt}"
        if not await outbox.has(effect_txn(key)):
            return key
        if await outbox.reference(effect_txn(key)) is None:  # still queued, or retried
            return None
    raise AssertionError("unreachable")  # pragma: no cover


async def _room_opened(done: RoomOutcome) -> list[Effect]:
    """The group's new room exists (recorded on the group, its members invited, « Salon créé »
    told where it was asked), or the homeserver refused it (told there too)."""
    t, told_in = done.t, done.told_in
    group = await done.repos.groups.get(int(done.data["group"]))
    if group is None:
        return [Leave(done.room_id)] if done.room_id else []
    label = group_label(group)
    if done.room_id is None:
        return [Post(told_in, Reply(t("projects.room_failed", group=label,
                                      prefix=done.club.prefix)))]
    if group.room_id:  # linked to another room meanwhile: this one is not needed
        return [Leave(done.room_id)]
    group.room_id = done.room_id
    group.updated_at = done.now
    await done.repos.audit.record(actor=str(done.data["user_id"]), subject="group",
                                  subject_id=group.id, action="room_created", at=done.now,
                                  room=done.room_id)
    members = [m.user_id for m in await done.repos.groups.members(group.id)]
    text = t("projects.room_created", group=label, count=len(members),
             room=room_link(done.room_id, group.name))
    if done.space_refused:
        text += "\n\n" + t("projects.space_refused")
    return [Post(told_in, Reply(text)), *_invites(t, group, members, told_in)]


def _invites(t: Translator, group: ProjectGroup, people: Sequence[str], told_in: str,
             notify: bool = False) -> tuple[Invite, ...]:
    """People invited into the group's room; an invitation the homeserver forbids is told in
    ``told_in`` (notifying the person when ``notify``)."""
    room = str(group.room_id)
    link = room_link(room, group.name)
    return tuple(Invite(room, person, refused=Post(told_in, Reply(
        t("projects.invite_refused", user=pill(person), group=group_label(group), room=link),
        mentions=(person,) if notify else ()))) for person in people)


async def _linkable_room(ctx: Context, group: ProjectGroup, room: str) -> str:
    """The id of an existing room that may become ``group``'s: the bot is there already (it
    never joins a room because a command named it), the asker is there as a moderator, and it
    is neither a club room nor another group's."""
    facts = ctx.homeserver().room_facts(room, ctx.sender)
    if facts is None:
        raise UserError("projects.room_bot_absent", room=room[:80])
    if facts.room_id in ctx.club.rooms.values():
        raise UserError("projects.room_is_club_room")
    other = await ctx.db().groups.by_room(facts.room_id)
    if other is not None and other.id != group.id:
        raise UserError("projects.room_taken", group=group_label(other))
    if facts.joined is None:
        raise UserError("projects.room_members_unknown")
    if not facts.joined or facts.power < MODERATOR:
        raise Forbidden("projects.room_not_moderator")
    return facts.room_id


# --- shared helpers -----------------------------------------------------------------------------

async def _require_editor(ctx: Context, group: ProjectGroup,
                          key: str = "projects.edit_forbidden") -> None:
    """Referents of the group and coordinators only."""
    if ctx.role >= Role.COORDINATOR:
        return
    member = await ctx.db().groups.membership(group.id, ctx.sender)
    if member is None or not member.referent:
        raise Forbidden(key, group=group_label(group))


async def _audit(ctx: Context, group: ProjectGroup, action: str, **details: str) -> None:
    await ctx.db().audit.record(actor=ctx.sender, subject="group", subject_id=group.id,
                                action=action, at=ctx.now, **details)


def _non_empty(raw: str, name: str, limit: int) -> str:
    value = raw.strip()
    if not value:
        raise MissingArgument("error.missing_argument", name=name)
    if len(value) > limit:
        raise BadArgument("error.text_too_long", maximum=limit)
    return value


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

