"""``!remontee``: the club carries citizens' expectations to the elected council and brings back
its answers. Anyone raises one; the coordinators (the élue référente is one of them) mark them
sent to the council and post its answers where they were raised."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from commands.arguments import Integer, Text
from commands.context import Club, Context, Place
from commands.dates import format_day
from commands.effects import Post, Reply, txn_id
from commands.errors import BadArgument, NotFound, UserError
from commands.exports import Export, ExportRun
from commands.i18n import Translator
from commands.limits import check_daily
from commands.meetings.details import clean_text
from commands.paging import Section, paged
from commands.params import PAGE, NumberRef, Param
from commands.registry import PageRequest, command
from commands.roles import Role
from commands.text import escape_markdown, one_line, pill, shorten

if TYPE_CHECKING:
    from storage.models import Remontee
    from storage.repositories import Repositories

NEW, SENT, ANSWERED = "nouvelle", "transmise", "repondue"
STATUSES = (NEW, SENT, ANSWERED)
TEXT_MAX = 2000
ANSWER_MAX = 4000
_NUMBERS = re.compile(r"[\s,;]+")
NUMBER = Integer()


class RemonteeRef(NumberRef):
    """A remontée by its number (« Aucune remontée n°… »)."""

    async def find(self, ctx: Context, number: int) -> Remontee:
        row = await ctx.db().remontees.get(number)
        if row is None:
            raise NotFound("remontee.not_found", number=f"n°{number}")
        return row


class RemonteesRef:
    """Several remontées by number (``3 4 5``, ``3,4,5``, ``n°3 #4``): each once, in the order
    given; « Aucune remontée n°… » names those that do not exist."""

    kind = "numbers"
    text = Text(1000)

    def read(self, raw: str) -> None:
        _numbers(self.text.convert(raw))

    async def convert(self, ctx: Context, raw: str) -> list[Remontee]:
        wanted = _numbers(self.text.convert(raw))
        found = await ctx.db().remontees.many(wanted)
        missing = [n for n in wanted if n not in found]
        if missing:
            raise NotFound("remontee.not_found", number=", ".join(f"n°{n}" for n in missing))
        return [found[number] for number in wanted]


@command("remontee", fr=("remontee", "remontees"), en=("feedback", "council"),
         section="agenda", params=(Param("text", Text(10_000), rest=True),))
async def remontee(ctx: Context, text: str) -> Reply:
    await check_daily(ctx, "remontees_per_day")
    value = clean_text(text, "text", TEXT_MAX)
    row = await ctx.db().remontees.add(author=ctx.sender, room_id=ctx.room_id, text=value,
                                       at=ctx.now, confirmation_txn=txn_id("reply", ctx.event_id))
    await _audit(ctx, row, "raised", text=value[:200])
    await ctx.took_part()
    return Reply(ctx.t("remontee.raised", number=row.id, prefix=ctx.club.prefix))


# ``!remontee transmettre|reponse``: the coordinators (the élue référente is one of them)
coordination = remontee.family(role=Role.COORDINATOR)


@remontee.subcommand("liste", fr=("liste", "voir"), en=("list",), options=(PAGE,))
async def liste(ctx: Context, page: PageRequest) -> Reply:
    """Authors are named to the coordinators only, and only in a direct message."""
    rows = await ctx.db().remontees.listing()
    supports = await ctx.db().remontees.support_counts()
    if not rows:
        return Reply(ctx.t("remontee.list_empty", prefix=ctx.club.prefix))
    authors = ctx.role >= Role.COORDINATOR and ctx.place is Place.DIRECT
    tail = (ctx.t("remontee.authors_in_private")
            if ctx.role >= Role.COORDINATOR and not authors else "")
    return Reply(paged(page, listing(rows, ctx.club, ctx.t, authors=authors, supports=supports),
                       ctx.t, ctx.club.prefix, tail=tail))


@coordination.subcommand("transmettre", fr=("transmettre", "transmises", "envoyer"),
                         en=("sent", "send", "forward"),
                         params=(Param("numbers", RemonteesRef(), rest=True),))
async def transmettre(ctx: Context, numbers: list[Remontee]) -> Reply:
    for row in numbers:
        if row.status == ANSWERED:
            raise UserError("remontee.already_answered", number=row.id)
        if row.status == SENT and row.sent_at is not None:
            raise UserError("remontee.already_sent", number=row.id,
                            date=format_day(row.sent_at, ctx.t.language, ctx.club.tz))
    for row in numbers:
        row.status, row.sent_at, row.sent_by = SENT, ctx.now, ctx.sender
        await _audit(ctx, row, "sent")
    return Reply(ctx.t("remontee.sent", count=len(numbers),
                       numbers=", ".join(f"n°{row.id}" for row in numbers),
                       date=format_day(ctx.now, ctx.t.language, ctx.club.tz)))


@coordination.subcommand("reponse", fr=("reponse", "repondre"), en=("answer", "reply"),
                         params=(Param("row", RemonteeRef(), shows=("number",)),
                                 Param("answer", Text(10_000), rest=True)))
async def reponse(ctx: Context, row: Remontee, answer: str) -> Reply:
    if row.status == ANSWERED:
        raise UserError("remontee.already_answered", number=row.id)
    value = clean_text(answer, "answer", ANSWER_MAX)
    row.status, row.answer, row.answered_at, row.answered_by = (
        ANSWERED, value, ctx.now, ctx.sender)
    await _audit(ctx, row, "answered", answer=value[:200])
    told = ctx.t("remontee.answer_told", author=pill(row.author), number=row.id,
                 text=escape_markdown(shorten(row.text, 300)), answer=escape_markdown(value))
    if row.room_id == ctx.room_id:
        return Reply(told, mentions=(row.author,))
    return Reply(ctx.t("remontee.answered", number=row.id),
                 effects=(Post(row.room_id, Reply(told, mentions=(row.author,))),))


def _numbers(text: str) -> list[int]:
    """``3 4 5``, ``3,4,5``, ``n°3 #4``: each once, in the order given."""
    values = [NUMBER.convert(word) for word in _NUMBERS.split(text) if word]
    if not values:
        raise BadArgument("error.missing_argument", name="numbers")
    return list(dict.fromkeys(values))


async def _audit(ctx: Context, row: Remontee, action: str, **details: object) -> None:
    await ctx.db().audit.record(actor=ctx.sender, subject="remontee", subject_id=row.id,
                                action=action, at=ctx.now, **details)


def _line(row: Remontee, club: Club, t: Translator, author: bool, supports: int) -> str:
    text = f"- n°{row.id} {escape_markdown(shorten(one_line(row.text), 200))}"
    if author:
        text += f" — {pill(row.author)}"
    if supports:
        text += " — " + t("remontee.supports", count=supports)
    if row.status == SENT and row.sent_at is not None:
        text += " — " + t("remontee.sent_on", date=format_day(row.sent_at, t.language, club.tz))
    if row.status == ANSWERED:
        text += " — " + t("remontee.answer_shown",
                          answer=escape_markdown(shorten(one_line(row.answer), 200)))
    return text


def listing(rows: Sequence[Remontee], club: Club, t: Translator, *, authors: bool,
            supports: Mapping[int, int]) -> list[Section]:
    """``!remontee liste``: by status, oldest first, each with its number of supporters
    (``supports``); with their ``authors`` or not."""
    sections = []
    for status in STATUSES:
        chosen = [row for row in rows if row.status == status]
        if chosen:
            sections.append(Section([_line(row, club, t, authors, supports.get(row.id, 0))
                                     for row in chosen],
                                    heading=t(f"remontee.heading_{status}", count=len(chosen))))
    return sections


def export_markdown(rows: Sequence[Remontee], t: Translator, club_name: str, now: datetime,
                    tz: ZoneInfo, supports: Mapping[int, int] | None = None) -> str:
    """``cct-bot export remontees --format md``: a digest for the council meeting, by status,
    each remontée with its number of supporters (``supports``: the members who co-sign it)."""
    supports = supports or {}

    def day(at: datetime) -> str:
        return format_day(at, t.language, tz)

    lines = [t("remontee.export_title", club=club_name), "",
             t("remontee.export_date", date=day(now)), ""]
    if not rows:
        lines.append(t("remontee.export_empty"))
    for status in STATUSES:
        chosen = [row for row in rows if row.status == status]
        if not chosen:
            continue
        lines += [f"## {t(f'remontee.export_heading_{status}', count=len(chosen))}", ""]
        for row in chosen:
            lines.append(t("remontee.export_line", number=row.id, text=_plain(row.text),
                           date=day(row.created_at)))
            if supports.get(row.id):
                lines.append("  " + t("remontee.export_supports", count=supports[row.id]))
            if row.sent_at is not None:
                lines.append("  " + t("remontee.export_sent", date=day(row.sent_at)))
            if row.status == ANSWERED and row.answered_at is not None:
                lines.append("  " + t("remontee.export_answer", date=day(row.answered_at),
                                      answer=_plain(row.answer)))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _plain(text: str) -> str:
    """One line of escaped Markdown."""
    return escape_markdown(one_line(text))


async def _council(repos: Repositories, run: ExportRun) -> dict[str, bytes]:
    rows = await repos.remontees.listing(limit=100_000)
    text = export_markdown(rows, run.t, run.club.name, run.now, run.club.tz,
                           await repos.remontees.support_counts())
    return {"remontees.md": text.encode()}


COUNCIL = Export("remontees", "les remontées aux élus, pour le conseil (Markdown) / council digest",
                 _council)
