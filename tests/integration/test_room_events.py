"""Room events against a real Synapse: what the bot forgets of a room it is kicked or banned
from, and what it does not run on its return."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from nio import (
    RoomBanResponse,
    RoomGetStateEventResponse,
    RoomKickResponse,
    RoomPutStateResponse,
    RoomUnbanResponse,
)

from bot.app import Bot
from commands.registry import Role
from tests.integration.matrix_user import MatrixUser
from tests.integration.test_agenda import eventually
from tests.integration.test_bot import club

pytestmark = pytest.mark.integration


async def kick(user: MatrixUser, room: str, who: str) -> None:
    assert isinstance(await user.client.room_kick(room, who), RoomKickResponse)


async def set_levels(user: MatrixUser, room: str, changes: dict[str, int | None]) -> None:
    """Changes the room's power levels: a user set, or taken out of the map with ``None``."""
    current = await user.client.room_get_state_event(room, "m.room.power_levels")
    assert isinstance(current, RoomGetStateEventResponse), current
    content = dict(current.content)
    users = dict(content.get("users", {}))
    for who, level in changes.items():
        if level is None:
            users.pop(who, None)
        else:
            users[who] = level
    content["users"] = users
    response = await user.client.room_put_state(room, "m.room.power_levels", content)
    assert isinstance(response, RoomPutStateResponse), response


async def _is(check: Callable[[], Awaitable[Any]], expected: Any) -> bool:
    return await check() == expected


async def test_kicked_from_the_main_room_roles_follow_its_current_state(
        bot_factory: Any, users: Any) -> None:
    """While the bot is out of the main room, its moderators and creator are no coordinators
    through it (the config's still are); back in, roles come from the room's current power
    levels: Bob, demoted meanwhile, is no longer one, Carol, promoted, is."""
    owner, coco = await users("owner"), await users("coco")
    bob, carol = await users("bob"), await users("carol")
    runner = await bot_factory(start=False, club={"coordinators": [coco.user_id],
                                                  "allowed_inviters": [owner.user_id]})
    main = await owner.create_room(name="CCT", invite=[runner.user_id, bob.user_id,
                                                       carol.user_id],
                                   power_levels={bob.user_id: 50})
    for person in (bob, carol):
        await person.join(main)
    runner.overrides["rooms"] = {"main": main}
    bot = await runner.start()
    await owner.wait_membership(main, runner.user_id, "join")

    async def roles() -> list[Role]:
        return [await bot.role_of(p.user_id) for p in (owner, coco, bob, carol)]

    C, P = Role.COORDINATOR, Role.PARTICIPANT
    assert await eventually(lambda: _is(roles, [C, C, C, P])), await roles()  # state synced
    await kick(owner, main, runner.user_id)
    assert await eventually(lambda: _out_of(bot, main)), "the kick was not seen"
    assert await roles() == [P, C, P, P]
    assert bot.transport.power_level(main, bob.user_id) == 0
    assert main not in bot.transport.client.rooms and bot.club.rooms == {}
    await set_levels(owner, main, {bob.user_id: None, carol.user_id: 50})
    await owner.invite(main, runner.user_id)
    await owner.wait_membership(main, runner.user_id, "join")

    async def back() -> bool:
        return bot.main_room_id == main and await roles() == [C, C, P, C]

    assert await eventually(back), await roles()
    assert bot.club.rooms == {"main": main}


async def _out_of(bot: Bot, room: str) -> bool:
    return bot.main_room_id is None and room not in bot.transport.client.rooms


async def test_commands_sent_while_the_bot_was_out_are_not_run_on_its_return(
        bot_factory: Any, users: Any) -> None:
    """Kicked, then banned and unbanned: each time, a command sent while the bot was out is
    within the catch-up window, but from before the bot's new join: it is not run."""
    runner, chargee, room = await club(bot_factory, users)
    for way_out in ("kick", "ban"):
        if way_out == "kick":
            await kick(chargee, room, runner.user_id)
        else:
            response = await chargee.client.room_ban(room, runner.user_id)
            assert isinstance(response, RoomBanResponse), response
        await chargee.wait_membership(room, runner.user_id, "leave" if way_out == "kick"
                                      else "ban")
        while_out = await chargee.send_text(room, "!ping")
        if way_out == "ban":
            assert isinstance(await chargee.client.room_unban(room, runner.user_id),
                              RoomUnbanResponse)
        await chargee.invite(room, runner.user_id)
        await chargee.wait_membership(room, runner.user_id, "join")
        after = await chargee.send_text(room, "!ping")
        await chargee.wait_for_reply(room, after)  # replies of a room go in order
        assert chargee.replies_to(room, while_out) == [], way_out
