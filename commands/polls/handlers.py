"""``!sondage …``, ``!vote`` and ``!mentions``: handlers declared at module level; a poll named
by its number (or the one the room is about) is found by ``PollRef``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from commands.arguments import Integer, Text, split_first
from commands.context import Context
from commands.dates import DateError, Slot, format_moment, format_slot, parse_moment, parse_slot
from commands.effects import Effect, Reply
from commands.errors import BadArgument, Forbidden, NotFound, UserError
from commands.meetings.details import EVENT_OPTIONS, GROUP, read_details
from commands.meetings.organisers import group_by_default, organisers_only
from commands.meetings.reminders import REMINDERS_KIND
from commands.meetings.service import create_meeting, rooms_of
from commands.paging import Section, paged
from commands.params import PAGE, NumberRef, Option, Param
from commands.polls import service
from commands.polls.ballot import WITHDRAW, read_ballot
from commands.polls.boards import option_label
from commands.polls.choices import poll_number, read_choice
from commands.projects.names import find_group, group_label
from commands.registry import PageRequest, command, group
from commands.roles import Role
from commands.text import escape_markdown, pill, shorten
from commands.vocabulary import TERRITORIES, Vocabulary

if TYPE_CHECKING:
    from storage.models import Poll, PollSlot

MIN_SLOTS, MAX_SLOTS = 2, 20
QUESTION_MAX = 300
POLL_KIND = "poll"  # the scheduler's jobs of polls (deadlines and reminders)
CLOSES = Option("closes", Text(max_length=100), fr=("cloture", "clôture", "fin", "jusqua"),
                en=("close", "closes", "until", "deadline"))
_SEPARATOR = re.compile(r"\s*(?:\||\n)\s*")
SWITCH = Vocabulary("switch", (("oui", ("on", "yes", "o", "true", "1", "activer")),
                               ("non", ("off", "no", "n", "false", "0", "desactiver"))))


async def find_poll(ctx: Context, number: int | None) -> Poll:
    """The poll named, or this room's open one (the newest), or the only open one, or the
    room's latest when none is open anywhere."""
    repos = ctx.db()
    if number is not None:
        poll = await repos.polls.get(number)
        if poll is None:
            raise NotFound("polls.not_found", number=number)
        return poll
    here = await repos.polls.open_polls(ctx.room_id)
    if here:
        return here[0]
    everywhere = await repos.polls.open_polls()
    if len(everywhere) == 1:
        return everywhere[0]
    latest = await repos.polls.latest(ctx.room_id)
    if not everywhere and latest is not None:
        return latest
    if everywhere:
        raise UserError("polls.which", numbers=", ".join(f"n°{p.id}" for p in everywhere))
    raise NotFound("polls.none")


class PollRef(NumberRef):
    """A poll by its number; left out (when optional), the one ``find_poll`` picks."""

    async def find(self, ctx: Context, number: int) -> Poll:
        return await find_poll(ctx, number)

    async def absent(self, ctx: Context) -> Poll:
        return await find_poll(ctx, None)


sondage = group("sondage", fr=("sondage", "sondages"), en=("poll", "polls"), section="polls")
# ``!sondage dates|choisir``: the coordinators, and a group's referents for their group's polls
# (held in the group's room: ``commands.meetings.organisers``)
coordination = sondage.family(role=Role.REFERENT, checks=(organisers_only(),))


@dataclass(frozen=True)
class Vote:
    """A ballot for an open poll: its slots by position, the answers by slot id (``None``:
    withdrawn), and the « autre » text of a poll on anything (by slot id)."""

    poll: Poll
    slots: dict[int, PollSlot]
    answers: list[tuple[int, str | None]]
    reasons: dict[int, str] = field(default_factory=dict)


class BallotRef:
    """``[n°] 1+ 2- 3?`` (a date poll) or ``n° 2 3``, ``n° autre <texte>`` (a poll on
    anything): the poll named (or the one ``find_poll`` picks) found open, then the ballot
    read for its kind (``BadArgument`` with examples) and its options checked."""

    kind = "ballot"
    text = Text(max_length=500)

    def read(self, raw: str) -> None:
        self.text.convert(raw)

    async def convert(self, ctx: Context, raw: str) -> Vote:
        text = self.text.convert(raw)
        first, rest = split_first(text)
        number = poll_number(first)
        if number is not None and rest:
            named = await ctx.db().polls.get(number)
            if named is not None and named.kind != "dates":
                return await _choice_vote(ctx, named, rest)
        try:
            ballot = read_ballot(text)
        except BadArgument:
            here = await find_poll(ctx, None)
            if here.kind == "dates":
                raise
            return await _choice_vote(ctx, here, text)
        poll = await find_poll(ctx, ballot.poll)
        if poll.kind != "dates":
            return await _choice_vote(ctx, poll, text if ballot.poll is None else rest)
        slots = await _open_slots(ctx, poll)
        if ballot.withdraw_all:
            return Vote(poll, slots, [(slot.id, None) for slot in slots.values()])
        unknown = sorted({p for p, _ in ballot.answers if p not in slots})
        if unknown:
            raise BadArgument("polls.no_such_slot", positions=", ".join(map(str, unknown)),
                              count=len(slots), number=poll.id)
        return Vote(poll, slots, [(slots[p].id, None if a == WITHDRAW else a)
                                  for p, a in ballot.answers])


