"""Who organises the club's events and date polls: the coordinators, everything; a group's
referents, their group's events and polls (said in the group's room, or with ``--groupe``);
for ``!rencontre modifier`` and the attendance (``presences``, ``effectif``, ``invite``,
``oublier-invite``, ``feuille``), the event's organiser too.

The ``!rencontre`` and ``!sondage`` families declare ``organisers_only`` once: it finds the
groups a command is about from its arguments (``groups_of``) before the handler runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from commands.context import Context
from commands.errors import Forbidden
from commands.params import Check
from commands.projects.names import find_group, group_label
from commands.roles import Role

if TYPE_CHECKING:
    from storage.models import ProjectGroup


async def groups_of(ctx: Context, arguments: Mapping[str, Any]) -> list[ProjectGroup | None]:
    """The groups a command is about (``None``: the whole club or a territory): its event's,
    its poll's (the poll's room is the group's), and the one named with ``--groupe``; with
    neither, the room's (unless ``--territoire`` is given)."""
    repos = ctx.db()
    found: list[ProjectGroup | None] = []
    meeting, poll = arguments.get("meeting"), arguments.get("poll")
    if meeting is not None:
        found.append(None if meeting.group_id is None else await repos.groups.get(meeting.group_id))
    if poll is not None:
        found.append(await repos.groups.by_room(poll.room_id))
    if arguments.get("group"):
        found.append(await find_group(repos, arguments["group"]))
    if not found and not arguments.get("territory"):
        found.append(await repos.groups.by_room(ctx.room_id))
    return found or [None]


def organisers_only(*, organiser: bool = False, refusals: str = "meeting") -> Check:
    """A check: the coordinators, or the referents of the groups the command is about (and,
    with ``organiser``, the event's organiser); anyone else is told who may, by the
    ``organisers_only…`` messages of the catalogue section ``refusals``."""

    async def check(ctx: Context, arguments: Mapping[str, Any]) -> None:
        if ctx.role >= Role.COORDINATOR:
            return
        meeting = arguments.get("meeting")
        if organiser and meeting is not None and meeting.organiser == ctx.sender:
            return
        suffix = "_or_organiser" if organiser else ""
        for group in await groups_of(ctx, arguments):
            if group is None:
                raise Forbidden(f"{refusals}.organisers_only{suffix}")
            member = await ctx.db().groups.membership(group.id, ctx.sender)
            if member is None or not member.referent:
                raise Forbidden(f"{refusals}.group_organisers_only{suffix}",
                                group=group_label(group))

    return check


async def group_by_default(ctx: Context, options: Mapping[str, Any],
                           room_id: str | None = None) -> Mapping[str, Any]:
    """The options of an event or poll said in a group's room (or, with ``room_id``, coming
    from a poll held there), without ``--groupe`` nor ``--territoire``: for that group."""
    if options.get("group") or options.get("territory"):
        return options
    group = await ctx.db().groups.by_room(room_id or ctx.room_id)
    return options if group is None else {**options, "group": str(group.id)}
