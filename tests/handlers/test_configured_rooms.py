"""The configured rooms found in the background at start (no homeserver: nio parses real sync
JSON): someone who arrives in one of them while its alias is still being resolved is welcomed
once it is known to be the club's; an arrival in a room that turns out not to be is no
arrival."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import Bot
from tests.handlers.test_sync_batches import NOW, ROOM, member, offline_bot, sync

NORTH = "!north:localhost"
OTHER = "!other:localhost"
NORTH_ALIAS = "#nord:slow.example"


@pytest.fixture
async def slow_north(tmp_path: Path) -> AsyncIterator[tuple[Bot, asyncio.Event]]:
    """A bot whose north room is configured by an alias that resolves when the event is set;
    the bot has been in the north room and another room for two days."""
    bot = await offline_bot(tmp_path, "sqlite+aiosqlite:///data/cct.db",
                            rooms={"north": NORTH_ALIAS})
    answered = asyncio.Event()

    async def resolve(room: str) -> str:
        if room == NORTH_ALIAS:
            await answered.wait()
            return NORTH
        return room

    bot.transport.resolve = resolve  # type: ignore[method-assign]
    async with bot.db.transaction() as repos:
        for room_id in (NORTH, OTHER):
            await repos.rooms.mark_joined(room_id, NOW - timedelta(days=2))
    await bot.load_state()
    bot.rooms.resolve()
    bot.rooms.found()
    bot.rooms.caught_up.set()
    yield bot, answered
    for task in bot.rooms.tasks:
        task.cancel()
    await asyncio.gather(*bot.rooms.tasks, return_exceptions=True)
    await bot.dispatcher.drain()
    await bot.transport.close()
    await bot.db.dispose()


async def waiting_in(bot: Bot, room_id: str) -> list[str]:
    async with bot.db.transaction() as repos:
        return await repos.welcomes.waiting_in(room_id)


async def test_a_newcomer_in_a_room_still_being_resolved_is_welcomed_once_it_is_found(
        slow_north: tuple[Bot, asyncio.Event]) -> None:
    bot, answered = slow_north
    await bot.handle_sync(sync([member("$j1", "@ana:localhost", NOW, previous="invite")], "s3",
                               room=NORTH))
    await bot.handle_sync(sync([member("$j2", "@bob:localhost", NOW, previous="invite")], "s4",
                               room=OTHER))
    assert bot.club_rooms == {ROOM: "main"}
    assert await waiting_in(bot, NORTH) == []  # not known to be the club's yet
    answered.set()
    async with asyncio.timeout(10):
        while not await waiting_in(bot, NORTH):
            await asyncio.sleep(0.01)
    assert bot.club_rooms == {ROOM: "main", NORTH: "north"}
    assert await waiting_in(bot, NORTH) == ["@ana:localhost"]
    assert "welcomes:0" in bot.scheduler.jobs()
    assert await waiting_in(bot, OTHER) == []  # not a club room: no arrival
    # Bob's arrival elsewhere was not taken for his first: he is welcomed in the main room.
    await bot.handle_sync(sync([member("$j3", "@bob:localhost", NOW, previous="invite")], "s5"))
    assert await waiting_in(bot, ROOM) == ["@bob:localhost"]
    # Once every configured room is known, arrivals are read as before: none held back.
    await bot.handle_sync(sync([member("$j4", "@cy:localhost", NOW, previous="invite")], "s6",
                               room=NORTH))
    assert await waiting_in(bot, NORTH) == ["@ana:localhost", "@cy:localhost"]


async def test_the_ready_line_says_which_rooms_are_still_being_joined_then_a_line_says_when(
        slow_north: tuple[Bot, asyncio.Event], caplog: pytest.LogCaptureFixture) -> None:
    """The ready line comes while the north alias is still being resolved: it does not count
    that room as joined, and says it is being joined; once it is found, a second line gives
    the club's rooms."""
    bot, answered = slow_north
    caplog.set_level(logging.INFO, logger="bot.app")
    async with asyncio.timeout(10):
        while bot.rooms.joining > 1:  # the main room, configured by its id, is found at once
            await asyncio.sleep(0.01)
    await bot._health_line()
    [ready] = [r for r in caplog.records if getattr(r, "event_kind", None) == "ready"]
    assert (ready.club_rooms, ready.configured_rooms, ready.rooms_joining) == (1, 2, 1)
    assert "1 club room(s) of 2 configured (1 being joined)" in ready.getMessage()
    await bot.handle_sync(sync([], "s3", room=NORTH))  # the bot is in the north room
    answered.set()
    async with asyncio.timeout(10):
        while not [r for r in caplog.records if getattr(r, "event_kind", None) == "rooms_ready"]:
            await asyncio.sleep(0.01)
    [rooms] = [r for r in caplog.records if getattr(r, "event_kind", None) == "rooms_ready"]
    assert rooms.getMessage() == ("configured rooms joined: 2 club room(s) of 2 configured, "
                                  "3 room(s) joined")


async def test_a_configured_room_the_bot_is_already_in_is_not_said_to_be_joined(
        slow_north: tuple[Bot, asyncio.Event], caplog: pytest.LogCaptureFixture) -> None:
    """The bot is in a configured room (it was there, or its invitation was just accepted)
    while that room's own join still waits for the start's catch-up: the ready line counts it
    as a club room, not as being joined, and no second line follows."""
    bot, answered = slow_north
    caplog.set_level(logging.INFO, logger="bot.app")
    bot.rooms.caught_up.clear()  # the room's join waits for the start's catch-up
    await bot.handle_sync(sync([], "s3", room=NORTH))  # the bot is in the north room
    answered.set()
    async with asyncio.timeout(10):
        while NORTH not in bot.club_rooms:
            await asyncio.sleep(0.01)
    assert not bot.rooms.settled.is_set()
    await bot._health_line()
    [ready] = [r for r in caplog.records if getattr(r, "event_kind", None) == "ready"]
    assert (ready.club_rooms, ready.configured_rooms, ready.rooms_joining) == (2, 2, 0)
    bot.rooms.caught_up.set()
    async with asyncio.timeout(10):
        await bot.rooms.settled.wait()
    await asyncio.gather(*bot._tasks, return_exceptions=True)
    assert not [r for r in caplog.records if getattr(r, "event_kind", None) == "rooms_ready"]
