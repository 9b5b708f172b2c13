"""``!projet financement <groupe> <montant> <financeur…> [--date …]``: money a group obtained
(its referents and the coordinators; ``limits.funding_per_day`` for the referents), shown in
``!projet info`` and counted in the report; ``--retirer <n°>`` takes out a line recorded by
mistake."""

from __future__ import annotations

import re
from datetime import date

from commands.arguments import Integer, Text
from commands.context import Context
from commands.dates.days import Day
from commands.effects import Reply
from commands.errors import BadArgument, MissingArgument, UserError
from commands.limits import check_daily
from commands.params import Option, Param
from commands.projects.common import audit, editing, non_empty
from commands.projects.names import Found, GroupThen, group_label
from commands.text import escape_markdown, euros

FUNDER_MAX = 120
AMOUNT_MAX_CENTS = 10_000_000_00  # ten million euros (the column holds up to 2**31 - 1 cents)
# 12000, 12 000, 12.000, 1 500,50, 1500.5, 12000€, 12 000 €
_AMOUNT = re.compile(r"^(\d{1,3}(?:[ \u202f\u00a0.]\d{3})+|\d+)(?:[,.](\d{1,2}))?\s*(?:€|eur|euros?)?$",
                     re.IGNORECASE)


def parse_amount(raw: str) -> int | None:
    """An amount in euros, as cents; ``None`` if it is not one (or zero). It may be over
    ``AMOUNT_MAX_CENTS``: the caller refuses it, saying so."""
    match = _AMOUNT.match(raw.strip())
    if match is None:
        return None
    whole = int(re.sub(r"\D", "", match.group(1)))
    cents = int((match.group(2) or "0").ljust(2, "0"))
    total = whole * 100 + cents
    return total if total > 0 else None


def _amount_and_funder(rest: str) -> tuple[int, str]:
    """``12 000 € Région Sud`` → (1200000, "Région Sud"): the longest beginning that reads as
    an amount, the rest as the funder; an amount over ``AMOUNT_MAX_CENTS`` is refused."""
    words = rest.split()
    for cut in range(min(len(words), 4), 0, -1):
        cents = parse_amount(" ".join(words[:cut]))
        if cents is not None:
            if cents > AMOUNT_MAX_CENTS:
                raise BadArgument("projects.amount_too_large", maximum=euros(AMOUNT_MAX_CENTS))
            funder = " ".join(words[cut:])
            if not funder:
                raise MissingArgument("error.missing_argument", name="funder")
            if len(funder) > FUNDER_MAX:
                raise BadArgument("error.text_too_long", maximum=FUNDER_MAX)
            return cents, funder
    raise BadArgument("projects.bad_amount", value=(words[0] if words else "")[:40])


@editing.subcommand("financement", fr=("financement", "financements", "finance"),
                    en=("funding", "fund"),
                    params=(Param("group", GroupThen(Text(400), "amount", optional=True),
                                  rest=True, shows=("group", "amount", "funder…")),),
                    options=(Option("day", Day(), fr=("date", "le"), en=("date", "on")),
                             Option("remove", Integer(), fr=("retirer", "supprimer"),
                                    en=("remove", "delete"))))
async def financement(ctx: Context, group: Found, day: date | None,
                      remove: int | None) -> Reply:
    if remove is not None:
        return await _remove(ctx, group, remove, day)
    cents, funder = _amount_and_funder(non_empty(group.rest, "amount", 400))
    today = ctx.now.astimezone(ctx.club.tz).date()
    obtained = day or today
    if obtained > today:
        raise BadArgument("projects.funding_future", date=obtained.isoformat())
    await check_daily(ctx, "funding_per_day")
    target = group.group
    line = await ctx.db().groups.add_funding(target.id, funder, cents, obtained, ctx.sender,
                                             ctx.now)
    await audit(ctx, target, "funding", amount=euros(cents), funder=funder,
                date=obtained.isoformat())
    return Reply(ctx.t("projects.funding_added", group=group_label(target), amount=euros(cents),
                       funder=escape_markdown(funder), date=obtained.strftime("%d/%m/%Y"),
                       prefix=ctx.club.prefix, number=line.id, slug=target.slug))


async def _remove(ctx: Context, group: Found, number: int, day: date | None) -> Reply:
    """``--retirer <n°>``: a funding line recorded by mistake taken out (of the card and of
    the report)."""
    if group.rest.strip() or day is not None:
        raise BadArgument("projects.funding_remove_alone", prefix=ctx.club.prefix,
                          slug=group.group.slug, number=number)
    removed = await ctx.db().groups.remove_funding(group.group.id, number)
    if removed is None:
        raise UserError("projects.no_such_funding", number=number,
                        group=group_label(group.group), prefix=ctx.club.prefix)
    await audit(ctx, group.group, "funding_removed", amount=euros(removed.amount_cents),
                funder=removed.funder, date=removed.obtained_on.isoformat())
    return Reply(ctx.t("projects.funding_removed", number=number, group=group_label(group.group),
                       amount=euros(removed.amount_cents), funder=escape_markdown(removed.funder)))
