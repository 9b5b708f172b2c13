"""What the bot takes from a sync response (no homeserver: nio parses real sync JSON)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nio import SyncResponse
from sqlalchemy import column, event, select, table, text

from bot.app import SYNC_TOKEN, Bot
from bot.clock import FakeClock
from bot.config import parse_settings
from bot.jobs import DeclaredJob
from bot.rate import CommandRate
from commands.context import Context
from commands.effects import Reply, effect_txn
from commands.errors import NotFound
from commands.jobs import ARRIVALS
from commands.meta import GATHER
from commands.polls.service import choice_key, root_key
from commands.registry import command
from storage.repositories import INBOX_CHUNK

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
BOT = "@cct-bot:localhost"
ROOM = "!main:localhost"
NORTH = "!nord:localhost"


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def message(event_id: str, sender: str, body: str, at: datetime,
            msgtype: str = "m.text") -> dict[str, Any]:
    return {"type": "m.room.message", "event_id": event_id, "sender": sender,
            "origin_server_ts": ms(at), "content": {"msgtype": msgtype, "body": body}}


def member(event_id: str, user: str, at: datetime, membership: str = "join",
           previous: str | None = None, name: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "m.room.member", "event_id": event_id, "sender": user,
                             "state_key": user, "origin_server_ts": ms(at),
                             "content": {"membership": membership, "displayname": name or user}}
    if previous:
        event["unsigned"] = {"prev_content": {"membership": previous}}
    return event


def sync(events: list[dict[str, Any]], token: str = "s2", room: str = ROOM) -> SyncResponse:
    """A sync response of ``events`` in ``room``; as with lazy-loaded members, its state holds
    the membership of the senders of those events (they are in the room)."""
    senders = dict.fromkeys(e["sender"] for e in events if e["type"] != "m.room.member")
    state = [member(f"$member-{user}", user, NOW - timedelta(days=1)) for user in senders]
    raw = {"next_batch": token, "rooms": {"join": {room: {
        "timeline": {"events": events, "limited": False, "prev_batch": "p1"},
        "state": {"events": state}, "ephemeral": {"events": []}, "account_data": {"events": []},
    }}}}
    response = SyncResponse.from_dict(raw)
    assert isinstance(response, SyncResponse)
    return response


async def offline_bot(folder: Path, database_url: str,
                      matrix: dict[str, Any] | None = None, rooms: dict[str, str] | None = None,
                      **club: Any) -> Bot:
    """A bot whose homeserver is unreachable (batches are handed to it), in ``ROOM`` since two
    days, its database migrated; ``matrix`` adds to its ``[matrix]`` settings, ``rooms`` to its
    configured rooms, ``club`` to its ``[club]`` settings."""
    settings = parse_settings({
        "matrix": {"homeserver": "http://127.0.0.1:9", "user_id": BOT, "password": "x",
                   "store_path": "store", "catch_up_minutes": 60, "encryption": False,
                   **(matrix or {})},
        "database": {"url": database_url},
        "club": {"charter": "On s'écoute.", **club},
        "rooms": {"main": ROOM, **(rooms or {})},
    }, base=folder, env={})
    instance = Bot(settings, clock=FakeClock(NOW))
    handle_sync = instance.handle_sync

    async def synced(response: SyncResponse) -> list[asyncio.Task[None]]:
        await instance.transport.client.receive_response(response)  # as nio's sync() does
        return await handle_sync(response)

    instance.handle_sync = synced  # type: ignore[method-assign]
    await instance.db.upgrade()
    instance.club_rooms[ROOM] = "main"
    async with instance.db.transaction() as repos:
        await repos.rooms.mark_joined(ROOM, NOW - timedelta(days=2))
    await instance.load_state()
    return instance


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    instance = await offline_bot(tmp_path, "sqlite+aiosqlite:///data/cct.db")
    yield instance
    await instance.dispatcher.drain()
    await instance.transport.close()
    await instance.db.dispose()


async def queued(bot: Bot) -> list[str]:
    async with bot.db.transaction() as repos:
        rows = await repos.inbox.pending()
        handled = await repos.inbox.count_handled()
    return [row.event_id for row in rows] + ["handled"] * handled


async def test_commands_are_queued_and_the_token_kept_for_later(bot: Bot) -> None:
    await bot.handle_sync(sync([message("$a", "@ana:localhost", "!ping", NOW),
                                message("$b", "@ana:localhost", "bonjour", NOW),
                                message("$c", "@ana:localhost", "!ping", NOW, "m.notice"),
                                message("$d", BOT, "!ping", NOW)], token="s42"))
    await bot.dispatcher.drain()
    assert bot.sync.token == "s42"
    async with bot.db.transaction() as repos:
        assert await repos.state.get(SYNC_TOKEN) is None  # commands are known by their ids
        assert (await repos.inbox.get("$a")) is not None
        for ignored in ("$b", "$c", "$d"):
            assert await repos.inbox.get(ignored) is None


async def test_a_redelivered_batch_is_not_handled_twice(bot: Bot) -> None:
    event = message("$a", "@ana:localhost", "!ping", NOW)
    await bot.handle_sync(sync([event]))
    await bot.dispatcher.drain()
    await bot.handle_sync(sync([event], token="s3"))
    await bot.dispatcher.drain()
    async with bot.db.transaction() as repos:
        replies = await repos.outbox.pending()
    assert len(replies) == 1


async def test_a_large_batch_is_recorded_in_one_insert_and_each_command_run_once(
        tmp_path: Path, both_url: str) -> None:
    """A catch-up's batch: 300 commands of 300 people, one of them twice, one received before.
    The inbox takes them in one INSERT per ``INBOX_CHUNK`` (one per command would hold the
    event loop on SQLite, and cost a round trip each on PostgreSQL); each new command is
    answered once."""
    bot = await offline_bot(tmp_path, both_url)
    inserts: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO INBOX"):
            inserts.append(statement)

    try:
        known = message("$known", "@ana:localhost", "!ping", NOW)
        await bot.handle_sync(sync([known]))
        await bot.dispatcher.drain()
        many = [message(f"$p{n}", f"@p{n}:localhost", "!ping", NOW) for n in range(300)]
        event.listen(bot.db.engine.sync_engine, "before_cursor_execute", seen)
        await bot.handle_sync(sync([known, *many, many[7]], token="s3"))
        await bot.dispatcher.drain()
        event.remove(bot.db.engine.sync_engine, "before_cursor_execute", seen)
        async with bot.db.transaction() as repos:
            rows = await repos.outbox.pending()
        targets = [json.loads(row.content)["m.relates_to"]["m.in_reply_to"]["event_id"]
                   for row in rows]
        assert sorted(targets) == sorted(["$known", *(f"$p{n}" for n in range(300))])
        assert len(inserts) == -(-302 // INBOX_CHUNK) < 302
    finally:
        await bot.dispatcher.drain()
        await bot.transport.close()
        await bot.db.dispose()


async def test_commands_older_than_the_catch_up_window_are_ignored(bot: Bot) -> None:
    await bot.handle_sync(sync([
        message("$old", "@ana:localhost", "!ping", NOW - timedelta(minutes=61)),
        message("$recent", "@ana:localhost", "!ping", NOW - timedelta(minutes=59)),
    ]))
    await bot.dispatcher.drain()
    async with bot.db.transaction() as repos:
        assert await repos.inbox.get("$old") is None
        assert await repos.inbox.get("$recent") is not None


async def test_history_before_the_bot_joined_a_new_room_is_ignored(bot: Bot) -> None:
    room = "!groupe:localhost"
    joined = NOW - timedelta(minutes=10)
    await bot.handle_sync(sync([
        message("$before", "@ana:localhost", "!ping", joined - timedelta(minutes=1)),
        member("$join", BOT, joined),
        message("$after", "@ana:localhost", "!ping", joined + timedelta(minutes=1)),
    ], room=room))
    await bot.dispatcher.drain()
    async with bot.db.transaction() as repos:
        assert await repos.inbox.get("$before") is None
        assert await repos.inbox.get("$after") is not None
        assert (await repos.rooms.get(room)).joined_at == joined  # type: ignore[union-attr]


def welcomes(bot: Bot) -> DeclaredJob:
    source = bot.scheduler.sources[ARRIVALS]
    assert isinstance(source, DeclaredJob)
    return source


async def welcome_messages(bot: Bot) -> list[dict[str, Any]]:
    async with bot.db.transaction() as repos:
        rows = await repos.outbox.pending()
    return [json.loads(row.content) for row in rows
            if "Bienvenue" in json.loads(row.content).get("body", "")]


async def waiting(bot: Bot) -> list[tuple[str, datetime, datetime | None]]:
    async with bot.db.transaction() as repos:
        return await repos.welcomes.waiting_rooms()


async def test_newcomers_are_recorded_once_and_name_changes_are_not_arrivals(bot: Bot) -> None:
    """The sync batch only records arrivals (no message yet); a second join is no arrival."""
    await bot.handle_sync(sync([
        member("$j1", "@ana:localhost", NOW, previous="invite", name="Ana <b>"),
        member("$j2", "@ana:localhost", NOW, previous="join", name="Ana B."),
        member("$j3", "@bob:localhost", NOW, previous="leave"),
    ]))
    await bot.handle_sync(sync([member("$j4", "@ana:localhost", NOW, previous="leave")], "s3"))
    assert await welcome_messages(bot) == []
    async with bot.db.transaction() as repos:
        assert await repos.welcomes.waiting_in(ROOM) == ["@ana:localhost", "@bob:localhost"]
    assert await waiting(bot) == [(ROOM, NOW, None)]
    assert "welcomes:0" in bot.scheduler.jobs()  # the batch armed the welcomes' timer
    assert await _token(bot) == "s3"  # saved with the arrivals


async def test_newcomers_arriving_together_are_welcomed_in_one_message(bot: Bot) -> None:
    await bot.handle_sync(sync([member("$j1", "@ana:localhost", NOW, previous="invite"),
                                member("$j2", "@bob:localhost", NOW, previous="leave")]))
    source = welcomes(bot)
    assert await source.pending() == [(0, NOW + GATHER)]  # a second to gather those joining too
    await source.fire()
    assert await welcome_messages(bot) == []  # not yet
    bot.clock.set(NOW + GATHER)  # type: ignore[attr-defined]
    await source.fire()
    [message] = await welcome_messages(bot)
    assert message["body"].startswith("Bienvenue aux 2 personnes arrivées au Club Climat")
    assert "@ana:localhost et @bob:localhost" in message["body"]
    assert message["m.mentions"] == {"user_ids": ["@ana:localhost", "@bob:localhost"]}
    assert "On s'écoute" not in message["body"] and "`!cadre`" in message["body"]
    assert await source.pending() == [] and await waiting(bot) == []
    await source.fire()  # nothing more
    assert len(await welcome_messages(bot)) == 1
    await bot.handle_sync(sync([member("$j3", "@ana:localhost", NOW, previous="leave")], "s3"))
    assert await source.pending() == []  # welcomed once, whatever she does


async def test_later_newcomers_wait_for_the_next_welcome_of_their_room(bot: Bot) -> None:
    """Within ``welcome_every_seconds`` of a room's welcome, newcomers are gathered into the
    next one; in a quiet room, the first is welcomed after a second, with the whole charter."""
    clock: FakeClock = bot.clock  # type: ignore[assignment]
    source = welcomes(bot)
    await bot.handle_sync(sync([member("$j1", "@ana:localhost", NOW, previous="invite")]))
    clock.set(NOW + GATHER)
    await source.fire()
    [first] = await welcome_messages(bot)
    assert first["body"].startswith("Bienvenue @ana:localhost au Club Climat")
    assert "On s'écoute." in first["body"]  # alone: the charter in full
    for second, user in ((5, "@bob:localhost"), (20, "@cy:localhost"), (50, "@dan:localhost")):
        clock.set(NOW + timedelta(seconds=second))
        await bot.handle_sync(sync([member(f"$j-{user}", user, clock.now(), previous="invite")],
                                   f"s{second}"))
    assert await source.pending() == [(0, NOW + GATHER + timedelta(seconds=60))]
    clock.set(NOW + timedelta(seconds=55))
    await source.fire()
    assert len(await welcome_messages(bot)) == 1
    clock.set(NOW + GATHER + timedelta(seconds=60))
    await source.fire()
    second_welcome = (await welcome_messages(bot))[1]
    assert second_welcome["m.mentions"]["user_ids"] == [
        "@bob:localhost", "@cy:localhost", "@dan:localhost"]
    clock.set(NOW + timedelta(minutes=10))  # quiet again
    await bot.handle_sync(sync([member("$j9", "@eve:localhost", clock.now(),
                                       previous="invite")], "s99"))
    assert await source.pending() == [(0, clock.now() + GATHER)]


async def test_a_burst_of_arrivals_gives_few_messages_each_naming_a_person_once(
        bot: Bot) -> None:
    people = [f"@p{n:03d}:localhost" for n in range(120)]
    await bot.handle_sync(sync([member(f"$j{n}", user, NOW, previous="invite")
                                for n, user in enumerate(people)]))
    bot.clock.set(NOW + GATHER)  # type: ignore[attr-defined]
    await welcomes(bot).fire()
    messages = await welcome_messages(bot)
    named = [user for m in messages for user in m["m.mentions"]["user_ids"]]
    assert [len(m["m.mentions"]["user_ids"]) for m in messages] == [50, 50, 20]
    assert sorted(named) == people  # each exactly once
    assert all(len(json.dumps(m)) < 20_000 for m in messages)


async def ana_and_bob_arrive_in_two_rooms(bot: Bot) -> None:
    """Ana arrives in the main room, Bob in the north room (joined since two days)."""
    bot.club_rooms[NORTH] = "north"
    async with bot.db.transaction() as repos:
        await repos.rooms.mark_joined(NORTH, NOW - timedelta(days=2))
    await bot.load_state()
    await bot.handle_sync(sync([member("$j1", "@ana:localhost", NOW, previous="invite")]))
    await bot.handle_sync(sync([member("$j2", "@bob:localhost", NOW, previous="invite")], "s3",
                               room=NORTH))


async def test_each_room_has_its_own_welcome(bot: Bot) -> None:
    await ana_and_bob_arrive_in_two_rooms(bot)
    bot.clock.set(NOW + GATHER)  # type: ignore[attr-defined]
    await welcomes(bot).fire()
    async with bot.db.transaction() as repos:
        rows = await repos.outbox.pending()
    assert sorted((row.room_id, json.loads(row.content)["m.mentions"]["user_ids"][0])
                  for row in rows) == [(ROOM, "@ana:localhost"), (NORTH, "@bob:localhost")]


async def test_a_room_whose_welcome_fails_holds_back_no_other_and_is_tried_again_later(
        bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    await ana_and_bob_arrive_in_two_rooms(bot)
    source = welcomes(bot)
    greet = source.run

    async def broken_in_main(room_id: str | int) -> int:
        if room_id == ROOM:
            raise RuntimeError("a bug in one room")
        return await greet(room_id)

    monkeypatch.setattr(source, "run", broken_in_main)
    bot.clock.set(NOW + GATHER)  # type: ignore[attr-defined]
    await source.fire()
    assert [m["m.mentions"]["user_ids"] for m in await welcome_messages(bot)] == [
        ["@bob:localhost"]]
    retry = NOW + GATHER + bot.club.welcome_every
    assert await source.pending() == [(0, retry)]  # not at once: no firing in a loop
    monkeypatch.setattr(source, "run", greet)
    bot.clock.set(retry)  # type: ignore[attr-defined]
    await source.fire()
    assert [m["m.mentions"]["user_ids"] for m in await welcome_messages(bot)] == [
        ["@bob:localhost"], ["@ana:localhost"]]


async def test_a_welcome_is_sent_exactly_once_across_crashes(tmp_path: Path) -> None:
    """Recorded with its batch, a newcomer is welcomed once: not before the welcome's commit
    (a crash while it is written leaves them waiting), never again after it (a restart finds
    nobody waiting)."""
    url = "sqlite+aiosqlite:///data/cct.db"
    first = await offline_bot(tmp_path, url)
    await first.handle_sync(sync([member("$j1", "@ana:localhost", NOW, previous="invite")]))
    await first.transport.close()
    await first.db.dispose()  # stopped (kill -9) before the welcome was due

    second = await offline_bot(tmp_path, url)
    second.clock.set(NOW + GATHER)  # type: ignore[attr-defined]
    source = welcomes(second)
    assert await source.pending() == [(0, NOW + GATHER)]  # still waiting after the restart
    original = second.db.transaction

    def crashing(*, patience: float | None = None) -> Any:
        """The welcome's transaction dies instead of committing (rolled back, as by a crash)."""
        context = original(patience=patience)

        class Crash:
            async def __aenter__(self) -> Any:
                return await context.__aenter__()

            async def __aexit__(self, *info: Any) -> None:
                error = info[1] or RuntimeError("crash at the commit")
                await context.__aexit__(type(error), error, None)
                raise error
        return Crash()

    second.db.transaction = crashing  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await source.run(ROOM)
    second.db.transaction = original  # type: ignore[method-assign]
    assert await welcome_messages(second) == []
    assert await source.pending() == [(0, NOW + GATHER)]  # rolled back: still waiting
    await source.fire()
    await source.fire()
    assert len(await welcome_messages(second)) == 1
    await second.transport.close()
    await second.db.dispose()

    third = await offline_bot(tmp_path, url)
    assert await welcomes(third).pending() == []  # welcomed: never again
    await third.transport.close()
    await third.db.dispose()


