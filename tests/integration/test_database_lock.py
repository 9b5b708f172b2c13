"""Another process holds the bot's SQLite write lock for 10 s, on the real Synapse: another room
is answered meanwhile, the command that must write is answered once after, its sender told once
that the database is busy. Nothing lost, nothing twice."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.matrix_user import MatrixUser
from tests.lock_holder import LockHolder

pytestmark = pytest.mark.integration
LOCK_HELD_S = 10.0
BUSY = "La base de données est occupée, je réessaie…"


def _bodies(user: MatrixUser, room: str, event_id: str) -> list[str]:
    return [event.body for event in user.replies_to(room, event_id)]  # type: ignore[attr-defined]


async def test_a_10_second_lock_by_another_process(bot_factory, users) -> None:
    chargee = await users("chargee")
    runner = await bot_factory(start=False, club={"allowed_inviters": [chargee.user_id]},
                               database={"busy_notice_seconds": 5})
    room_a = await chargee.create_room(name="CCT", invite=[runner.user_id])
    runner.overrides["rooms"] = {"main": room_a}
    bot = await runner.start()
    await chargee.wait_membership(room_a, runner.user_id, "join")
    room_b = await chargee.create_room(name="Groupe vélo", invite=[runner.user_id])
    await chargee.wait_membership(room_b, runner.user_id, "join")
    warm = await chargee.send_text(room_b, "!ping")
    await chargee.wait_for_reply(room_b, warm, timeout=60)

    loop = asyncio.get_running_loop()
    async with LockHolder(bot.db.url.split("///", 1)[1]) as other:
        locked_at = loop.time()
        writes = await chargee.send_text(room_a, "!projet creer Atelier vélo")
        ping = await chargee.send_text(room_b, "!ping")
        pong = await chargee.wait_for_reply(room_b, ping, timeout=60)
        # answered while the other process still holds the lock (it is released below)
        assert "pong" in pong.body and bot.db.lock.held
        notice = await chargee.wait_for_reply(room_a, writes, timeout=60)
        assert notice.body == BUSY
        await asyncio.sleep(max(0.0, locked_at + LOCK_HELD_S - loop.time()))  # the fault's length
        assert _bodies(chargee, room_a, writes) == [BUSY]  # not answered before the lock frees
        await other.release()

    async def answered() -> None:
        while len(chargee.replies_to(room_a, writes)) < 2:
            await asyncio.sleep(0.2)

    await asyncio.wait_for(answered(), 60)
    sentinel = await chargee.send_text(room_a, "!ping")  # anything more would come before it
    await chargee.wait_for_reply(room_a, sentinel, timeout=60)
    bodies = _bodies(chargee, room_a, writes)
    assert bodies[0] == BUSY and len(bodies) == 2  # told once, answered once
    assert "Atelier vélo" in bodies[1] and "créé" in bodies[1]
    assert len(chargee.replies_to(room_b, ping)) == 1
    async with bot.db.reading() as repos:
        assert [name for _, name in await repos.groups.names()] == ["Atelier vélo"]