async def _open_slots(ctx: Context, poll: Poll) -> dict[int, PollSlot]:
    if poll.status != "open":
        raise UserError("polls.closed_no_vote", number=poll.id)
    return {slot.position: slot for slot in await ctx.db().polls.slots(poll.id)}


async def _choice_vote(ctx: Context, poll: Poll, text: str) -> Vote:
    """A ballot for a poll on anything: the whole choice, replacing the previous one."""
    if poll.kind == "proposal":
        raise UserError("decisions.vote_on_proposal", number=poll.id, prefix=ctx.club.prefix)
    slots = await _open_slots(ctx, poll)
    other = next((slot for slot in slots.values() if slot.other), None)
    choice = read_choice(text, len(slots) - (other is not None), poll.multiple, poll.allow_other)
    chosen = set(choice.positions)
    if choice.other is not None and other is not None:
        chosen.add(other.position)
    answers: list[tuple[int, str | None]] = [
        (slot.id, "yes" if position in chosen else None) for position, slot in slots.items()]
    reasons = {other.id: choice.other} if other is not None and choice.other else {}
    return Vote(poll, slots, answers, reasons)


@command("vote", fr=("vote", "voter"), section="polls",
         params=(Param("ballot", BallotRef(), rest=True),))
async def vote(ctx: Context, ballot: Vote) -> Reply:
    """``!vote [n°] 1+ 2- 3?`` or ``!vote n° 2 3``: the sender's answers recorded (the poll's
    message edited in a follow-up)."""
    _, mine = await ctx.db().polls.cast(poll_id=ballot.poll.id, user_id=ctx.sender,
                                        answers=ballot.answers, source="text", at=ctx.sent_at,
                                        event_id=ctx.event_id, tz=ctx.club.tz,
                                        reasons=ballot.reasons)
    return Reply(_voted(ctx, ballot.poll, ballot.slots, mine),
                 then=(await service.changed(ctx.db(), ballot.poll, ctx.club, ctx.t),))


def _voted(ctx: Context, poll: Poll, slots: dict[int, PollSlot], mine: dict[int, str]) -> str:
    if poll.kind != "dates":
        chosen = ", ".join(f"{position} ({escape_markdown(shorten(option_label(slot, ctx.t), 60))})"
                           for position, slot in sorted(slots.items()) if slot.id in mine)
        return (ctx.t("decisions.voted", number=poll.id, summary=chosen) if chosen
                else ctx.t("polls.withdrawn", number=poll.id))
    summary = ", ".join(f"{position} {ctx.t(f'polls.answer_{mine[slot.id]}').lower()}"
                        for position, slot in sorted(slots.items()) if slot.id in mine)
    return (ctx.t("polls.voted", number=poll.id, summary=summary) if summary
            else ctx.t("polls.withdrawn", number=poll.id))


@command("mentions", fr=("mentions", "mention"), section="reminders",
         params=(Param("switch", SWITCH, required=False),))
async def mentions(ctx: Context, switch: str | None) -> Reply:
    if switch is None:
        wanted = bool(await ctx.db().people.wants_mentions([ctx.sender]))
        return Reply(ctx.t("polls.mentions_on" if wanted else "polls.mentions_off",
                           prefix=ctx.club.prefix))
    await ctx.db().people.set_mentions(ctx.sender, switch == "oui", ctx.now)
    key = "polls.mentions_set_on" if switch == "oui" else "polls.mentions_set_off"
    return Reply(ctx.t(key, prefix=ctx.club.prefix))


@coordination.subcommand("dates", fr=("dates", "date"),
                         params=(Param("spec", Text(max_length=4000), rest=True,
                                       shows=("question", "slots")),),
                         options=(CLOSES,
                                  Option("territory", TERRITORIES, fr=("territoire",),
                                         en=("territory",)),
                                  GROUP))
