"""A room's member list asked of the homeserver (``/joined_members``), read without nio's
response classes and applied to nio's room a bounded number of members at a time.

nio's own ``joined_members`` validates the answer against its JSON schema and applies it to
the room in one go, in the event loop's thread (a quarter of a second for the club's main room
of 3,500 people). Here the answer is read as plain JSON, checked for its shape only, and
applied ``MEMBER_CHUNK`` members at a time, the loop free in between (the sync and the
commands of the other rooms go on meanwhile)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from nio import AsyncClient, MatrixRoom

from bot.matrix_api import MatrixError, api_request

MEMBER_CHUNK = 500  # members added to nio's room between two turns of the loop

Members = dict[str, tuple[str | None, str | None]]  # user id → (display name, avatar url)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


async def joined_members(client: AsyncClient, room_id: str, timeout_s: float | None = None
                         ) -> Members:
    """Who is joined to ``room_id`` now, with their names and avatars in it; ``MatrixError``
    when the homeserver refuses or does not answer."""
    what = f"members of {room_id}"
    status, answer = await api_request(client, "GET", f"rooms/{room_id}/joined_members", {},
                                       timeout_s)
    joined = answer.get("joined")
    if status != 200 or not isinstance(joined, dict):
        raise MatrixError(what, SimpleNamespace(status_code=answer.get("errcode", status),
                                                message=answer.get("error", "")))
    return {str(user): (_text(info.get("display_name")), _text(info.get("avatar_url")))
            for user, info in joined.items() if isinstance(info, dict)}


async def apply_members(client: AsyncClient, room: MatrixRoom, members: Members,
                        chunk: int = MEMBER_CHUNK) -> bool:
    """``room``'s member list becomes ``members`` (as nio does with a ``/joined_members``
    answer: those no longer joined leave it, the invited stay), ``chunk`` additions at a
    time; then it is known whole (``members_synced``). ``False`` when the bot left the room
    meanwhile (nothing more is applied)."""
    for user_id in [u for u, user in room.users.items() if not user.invited and u not in members]:
        room.remove_member(user_id)
    pending = list(members.items())
    for start in range(0, len(pending), chunk):
        if start:
            await asyncio.sleep(0)
            if client.rooms.get(room.room_id) is not room:
                return False
        for user_id, (name, avatar) in pending[start:start + chunk]:
            room.add_member(user_id, name, avatar)
    room.members_synced = True
    if room.encrypted and client.olm is not None:
        client.olm.update_tracked_users(room)
    return True
