"""Everyone who came, not only Matrix accounts: ``!rencontre effectif`` (how many people without
Matrix came, by category, for one territory), ``!rencontre invite`` (guests by name only) and
``!rencontre oublier-invite`` (a guest's name erased), for the event's organiser and the
coordinators, once the event has started.

A headcount line is the whole headcount of its territory: typed again, it replaces the earlier
one (``aucun`` clears it). Named club members (``!rencontre presences``, a sign-in sheet's
Matrix ids), guests and headcounts are three separate sets of people: the total is their sum.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from commands.arguments import Text
from commands.categories import NOT_SAID
from commands.context import Context
from commands.effects import Reply
from commands.errors import BadArgument, UserError
from commands.meetings.common import MEETING, recording
from commands.meetings.details import clean_text
from commands.meetings.service import audit
from commands.meetings.turnout import (
    TERRITORIES,
    category_label,
    counts_text,
    summary,
    territory_label,
)
from commands.meetings.vocabulary import HELD
from commands.params import Option, Param

if TYPE_CHECKING:
    from storage.models import Meeting
    from storage.repositories import Repositories

COUNT_MAX = 5000  # people of one category and territory at one event
GUEST_NAME_MAX = 120
GUESTS_MAX = 500  # guests named in one command (a sheet: its lines, sheet.LINES_MAX)
_WORDS = re.compile(r"[\s,;:=]+")
_FILLERS = {"et", "and", "dont", "plus", "+"}
_NONE = {"aucun", "aucune", "personne", "zero", "none", "0"}
_NUMBER = re.compile(r"^[-−]?\d+$")


@dataclass(frozen=True)
class ClubCategory:
    """A category of people among the club's (``[events.categories]``), by key or label."""

    kind: str = "category"

    async def convert(self, ctx: Context, raw: str) -> str:
        return ctx.club.categories.convert(raw)


TERRITORY_OPTION = Option("territory", TERRITORIES, fr=("territoire", "secteur"),
                          en=("territory",))
CATEGORY_OPTION = Option("category", ClubCategory(), fr=("categorie", "qualite"),
                         en=("category",))


async def held(repos: Repositories, meeting: Meeting, actor: str, now: datetime, action: str,
               **details: object) -> None:
    """The event is « tenue » once anyone is recorded as having come; the change is audited."""
    meeting.status = HELD
    meeting.updated_at = now
    await audit(repos, meeting, actor, action, now, **details)


def default_territory(meeting: Meeting) -> str:
    """Where people come from when nothing says: the event's territory, if it is one."""
    return meeting.territory if meeting.territory in ("nord", "sud") else NOT_SAID


# --- !rencontre effectif ----------------------------------------------------------------------

def read_counts(text: str, ctx: Context) -> dict[str, int]:
    """``8 élus 14 habitants``, ``elus 8, habitants 14``, ``aucun``: category → people (empty:
    none). Words go in pairs, a number and a category in either order."""
    words = [w for w in _WORDS.split(text.strip()) if w and w.casefold() not in _FILLERS]
    if len(words) == 1 and words[0].casefold() in _NONE:
        return {}
    items: list[int | str] = [_count(w) if _NUMBER.match(w) else ctx.club.categories.convert(w)
                              for w in words]
    counts: dict[str, int] = {}
    for index in range(0, len(items), 2):
        first, second = items[index], items[index + 1] if index + 1 < len(items) else None
        if second is None or isinstance(first, int) == isinstance(second, int):
            key = "attendance.number_alone" if isinstance(first, int) else "attendance.category_alone"
            raise BadArgument(key, value=first)
        number, category = (first, second) if isinstance(first, int) else (second, first)
        if category in counts:
            raise BadArgument("attendance.category_twice", value=category)
        counts[str(category)] = int(number)
    return counts


