"""A rencontre named in a command: ``MeetingRef``, by its number, or the next planned one when
it is left out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from commands.context import Context
from commands.errors import NotFound
from commands.params import NumberRef

if TYPE_CHECKING:
    from storage.models import Meeting


async def get_meeting(ctx: Context, number: int) -> Meeting:
    """The rencontre numbered ``number`` (« Aucune rencontre n°… »)."""
    meeting = await ctx.db().meetings.get(number)
    if meeting is None:
        raise NotFound("meeting.not_found", number=number)
    return meeting


@dataclass(frozen=True)
class MeetingRef(NumberRef):
    """A rencontre by its number; left out (an optional parameter or option), the next planned
    one, or the refusal ``none`` when there is none."""

    none: str = "meeting.none_upcoming"

    async def find(self, ctx: Context, number: int) -> Meeting:
        return await get_meeting(ctx, number)

    async def absent(self, ctx: Context) -> Meeting:
        meeting = await ctx.db().meetings.next_planned(ctx.now)
        if meeting is None:
            raise NotFound(self.none, prefix=ctx.club.prefix)
        return meeting
