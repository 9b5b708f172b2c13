"""``!rappel``: reminders for oneself or for a room, once or recurring."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from commands.arguments import Text
from commands.context import Context
from commands.dates import (
    Recurrence,
    format_moment,
    split_moment,
    split_reminder,
)
from commands.effects import Reply
from commands.errors import BadArgument, Forbidden, MissingArgument, NotFound, UserError
from commands.meetings.reminders import REMINDERS_KIND
from commands.paging import Section, paged
from commands.params import PAGE, NumberRef, Param
from commands.registry import PageRequest, command
from commands.reminder_kinds import GROUP_ROOM, ROOM_KINDS, SET_WITH_RAPPEL
from commands.reminders.deliver import in_their_group_room
from commands.roles import Role
from commands.text import escape_markdown

if TYPE_CHECKING:
    from storage.models import Reminder

TEXT_MAX = 1000
MAX_PER_PERSON = 100


async def own_reminder(ctx: Context, number: int) -> Reminder:
    """A pending reminder of a person or a room, changed by its owner or a coordinator."""
    reminder = await ctx.db().reminders.get(number)
    if reminder is None or reminder.status != "pending" or reminder.kind not in SET_WITH_RAPPEL:
        raise NotFound("reminder.not_found", number=number)
    if reminder.owner != ctx.sender and ctx.role < Role.COORDINATOR:
        raise Forbidden("reminder.not_yours", number=number)
    return reminder


class ReminderRef(NumberRef):
    """One's own pending reminder by its number (``own_reminder``)."""

    async def find(self, ctx: Context, number: int) -> Reminder:
        return await own_reminder(ctx, number)


async def room_right(ctx: Context, _arguments: Mapping[str, Any]) -> None:
    """Room reminders: coordinators anywhere, members of a group in the group's room."""
    if ctx.role >= Role.COORDINATOR:
        return
    if not await in_their_group_room(ctx.db(), ctx.room_id, ctx.sender):
        raise Forbidden("reminder.room_forbidden")


SPEC = Param("spec", Text(max_length=2000), rest=True, shows=("when", "text"))
REMINDER = Param("reminder", ReminderRef(), shows=("number",))


@command("rappel", fr=("rappel", "rappels", "rappelle-moi", "rappellemoi"),
         en=("remind", "remindme", "reminder", "reminders"), section="reminders", params=(SPEC,))
async def rappel(ctx: Context, spec: str) -> Reply:
    return await _create(ctx, spec, room=False)


@rappel.subcommand("salon", fr=("salon", "ici"), en=("room", "here"), params=(SPEC,),
                   checks=(room_right,))
async def salon(ctx: Context, spec: str) -> Reply:
    return await _create(ctx, spec, room=True)


@rappel.subcommand("chaque", fr=("chaque",), en=("every",),
                   params=(Param("spec", Text(max_length=2000), rest=True,
                                 shows=("rule", "text")),))
async def chaque(ctx: Context, spec: str) -> Reply:
    return await _create(ctx, "chaque " + spec, room=False)


@rappel.subcommand("liste", fr=("liste", "mes"), en=("list", "mine"), options=(PAGE,))
async def liste(ctx: Context, page: PageRequest) -> Reply:
    room = ctx.room_id if ctx.role >= Role.COORDINATOR else None
    pending = await ctx.db().reminders.pending_of(ctx.sender, room)
    if not pending:
        return Reply(ctx.t("reminder.none", prefix=ctx.club.prefix))
    entries = Section([_line(ctx, reminder) for reminder in pending],
                      heading=ctx.t("reminder.list_title", count=len(pending)))
    return Reply(paged(page, [entries], ctx.t, ctx.club.prefix,
                       tail=ctx.t("reminder.list_help", prefix=ctx.club.prefix)))


@rappel.subcommand("annuler", fr=("annuler", "supprimer"), en=("cancel", "delete"),
                   params=(REMINDER,))
async def annuler(ctx: Context, reminder: Reminder) -> Reply:
    reminder.status = "cancelled"
    return Reply(ctx.t("reminder.cancelled", number=reminder.id,
                       text=escape_markdown(reminder.text)), reschedule=(REMINDERS_KIND,))


@rappel.subcommand("reporter", fr=("reporter", "decaler", "deplacer"),
                   en=("move", "snooze", "postpone"),
                   params=(REMINDER, Param("when", Text(200), rest=True)))
async def reporter(ctx: Context, reminder: Reminder, when: str) -> Reply:
    moment, rest = split_moment(when, now=ctx.now, tz=ctx.club.tz, language=ctx.t.language)
    if rest.strip():
        raise BadArgument("reminder.move_extra", extra=rest[:60])
    reminder.due_at = reminder.send_at = moment
    return Reply(ctx.t("reminder.moved", number=reminder.id,
                       when=format_moment(moment, ctx.t.language, ctx.club.tz)),
                 reschedule=(REMINDERS_KIND,))


async def _create(ctx: Context, spec: str, *, room: bool) -> Reply:
    """``<quand> <texte>`` or ``chaque <règle> <texte>``."""
    repos = ctx.db()
    rule: Recurrence | None = None
    read, text = split_reminder(spec, now=ctx.now, tz=ctx.club.tz, language=ctx.t.language)
    if isinstance(read, Recurrence):
        rule, due = read, read.next_after(ctx.now, ctx.club.tz)
    else:
        due = read
    text = text.strip()
    if not text:
        raise MissingArgument("error.missing_argument", name="text")
    if len(text) > TEXT_MAX:
        raise BadArgument("error.text_too_long", maximum=TEXT_MAX)
    if await repos.reminders.count_pending_of(ctx.sender) >= MAX_PER_PERSON:
        raise UserError("reminder.too_many", maximum=MAX_PER_PERSON, prefix=ctx.club.prefix)
    number = await repos.reminders.add(
        kind=_kind(ctx, room), room_id=ctx.room_id, owner=ctx.sender, text=text,
        rule=rule.to_rule() if rule else None, due_at=due, send_at=due, meeting_id=None,
        offset="", created_at=ctx.now)
    when = format_moment(due, ctx.t.language, ctx.club.tz)
    if rule is not None:
        key = "reminder.created_room_every" if room else "reminder.created_every"
        text_reply = ctx.t(key, number=number, rule=rule.describe(ctx.t.language), when=when,
                           prefix=ctx.club.prefix)
    else:
        key = "reminder.created_room" if room else "reminder.created"
        text_reply = ctx.t(key, number=number, when=when, prefix=ctx.club.prefix)
    return Reply(text_reply, reschedule=(REMINDERS_KIND,))


def _kind(ctx: Context, room: bool) -> str:
    """For oneself; for the room, set by a coordinator; or by a member in their group's room
    (``room_right``), sent only while they are a member of the group whose room it is."""
    if not room:
        return "personal"
    return "room" if ctx.role >= Role.COORDINATOR else GROUP_ROOM


def _line(ctx: Context, reminder: Reminder) -> str:
    when = format_moment(reminder.due_at, ctx.t.language, ctx.club.tz)
    if reminder.rule:
        when = Recurrence.from_rule(reminder.rule).describe(ctx.t.language) + " — " + ctx.t(
            "reminder.next", when=when)
    where = " " + ctx.t("reminder.in_room") if reminder.kind in ROOM_KINDS else ""
    return f"- n°{reminder.id} — {when}{where} : {escape_markdown(reminder.text)}"

