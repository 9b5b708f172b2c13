"""A group's room: ``!projet salon`` links an existing room or has one created; what becomes of
the creation (``room_opened``, the outcome ``ROOM_OPENED``)."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from commands.arguments import Text
from commands.context import Context, RoomOutcome
from commands.effects import CreateRoom, Effect, Leave, Outcome, Post, Reply, effect_txn
from commands.errors import Forbidden, UserError
from commands.limits import check_daily
from commands.params import Param
from commands.projects.common import audit, editing, invites
from commands.projects.names import Found, GroupThen, group_label
from commands.text import room_link

if TYPE_CHECKING:
    from storage.models import ProjectGroup

MODERATOR = 50  # the power level of a room's moderators (Element's « Modérateur »)
ROOM_OPENED = "group_room"  # the outcome of a group's room creation


@editing.subcommand("salon", fr=("salon",), en=("room",),
                    params=(Param("group", GroupThen(Text(400), optional=True), rest=True,
                                  shows=("group", "room?…")),))
async def salon(ctx: Context, group: Found) -> Reply:
    """Links an existing room to the group and invites its members, or asks for the group's
    room to be created: « Salon créé » (or why not) follows once it exists (``room_opened``)."""
    target, existing = group.group, group.rest.strip()
    label = group_label(target)
    if not existing and target.room_id:
        return Reply(ctx.t("projects.room_exists", group=label, prefix=ctx.club.prefix,
                           room=room_link(target.room_id, target.name)))
    key = await _creation_key(ctx, target)
    if key is None:
        raise UserError("projects.room_under_way", group=label)
    members = await ctx.db().groups.members(target.id)
    if not existing:
        create = CreateRoom(ctx.room_id, name=target.name, topic=target.description,
                            space=ctx.club.space,
                            moderators=tuple(m.user_id for m in members if m.referent),
                            outcome=Outcome(ROOM_OPENED, {"group": target.id,
                                                          "user_id": ctx.sender}), key=key)
        return Reply(ctx.t("projects.room_creating", group=label), effects=(create,))
    room_id = await _linkable_room(ctx, existing)
    await check_daily(ctx, "room_links_per_day")
    target.room_id = room_id
    target.updated_at = ctx.now
    await audit(ctx, target, "room_linked", room=room_id)
    outside = [m.user_id for m in members if not _joined(ctx, room_id, m.user_id)]
    told = "projects.room_linked" if outside else "projects.room_linked_all_there"
    return Reply(ctx.t(told, group=label, room=room_link(room_id, target.name), count=len(outside)),
                 effects=invites(ctx.t, target, outside, ctx.room_id))


def _joined(ctx: Context, room_id: str, user_id: str) -> bool:
    """Whether the bot's synced state shows ``user_id`` joined to ``room_id`` (an
    invitation there would be refused)."""
    facts = ctx.homeserver().room_facts(room_id, user_id)
    return facts is not None and facts.joined is True


async def _creation_key(ctx: Context, group: ProjectGroup) -> str | None:
    """The key of a new creation of ``group``'s room, ``None`` while one is under way (queued,
    its outcome not recorded yet): one key per attempt, so a refused one, or one set aside
    after failing for ``send_retry_hours``, can be tried again."""
    outbox = ctx.db().outbox
    for attempt in itertools.count(1):
        key = f"group-{group.id}-room-{attempt}"
        if not await outbox.has(effect_txn(key)):
            return key
        if await outbox.reference(effect_txn(key)) is None:  # still queued, or retried
            return None
    raise AssertionError("unreachable")  # pragma: no cover


async def room_opened(done: RoomOutcome) -> list[Effect]:
    """The group's new room exists (recorded on the group, its members invited, « Salon créé »
    told where it was asked), or the homeserver refused it (told there too)."""
    t, told_in = done.t, done.told_in
    group = await done.repos.groups.get(int(done.data["group"]))
    if group is None:
        return [Leave(done.room_id)] if done.room_id else []
    label = group_label(group)
    if done.room_id is None:
        return [Post(told_in, Reply(t("projects.room_failed", group=label,
                                      prefix=done.club.prefix)))]
    if group.room_id:  # linked to another room meanwhile: this one is not needed
        return [Leave(done.room_id)]
    group.room_id = done.room_id
    group.updated_at = done.now
    await done.repos.audit.record(actor=str(done.data["user_id"]), subject="group",
                                  subject_id=group.id, action="room_created", at=done.now,
                                  room=done.room_id)
    members = [m.user_id for m in await done.repos.groups.members(group.id)]
    text = t("projects.room_created", group=label, count=len(members),
             room=room_link(done.room_id, group.name))
    if done.space_refused:
        text += "\n\n" + t("projects.space_refused")
    return [Post(told_in, Reply(text)), *invites(t, group, members, told_in)]


async def _linkable_room(ctx: Context, room: str) -> str:
    """The id of an existing room that may become a group's: the bot is there already (it
    never joins a room because a command named it), the asker is there as a moderator, and it
    is neither a club room nor a group's (this one's included)."""
    facts = ctx.homeserver().room_facts(room, ctx.sender)
    if facts is None:
        raise UserError("projects.room_bot_absent", room=room[:80])
    if facts.room_id in ctx.club.rooms.values():
        raise UserError("projects.room_is_club_room")
    other = await ctx.db().groups.by_room(facts.room_id)
    if other is not None:  # the group's own too: linked again, it would invite everyone again
        raise UserError("projects.room_taken", group=group_label(other))
    if facts.joined is None:
        raise UserError("projects.room_members_unknown")
    if not facts.joined or facts.power < MODERATOR:
        raise Forbidden("projects.room_not_moderator")
    return facts.room_id
