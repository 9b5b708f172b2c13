"""What the ``!rencontre`` handlers share: the command and its families (who may run them),
the rencontre's parameter, the slot read by the date layer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from commands.arguments import Text
from commands.context import Context
from commands.dates import Slot, parse_slot
from commands.errors import UserError
from commands.meetings import render
from commands.meetings.lookup import MeetingRef
from commands.meetings.organisers import organisers_only
from commands.meetings.registration import refuse_if_closed
from commands.meetings.vocabulary import CANCELLED
from commands.params import Param
from commands.registry import group
from commands.roles import Role

if TYPE_CHECKING:
    from storage.models import Meeting

WHEN = Text(max_length=10_000)  # the date layer refuses long texts with its own message
# a rencontre by its number (``[numéro]`` when optional: the next planned one)
MEETING = Param("meeting", MeetingRef(), shows=("number",))
NEXT_MEETING = Param("meeting", MeetingRef(), required=False, shows=("number",))

rencontre = group("rencontre", fr=("rencontre", "rencontres"), en=("meeting", "meetings"),
                  section="meetings")


async def answerable(ctx: Context, arguments: Mapping[str, Any]) -> None:
    """No answer to a cancelled event, or one that has taken place."""
    refuse_if_closed(arguments["meeting"], ctx.now)


# ``!rencontre present|absent|peutetre``: anyone, to a rencontre still to come
answering = rencontre.family(checks=(answerable,))
# ``!rencontre planifier|reporter|annuler|compte-rendu``: the coordinators, and a group's
# referents for their group's events (``organisers``)
coordination = rencontre.family(role=Role.REFERENT, checks=(organisers_only(),))
# ``!rencontre modifier``: the same, and the event's organiser
editing = rencontre.family(role=Role.REFERENT, checks=(organisers_only(organiser=True),),
                          organisers=True)


async def started(ctx: Context, arguments: Mapping[str, Any]) -> None:
    """People are counted at an event that has started and is not cancelled."""
    meeting = arguments["meeting"]
    if meeting.status == CANCELLED:
        raise UserError("meeting.attendance_cancelled", number=meeting.id)
    if meeting.starts_at > ctx.now:
        raise UserError("meeting.attendance_too_early", number=meeting.id,
                        when=render.when(meeting, ctx.club, ctx.t))


# ``!rencontre presences|effectif|invite|oublier-invite|feuille``: the same as ``editing``
# (refused in the attendance's words), once the event has started
recording = rencontre.family(role=Role.REFERENT, checks=(
    organisers_only(organiser=True, refusals="attendance"), started), organisers=True)


def read_slot(ctx: Context, text: str, duration_of: Meeting | None = None) -> Slot:
    """A slot read by the date layer (its ``DateError`` goes through with its own message)."""
    duration = (duration_of.ends_at - duration_of.starts_at if duration_of is not None
                else ctx.club.meeting_duration)
    return parse_slot(text, now=ctx.now, tz=ctx.club.tz, default_duration=duration,
                      language=ctx.t.language)