async def _token(bot: Bot) -> str | None:
    async with bot.db.transaction() as repos:
        return await repos.state.get(SYNC_TOKEN)


async def test_a_lone_command_is_answered_in_the_batch_transaction(bot: Bot) -> None:
    seen = _statements(bot)
    tasks = await bot.handle_sync(sync([message("$a", "@ana:localhost", "!ping", NOW)], "s7"))
    assert tasks == []  # nothing left to run in the background
    assert "UPDATE INBOX SET" not in seen  # recorded as handled by the row's INSERT
    async with bot.db.transaction() as repos:
        row = await repos.inbox.get("$a")
        replies = await repos.outbox.pending()
    assert row is not None and row.handled_at == NOW  # recorded as handled in that same commit
    assert [json.loads(r.content)["m.relates_to"]["m.in_reply_to"]["event_id"]
            for r in replies] == ["$a"]
    assert await _token(bot) is None and bot.sync.token == "s7"  # the position: saved later
    assert bot.outbox.handed_over == 1  # handed to the sender at once, no database read


def _add_half_done_commands(bot: Bot) -> None:
    """``!refus`` and ``!boom`` write, then refuse or fail (test commands)."""
    @bot.dispatcher.registry.add
    @command("refus", fr=("refus",), section="reports")
    async def refus(ctx: Context) -> Reply:
        await ctx.db().state.set("refus", "half-done")
        raise NotFound("error.not_found")

    @bot.dispatcher.registry.add
    @command("boom", fr=("boom",), section="reports")
    async def boom(ctx: Context) -> Reply:
        await ctx.db().state.set("boom", "half-done")
        raise RuntimeError("boom")


