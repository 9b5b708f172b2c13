from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


async def test_ping_in_main_room(bot_factory, users) -> None:
    chargee = await users("chargee")
    runner = await bot_factory(start=False, club={"coordinators": [chargee.user_id],
                                                  "allowed_inviters": [chargee.user_id]})
    room = await chargee.create_room(name="CCT", invite=[runner.user_id])
    runner.overrides["rooms"] = {"main": room}
    await runner.start()
    event_id = await chargee.send_text(room, "!ping")
    reply = await chargee.wait_for_reply(room, event_id)
    assert "pong" in reply.body
