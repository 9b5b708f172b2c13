"""Checking what one person may make the bot do against their caps (``commands.caps.Limits``).
The coordinators have none. A person at a cap is refused in a short message saying the limit
and when to try again; nothing is written."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from commands.caps import counted
from commands.dates import format_moment
from commands.errors import UserError
from commands.roles import Role

if TYPE_CHECKING:
    from commands.context import Context

DAY = timedelta(hours=24)


class LimitReached(UserError):
    """A person reached one of their caps: nothing was done."""

    key = "limit.reached"


def exempt(ctx: Context, limit: int) -> bool:
    """No cap applies: it is 0, or the sender is a coordinator."""
    return limit <= 0 or ctx.role >= Role.COORDINATOR


async def check_daily(ctx: Context, cap: str) -> None:
    """Refuses (``LimitReached``) when the sender already did, in the last 24 hours, as many
    times as the daily cap ``cap`` (a field of ``Limits``) allows what it counts (the audit
    trail says so), saying when they may do it again: 24 hours after the oldest of those."""
    limit: int = getattr(ctx.club.limits, cap)
    if exempt(ctx, limit):
        return
    what = counted(cap)
    latest = await ctx.db().audit.latest_of(ctx.sender, what.subject, what.action,
                                            ctx.now - DAY, limit)
    if len(latest) < limit:
        return
    again = next_minute(latest[-1] + DAY)
    raise LimitReached(what.message, limit=limit,
                       when=format_moment(again, ctx.t.language, ctx.club.tz))


async def keep_daily_use(ctx: Context, cap: str) -> None:
    """The sender did what the daily cap ``cap`` counts, with no audit entry of it (an
    erasure): its kind and time kept under their id for the next check (``cap_uses``), when
    the cap applies to them."""
    if exempt(ctx, getattr(ctx.club.limits, cap)):
        return
    what = counted(cap)
    await ctx.db().audit.keep_use(ctx.sender, what.subject, what.action, ctx.now)


def next_minute(moment: datetime) -> datetime:
    """``moment``, or the next whole minute if it falls within one (times are shown to the
    minute: a person trying again at the time shown is not refused)."""
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(minutes=1)