@pytest.mark.parametrize(("body", "answer"), [("!refus", "Introuvable."),
                                              ("!boom", "Erreur interne")])
async def test_a_lone_command_that_refuses_or_fails_undoes_its_changes_only(
        bot: Bot, body: str, answer: str) -> None:
    """Run with its batch (without a savepoint), a handler that wrote, then refused or failed:
    the transaction is rolled back and the batch saved again (one arrival), the command run
    apart, in a savepoint: one answer, and nothing of what the handler wrote; a refusal or an
    error is not participation."""
    _add_half_done_commands(bot)
    tasks = await bot.handle_sync(sync([member("$j", "@bob:localhost", NOW, previous="invite"),
                                        message("$a", "@ana:localhost", body, NOW)], "s8"))
    assert len(tasks) == 1  # run apart from its batch
    await asyncio.gather(*tasks)
    async with bot.db.transaction() as repos:
        assert await repos.state.get(body[1:]) is None  # the handler's change is undone
        row = await repos.inbox.get("$a")
        messages = [json.loads(m.content) for m in await repos.outbox.pending()]
        ana = await repos.participants.get("@ana:localhost")
    assert row is not None and row.handled_at == NOW
    assert len(messages) == 1  # the answer, once
    assert messages[0]["body"].startswith(answer)
    assert messages[0]["m.relates_to"]["m.in_reply_to"]["event_id"] == "$a"
    assert ana is None
    assert [room for room, _first, _last in await waiting(bot)] == [ROOM]  # Bob, once
    assert await _token(bot) == "s8"  # saved with the arrival
    assert bot.outbox.handed_over == 1  # handed to the sender