def _count(word: str) -> int:
    if word[0] in "-−":
        raise BadArgument("attendance.negative", value=word)
    if len(word) > 6 or int(word) > COUNT_MAX:
        raise BadArgument("attendance.too_many", value=word[:12], maximum=COUNT_MAX)
    return int(word)


@recording.subcommand("effectif", fr=("effectif", "effectifs", "comptage", "compter"),
                      en=("headcount", "count"),
                      params=(MEETING, Param("counts", Text(2000), rest=True)),
                      options=(TERRITORY_OPTION,))
async def effectif(ctx: Context, meeting: Meeting, counts: str, territory: str | None) -> Reply:
    """``!rencontre effectif <n> 8 élus 14 habitants [--territoire nord]``: the headcount of the
    people without Matrix of that territory (replacing the one noted before)."""
    values = read_counts(counts, ctx)
    where = territory or default_territory(meeting)
    repos = ctx.db()
    await repos.attendance.set_headcount(meeting.id, where, values, ctx.now)
    await held(repos, meeting, ctx.sender, ctx.now, "headcount", territory=where, counts=values)
    said = (ctx.t("attendance.headcount_saved", number=meeting.id,
                  territory=territory_label(where, ctx.t),
                  counts=counts_text(values, ctx.club, ctx.t), total=sum(values.values()))
            if values else ctx.t("attendance.headcount_cleared", number=meeting.id,
                                 territory=territory_label(where, ctx.t)))
    turnout = await repos.attendance.turnout(meeting.id)
    return Reply(said + "\n\n" + summary(turnout, ctx.club, ctx.t))


# --- !rencontre invite, oublier-invite --------------------------------------------------------

@recording.subcommand("invite", fr=("invite", "invites", "invitee", "invitees"),
                      en=("guest", "guests"),
                      params=(MEETING, Param("names", Text(10_000), rest=True)),
                      options=(CATEGORY_OPTION, TERRITORY_OPTION), names_people=True)
async def invite(ctx: Context, meeting: Meeting, names: str, category: str | None,
                 territory: str | None) -> Reply:
    """``!rencontre invite <n> Marie Durand; Jean Martin [--categorie élus] [--territoire
    nord]``: guests without Matrix, by name only."""
    kind = category or NOT_SAID
    where = territory or default_territory(meeting)
    people = [clean_text(name, "names", GUEST_NAME_MAX) for name in re.split(r"[;\n]+", names)
              if name.strip()]
    if len(people) > GUESTS_MAX:
        raise BadArgument("attendance.too_many_guests", maximum=GUESTS_MAX)
    repos = ctx.db()
    await repos.attendance.add_guests(meeting.id, [(name, kind, where) for name in people],
                                      ctx.now)
    await held(repos, meeting, ctx.sender, ctx.now, "guests", count=len(people))
    text = ctx.t("attendance.guests_saved", number=meeting.id, count=len(people),
                 category=category_label(kind, ctx.club, ctx.t),
                 territory=territory_label(where, ctx.t))
    turnout = await repos.attendance.turnout(meeting.id)
    return Reply(text + "\n\n" + summary(turnout, ctx.club, ctx.t))


@recording.subcommand("oublier-invite", fr=("oublier-invite", "retirer-invite", "effacer-invite"),
                      en=("forget-guest", "remove-guest"),
                      params=(MEETING, Param("name", Text(GUEST_NAME_MAX), rest=True)))
async def oublier_invite(ctx: Context, meeting: Meeting, name: str) -> Reply:
    """``!rencontre oublier-invite <n> <nom>``: a guest's name erased (they asked); they stay
    counted in the headcount of their category and territory."""
    erased = await ctx.db().attendance.forget_guest(meeting.id, name, ctx.now)
    if not erased:
        raise UserError("attendance.no_such_guest", number=meeting.id)
    await audit(ctx.db(), meeting, ctx.sender, "guest_forgotten", ctx.now, count=erased)
    return Reply(ctx.t("attendance.guest_forgotten", number=meeting.id, count=erased))
