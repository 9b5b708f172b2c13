"""The cadre de confiance: ``!cadre`` shows it; members adopt it (``!cadre adherer``, or a ✅ on
a message of the bot showing it: ``!cadre``, a welcome, the call to adopt a new version); the
coordinators see who has (``!cadre adhesions``). An adoption records the charter's version
(``club.charter_version``); when it changes, ``charter_version_adopted`` asks those who adopted
an older one to adopt it, in one grouped message in the club's main room."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from commands.context import Club, Context
from commands.dates import format_day
from commands.digest import in_groups_of
from commands.effects import Effect, Post, Reply, effect_txn, txn_id
from commands.errors import UserError
from commands.events import RoomEvents, took_part
from commands.i18n import Translator
from commands.jobs import JobRun
from commands.paging import Section, paged
from commands.params import PAGE
from commands.registry import PageRequest, command
from commands.roles import Role
from commands.text import escape_markdown, pill

if TYPE_CHECKING:
    from storage.repositories import Repositories

ADOPT_KEYS = frozenset({"✅", "✔", "☑"})  # a ✅ (or ✔️, ☑️) on a message showing the charter
VERSION_STATE = "charter_version"  # bot_state: the version members were last asked to adopt


def is_adoption(key: str) -> bool:
    """✅ (with or without the emoji variation selector), ✔️, ☑️."""
    return key.replace("\ufe0f", "").strip() in ADOPT_KEYS


@command("cadre", fr=("cadre", "charte"), en=("charter",), section="meta", role=Role.VISITOR)
async def cadre(ctx: Context) -> Reply:
    """The charter, with how to adopt it (a member's ✅ on this message adopts its version:
    only a member's message is kept as one to adopt, a visitor's repeated ``!cadre`` keeps
    nothing)."""
    if not ctx.club.charter:
        return Reply(ctx.t("charter.none"))
    if ctx.role >= Role.PARTICIPANT:
        await ctx.db().charter.posted(txn_id("reply", ctx.event_id), ctx.club.charter_version,
                                      ctx.room_id, ctx.now)
    return Reply(ctx.t("charter.title", club=ctx.club.name) + "\n\n" + ctx.club.charter + "\n\n"
                 + ctx.t("adoption.how", prefix=ctx.club.prefix,
                         version=escape_markdown(ctx.club.charter_version)))


@cadre.subcommand("adherer", fr=("adherer", "adhérer", "adhesion", "signer"),
                  en=("adopt", "sign"), role=Role.PARTICIPANT)
async def adherer(ctx: Context) -> Reply:
    if not ctx.club.charter:
        raise UserError("charter.none")
    version = ctx.club.charter_version
    before = await ctx.db().charter.adoption(ctx.sender)
    if before is not None and before.version == version:
        raise UserError("adoption.already", version=escape_markdown(version),
                        date=format_day(before.at, ctx.t.language, ctx.club.tz))
    await ctx.db().charter.adopt(ctx.sender, version, ctx.now)
    await ctx.took_part()
    return Reply(ctx.t("adoption.adopted", version=escape_markdown(version)))


@cadre.subcommand("adhesions", fr=("adhesions", "adhésions", "adherents", "signataires"),
                  en=("adoptions", "signatories"), role=Role.COORDINATOR, options=(PAGE,),
                  names_people=True)
async def adhesions(ctx: Context, page: PageRequest) -> Reply:
    """Who adopted the current version (by date), then who adopted an older one only."""
    version = ctx.club.charter_version
    rows = await ctx.db().charter.adoptions()
    current = [row for row in rows if row.version == version]
    older = [row for row in rows if row.version != version]
    head = ctx.t("adoption.count", count=len(current), version=escape_markdown(version))
    if not rows:
        return Reply(head)
    sections = []
    if current:
        sections.append(Section([f"- {pill(row.user_id)} — "
                                 + format_day(row.at, ctx.t.language, ctx.club.tz)
                                 for row in current]))
    if older:
        sections.append(Section(
            [f"- {pill(row.user_id)} — " + ctx.t("adoption.version", version=escape_markdown(
                row.version)) for row in older],
            heading=ctx.t("adoption.older_heading", count=len(older))))
    return Reply(paged(page, sections, ctx.t, ctx.club.prefix, head=head))


async def record_adoptions(repos: Repositories, events: RoomEvents, club: Club,
                           t: Translator) -> list[Effect]:
    """A club member's ✅ on a message of the bot showing the charter's current version, in
    that message's room, adopts it; removing that ✅ (redacting it themselves) withdraws the
    adoption. A ✅ anywhere else, or on a message of an older version, does nothing."""
    for reaction in events.reactions:
        if not club.charter or not is_adoption(reaction.key):
            continue
        txn = await repos.outbox.txn_of(reaction.target)
        post = await repos.charter.post(txn) if txn else None
        if (post is None or post.version != club.charter_version
                or post.room_id != reaction.room_id):
            continue
        if await repos.charter.adopt(reaction.sender, post.version, reaction.at,
                                     reaction.event_id):
            await took_part(repos, reaction.sender, reaction.at, club)
    for redaction in events.redactions:
        adoption = await repos.charter.by_reaction(redaction.redacts)
        if adoption is not None and redaction.sender == adoption.user_id:
            await repos.charter.withdraw(adoption.user_id)
    return []


async def charter_version_adopted(repos: Repositories, club: Club, t: Translator,
                                  version: str, now: datetime) -> list[Effect]:
    """The club's charter is now ``version`` (a new ``club.charter_version`` at start; a
    proposal adopting a new text may call it too): those who adopted another version are
    asked, once, to adopt this one — one message in the main room counting them and naming
    those who accept mentions (``MAX_NAMED`` a message; a ✅ on it adopts). Nothing when the
    version was announced already or there is no main room (tried again at the next start)."""
    main = club.rooms.get("main")
    if not club.charter or not main or await repos.state.get(VERSION_STATE) == version:
        return []
    await repos.state.set(VERSION_STATE, version)
    older = [row.user_id for row in await repos.charter.adoptions() if row.version != version]
    if not older:
        return []
    named = sorted(await repos.people.wants_mentions(older))
    text = t("adoption.new_version", version=escape_markdown(version), count=len(older),
             prefix=club.prefix, club=club.name) + "\n\n" + club.charter
    effects: list[Effect] = []
    for index, part in enumerate(in_groups_of(named) or [[]]):
        names = t("adoption.new_version_named", names=", ".join(pill(u) for u in part))
        body = (text + "\n\n" + names if part else text) if index == 0 else names
        key = f"charter-{version}-ask-{index}"
        await repos.charter.posted(effect_txn(key), version, main, now)
        effects.append(Post(main, Reply(body, mentions=tuple(part)), key=key))
    return effects


async def _new_version(job: JobRun) -> list[Effect]:
    """At start: a new ``club.charter_version`` is announced (``charter_version_adopted``)."""
    return await charter_version_adopted(job.repos, job.club, job.t, job.club.charter_version,
                                         job.now)


AT_START = (_new_version,)
