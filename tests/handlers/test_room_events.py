"""Room events as the sync reads them (no homeserver: nio parses real sync JSON, as after a real
sync). What the bot knows of its rooms follows its membership: a room left (or a kick, a ban)
is forgotten, a rejoin starts afresh, roles follow the main room's current power levels. A
command taken back (redacted) before it runs is not run, and its text leaves the inbox; only
its author, or someone allowed to redact in its room, takes it back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from nio import SyncResponse

from bot.app import Bot
from bot.clock import FakeClock
from commands.roles import Role
from storage.faults import StorageUnavailable
from tests.handlers.test_sync_batches import BOT, NOW, ROOM, member, message, ms, offline_bot

CREATOR = "@creator:localhost"
MOD = "@mod:localhost"
CAROL = "@carol:localhost"
COORDINATOR = "@coordo:localhost"
ANA = "@ana:localhost"
MALLORY = "@mallory:localhost"
OTHER = "!other:localhost"


def state(event_type: str, content: dict[str, Any], key: str = "") -> dict[str, Any]:
    return {"type": event_type, "event_id": f"${event_type}-{key}-{json.dumps(content)}",
            "sender": CREATOR, "state_key": key, "origin_server_ts": ms(NOW - timedelta(days=3)),
            "content": content}


def levels(users: dict[str, int]) -> dict[str, Any]:
    return state("m.room.power_levels", {"users": users, "redact": 50})


def created(*additional: str) -> dict[str, Any]:
    """The room's ``m.room.create`` (room version 12): its sender and ``additional`` create it."""
    return state("m.room.create", {"room_version": "12", "additional_creators": list(additional)})


def kicked(at_minutes: int) -> dict[str, Any]:
    event = member(f"$kick{at_minutes}", BOT, NOW - timedelta(minutes=at_minutes), "leave",
                   previous="join")
    event["sender"] = CREATOR
    return event


def sync_of(token: str = "s2", *, join: dict[str, dict[str, list[dict[str, Any]]]] | None = None,
            leave: dict[str, list[dict[str, Any]]] | None = None,
            invite: dict[str, list[dict[str, Any]]] | None = None) -> SyncResponse:
    """A sync response: ``join`` maps a room to its ``state`` and ``timeline`` events, ``leave``
    to its timeline, ``invite`` to its invite state."""
    def room(state_events: list[dict[str, Any]], timeline: list[dict[str, Any]]) -> dict[str, Any]:
        return {"timeline": {"events": timeline, "limited": False, "prev_batch": "p1"},
                "state": {"events": state_events}, "ephemeral": {"events": []},
                "account_data": {"events": []}}

    raw = {"next_batch": token, "rooms": {
        "join": {room_id: room(parts.get("state", []), parts.get("timeline", []))
                 for room_id, parts in (join or {}).items()},
        "leave": {room_id: room([], timeline) for room_id, timeline in (leave or {}).items()},
        "invite": {room_id: {"invite_state": {"events": events}}
                   for room_id, events in (invite or {}).items()}}}
    response = SyncResponse.from_dict(raw)
    assert isinstance(response, SyncResponse)
    return response