def _statements(bot: Bot) -> list[str]:
    """The statements the bot's database runs from now on (their first three words)."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(" ".join(statement.split()[:3]).upper())

    event.listen(bot.db.engine.sync_engine, "before_cursor_execute", record)
    return seen


async def test_a_lone_command_that_refuses_having_written_nothing_stays_with_its_batch(
        bot: Bot) -> None:
    """A refusal that wrote nothing needs nothing undone: answered in the batch's transaction,
    which no savepoint was taken for."""
    seen = _statements(bot)
    tasks = await bot.handle_sync(sync([message("$a", "@ana:localhost", "!projet voir zzz",
                                                NOW)], "s8"))
    assert tasks == []
    async with bot.db.transaction() as repos:
        messages = [json.loads(m.content)["body"] for m in await repos.outbox.pending()]
        assert (await repos.inbox.get("$a")).handled_at == NOW  # type: ignore[union-attr]
    assert len(messages) == 1 and "zzz" in messages[0]
    assert not [s for s in seen if s.startswith(("SAVEPOINT", "ROLLBACK"))]


async def test_a_lone_command_whose_read_fails_is_answered_once_apart(bot: Bot) -> None:
    """A statement that failed leaves nothing to trust in its transaction (PostgreSQL refuses
    anything more in it): the batch is saved again and the command answered apart."""
    @bot.dispatcher.registry.add
    @command("lecture", fr=("lecture",), section="reports")
    async def lecture(ctx: Context) -> Reply:
        await ctx.db().session.execute(select(column("x")).select_from(table("nothing")))
        return Reply("jamais")

    tasks = await bot.handle_sync(sync([message("$a", "@ana:localhost", "!lecture", NOW)], "s8"))
    await asyncio.gather(*tasks)
    async with bot.db.transaction() as repos:
        messages = [json.loads(m.content)["body"] for m in await repos.outbox.pending()]
    assert len(messages) == 1 and messages[0].startswith("Erreur interne")


async def test_a_command_run_in_the_background_has_a_savepoint(bot: Bot) -> None:
    """Two commands in a batch run apart from it, each in a transaction of its own, where a
    savepoint undoes what its handler wrote if it fails (the rest is kept); SQLAlchemy takes
    it at the handler's first statement (``!ping`` runs none)."""
    seen = _statements(bot)
    tasks = await bot.handle_sync(sync([message("$a", "@ana:localhost", "!projet liste", NOW),
                                        message("$b", "@ana:localhost", "!projet liste", NOW)]))
    await asyncio.gather(*tasks)
    assert len([s for s in seen if s.startswith("SAVEPOINT")]) == 2


