"""A room's member list read from the homeserver (``bot.members``): the room's members become
those the homeserver lists (the departed leave it, the invited stay), the list is applied a
bounded number at a time with the event loop free in between (the club's main room holds
3,500 people), a refusal leaves the room as it was. A stand-in homeserver on loopback."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web
from nio import MatrixRoom

from bot import members as member_lists
from tests.loop_turns import counted_turns
from tests.unit.test_transport_deadlines import ROOM, _server, make_transport

PEOPLE = {f"@p{n}:localhost": {"display_name": f"Personne {n}", "avatar_url": None}
          for n in range(1200)}


def _room(transport_rooms: dict[str, MatrixRoom]) -> MatrixRoom:
    room = MatrixRoom(ROOM, "@bot:localhost")
    room.add_member("@gone:localhost", "Partie", None)  # left since the last sync
    room.add_member("@invited:localhost", "Invitée", None, invited=True)
    room.add_member("@p1:localhost", "Ancien nom", None)
    transport_rooms[ROOM] = room
    return room


async def test_a_member_list_is_applied_whole_a_bounded_number_at_a_time(
        tmp_path: Path) -> None:
    asked: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        asked.append(request.path)
        return web.json_response({"joined": {**PEOPLE, "@odd:localhost": "not an object"}})

    runner, url = await _server(handler)
    transport = make_transport(tmp_path, url)
    room = _room(transport.client.rooms)
    try:
        async with counted_turns() as turns:  # what the loop runs meanwhile: the sync, other rooms
            members = await member_lists.joined_members(transport.client, ROOM)
            before = turns.count
            await member_lists.apply_members(transport.client, room, members, chunk=500)
            assert turns.count - before >= 2  # the loop ran between the 3 chunks of 1,200
        assert asked == [f"/_matrix/client/v3/rooms/{ROOM}/joined_members"]
        assert set(room.users) == {*PEOPLE, "@invited:localhost"}
        assert room.members_synced
        assert room.users["@p7:localhost"].display_name == "Personne 7"
        assert "@invited:localhost" in room.invited_users
    finally:
        await transport.close()
        await runner.cleanup()


async def test_the_transport_loads_partial_member_lists_and_survives_a_refusal(
        tmp_path: Path) -> None:
    refused = {"!refused:localhost"}

    async def handler(request: web.Request) -> web.Response:
        if request.match_info["tail"].split("/")[4] in refused:
            return web.Response(status=403, content_type="application/json",
                                text=json.dumps({"errcode": "M_FORBIDDEN", "error": "no"}))
        return web.json_response({"joined": dict(list(PEOPLE.items())[:3])})

    runner, url = await _server(handler)
    transport = make_transport(tmp_path, url)
    room = _room(transport.client.rooms)
    other = MatrixRoom("!refused:localhost", "@bot:localhost")
    other.add_member("@x:localhost", None, None)
    transport.client.rooms[other.room_id] = other
    try:
        await transport.load_members([other.room_id, ROOM])
        assert set(room.users) == {"@p0:localhost", "@p1:localhost", "@p2:localhost",
                                   "@invited:localhost"}
        assert room.members_synced
        assert set(other.users) == {"@x:localhost"} and not other.members_synced
        assert await transport.joined_members(ROOM) == ["@p0:localhost", "@p1:localhost",
                                                        "@p2:localhost"]
    finally:
        await transport.close()
        await runner.cleanup()
