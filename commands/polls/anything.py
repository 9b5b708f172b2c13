"""``!sondage question``: a poll on anything (not dates), single or multiple choice, optionally
anonymous, optionally with an « autre » answer written by the voter. Opened by the coordinators
anywhere, and by any club member in a group's room (for that group), within their daily cap;
voted, counted, reminded and closed as date polls are (``service``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from commands.arguments import Text
from commands.context import Context
from commands.dates import format_moment
from commands.effects import Reply
from commands.errors import BadArgument, Forbidden
from commands.limits import check_daily
from commands.meetings.details import GROUP
from commands.params import Option, Param
from commands.polls import service
from commands.polls.handlers import (
    CLOSES,
    MAX_SLOTS,
    POLL_KIND,
    QUESTION_MAX,
    audit,
    deadline_of,
    poll_place,
    sondage,
)
from commands.roles import Role
from commands.text import fold

if TYPE_CHECKING:
    from storage.models import Poll

MIN_OPTIONS = 2
OPTION_MAX = 200
_SEPARATOR = re.compile(r"\s*(?:\||\n)\s*")
_QUOTED = re.compile(r'^["«“](.+?)["»”]\s*(?:(?:choix|choices?|options?)\s*:?\s*)?(.*)$',
                     re.IGNORECASE | re.DOTALL)
# ``Question ? choix A``: the word right after the question mark (a question may hold it)
_CHOICES_WORD = re.compile(r"^(.*\?)\s*(?:choix|choices?|options?)\s*:?\s+(.*)$",
                           re.IGNORECASE | re.DOTALL)
MULTIPLE = Option("multiple", Text(), fr=("multiple", "plusieurs"), en=("multiple",), flag=True)
ANONYMOUS = Option("anonymous", Text(), fr=("anonyme",), en=("anonymous",), flag=True)
OTHER = Option("other", Text(), fr=("autre",), en=("other",), flag=True)


@dataclass(frozen=True)
class Place:
    """Where a poll or proposal opened by the sender is held: room, territory, and the
    group's label when that is not the room it was asked in."""

    room_id: str
    territory: str
    elsewhere: str


async def opening_place(ctx: Context, group: str | None) -> Place:
    """The coordinators open anywhere (``--groupe`` for a group's room); any other club member
    only in a group's room, for that group, within ``limits.proposals_per_day`` (polls and
    proposals together)."""
    if ctx.role < Role.COORDINATOR:
        if await ctx.db().groups.by_room(ctx.room_id) is None:
            raise Forbidden("decisions.members_in_group_room")
        group = None
        await check_daily(ctx, "proposals_per_day")
    return Place(*await poll_place(ctx, group, None))


async def new_poll(ctx: Context, asked: str, place: Place, deadline: datetime | None,
                   kind: str, **flags: bool) -> Poll:
    """A poll of ``kind`` opened by the sender at ``place`` (audited)."""
    poll = await ctx.db().polls.create(question=asked, territory=place.territory,
                                       room_id=place.room_id, closes_at=deadline,
                                       created_by=ctx.sender, at=ctx.now, kind=kind, **flags)
    await audit(ctx, poll, "opened")
    return poll


async def opened(ctx: Context, poll: Poll, key: str, **values: object) -> Reply:
    """A new proposal's one slot, its proposer's participation, its message and native poll;
    the reply ``key`` (with the proposal's number, closing moment and the prefix)."""
    repos = ctx.db()
    await repos.polls.add_slot(poll.id, 1, ctx.now, ctx.now)
    await ctx.took_part()
    effects = await service.opening(repos, poll, ctx.club, ctx.t)
    assert poll.closes_at is not None  # a proposal's deadline is required
    when = format_moment(poll.closes_at, ctx.t.language, ctx.club.tz)
    return Reply(ctx.t(key, number=poll.id, when=when, prefix=ctx.club.prefix, **values),
                 effects=tuple(effects), reschedule=(POLL_KIND,))


def question_and_options(spec: str) -> tuple[str, list[str]]:
    """``"Question ?" choix A | B | C``, ``Question ? choix A | B`` (the word right after the
    question mark), or ``Question ? | A | B``;
    ``BadArgument`` with the usage when it is not that."""
    parts = [part for part in _SEPARATOR.split(spec.strip()) if part]
    first = parts[0] if parts else ""
    found = _QUOTED.match(first) or _CHOICES_WORD.match(first)
    question, head = (found.group(1).strip(), found.group(2).strip()) if found else (first, "")
    options = ([head] if head else []) + parts[1:]
    if not question or len(options) < MIN_OPTIONS:
        raise BadArgument("decisions.too_few_options", minimum=MIN_OPTIONS)
    if len(question) > QUESTION_MAX:
        raise BadArgument("error.text_too_long", maximum=QUESTION_MAX)
    if len(options) > MAX_SLOTS:
        raise BadArgument("decisions.too_many_options", maximum=MAX_SLOTS, count=len(options))
    seen: set[str] = set()
    for option in options:
        if len(option) > OPTION_MAX:
            raise BadArgument("error.text_too_long", maximum=OPTION_MAX)
        if fold(option) in seen:
            raise BadArgument("decisions.duplicate_option", value=option[:60])
        seen.add(fold(option))
    return question, options


@sondage.subcommand("question", fr=("question", "choix"), en=("question", "choice"),
                    params=(Param("spec", Text(max_length=6000), rest=True,
                                  shows=("question", "choices")),),
                    options=(CLOSES, MULTIPLE, ANONYMOUS, OTHER, GROUP))
async def question(ctx: Context, spec: str, closes: str | None, multiple: bool,
                   anonymous: bool, other: bool, group: str | None) -> Reply:
    """``!sondage question "Quel thème ?" choix A | B | C [--multiple] [--anonyme] [--autre]
    [--cloture …]``: in this room, or a group's (``--groupe``, coordinators)."""
    asked, options = question_and_options(spec)
    deadline = deadline_of(ctx, closes)
    place = await opening_place(ctx, group)
    repos = ctx.db()
    poll = await new_poll(ctx, asked, place, deadline, "choice", multiple=multiple,
                          anonymous=anonymous, allow_other=other)
    for position, label in enumerate(options, 1):
        await repos.polls.add_slot(poll.id, position, ctx.now, ctx.now, label=label)
    if other:
        await repos.polls.add_slot(poll.id, len(options) + 1, ctx.now, ctx.now, other=True)
    effects = await service.opening(repos, poll, ctx.club, ctx.t)
    when = (ctx.t("polls.until", when=format_moment(deadline, ctx.t.language, ctx.club.tz))
            if deadline else ctx.t("polls.no_deadline"))
    key = "decisions.poll_opened_in_group" if place.elsewhere else "decisions.poll_opened"
    return Reply(ctx.t(key, number=poll.id, count=len(options), when=when,
                       prefix=ctx.club.prefix, group=place.elsewhere),
                 effects=tuple(effects), reschedule=(POLL_KIND,))