async def test_jobs_are_rebuilt_once_the_reply_is_on_the_wire(bot: Bot) -> None:
    """``!rappel``'s reply leaves before the batch is done and its jobs are rebuilt: the
    stand-in homeserver writes a request in a task of its own, as aiohttp does on Python < 3.12,
    and that write must wait neither for the next sync nor for the rebuild's database read."""
    order: list[str] = []

    async def send(room_id: str, content: dict[str, Any], txn_id: str,
                   event_type: str = "m.room.message") -> str:
        asyncio.get_running_loop().call_soon(order.append, "reply written")
        return "$sent-" + txn_id

    rebuild = bot.dispatcher.on_reschedule
    assert rebuild is not None

    async def noted_rebuild(kind: str) -> int:
        order.append(f"{kind} rebuilt")
        return await rebuild(kind)

    bot.transport.send = send  # type: ignore[method-assign]
    bot.dispatcher.on_reschedule = noted_rebuild
    sender = asyncio.create_task(bot.outbox.run())
    try:
        await bot.handle_sync(sync([message("$r", "@ana:localhost",
                                            "!rappel dans 3 jours relancer le groupe", NOW)]))
        order.append("batch done")
        await bot.dispatcher.drain()
    finally:
        sender.cancel()
    assert order == ["reply written", "batch done", "reminders rebuilt"]
    assert "reminders:0" in bot.scheduler.jobs()  # the job of the earliest pending reminder


async def test_several_commands_run_in_the_background_in_order(bot: Bot) -> None:
    tasks = await bot.handle_sync(sync([message("$a", "@ana:localhost", "!ping", NOW),
                                        message("$b", "@bob:localhost", "!aide", NOW)]))
    assert len(tasks) == 2
    await asyncio.gather(*tasks)
    assert await queued(bot) == ["handled", "handled"]


async def test_a_lone_command_waits_behind_its_room_s_queued_ones(bot: Bot) -> None:
    first = await bot.handle_sync(sync([message("$a", "@ana:localhost", "!ping", NOW),
                                        message("$b", "@ana:localhost", "!ping", NOW)]))
    later = await bot.handle_sync(sync([message("$c", "@ana:localhost", "!ping", NOW)], "s3"))
    assert len(first) == 2 and len(later) == 1  # queued behind $a and $b, not run before them
    await asyncio.gather(*first, *later)
    async with bot.db.transaction() as repos:
        replies = [json.loads(r.content)["m.relates_to"]["m.in_reply_to"]["event_id"]
                   for r in await repos.outbox.pending()]
    assert replies == ["$a", "$b", "$c"]