async def dates(ctx: Context, spec: str, closes: str | None, territory: str | None,
                group: str | None) -> Reply:
    """``!sondage dates Question | créneau | créneau …``: in this room, or in the group's room
    for a group's poll (``--groupe``, or said in its room)."""
    question, slots = _question_and_slots(ctx, spec)
    deadline = deadline_of(ctx, closes, min(slot.start for slot in slots))
    room_id, territory, elsewhere = await poll_place(ctx, group, territory)
    repos = ctx.db()
    poll = await repos.polls.create(question=question, territory=territory,
                                    room_id=room_id, closes_at=deadline,
                                    created_by=ctx.sender, at=ctx.now)
    for position, slot in enumerate(sorted(slots, key=lambda s: s.start), 1):
        await repos.polls.add_slot(poll.id, position, slot.start, slot.end)
    await audit(ctx, poll, "opened")
    effects = await service.opening(repos, poll, ctx.club, ctx.t)
    when = (ctx.t("polls.until", when=format_moment(deadline, ctx.t.language, ctx.club.tz))
            if deadline else ctx.t("polls.no_deadline"))
    key = "polls.opened_in_group" if elsewhere else "polls.opened"
    return Reply(ctx.t(key, number=poll.id, count=len(slots), when=when,
                       prefix=ctx.club.prefix, group=elsewhere),
                 effects=tuple(effects), reschedule=(POLL_KIND,))


@sondage.subcommand("resultats", fr=("resultats", "résultats"), en=("results",),
                    params=(Param("poll", PollRef(), required=False, shows=("number",)),),
                    names_people=True)
async def resultats(ctx: Context, poll: Poll) -> Reply:
    return Reply(await service.message(ctx.db(), poll, ctx.club, ctx.t))


@sondage.subcommand("liste", fr=("liste",), en=("list",), options=(PAGE,))
async def liste(ctx: Context, page: PageRequest) -> Reply:
    polls = await ctx.db().polls.open_polls()
    if not polls:
        return Reply(ctx.t("polls.none_open", prefix=ctx.club.prefix))
    lines = []
    for poll in polls:
        closes = (ctx.t("polls.until", when=format_moment(poll.closes_at, ctx.t.language,
                                                           ctx.club.tz))
                  if poll.closes_at else ctx.t("polls.no_deadline"))
        kind = "" if poll.kind == "dates" else ctx.t(f"decisions.kind_{poll.kind}") + " : "
        lines.append(f"- n°{poll.id} {kind}{escape_markdown(shorten(poll.question, 120))} "
                     f"— {closes}")
    open_polls = Section(lines, heading=ctx.t("polls.open_title", count=len(polls)))
    return Reply(paged(page, [open_polls], ctx.t, ctx.club.prefix))


@coordination.subcommand("choisir", fr=("choisir", "retenir"), en=("choose", "pick"),
                         params=(Param("poll", PollRef(), shows=("number",)),
                                 Param("slot", Integer(1, MAX_SLOTS))),
                         options=EVENT_OPTIONS)
async def choisir(ctx: Context, poll: Poll, slot: int, **options: Any) -> Reply:
    """Turns a slot of the poll into an event (of the kind and with the details ``options``
    give), announced with its calendar file; closes the poll if it is still open."""
    repos = ctx.db()
    if poll.kind != "dates":
        raise UserError("decisions.not_dates", number=poll.id)
    if poll.meeting_id is not None:
        raise UserError("polls.already_chosen", number=poll.id, meeting=poll.meeting_id)
    slots = {each.position: each for each in await repos.polls.slots(poll.id)}
    if slot not in slots:
        raise BadArgument("polls.no_such_slot", positions=str(slot), count=len(slots),
                          number=poll.id)
    chosen = slots[slot]
    typed = await group_by_default(ctx, options, room_id=poll.room_id)
    details = await read_details(ctx, typed, territory=poll.territory)
    effects: list[Effect] = []
    if poll.status == "open":
        effects += await service.close(repos, poll, ctx.club, ctx.t, ctx.now)
    meeting, announcements = await create_meeting(
        repos, ctx.club, ctx.t, start=chosen.starts_at, end=chosen.ends_at, details=details,
        created_by=ctx.sender, now=ctx.now, poll_id=poll.id,
        fallback_room=poll.room_id)  # no club room for the territory: where the poll was
    poll.meeting_id = meeting.id
    await audit(ctx, poll, "chosen")
    when = format_slot(Slot(chosen.starts_at, chosen.ends_at), ctx.t.language, ctx.club.tz)
    return Reply(ctx.t("polls.chosen", number=poll.id, meeting=meeting.id, when=when,
                       rooms=len(rooms_of(meeting))),
                 effects=(*effects, *announcements), reschedule=(POLL_KIND, REMINDERS_KIND))


