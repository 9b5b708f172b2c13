"""The cadre de confiance: ``!cadre`` shows it; members adopt it (``!cadre adherer``, or a ✅ on
a message of the bot showing it: ``!cadre``, a welcome, the call to adopt a new version); the
coordinators see who has (``!cadre adhesions``). The club's charter is the version adopted last
in the database (``charter_versions``): the config's text (``club.charter``, its label
``club.charter_version``) is recorded the first start it is seen, and a proposal adopts a new
one (``commands.polls.charter``). An adoption records the version; when the club's changes,
``charter_version_adopted`` asks those who adopted an older one to adopt it, in one grouped
message in the club's main room."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
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
from commands.text import defuse_mentions, escape_markdown, fold, pill

if TYPE_CHECKING:
    from storage.models import CharterVersion
    from storage.repositories import Repositories

log = logging.getLogger(__name__)

ADOPT_KEYS = frozenset({"✅", "✔", "☑"})  # a ✅ (or ✔️, ☑️) on a message showing the charter
VERSION_STATE = "charter_version"  # bot_state: the version members were last asked to adopt
VERSION_RE = re.compile(r"[\w.\-]{1,64}")  # a short label: ``2``, ``2026-03``, ``v2.1``
# What a proposed text may not do once shown: links, images, raw HTML, entities, code,
# strikethrough, tables (its paragraphs, emphasis, lists, headings and quotes stay).
_INERT = re.compile(r"([\\`<\[\]&~|])")


def valid_version(label: str) -> bool:
    """Whether ``label`` is a version label (the config's ``club.charter_version`` too)."""
    return VERSION_RE.fullmatch(label) is not None


def same_version(label: str, other: str) -> bool:
    """Labels that would be confused (case, accents, full-width digits) are one version."""
    return fold(label) == fold(other)


def proposed_markdown(text: str) -> str:
    """A text a coordinator proposed, as shown: its Markdown structure kept (paragraphs,
    **emphasis**, lists, headings, quotes), everything that would act or break out of its
    place made inert (links, images, HTML, code fences, tables), ``@room`` defused."""
    return defuse_mentions(_INERT.sub(r"\\\1", text))


@dataclass(frozen=True)
class Charter:
    """The club's charter: its version label, its text as written, and the proposal that
    adopted it (``None``: the config's, Markdown written by the administrator)."""

    version: str
    text: str
    poll_id: int | None = None

    @property
    def shown(self) -> str:
        """The Markdown that shows it."""
        return self.text if self.poll_id is None else proposed_markdown(self.text)


def _charter(row: CharterVersion) -> Charter:
    return Charter(row.version, row.text, row.poll_id)


def configured(club: Club) -> Charter | None:
    """The config's charter (the club's initial one; ``None``: the config has none)."""
    return Charter(club.charter_version, club.charter) if club.charter else None


async def current(repos: Repositories, club: Club) -> Charter | None:
    """The club's charter: the version adopted last; before any is recorded, the config's
    (``None``: no charter at all)."""
    row = await repos.charter.current()
    return _charter(row) if row is not None else configured(club)


async def known_version(repos: Repositories, club: Club, label: str) -> str | None:
    """The existing version ``label`` would be confused with: recorded, the config's, or
    carried by a proposal whose outcome is not written yet."""
    labels = [row.version for row in await repos.charter.versions()]
    labels += [row.version for row in await repos.charter.undecided_proposals()]
    if club.charter:
        labels.append(club.charter_version)
    return next((known for known in labels if same_version(known, label)), None)


async def record_config(repos: Repositories, club: Club, now: datetime) -> None:
    """At start: the config's version becomes the club's charter the first time it is seen
    (adopted now: the newest); its text is corrected while it is the config's version; a
    label already known otherwise (a version a proposal adopted) changes nothing."""
    if not club.charter:
        return
    known = next((row for row in await repos.charter.versions()
                  if same_version(row.version, club.charter_version)), None)
    if known is None:
        await repos.charter.record_version(club.charter_version, club.charter, now)
    elif known.poll_id is None:
        await repos.charter.correct(known, club.charter)
    elif known.text != club.charter:
        log.warning("club.charter_version %r names version %r, adopted by proposal %s: the "
                    "config's text is not used", club.charter_version, known.version,
                    known.poll_id)
    row = await repos.charter.current()
    if row is not None and row.version != club.charter_version:
        log.info("the charter is version %r (adopted %s); club.charter_version %r is an "
                 "older one", row.version, row.adopted_at.isoformat(), club.charter_version)


def is_adoption(key: str) -> bool:
    """✅ (with or without the emoji variation selector), ✔️, ☑️."""
    return key.replace("\ufe0f", "").strip() in ADOPT_KEYS


@command("cadre", fr=("cadre", "charte"), en=("charter",), section="meta", role=Role.VISITOR)
async def cadre(ctx: Context) -> Reply:
    """The charter, with how to adopt it (a member's ✅ on this message adopts its version:
    only a member's message is kept as one to adopt, a visitor's repeated ``!cadre`` keeps
    nothing)."""
    shown = await current(ctx.db(), ctx.club)
    if shown is None:
        return Reply(ctx.t("charter.none"))
    if ctx.role >= Role.PARTICIPANT:
        await ctx.db().charter.posted(txn_id("reply", ctx.event_id), shown.version,
                                      ctx.room_id, ctx.now, asked_by=ctx.sender)
    return Reply(ctx.t("charter.title", club=ctx.club.name) + "\n\n" + shown.shown + "\n\n"
                 + ctx.t("adoption.how", prefix=ctx.club.prefix,
                         version=escape_markdown(shown.version)))


@cadre.subcommand("adherer", fr=("adherer", "adhérer", "adhesion", "signer"),
                  en=("adopt", "sign"), role=Role.PARTICIPANT)
async def adherer(ctx: Context) -> Reply:
    shown = await current(ctx.db(), ctx.club)
    if shown is None:
        raise UserError("charter.none")
    version = shown.version
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
    shown = await current(ctx.db(), ctx.club)
    version = shown.version if shown else ctx.club.charter_version
    rows = await ctx.db().charter.adoptions()
    adopted = [row for row in rows if row.version == version]
    older = [row for row in rows if row.version != version]
    head = ctx.t("adoption.count", count=len(adopted), version=escape_markdown(version))
    if not rows:
        return Reply(head)
    sections = []
    if adopted:
        sections.append(Section([f"- {pill(row.user_id)} — "
                                 + format_day(row.at, ctx.t.language, ctx.club.tz)
                                 for row in adopted]))
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
    version: str | None = None
    for reaction in events.reactions:
        if not is_adoption(reaction.key):
            continue
        txn = await repos.outbox.txn_of(reaction.target, reaction.room_id)
        post = await repos.charter.post(txn) if txn else None
        if post is None:
            continue
        if version is None:
            shown = await current(repos, club)
            version = shown.version if shown else ""
        if post.version != version:
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
    """The club's charter is now ``version`` (a new ``club.charter_version`` at start, or the
    version a proposal adopted): those who adopted another version are asked, once, to adopt
    this one — one message in the main room with its text, counting them and naming those who
    accept mentions (``MAX_NAMED`` a message; a ✅ on it adopts). Nothing when ``version`` is
    not the club's charter, was announced already, or there is no main room (tried again at
    the next start)."""
    main = club.rooms.get("main")
    shown = await current(repos, club)
    if (shown is None or shown.version != version or not main
            or await repos.state.get(VERSION_STATE) == version):
        return []
    await repos.state.set(VERSION_STATE, version)
    older = [row.user_id for row in await repos.charter.adoptions() if row.version != version]
    if not older:
        return []
    named = sorted(await repos.people.wants_mentions(older))
    text = t("adoption.new_version", version=escape_markdown(version), count=len(older),
             prefix=club.prefix, club=club.name) + "\n\n" + shown.shown
    effects: list[Effect] = []
    for index, part in enumerate(in_groups_of(named) or [[]]):
        names = t("adoption.new_version_named", names=", ".join(pill(u) for u in part))
        body = (text + "\n\n" + names if part else text) if index == 0 else names
        key = f"charter-{version}-ask-{index}"
        await repos.charter.posted(effect_txn(key), version, main, now)
        effects.append(Post(main, Reply(body, mentions=tuple(part)), key=key))
    return effects


async def _new_version(job: JobRun) -> list[Effect]:
    """At start: the config's version recorded (``record_config``), and the club's charter
    announced if it is new (``charter_version_adopted``)."""
    await record_config(job.repos, job.club, job.now)
    shown = await current(job.repos, job.club)
    if shown is None:
        return []
    return await charter_version_adopted(job.repos, job.club, job.t, shown.version, job.now)


AT_START = (_new_version,)