async def test_a_command_failing_outside_its_handler_cannot_hold_the_batch_back(
        bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run with its batch, a command that fails where the dispatcher does not catch it (here:
    queueing its reply) rolls the batch back; the batch is saved again without it and the
    command is queued for the background, where it gets its answer."""
    real = bot.dispatcher.run_command
    calls = []

    async def breaks_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return await real(*args, **kwargs)

    monkeypatch.setattr(bot.dispatcher, "run_command", breaks_once)
    tasks = await bot.handle_sync(sync([message("$a", "@ana:localhost", "!ping", NOW)], "s9"))
    assert bot.sync.token == "s9"  # the token moved on
    assert len(tasks) == 1
    await asyncio.gather(*tasks)
    assert await queued(bot) == ["handled"]
    async with bot.db.transaction() as repos:
        assert len(await repos.outbox.pending()) == 1  # answered once


async def test_the_sync_position_is_saved_with_what_could_not_be_read_again(bot: Bot) -> None:
    """Commands and chat are safe to read again (the inbox knows each command by its id): the
    token and the rooms' last events wait for a batch with anything else, or for the stop."""
    await bot.handle_sync(sync([message("$a", "@ana:localhost", "!ping", NOW)], "s2"))
    await bot.handle_sync(sync([message("$b", "@ana:localhost", "bonjour", NOW)], "s3"))
    assert await _token(bot) is None
    assert bot.sync.token == "s3"  # the next sync starts after it all the same
    await bot.handle_sync(sync([member("$j", "@bob:localhost", NOW, previous="invite")], "s4"))
    assert await _token(bot) == "s4"  # a welcome, keyed by the batch: saved with its position
    await bot.handle_sync(sync([message("$d", "@ana:localhost", "!ping", NOW)], "s5"))
    await bot.dispatcher.drain()
    await bot.stop()  # a stop saves it, with each room's last event
    assert await _token(bot) == "s5"
    async with bot.db.transaction() as repos:
        assert (await repos.rooms.get(ROOM)).last_event_id == "$d"  # type: ignore[union-attr]


async def test_a_command_read_again_after_a_crash_is_not_answered_twice(tmp_path: Path) -> None:
    url = "sqlite+aiosqlite:///data/cct.db"
    first = await offline_bot(tmp_path, url)
    await first.handle_sync(sync([message("$a", "@ana:localhost", "!ping", NOW)], "s2"))
    await first.transport.close()
    await first.db.dispose()  # killed: the batch's token was never saved
    again = await offline_bot(tmp_path, url)
    try:
        assert again.sync.token is None
        tasks = await again.handle_sync(sync([message("$a", "@ana:localhost", "!ping", NOW)],
                                             "s2"))
        await asyncio.gather(*tasks)
        async with again.db.transaction() as repos:
            assert len(await repos.outbox.pending()) == 1  # the first answer only
            assert await repos.inbox.count_handled() == 1
    finally:
        await again.transport.close()
        await again.db.dispose()


async def test_the_token_of_quiet_batches_is_saved_every_few_minutes(
        bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    await bot.handle_sync(sync([message("$a", "@ana:localhost", "bonjour", NOW)], "s2"))
    assert await _token(bot) is None
    monkeypatch.setattr("bot.sync.TOKEN_SAVE_EVERY_S", 0.0)
    await bot.handle_sync(sync([message("$b", "@ana:localhost", "bonjour", NOW)], "s3"))
    assert await _token(bot) == "s3"


# --- commands per minute ------------------------------------------------------------------------

async def answers(bot: Bot) -> dict[str, str]:
    """The body of each reply, by the command it answers."""
    async with bot.db.transaction() as repos:
        rows = await repos.outbox.pending()
    found = {}
    for row in rows:
        content = json.loads(row.content)
        target = content.get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
        if target:
            found[target] = content["body"]
    return found


async def test_a_flood_is_cut_at_the_rate_with_one_notice_and_others_are_not_delayed(
        bot: Bot) -> None:
    """Ana sends 30 commands at once: 20 run, the 21st is answered why the others are not
    (once), the rest are recorded and never run; Bob, in the same batch, is answered. The
    commands over the rate never reach the dispatcher (no task, no transaction of their own)."""
    ana, bob = "@ana:localhost", "@bob:localhost"
    flood = [message(f"$a{n:02d}", ana, "!ping", NOW + timedelta(milliseconds=n))
             for n in range(30)]
    tasks = await bot.handle_sync(sync([*flood, message("$b", bob, "!ping", NOW)]))
    assert len(tasks) == 21
    await bot.dispatcher.drain()
    replies = await answers(bot)
    assert all(replies[f"$a{n:02d}"].startswith("pong") for n in range(20))
    assert replies["$a20"].startswith("Doucement : plus de 20 commandes en une minute. Je ne "
                                      "lis plus les vôtres pendant 60 s")
    assert not any(f"$a{n:02d}" in replies for n in range(21, 30))
    assert replies["$b"].startswith("pong")
    async with bot.db.transaction() as repos:
        assert await repos.inbox.pending() == []  # recorded as handled: never run, even later
    bot.clock.set(NOW + timedelta(seconds=30))  # type: ignore[attr-defined]
    more = [message(f"$c{n}", ana, "!ping", NOW + timedelta(seconds=30 + n)) for n in range(3)]
    await bot.handle_sync(sync(more, "s3"))
    await bot.dispatcher.drain()
    replies = await answers(bot)
    assert not any(f"$c{n}" in replies for n in range(3))  # one notice a minute
    later = NOW + timedelta(seconds=61)
    bot.clock.set(later)  # type: ignore[attr-defined]
    await bot.handle_sync(sync([message("$d", ana, "!ping", later)], "s4"))
    await bot.dispatcher.drain()
    assert (await answers(bot))["$d"].startswith("pong")


async def test_the_rate_applies_to_lone_commands_and_a_new_minute_gets_a_new_notice(
        bot: Bot) -> None:
    ana = "@ana:localhost"
    for n in range(22):
        bot.clock.set(NOW + timedelta(seconds=n))  # type: ignore[attr-defined]
        await bot.handle_sync(sync([message(f"$a{n}", ana, "!ping", NOW + timedelta(seconds=n))],
                                   f"s{n}"))
    await bot.dispatcher.drain()
    replies = await answers(bot)
    assert replies["$a20"].startswith("Doucement") and "pendant 40 s" in replies["$a20"]
    assert "$a21" not in replies
    at = NOW + timedelta(seconds=81)  # a minute after the notice: a new flood, a new notice
    bot.clock.set(at)  # type: ignore[attr-defined]
    await bot.handle_sync(sync([message(f"$b{n}", ana, "!ping", at) for n in range(22)], "s99"))
    await bot.dispatcher.drain()
    replies = await answers(bot)
    assert all(replies[f"$b{n}"].startswith("pong") for n in range(20))
    assert replies["$b20"].startswith("Doucement") and "$b21" not in replies


async def test_coordinators_have_no_rate(tmp_path: Path) -> None:
    chief = "@chief:localhost"
    instance = await offline_bot(tmp_path, "sqlite+aiosqlite:///data/cct.db",
                                 coordinators=[chief])
    try:
        await instance.handle_sync(sync([message(f"$c{n}", chief, "!ping", NOW)
                                         for n in range(30)]))
        await instance.dispatcher.drain()
        replies = await answers(instance)
        assert len(replies) == 30 and all(r.startswith("pong") for r in replies.values())
    finally:
        await instance.transport.close()
        await instance.db.dispose()


async def test_a_flood_dated_by_its_own_homeserver_is_still_cut(bot: Bot) -> None:
    """The times a sender's homeserver gives are its word: 90 commands arriving at once,
    dated ten seconds apart (as if sent over a quarter of an hour), run three minutes' worth
    (60), with one notice; the rest are never run."""
    ana = "@ana:localhost"
    flood = [message(f"$a{n:02d}", ana, "!ping", NOW - timedelta(seconds=10 * (90 - n)))
             for n in range(90)]
    tasks = await bot.handle_sync(sync(flood))
    assert len(tasks) == 60
    await bot.dispatcher.drain()
    replies = await answers(bot)
    assert sum(reply.startswith("pong") for reply in replies.values()) == 60
    assert replies["$a60"].startswith("Doucement")
    assert not any(f"$a{n:02d}" in replies for n in range(61, 90))
    async with bot.db.transaction() as repos:
        assert await repos.inbox.pending() == []  # recorded as handled: never run, even later


def test_the_rate_window_slides_and_forgets_quiet_senders() -> None:
    rate = CommandRate(3)
    assert [rate.over("@a:x", NOW + timedelta(seconds=s)) for s in (0, 10, 20)] == [None] * 3
    assert rate.over("@a:x", NOW + timedelta(seconds=30)) == timedelta(seconds=30)
    assert rate.over("@b:x", NOW + timedelta(seconds=30)) is None  # each person their own
    assert rate.over("@a:x", NOW + timedelta(seconds=60, milliseconds=1)) is None
    assert rate.notice_due("@a:x", NOW) and not rate.notice_due("@a:x", NOW + timedelta(seconds=59))
    assert rate.notice_due("@a:x", NOW + timedelta(seconds=60))
    for n in range(5000):  # quiet senders do not pile up in memory
        rate.over(f"@p{n}:x", NOW + timedelta(minutes=n))
    assert len(rate._senders) < 1000
    assert CommandRate(0).over("@a:x", NOW) is None  # 0: no limit


# --- the bot's own events: a 👍 on a message just sent ---------------------------------------------
COORDO = "@coordo:localhost"
BOB = "@bob:localhost"


def sent_to_fake(bot: Bot) -> dict[str, str]:
    """The bot's sends land on a stand-in homeserver: transaction id -> event id."""
    landed: dict[str, str] = {}

    async def send(room_id: str, content: dict[str, Any], txn_id: str,
                   event_type: str = "m.room.message") -> str:
        landed[txn_id] = "$sent-" + txn_id
        return landed[txn_id]

    async def upload(room_id: str, data: bytes, mimetype: str, filename: str) -> dict[str, Any]:
        return {"url": "mxc://localhost/" + filename}

    bot.transport.send = send  # type: ignore[method-assign]
    bot.transport.upload = upload  # type: ignore[method-assign]
    return landed


def thumbs_up(event_id: str, sender: str, target: str) -> dict[str, Any]:
    return {"type": "m.reaction", "event_id": event_id, "sender": sender,
            "origin_server_ts": ms(NOW), "content": {"m.relates_to": {
                "rel_type": "m.annotation", "event_id": target, "key": "👍"}}}


async def _suggestion(bot: Bot) -> str:
    """A rencontre on Thursday and Ana's suggestion for it; the transaction id of the message
    confirming it (where a 👍 counts as a support)."""
    await bot.handle_sync(sync([message("$plan", COORDO, "!rencontre planifier jeudi 18h30",
                                        NOW)], "s3"))
    await bot.handle_sync(sync([message("$idea", "@ana:localhost",
                                        "!odj proposer Atelier compost", NOW)], "s4"))
    async with bot.db.transaction() as repos:
        (txn,) = await repos.agenda.confirmations(("proposee",))
    return txn


async def _supporters(bot: Bot) -> list[str]:
    async with bot.db.transaction() as repos:
        return await repos.agenda.supporters(1)


async def test_a_thumbs_up_right_after_the_send_counts_before_the_mark_is_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The outbox writes a sent message's event id a moment after sending it; a 👍 synced in
    between finds the message all the same (the batch writes the marks first)."""
    monkeypatch.setattr("bot.marks.MARK_AFTER_S", 3600.0)  # not before the 👍
    bot = await offline_bot(tmp_path, "sqlite+aiosqlite:///data/cct.db", coordinators=[COORDO])
    landed = sent_to_fake(bot)
    sender = asyncio.create_task(bot.outbox.run())
    try:
        txn = await _suggestion(bot)
        async with asyncio.timeout(10):
            while txn not in landed:
                await asyncio.sleep(0.01)
        await bot.handle_sync(sync([thumbs_up("$r1", BOB, landed[txn])], "s5"))
        assert await _supporters(bot) == [BOB]
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        await bot.dispatcher.drain()
        await bot.transport.close()
        await bot.db.dispose()


async def test_a_thumbs_up_made_while_the_bot_was_down_counts_though_the_mark_was_lost(
        tmp_path: Path) -> None:
    """Killed between sending the confirmation and marking it sent: at the restart, the first
    sync brings the bot's message back (with its transaction id) and the 👍 made meanwhile;
    the 👍 counts, and the message is not sent again."""
    url = "sqlite+aiosqlite:///data/cct.db"
    first = await offline_bot(tmp_path, url, coordinators=[COORDO])
    landed = sent_to_fake(first)
    txn = await _suggestion(first)
    await first.outbox.flush()
    async with first.db.transaction() as repos:  # the mark never made it to the database
        await repos.session.execute(text("UPDATE outbox SET sent_at = NULL, event_id = NULL "
                                         "WHERE txn_id = :txn"), {"txn": txn})
    await first.dispatcher.drain()
    await first.transport.close()
    await first.db.dispose()
    second = await offline_bot(tmp_path, url, coordinators=[COORDO])
    resent = sent_to_fake(second)
    try:
        own = message(landed[txn], BOT, "Proposition n°1…", NOW, "m.notice")
        own["unsigned"] = {"transaction_id": txn}
        await second.handle_sync(sync([own, thumbs_up("$r1", BOB, landed[txn])], "s5"))
        assert await _supporters(second) == [BOB]
        await second.outbox.flush()
        assert txn not in resent  # known as sent
    finally:
        await second.dispatcher.drain()
        await second.transport.close()
        await second.db.dispose()


async def test_the_bots_own_events_are_marked_sent_in_one_statement(tmp_path: Path) -> None:
    """Five of the bot's messages come back with the sync (and a 👍 on one: a batch to save),
    their rows not marked yet: they are marked sent with one UPDATE executed for all, not one
    each."""
    bot = await offline_bot(tmp_path, "sqlite+aiosqlite:///data/cct.db")
    txns = [f"cct-test-{n}" for n in range(5)]
    async with bot.db.transaction() as repos:
        for txn in txns:
            await repos.outbox.add(txn_id=txn, room_id=ROOM, content={"body": "x"},
                                   created_at=NOW)
    updates: list[bool] = []

    def seen(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any,
             executemany: bool) -> None:
        if statement.lstrip().upper().startswith("UPDATE OUTBOX"):
            updates.append(executemany)

    event.listen(bot.db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        own = [message(f"$own{n}", BOT, "x", NOW, "m.notice") for n in range(5)]
        for event_json, txn in zip(own, txns, strict=True):
            event_json["unsigned"] = {"transaction_id": txn}
        await bot.handle_sync(sync([*own, thumbs_up("$r1", BOB, "$own0")], "s3"))
        async with bot.db.transaction() as repos:
            assert await repos.outbox.pending() == []
        assert updates == [True]
    finally:
        event.remove(bot.db.engine.sync_engine, "before_cursor_execute", seen)
        await bot.dispatcher.drain()
        await bot.transport.close()
        await bot.db.dispose()


# --- messages in threads: comments known by their event ids --------------------------------------


def in_thread_of(event_id: str, sender: str, body: str, root: str) -> dict[str, Any]:
    event = message(event_id, sender, body, NOW)
    event["content"]["m.relates_to"] = {"rel_type": "m.thread", "event_id": root,
                                        "is_falling_back": True,
                                        "m.in_reply_to": {"event_id": root}}
    return event

async def _with_a_poll(folder: Path) -> tuple[Bot, dict[str, str]]:
    """A bot whose poll n°1 (on anything) is posted; what it sent (transaction id -> event)."""
    bot = await offline_bot(folder, "sqlite+aiosqlite:///data/cct.db", coordinators=[COORDO])
    landed = sent_to_fake(bot)
    await bot.handle_sync(sync([message(
        "$q", COORDO, '!sondage question "Quel thème ?" choix Mobilité | Énergie', NOW)], "s3"))
    await bot.dispatcher.drain()
    await bot.outbox.flush()
    return bot, landed


async def test_a_thread_message_saves_the_sync_position_only_when_it_becomes_a_comment(
        tmp_path: Path) -> None:
    """Anyone's message in any thread used to force a write of the sync position; one that is
    no comment is harmless to read again, so the position waits (as for commands and chat). A
    comment saves it: read again after ``!oublier-moi`` dropped its event id, it would come
    back under its author's id."""
    bot, landed = await _with_a_poll(tmp_path)
    try:
        root = landed[effect_txn(root_key(1))]  # the poll's message: its thread takes comments
        await bot.handle_sync(sync([in_thread_of("$chat", BOB, "hors sujet", "$elsewhere")],
                                   "s4"))
        assert await _token(bot) is None  # nothing to act on: not even a write of the position
        await bot.handle_sync(sync([in_thread_of("$c1", BOB, "Le vélo d'abord", root)], "s5"))
        assert await _token(bot) == "s5"  # a comment: saved with the position
        async with bot.db.transaction() as repos:
            assert [c.text for c in await repos.comments.latest(1, 5)] == ["Le vélo d'abord"]
    finally:
        await bot.dispatcher.drain()
        await bot.transport.close()
        await bot.db.dispose()


async def test_a_room_event_dated_in_the_future_by_its_homeserver_counts_as_now(
        tmp_path: Path) -> None:
    """A homeserver dates its users' events as it likes: a comment (or a 👍, a ✅) dated years
    ahead is recorded at the bot's time — it neither stays the « latest » comment for ever nor
    counts as participation in a year to come."""
    bot, landed = await _with_a_poll(tmp_path)
    try:
        ahead = in_thread_of("$c1", BOB, "Toujours en tête", landed[effect_txn(root_key(1))])
        ahead["origin_server_ts"] = ms(NOW + timedelta(days=3 * 365))
        vote = {"type": "org.matrix.msc3381.poll.response", "event_id": "$v1", "sender": BOB,
                "origin_server_ts": ahead["origin_server_ts"], "content": {
                    "m.relates_to": {"rel_type": "m.reference",
                                     "event_id": landed[effect_txn(choice_key(1))]},
                    "org.matrix.msc3381.poll.response": {"answers": ["2"]}}}
        await bot.handle_sync(sync([ahead, vote], "s4"))
        async with bot.db.transaction() as repos:
            [comment] = await repos.comments.latest(1, 5)
            assert comment.created_at == NOW
            assert [(v.answer, v.voted_at) for v in await repos.polls.votes(1)] == [("yes", NOW)]
            assert BOB in await repos.participants.active_in(NOW.year)
            assert BOB not in await repos.participants.active_in(NOW.year + 3)
    finally:
        await bot.dispatcher.drain()
        await bot.transport.close()
        await bot.db.dispose()
