"""What the ``!odj`` handlers share: the command and its families, its options, the
suggestion and item converters, the rencontre's "still open" check, the audit trail and the
reply to a change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from commands.agenda.service import CANCELLED, HELD
from commands.arguments import Choice, Integer, Text, UserId
from commands.context import Context
from commands.dates import parse_duration
from commands.effects import Effect, Post, Reply
from commands.errors import NotFound, UserError
from commands.meetings import render as meeting_render
from commands.meetings.details import clean_text
from commands.meetings.lookup import MeetingRef, get_meeting
from commands.params import NumberRef, Option
from commands.registry import group
from commands.roles import Role

if TYPE_CHECKING:
    from storage.models import AgendaItem, AgendaSuggestion, Meeting

NUMBER = Integer()
TEXT_MAX = 500
METHOD_MAX = 200
Row = TypeVar("Row")


@dataclass(frozen=True)
class Minutes:
    """A duration as people write it (``20min``, ``1h``, ``1h30``), in whole minutes."""

    kind: str = "duration"

    def convert(self, raw: str) -> int:
        return max(1, round(parse_duration(raw).total_seconds() / 60))


@dataclass(frozen=True)
class OnAgenda(Generic[Row]):
    """A suggestion or an agenda item, with the rencontre it is for."""

    row: Row
    meeting: Meeting


class SuggestionRef(NumberRef):
    """A suggestion by its number (« Aucune suggestion n°… »), with its rencontre."""

    async def find(self, ctx: Context, number: int) -> OnAgenda[AgendaSuggestion]:
        suggestion = await ctx.db().agenda.suggestion(number)
        if suggestion is None:
            raise NotFound("odj.suggestion_not_found", number=number)
        # a foreign key with ON DELETE CASCADE: the rencontre exists
        return OnAgenda(suggestion, await get_meeting(ctx, suggestion.meeting_id))


class ItemRef(NumberRef):
    """An agenda item by its number (« Aucun point n°… »), with its rencontre."""

    async def find(self, ctx: Context, number: int) -> OnAgenda[AgendaItem]:
        item = await ctx.db().agenda.item(number)
        if item is None:
            raise NotFound("odj.item_not_found", number=number)
        return OnAgenda(item, await get_meeting(ctx, item.meeting_id))


MEETING = Option("meeting", MeetingRef("odj.no_meeting"), fr=("rencontre",), en=("meeting",))
DURATION = Option("duration", Minutes(), fr=("duree", "temps"), en=("duration", "length"))
METHOD = Option("method", Text(METHOD_MAX), fr=("animation", "methode"), en=("method",))
PRESENTER = Option("presenter", UserId(), fr=("intervenant", "intervenante", "avec"),
                   en=("presenter", "speaker", "with"))
GROUPS = Choice((("groupes", ("groups", "tour", "avec-groupes")),))


def meeting_of(arguments: Mapping[str, Any]) -> Meeting:
    """The rencontre a command is about: its suggestion's, its item's, or ``--rencontre``'s."""
    named = arguments.get("suggestion") or arguments.get("item")
    return named.meeting if isinstance(named, OnAgenda) else arguments["meeting"]


async def meeting_open(ctx: Context, arguments: Mapping[str, Any]) -> None:
    """A cancelled or past rencontre's agenda no longer changes."""
    meeting = meeting_of(arguments)
    if meeting.status == CANCELLED:
        raise UserError("odj.meeting_cancelled", number=meeting.id)
    if meeting.status == HELD or meeting.starts_at <= ctx.now:
        raise UserError("odj.meeting_past", number=meeting.id,
                        when=meeting_render.when(meeting, ctx.club, ctx.t))


odj = group("odj", fr=("odj", "ordre-du-jour", "ordredujour"), en=("agenda",), section="agenda")
# the subcommands changing the agenda of a rencontre still to come
changing = odj.family(checks=(meeting_open,))
# the coordinators' subcommands: deciding, building, publishing (a rencontre still to come)
coordination = odj.family(role=Role.COORDINATOR, checks=(meeting_open,))


def clean_method(text: str | None) -> str:
    return clean_text(text, "method", METHOD_MAX) if text else ""


def with_update(ctx: Context, text: str, effects: list[Effect]) -> Reply:
    """The reply to a change; once published, it says the rooms were told."""
    if effects:
        rooms = len({effect.room_id for effect in effects if isinstance(effect, Post)})
        text += " " + ctx.t("odj.update_posted", rooms=rooms)
    return Reply(text, effects=tuple(effects))


async def audit(ctx: Context, meeting: Meeting, action: str, **details: object) -> None:
    await ctx.db().audit.record(actor=ctx.sender, subject="agenda", subject_id=meeting.id,
                                action=action, at=ctx.now, **details)
