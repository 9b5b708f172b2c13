"""The first start ever asks the homeserver for the rooms' state and one event per room (the
last, which marks where history ends): what was said before is never answered, and a year of it
in the club's 60 rooms is neither sent nor read. A stand-in homeserver on loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import Bot
from bot.config import parse_settings
from tests.unit.test_transport_deadlines import _server

ROOM = "!main:localhost"


async def test_the_first_sync_asks_one_event_per_room(tmp_path: Path) -> None:
    filters: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.Response:
        if request.path.endswith("/sync"):
            filters.append(json.loads(request.query["filter"]))
            event = {"type": "m.room.message", "event_id": "$last", "sender": "@a:localhost",
                     "origin_server_ts": 1, "content": {"msgtype": "m.text", "body": "!ping"}}
            return web.json_response({"next_batch": "s1", "rooms": {"join": {ROOM: {
                "timeline": {"events": [event], "limited": True, "prev_batch": "p0"},
                "state": {"events": []}}}}})
        return web.json_response({})

    runner, url = await _server(handler)
    settings = parse_settings({
        "matrix": {"homeserver": url, "user_id": "@bot:localhost", "password": "x",
                   "store_path": "store", "encryption": False},
        "database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'cct.db'}"},
        "club": {"charter": "x"}, "rooms": {"main": ROOM},
    }, base=tmp_path, env={})
    bot = Bot(settings)
    bot.transport.client.restore_login("@bot:localhost", "DEVICE", "token")
    try:
        await bot.db.upgrade()
        await bot._first_sync()
        assert [f["room"]["timeline"]["limit"] for f in filters] == [1]
        async with bot.db.transaction() as repos:
            assert [row.last_event_id for row in await repos.rooms.all()] == ["$last"]
            assert await repos.inbox.pending() == []
    finally:
        await bot.transport.close()
        await bot.db.dispose()
        await runner.cleanup()
