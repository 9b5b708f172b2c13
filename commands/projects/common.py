"""What the ``!projet`` handlers share: the command itself, its editors' check, the audit trail
and the invitations into a group's room."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from commands.context import Context
from commands.effects import Invite, Post, Reply
from commands.errors import BadArgument, Forbidden, MissingArgument
from commands.i18n import Translator
from commands.params import Check
from commands.projects.names import Found, group_label
from commands.registry import group
from commands.roles import Role
from commands.text import pill, room_link

if TYPE_CHECKING:
    from storage.models import ProjectGroup

TEXT_MAX = 2000
DESCRIPTION_MAX = 1000

projet = group("projet", fr=("projet", "projets"), en=("project", "projects"),
               section="projects")


async def require_editor(ctx: Context, group: ProjectGroup,
                         key: str = "projects.edit_forbidden") -> None:
    """Referents of the group and coordinators only."""
    if ctx.role >= Role.COORDINATOR:
        return
    member = await ctx.db().groups.membership(group.id, ctx.sender)
    if member is None or not member.referent:
        raise Forbidden(key, group=group_label(group))


def editors_only(key: str = "projects.edit_forbidden") -> Check:
    """A check: the group named (the ``group`` argument) is for its referents and the
    coordinators only; others are refused with ``key``."""

    async def check(ctx: Context, arguments: Mapping[str, Any]) -> None:
        named = arguments["group"]
        await require_editor(ctx, named.group if isinstance(named, Found) else named, key)

    return check


# ``!projet besoin|statut|referent|salon``: the group's referents (and coordinators) only
editing = projet.family(role=Role.REFERENT, checks=(editors_only(),))


async def audit(ctx: Context, group: ProjectGroup, action: str, **details: str) -> None:
    await ctx.db().audit.record(actor=ctx.sender, subject="group", subject_id=group.id,
                                action=action, at=ctx.now, **details)


def invites(t: Translator, group: ProjectGroup, people: Sequence[str], told_in: str,
            notify: bool = False) -> tuple[Invite, ...]:
    """People invited into the group's room; an invitation the homeserver forbids is told in
    ``told_in`` (notifying the person when ``notify``)."""
    room = str(group.room_id)
    link = room_link(room, group.name)
    return tuple(Invite(room, person, refused=Post(told_in, Reply(
        t("projects.invite_refused", user=pill(person), group=group_label(group), room=link),
        mentions=(person,) if notify else ()))) for person in people)


def non_empty(raw: str, name: str, limit: int) -> str:
    value = raw.strip()
    if not value:
        raise MissingArgument("error.missing_argument", name=name)
    if len(value) > limit:
        raise BadArgument("error.text_too_long", maximum=limit)
    return value