async def creator_or_organisers(ctx: Context, arguments: Mapping[str, Any]) -> None:
    """A check: the poll's creator (a member's poll on anything, a referent's date poll), or
    those who organise for its room (``organisers_only``); anyone else is told who may."""
    poll: Poll = arguments["poll"]
    if poll.created_by == ctx.sender:
        return
    try:
        await ORGANISERS(ctx, arguments)
    except Forbidden:
        raise Forbidden("polls.close_creator_or_organisers", number=poll.id) from None


ORGANISERS = organisers_only()


# ``!sondage cloturer``: its creator too (a family of its own: ``coordination``'s check would
# refuse them)
@sondage.family(role=Role.REFERENT).subcommand(
    "cloturer", fr=("cloturer", "clôturer", "clore", "fermer"), en=("close", "end"),
    params=(Param("poll", PollRef(), required=False, shows=("number",)),),
    checks=(creator_or_organisers,))
async def cloturer(ctx: Context, poll: Poll) -> Reply:
    """Closes a poll now; a proposal only by its author or a coordinator (as
    ``!proposition cloturer``), not by the group's referents."""
    if poll.kind == "proposal":
        author_or_coordinator(ctx, poll)
        return await close_now(ctx, poll, "decisions.closing")
    return await close_now(ctx, poll, "polls.closing")


def author_or_coordinator(ctx: Context, poll: Poll) -> None:
    """``Forbidden`` unless the sender opened ``poll`` or is a coordinator."""
    if ctx.role < Role.COORDINATOR and ctx.sender != poll.created_by:
        raise Forbidden("decisions.author_only", number=poll.id, who=pill(poll.created_by))


async def close_now(ctx: Context, poll: Poll, told: str) -> Reply:
    """Closes an open poll of any kind now (its results posted); ``told``: the reply's key."""
    if poll.status != "open":
        raise UserError("polls.already_closed", number=poll.id)
    effects = await service.close(ctx.db(), poll, ctx.club, ctx.t, ctx.now)
    await audit(ctx, poll, "closed")
    return Reply(ctx.t(told, number=poll.id), effects=tuple(effects), reschedule=(POLL_KIND,))


async def poll_place(ctx: Context, named: str | None,
                      territory: str | None) -> tuple[str, str, str]:
    """Where a poll is held, for which territory, and the group's label when that is not
    here: a group's poll is in the group's room, for its territory."""
    found = await group_by_default(ctx, {"group": named, "territory": territory})
    if not found.get("group"):
        return ctx.room_id, territory or "tout", ""
    if territory:
        raise UserError("meeting.group_or_territory")
    group = await find_group(ctx.db(), found["group"])
    if not group.room_id:
        raise UserError("polls.group_without_room", group=group_label(group),
                        prefix=ctx.club.prefix)
    territory = group.territory if group.territory in ("nord", "sud") else "tout"
    return group.room_id, territory, "" if group.room_id == ctx.room_id else group_label(group)


def _question_and_slots(ctx: Context, spec: str) -> tuple[str, list[Slot]]:
    """The question and the slots of ``Question | créneau | créneau …``, checked."""
    parts = [part for part in _SEPARATOR.split(spec.strip()) if part]
    if len(parts) < 1 + MIN_SLOTS:
        raise BadArgument("polls.too_few", minimum=MIN_SLOTS)
    question, texts = parts[0], parts[1:]
    if len(question) > QUESTION_MAX:
        raise BadArgument("error.text_too_long", maximum=QUESTION_MAX)
    if len(texts) > MAX_SLOTS:
        raise BadArgument("polls.too_many", maximum=MAX_SLOTS, count=len(texts))
    slots: list[Slot] = []
    for text in texts:
        slot = parse_slot(text, now=ctx.now, tz=ctx.club.tz,
                          default_duration=ctx.club.meeting_duration, language=ctx.t.language)
        if any(slot.start == other.start for other in slots):
            raise BadArgument("polls.duplicate_slot", value=text[:60])
        slots.append(slot)
    return question, slots


def deadline_of(ctx: Context, closes: str | None,
                first_slot: datetime | None = None) -> datetime | None:
    if closes is None:
        return None
    try:
        deadline = parse_moment(closes, now=ctx.now, tz=ctx.club.tz, language=ctx.t.language)
    except DateError as error:
        error.values.setdefault("option", "cloture")
        raise
    if first_slot is not None and deadline > first_slot:
        raise BadArgument("polls.deadline_after_slot",
                          when=format_moment(deadline, ctx.t.language, ctx.club.tz))
    return deadline


async def audit(ctx: Context, poll: Poll, action: str) -> None:
    await ctx.db().audit.record(actor=ctx.sender, subject="poll", subject_id=poll.id,
                                action=action, at=ctx.now)