async def deliver(bot: Bot, response: SyncResponse, *, wait: bool = True) -> None:
    """The response as a real sync brings it: nio reads it, then the bot handles it (and,
    with ``wait``, runs its commands)."""
    async def nio_sync(**_kwargs: Any) -> SyncResponse:
        await bot.transport.client.receive_response(response)
        return response

    bot.transport.client.sync = nio_sync  # type: ignore[method-assign]
    await bot.handle_sync(await bot.transport.sync(bot.sync.token, 0))
    if wait:
        await bot.dispatcher.drain()


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    """In ``ROOM``, the configured main room, since two days: ``MOD`` has power 50 there,
    ``CREATOR`` created it (room version 12: no power level needed), ``COORDINATOR`` is
    named in the config. Nothing is asked of the homeserver: any request fails the test."""
    instance = await offline_bot(tmp_path, "sqlite+aiosqlite:///data/cct.db")
    club = replace(instance.settings.club, coordinators=(COORDINATOR,))
    instance.settings = replace(instance.settings, club=club)
    instance.standings.club = club
    instance.rooms._configured[ROOM] = ("main", ROOM)
    instance.rooms.changed()

    async def no_request(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a request to the homeserver: {args}")

    instance.transport.client.room_get_state = no_request  # type: ignore[method-assign]
    await deliver(instance, sync_of("s1", join={ROOM: {"state": [
        created(), levels({MOD: 50}), member("$m", MOD, NOW - timedelta(days=1), name="Max")]}}))
    yield instance
    await instance.dispatcher.drain()
    await instance.transport.close()
    await instance.db.dispose()


async def roles(bot: Bot, *people: str) -> list[Role]:
    return [await bot.role_of(person) for person in people]


async def joined_at(bot: Bot, room_id: str = ROOM) -> Any:
    async with bot.db.transaction() as repos:
        row = await repos.rooms.get(room_id)
    return None if row is None else row.joined_at


async def answered(bot: Bot) -> list[str]:
    async with bot.db.transaction() as repos:
        return [json.loads(r.content)["m.relates_to"]["m.in_reply_to"]["event_id"]
                for r in await repos.outbox.pending()]


async def test_a_kick_forgets_the_room_and_the_roles_it_gave(bot: Bot) -> None:
    assert await roles(bot, MOD, CREATOR, COORDINATOR, CAROL) == [
        Role.COORDINATOR, Role.COORDINATOR, Role.COORDINATOR, Role.PARTICIPANT]
    assert bot.transport.is_member(ROOM, MOD)
    await deliver(bot, sync_of("s2", leave={ROOM: [kicked(1)]}))
    assert await roles(bot, MOD, CREATOR, COORDINATOR) == [
        Role.PARTICIPANT, Role.PARTICIPANT, Role.COORDINATOR]  # the config's still are
    assert bot.transport.power_level(ROOM, MOD) == 0
    assert ROOM not in bot.transport.client.rooms
    assert not bot.transport.is_member(ROOM, MOD)
    assert (bot.club_rooms, bot.main_room_id, bot.club.rooms) == ({}, None, {})
    assert bot.dispatcher.club.rooms == {}
    assert await joined_at(bot) is None  # the joined_rooms row is gone


async def test_back_in_the_room_roles_come_from_its_current_power_levels(bot: Bot) -> None:
    """Kicked, then back: what was said meanwhile is history, and the room's state is read
    afresh: a moderator removed from the power levels while the bot was out is no longer a
    coordinator (nio alone would have kept their old level), one added is."""
    assert await roles(bot, CREATOR) == [Role.COORDINATOR]
    await deliver(bot, sync_of("s2", leave={ROOM: [kicked(40)]}))
    back = NOW - timedelta(minutes=20)
    await deliver(bot, sync_of("s3", join={ROOM: {
        "state": [created(), levels({CAROL: 50})],
        "timeline": [message("$while_out", CAROL, "!ping", NOW - timedelta(minutes=30)),
                     member("$back", BOT, back, previous="leave"),
                     message("$after", CAROL, "!ping", NOW - timedelta(minutes=10))]}}))
    assert await answered(bot) == ["$after"]
    assert await joined_at(bot) == back
    assert (bot.main_room_id, bot.club.rooms) == (ROOM, {"main": ROOM})
    assert await roles(bot, MOD, CAROL, CREATOR) == [
        Role.PARTICIPANT, Role.COORDINATOR, Role.COORDINATOR]


async def test_the_creators_come_from_the_synced_state(bot: Bot) -> None:
    """A room's creators are read from its ``m.room.create`` as synced (room version 12: its
    additional creators too), never asked of the homeserver while a command runs."""
    assert await roles(bot, CREATOR, CAROL) == [Role.COORDINATOR, Role.PARTICIPANT]
    await deliver(bot, sync_of("s2", leave={ROOM: [kicked(40)]}))
    await deliver(bot, sync_of("s3", join={ROOM: {
        "state": [created(CAROL), levels({})],
        "timeline": [member("$back", BOT, NOW - timedelta(minutes=20), previous="leave"),
                     message("$after", CAROL, "!ping", NOW - timedelta(minutes=10))]}}))
    assert await answered(bot) == ["$after"]
    assert await roles(bot, CREATOR, CAROL, MOD) == [
        Role.COORDINATOR, Role.COORDINATOR, Role.PARTICIPANT]


async def test_a_rejoin_seen_only_in_the_timeline_moves_the_join_time(bot: Bot) -> None:
    """The kick and the return in one timeline (the room never listed as left): commands sent
    while the bot was out are not run, although within the catch-up window."""
    back = NOW - timedelta(minutes=20)
    await deliver(bot, sync_of("s2", join={ROOM: {"timeline": [
        kicked(40),
        message("$while_out", CAROL, "!ping", NOW - timedelta(minutes=30)),
        member("$back", BOT, back, previous="leave"),
        member("$renamed", BOT, NOW - timedelta(minutes=15), previous="join", name="Bot"),
        message("$after", CAROL, "!ping", NOW - timedelta(minutes=10))]}}))
    assert await answered(bot) == ["$after"]
    assert await joined_at(bot) == back


async def test_an_invite_to_a_room_the_bot_thought_it_was_in_starts_afresh(
        bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kick the bot never saw (kicked and invited back between two syncs): nio's old state of
    the room is dropped before joining, and the join time is the new one."""
    joins: list[str] = []

    async def join(room: str) -> str:
        joins.append(room)
        return room

    monkeypatch.setattr(bot.transport, "join", join)
    monkeypatch.setattr(bot.invitations, "may_invite", lambda user: user == CREATOR)
    invite = {"type": "m.room.member", "sender": CREATOR, "state_key": BOT,
              "content": {"membership": "invite"}}
    await deliver(bot, sync_of("s2", invite={ROOM: [invite]}))
    await bot.invitations.answered()  # in the background: the sync does not wait for it
    assert joins == [ROOM]
    assert await joined_at(bot) == NOW  # the bot's clock: it has just joined
    assert ROOM not in bot.transport.client.rooms  # its state comes with the next sync
    assert await roles(bot, MOD) == [Role.PARTICIPANT]
    assert bot.main_room_id == ROOM


async def test_power_levels_are_replaced_not_merged(bot: Bot) -> None:
    """A moderator taken out of the power levels' ``users`` loses their level (nio 0.26 merges
    the new levels into the old ones)."""
    assert await roles(bot, MOD) == [Role.COORDINATOR]
    await deliver(bot, sync_of("s2", join={ROOM: {"timeline": [levels({CAROL: 50})]}}))
    assert bot.transport.power_level(ROOM, MOD) == 0
    assert await roles(bot, MOD, CAROL) == [Role.PARTICIPANT, Role.COORDINATOR]


async def test_a_room_once_encrypted_stays_so_while_the_bot_is_out_of_it(bot: Bot) -> None:
    """What the bot sends in a room it has just rejoined, before the next sync brings the
    room's state, is encrypted as it was (an upload, above all, is never sent in clear)."""
    secret = "!secret:localhost"
    await deliver(bot, sync_of("s2", join={secret: {"state": [
        state("m.room.encryption", {"algorithm": "m.megolm.v1.aes-sha2"})]}}))
    assert bot.transport.is_encrypted(secret)
    await deliver(bot, sync_of("s3", leave={secret: [kicked(1)]}))
    assert secret not in bot.transport.client.rooms
    assert bot.transport.is_encrypted(secret)
    assert not bot.transport.is_encrypted(ROOM)


# --- redactions ---------------------------------------------------------------------------------

def redaction(event_id: str, sender: str, target: str) -> dict[str, Any]:
    return {"type": "m.room.redaction", "event_id": event_id, "sender": sender,
            "origin_server_ts": ms(NOW), "redacts": target, "content": {"redacts": target}}


def ping(event_id: str, sender: str = ANA) -> dict[str, Any]:
    return message(event_id, sender, "!ping", NOW - timedelta(seconds=5))


async def inbox(bot: Bot) -> dict[str, tuple[str, bool]]:
    """Each received command: its stored text, and whether it is handled."""
    async with bot.db.transaction() as repos:
        return {event_id: (row.body, row.handled_at is not None)
                for event_id in ("$a", "$b", "$c", "$d")
                if (row := await repos.inbox.get(event_id)) is not None}


async def test_a_command_taken_back_in_its_own_batch_is_not_queued(bot: Bot) -> None:
    await deliver(bot, sync_of(join={
        ROOM: {"timeline": [ping("$a"), ping("$b", MALLORY), ping("$c"), ping("$d"),
                            redaction("$xa", ANA, "$a"),  # its author
                            redaction("$xb", MOD, "$b"),  # a moderator of the room
                            redaction("$xc", MALLORY, "$c")]},  # neither: not taken back
        OTHER: {"timeline": [redaction("$xd", ANA, "$d")]}}))  # by its author, elsewhere
    assert await inbox(bot) == {"$c": ("!ping", True), "$d": ("!ping", True)}
    assert sorted(await answered(bot)) == ["$c", "$d"]


async def test_a_queued_command_taken_back_by_a_later_batch_is_not_run(bot: Bot) -> None:
    """The commands wait for their room (the database was busy, an earlier command was slow);
    a later batch takes some back: they are not run, and their text is gone."""
    async with bot.dispatcher._room_locks[ROOM]:
        tasks = await bot.handle_sync(sync_of(join={ROOM: {"timeline": [
            ping("$a"), ping("$b"), ping("$c"), ping("$d")]}}))
        assert len(tasks) == 4
        await deliver(bot, sync_of("s3", join={ROOM: {"timeline": [
            redaction("$xa", ANA, "$a"), redaction("$xb", MOD, "$b"),
            redaction("$xc", CREATOR, "$c"),  # room version 12: its creator may redact
            redaction("$xd", MALLORY, "$d")]}}), wait=False)
    await asyncio.gather(*tasks)
    assert await inbox(bot) == {"$a": ("", True), "$b": ("", True), "$c": ("", True),
                                "$d": ("!ping", True)}
    assert await answered(bot) == ["$d"]


async def test_a_redaction_the_database_could_not_save_still_stops_the_command(
        bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch holding the redaction could not be saved (it will be, later): the queued
    command, whose turn comes first, is not run all the same."""
    async with bot.dispatcher._room_locks[ROOM]:
        tasks = await bot.handle_sync(sync_of(join={ROOM: {"timeline": [ping("$a"),
                                                                         ping("$b")]}}))

        async def unavailable(*_args: Any) -> Any:
            raise StorageUnavailable("read-only")

        monkeypatch.setattr(bot.sync, "_save", unavailable)
        with pytest.raises(StorageUnavailable):
            await bot.handle_sync(sync_of("s3", join={ROOM: {"timeline": [
                redaction("$xa", ANA, "$a"), redaction("$xb", MALLORY, "$b")]}}))
    await asyncio.gather(*tasks)
    assert await inbox(bot) == {"$a": ("", True), "$b": ("!ping", True)}
    assert await answered(bot) == ["$b"]


async def test_a_handled_command_taken_back_loses_its_text(bot: Bot) -> None:
    await deliver(bot, sync_of(join={ROOM: {"timeline": [ping("$a")]}}))
    await deliver(bot, sync_of(join={ROOM: {"timeline": [ping("$b")]}}))
    await deliver(bot, sync_of("s3", join={ROOM: {"timeline": [
        redaction("$xa", ANA, "$a"), redaction("$xb", MALLORY, "$b")]}}))
    assert await inbox(bot) == {"$a": ("", True), "$b": ("!ping", True)}
    assert await answered(bot) == ["$a", "$b"]  # answered before: the answer stays


async def test_an_event_waiting_for_its_key_and_taken_back_is_forgotten(bot: Bot) -> None:
    encrypted = {"type": "m.room.encrypted", "event_id": "$secret", "sender": ANA,
                 "origin_server_ts": ms(NOW), "content": {
                     "algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgA", "device_id": "D",
                     "sender_key": "k", "session_id": "s"}}
    await deliver(bot, sync_of(join={ROOM: {"timeline": [encrypted]}}))
    assert "$secret" in bot.reader.undecrypted
    await deliver(bot, sync_of("s3", join={ROOM: {"timeline": [
        redaction("$x", MALLORY, "$secret")]}}))
    assert "$secret" in bot.reader.undecrypted
    await deliver(bot, sync_of("s4", join={ROOM: {"timeline": [
        redaction("$y", ANA, "$secret")]}}))
    assert "$secret" not in bot.reader.undecrypted


async def test_an_invitation_to_a_room_of_a_silent_server_does_not_hold_the_sync(
        bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Joining a room whose server never answers takes a request deadline; the batch is
    handled (its command answered, its position saved) without waiting for it."""
    answered = asyncio.Event()

    async def join(room: str) -> str:
        await answered.wait()  # the server has not answered yet
        return room

    monkeypatch.setattr(bot.transport, "join", join)
    monkeypatch.setattr(bot.invitations, "may_invite", lambda user: user == CREATOR)
    invite = {"type": "m.room.member", "sender": CREATOR, "state_key": BOT,
              "content": {"membership": "invite"}}
    response = sync_of("s2", invite={OTHER: [invite]},
                       join={ROOM: {"timeline": [message("$p", ANA, "!ping", NOW)]}})
    async with asyncio.timeout(60):  # it would wait for the join forever
        await deliver(bot, response)
    async with bot.db.transaction() as repos:
        command = await repos.inbox.get("$p")
    assert command is not None and command.handled_at is not None
    assert bot.sync.token == "s2"
    assert OTHER not in bot.rooms.known  # not joined yet
    answered.set()
    await bot.invitations.answered()
    assert OTHER in bot.rooms.known


async def test_a_second_join_of_the_same_room_does_not_move_its_join_time(
        bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    """At start the bot joins its configured rooms while it accepts, in the background, the
    invitation to one of them: the later of the two must not move the join time past the
    commands sent in between (they would be taken for history, never answered)."""
    async def join(room: str) -> str:
        return room

    monkeypatch.setattr(bot.transport, "join", join)
    bot._forget_room(OTHER)
    await bot.rooms.joined(OTHER, known=False, asked_at=bot.clock.now())  # the first join
    first = bot.rooms.known[OTHER].joined_at
    assert isinstance(bot.clock, FakeClock)
    bot.clock.advance(timedelta(seconds=5))  # a command is sent meanwhile
    await bot.invitations.accept(OTHER, CREATOR)  # the invitation's join ends later
    assert bot.rooms.known[OTHER].joined_at == first
    async with bot.db.transaction() as repos:
        rows = {row.room_id: row.joined_at for row in await repos.rooms.all()}
    assert rows[OTHER] == first


async def test_the_join_time_is_when_the_join_was_asked(
        bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    """A command sent as soon as the bot's join shows, while the bot's loop was busy before it
    could record the join, is not history: the join time is when the join was asked."""
    assert isinstance(bot.clock, FakeClock)
    asked = bot.clock.now()

    async def join(room: str) -> str:
        bot.clock.advance(timedelta(seconds=2))  # the answer handled late: a command came
        return room

    monkeypatch.setattr(bot.transport, "join", join)
    bot._forget_room(OTHER)
    await bot.invitations.accept(OTHER, CREATOR)
    assert bot.rooms.known[OTHER].joined_at == asked
