"""What the actions' commands share: their statuses, who is in charge of one, who may close
one, how one reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.context import Club, Context
from commands.dates import format_day
from commands.i18n import Translator
from commands.roles import Role
from commands.text import escape_markdown, one_line, pill, shorten

if TYPE_CHECKING:
    from storage.models import Action, Meeting, ProjectGroup
    from storage.repositories import Repositories

OPEN, DONE, CANCELLED = "ouverte", "faite", "annulee"
TEXT_MAX = 500  # what an action says
SHOWN = 200  # what a list shows of it
OPEN_PER_MEETING = 50  # open actions of one event: no one is named (mentioned) without end


async def may_close(ctx: Context, action: Action, meeting: Meeting | None) -> bool:
    """The person in charge, the referents of the group in charge, whoever recorded it, the
    event's organiser, the coordinators."""
    if ctx.role >= Role.COORDINATOR or ctx.sender in (action.assignee, action.created_by):
        return True
    if meeting is not None and meeting.organiser == ctx.sender:
        return True
    if action.group_id is None:
        return False
    member = await ctx.db().groups.membership(action.group_id, ctx.sender)
    return member is not None and member.referent


def who(action: Action, groups: dict[int, ProjectGroup], t: Translator) -> str:
    """The person (a pill) or the group in charge."""
    if action.assignee:
        return pill(action.assignee)
    group = groups.get(action.group_id or 0)
    name = escape_markdown(group.name) if group else f"n°{action.group_id}"
    return t("action.group", name=name)


def due(action: Action, club: Club, t: Translator) -> str:
    """« pour le jeudi 14 janvier 2027 », or nothing."""
    if action.due_at is None:
        return ""
    return t("action.due", day=format_day(action.due_at, t.language, club.tz))


def line(action: Action, groups: dict[int, ProjectGroup], club: Club, t: Translator,
         *, late: bool = False, meeting: bool = True) -> str:
    """``- n°3 Envoyer le devis — @bob — pour le … — rencontre n°1`` (its event left out
    without ``meeting``); a closed one says so (« faite », « annulée »)."""
    parts = [f"- n°{action.id} {escape_markdown(shorten(one_line(action.text), SHOWN))}",
             who(action, groups, t)]
    if action.due_at is not None:
        parts.append(due(action, club, t) + (" " + t("action.late") if late else ""))
    if meeting:
        parts.append(t("action.of_meeting", number=action.meeting_id))
    if action.status != OPEN:
        parts.append(t(f"action.status_{action.status}"))
    return " — ".join(parts)


async def groups_of(repos: Repositories, actions: list[Action]) -> dict[int, ProjectGroup]:
    """The groups in charge of ``actions``, by id."""
    found = {}
    for group_id in {a.group_id for a in actions if a.group_id is not None}:
        group = await repos.groups.get(group_id)
        if group is not None:
            found[group_id] = group
    return found
