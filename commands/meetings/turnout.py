"""Everyone who came to an event, shown: the figures of ``!rencontre info`` and of the replies
that record people (members named, guests, headcounts), the labels of categories and
territories."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.categories import NOT_SAID, Territories
from commands.context import Club, Context, Place
from commands.errors import Forbidden
from commands.i18n import Translator
from commands.meetings.organisers import organisers_only
from commands.text import escape_markdown

if TYPE_CHECKING:
    from storage.attendance import Turnout
    from storage.models import Meeting

TERRITORIES = Territories()


def category_label(key: str, club: Club, t: Translator) -> str:
    if key == NOT_SAID:
        return t("attendance.not_said")
    return club.categories.label(key).lower()


def territory_label(key: str, t: Translator) -> str:
    if key == NOT_SAID:
        return t("attendance.not_said")
    return TERRITORIES.label(key).lower()


def counts_text(counts: dict[str, int], club: Club, t: Translator) -> str:
    """``8 élus, 14 habitants`` in the configured order of the categories."""
    order = [key for key, _ in club.categories.entries]
    keys = sorted(counts, key=lambda k: (order.index(k) if k in order else len(order), k))
    return ", ".join(f"{counts[k]} {category_label(k, club, t)}" for k in keys if counts[k])


def summary(turnout: Turnout, club: Club, t: Translator) -> str:
    """« 22 personnes (8 élus, 14 habitants ; nord 20, sud 2), dont 3 sur Matrix, 2 invités
    nommés et 17 comptés »."""
    if not turnout.total:
        return t("attendance.nobody_yet")
    places = turnout.by_territory()
    where = ", ".join(f"{territory_label(k, t)} {places[k]}" for k in sorted(
        places, key=lambda k: (k == NOT_SAID, k)))
    return t("attendance.summary", total=turnout.total,
             categories=counts_text(turnout.by_category(), club, t), territories=where,
             members=turnout.members, guests=turnout.guests, counted=turnout.counted)


async def card_lines(ctx: Context, meeting: Meeting) -> str:
    """What ``!rencontre info`` adds for an event someone was recorded at: the figures, and
    the guests' names, in a direct message, for those who record them (elsewhere, how
    to see them)."""
    repos = ctx.db()
    turnout = await repos.attendance.turnout(meeting.id)
    if not turnout.total:
        return ""
    text = "\n\n" + summary(turnout, ctx.club, ctx.t)
    if not turnout.guests:
        return text
    may_see = await _records(ctx, meeting)
    if may_see and ctx.place is Place.DIRECT:
        guests = await repos.attendance.guests(meeting.id)
        text += "\n" + ctx.t("attendance.guest_names",
                             names=", ".join(escape_markdown(g.name) for g in guests))
    elif may_see:
        text += "\n" + ctx.t("attendance.guest_names_elsewhere", number=meeting.id,
                             prefix=ctx.club.prefix)
    return text


async def _records(ctx: Context, meeting: Meeting) -> bool:
    """Whether the sender may record who came to the event (``organisers_only``)."""
    try:
        await organisers_only(organiser=True)(ctx, {"meeting": meeting})
    except Forbidden:
        return False
    return True
