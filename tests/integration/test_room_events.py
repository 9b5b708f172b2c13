"""Room events against a real Synapse: who may take back a 👍 or a command (a redaction), what
the bot forgets of a room it is kicked or banned from, and what it does not run on its return."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nio import (
    RoomBanResponse,
    RoomGetStateEventResponse,
    RoomKickResponse,
    RoomPutStateResponse,
    RoomRedactResponse,
    RoomSendResponse,
    RoomUnbanResponse,
)

from bot.app import Bot
from commands.roles import Role
from tests.integration.conftest import BotRunner
from tests.integration.matrix_user import MatrixUser
from tests.integration.test_agenda import eventually
from tests.integration.test_bot import ask, club

pytestmark = pytest.mark.integration


def running(runner: BotRunner) -> Bot:
    assert runner.bot is not None
    return runner.bot


async def try_redact(user: MatrixUser, room: str, event_id: str) -> bool:
    """``PUT /rooms/{room}/redact/{event}/{txn}`` (nio's ``room_redact`` is that call); whether
    the homeserver took it."""
    response = await user.client.room_redact(room, event_id, tx_id=uuid.uuid4().hex)
    return isinstance(response, RoomRedactResponse)


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


async def test_only_its_author_or_a_moderator_of_its_room_takes_a_support_back(
        bot_factory: Any, users: Any) -> None:
    """Bob supports a suggestion with a 👍. Mallory, moderator of another room the bot is in,
    redacts Bob's 👍 from there, then from the suggestion's room, where she has no power: the
    support stays. Bob removes his 👍: the support goes. (Synapse refuses both of Mallory's
    redactions from its own users, and withholds such redactions coming from other servers;
    the bot does not rely on it: tests/handlers/test_agenda.py hands it both.)"""
    chargee, bob, mallory = await users("chargee"), await users("bob"), await users("mallory")
    runner = await bot_factory(start=False, club={"coordinators": [chargee.user_id],
                                                  "allowed_inviters": [chargee.user_id]})
    main = await chargee.create_room(name="CCT", invite=[runner.user_id, bob.user_id,
                                                         mallory.user_id])
    hers = await chargee.create_room(name="Salon de Mallory", invite=[runner.user_id,
                                                                     mallory.user_id],
                                     power_levels={mallory.user_id: 100})
    for person, room in ((bob, main), (mallory, main), (mallory, hers)):
        await person.join(room)
    runner.overrides["rooms"] = {"main": main, "north": hers}
    await runner.start()
    await chargee.wait_membership(hers, runner.user_id, "join")
    day = datetime.now(UTC) + timedelta(days=10)
    planned = await ask(chargee, main, f"!rencontre planifier {day.day:02d}/{day.month:02d}/"
                                       f"{day.year} 18h30")
    assert "planifié" in planned.body, planned.body
    confirmation = await ask(chargee, main, "!odj proposer Atelier compost")
    sent = await bob.client.room_send(main, "m.reaction", {"m.relates_to": {
        "rel_type": "m.annotation", "event_id": confirmation.event_id, "key": "👍"}})
    assert isinstance(sent, RoomSendResponse), sent

    async def supports() -> bool:
        return "— 1 soutien\n" in (await ask(chargee, main, "!odj liste")).body + "\n"

    assert await eventually(supports), "the 👍 was not counted"
    await try_redact(mallory, hers, sent.event_id)  # her power, but in another room
    await try_redact(mallory, main, sent.event_id)  # the right room, but no power there
    assert await supports()  # the sync brought whatever was taken before this command
    assert await try_redact(bob, main, sent.event_id)
    assert await eventually(lambda: _is(supports, False)), "Bob's own redaction was ignored"


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


async def test_a_command_taken_back_while_the_bot_was_down_is_not_run_at_start(
        bot_factory: Any, users: Any) -> None:
    """Three commands are queued when the bot stops (none had run). Meanwhile Ana redacts
    hers, and the room's creator redacts Bob's first one. At start, those two are not run and
    their text is gone; Bob's second one is answered. (This homeserver refuses a redaction of
    someone else's event by a person without the power to redact: the handler tests show that
    the bot ignores one coming from another server.)"""
    runner, chargee, room = await club(bot_factory, users)
    ana, bob = await users("ana"), await users("bob")
    for person in (ana, bob):
        await chargee.invite(room, person.user_id)
        await person.join(room)
    bot = running(runner)

    def queue_only(event_id: str, room_id: str, hold: Any = None) -> asyncio.Task[None]:
        return asyncio.create_task(asyncio.sleep(0))  # queued in the inbox, never run

    bot.dispatcher.submit = queue_only  # type: ignore[method-assign]
    bot.dispatcher.runs_with_batch = (  # type: ignore[method-assign]
        lambda commands: None)  # nothing runs with its batch either
    hers = await ana.send_text(room, "!ping")
    his = await bob.send_text(room, "!ping")
    kept = await bob.send_text(room, "!cadre")

    async def all_queued() -> bool:
        async with bot.db.transaction() as repos:
            return all([await repos.inbox.get(e) for e in (hers, his, kept)])

    assert await eventually(all_queued)
    await runner.stop()
    assert await try_redact(ana, room, hers)
    assert await try_redact(chargee, room, his)  # room version 12: the creator may redact
    bot = await runner.start()
    await bob.wait_for_reply(room, kept, timeout=60)  # after the others (one room, in order)
    assert bob.replies_to(room, hers) == [] and bob.replies_to(room, his) == []
    async with bot.db.transaction() as repos:
        rows = [await repos.inbox.get(e) for e in (hers, his, kept)]
    assert [(row.body, row.handled_at is not None) for row in rows if row is not None] == [
        ("", True), ("", True), ("!cadre", True)]
