"""``!rencontre action``, ``!actions``, ``!action fait|annuler``: the actions decided at an
event, in the charge of a member or a groupe-projet, listed until they are done or cancelled."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import time
from typing import TYPE_CHECKING, Any

from commands.actions import common
from commands.actions.common import CANCELLED, DONE, OPEN, OPEN_PER_MEETING, TEXT_MAX
from commands.actions.reminding import plan_action
from commands.arguments import Text, UserId
from commands.context import Context
from commands.dates import format_moment, parse_moment
from commands.effects import Reply
from commands.errors import NotFound, UserError
from commands.limits import check_daily
from commands.meetings.common import MEETING, rencontre
from commands.meetings.details import GROUP, clean_text
from commands.meetings.organisers import organisers_only
from commands.meetings.programme import ProgrammeGroup
from commands.meetings.reminders import REMINDERS_KIND
from commands.meetings.vocabulary import CANCELLED as MEETING_CANCELLED
from commands.meetings.vocabulary import PRESENT
from commands.paging import Section, paged
from commands.params import PAGE, NumberRef, Option, Param
from commands.projects.names import GroupRef
from commands.registry import PageRequest, command, group
from commands.roles import Role
from commands.text import Markdown, escape_markdown, pill
from matrix_ids import MATRIX_TO

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from storage.models import Action, Meeting, ProjectGroup

DUE = Option("due", Text(200), fr=("pour", "echeance", "avant"), en=("by", "due"))
DUE_TIME = time(18, 0)  # « pour vendredi »: Friday, 18:00


@dataclass(frozen=True)
class Assignee:
    """``@someone:server`` (a club member) or a group (``GroupRef``)."""

    kind: str = "assignee"

    def read(self, raw: str) -> None:
        if _is_person(raw):
            UserId().convert(raw)

    async def convert(self, ctx: Context, raw: str) -> str | ProjectGroup:
        if not _is_person(raw):
            return await GroupRef().convert(ctx, raw)
        user = UserId().convert(raw)
        if not await ctx.is_member(user):
            raise UserError("action.not_member", user=escape_markdown(user))
        return user


def _is_person(raw: str) -> bool:
    return raw.startswith("@") or MATRIX_TO in raw


@dataclass(frozen=True)
class ActionRef(NumberRef):
    """An action by its number."""

    async def find(self, ctx: Context, number: int) -> Action:
        action = await ctx.db().actions.get(number)
        if action is None:
            raise NotFound("action.not_found", number=number, prefix=ctx.club.prefix)
        return action


_ORGANISERS = organisers_only(organiser=True)


async def organising(ctx: Context, arguments: Mapping[str, Any]) -> None:
    """The coordinators, the event's organiser and, for a group's event, its referents, at an
    event that has begun."""
    meeting: Meeting = arguments["meeting"]
    await _ORGANISERS(ctx, arguments)
    if meeting.status == MEETING_CANCELLED:
        raise UserError("action.meeting_cancelled", number=meeting.id)
    if meeting.starts_at > ctx.now:
        raise UserError("action.meeting_to_come", number=meeting.id)


@rencontre.subcommand("action", fr=("action", "decision"),
                      params=(MEETING, Param("who", Assignee()),
                              Param("text", Text(10_000), rest=True)),
                      options=(DUE,), checks=(organising,), names_people=True,
                      role=Role.REFERENT, organisers=True)
async def rencontre_action(ctx: Context, meeting: Meeting, who: str | ProjectGroup, text: str,
                           due: str | None) -> Reply:
    """Records an action in the charge of ``who``; its reminder before the due date."""
    value = clean_text(text, "text", TEXT_MAX)
    due_at = (parse_moment(due, now=ctx.now, tz=ctx.club.tz, default_time=DUE_TIME,
                           language=ctx.t.language) if due else None)
    repos = ctx.db()
    await _may_give(ctx, meeting, who)
    if await repos.actions.count_open_of_meeting(meeting.id) >= OPEN_PER_MEETING:
        raise UserError("action.too_many", number=meeting.id, limit=OPEN_PER_MEETING)
    await check_daily(ctx, "actions_per_day")
    person = who if isinstance(who, str) else None
    group_id = None if isinstance(who, str) else who.id
    action = await repos.actions.add(meeting_id=meeting.id, assignee=person, group_id=group_id,
                                     text=value, due_at=due_at, created_by=ctx.sender,
                                     created_at=ctx.now)
    await repos.audit.record(actor=ctx.sender, subject="action", subject_id=action.id,
                             action="created", at=ctx.now, meeting=meeting.id, user=person,
                             group=action.group_id, text=value[:200])
    reminded = await plan_action(repos, action, meeting, ctx.club, ctx.now)
    return Reply(_recorded(ctx, action, who, reminded), mentions=(person,) if person else (),
                 reschedule=(REMINDERS_KIND,) if reminded else ())


async def _may_give(ctx: Context, meeting: Meeting, who: str | ProjectGroup) -> None:
    """Who an action may be given to (the bot names them, reminds them): anyone, by a
    coordinator; else the event's own group, a member of it, or someone who answered present
    at the event (or the sender). Refused otherwise."""
    if ctx.role >= Role.COORDINATOR:
        return
    repos = ctx.db()
    if isinstance(who, str):
        if who == ctx.sender or await repos.meetings.rsvp(meeting.id, who) == PRESENT:
            return
        if (meeting.group_id is not None
                and await repos.groups.membership(meeting.group_id, who) is not None):
            return
        shown = escape_markdown(who)
    elif who.id == meeting.group_id:
        return
    else:
        shown = Markdown(ctx.t("action.group", name=escape_markdown(who.name)))
    raise UserError("action.not_for_you", number=meeting.id, who=shown)


def _recorded(ctx: Context, action: Action, who: str | ProjectGroup,
              reminded: datetime | None) -> str:
    """What was recorded, for whom, when they will be reminded, how to close it."""
    t = ctx.t
    groups = {} if isinstance(who, str) else {who.id: who}
    text = t("action.recorded", number=action.id, meeting=action.meeting_id, by=pill(ctx.sender),
             text=escape_markdown(action.text), who=common.who(action, groups, t),
             due=(" " + common.due(action, ctx.club, t)) if action.due_at else "")
    if reminded is not None:
        where = "action.reminded_direct" if isinstance(who, str) else "action.reminded_group"
        text += " " + t(where, when=format_moment(reminded, t.language, ctx.club.tz))
    return text + " " + t("action.how_to_close", prefix=ctx.club.prefix, number=action.id)


@command("actions", fr=("actions",), section="meetings",
         options=(replace(GROUP, converter=ProgrammeGroup()), PAGE), names_people=True)
async def actions(ctx: Context, page: PageRequest, group: ProjectGroup | None) -> Reply:
    """The open actions (of one group's charge with ``--groupe``), oldest event first."""
    repos = ctx.db()
    found = list(await repos.actions.open(group_id=group.id if group else None))
    if not found:
        return Reply(ctx.t("action.none_open", prefix=ctx.club.prefix))
    groups = await common.groups_of(repos, found)
    lines = [common.line(a, groups, ctx.club, ctx.t,
                         late=a.due_at is not None and a.due_at < ctx.now) for a in found]
    arguments = f"--groupe {group.slug}" if group else ""
    return Reply(paged(page, [Section(lines)], ctx.t, ctx.club.prefix, arguments=arguments,
                       head=ctx.t("action.list_title", count=len(found)),
                       tail=ctx.t("action.how_to_close", prefix=ctx.club.prefix, number="n")))


async def card_section(ctx: Context, meeting: Meeting) -> tuple[str, list[str]]:
    """``!rencontre info``'s part (``MEETING_CARD``): the actions decided at the event, who,
    what, for when, in the order recorded; the closed ones say so."""
    repos = ctx.db()
    found = list(await repos.actions.of_meeting(meeting.id))
    groups = await common.groups_of(repos, found)
    lines = [common.line(a, groups, ctx.club, ctx.t, meeting=False,
                         late=a.status == OPEN and a.due_at is not None and a.due_at < ctx.now)
             for a in found]
    return ctx.t("action.card_title", count=len(found)), lines


action = group("action", fr=("action",), section="meetings")  # the same word in English
ACTION = Param("action", ActionRef(), shows=("number",))


async def _close(ctx: Context, target: Action, status: str) -> Reply:
    repos = ctx.db()
    if target.status != OPEN:
        raise UserError(f"action.already_{target.status}", number=target.id)
    meeting = await repos.meetings.get(target.meeting_id)
    if not await common.may_close(ctx, target, meeting):
        raise UserError("action.not_in_charge", number=target.id)
    await repos.actions.close(target, status, ctx.sender, ctx.now)
    await repos.audit.record(actor=ctx.sender, subject="action", subject_id=target.id,
                             action=status, at=ctx.now)
    return Reply(ctx.t(f"action.closed_{status}", number=target.id,
                       text=escape_markdown(target.text)), reschedule=(REMINDERS_KIND,))


@action.subcommand("fait", fr=("fait", "faite", "terminee", "terminer"), en=("done", "finished"),
                   params=(ACTION,))
async def fait(ctx: Context, action: Action) -> Reply:
    return await _close(ctx, action, DONE)


@action.subcommand("annuler", fr=("annuler", "abandonner"), en=("cancel", "drop"),
                   params=(ACTION,))
async def annuler(ctx: Context, action: Action) -> Reply:
    return await _close(ctx, action, CANCELLED)


__all__ = ["action", "actions", "card_section", "rencontre_action"]
