"""A lone command's reply that is all its handler did is sent while the transaction recording
it commits (``bot.ahead``): before the commit, once, its row marked with the event it became;
never when the command wrote, when its batch saves more, or past rows waiting in its room."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from bot import ahead as bot_ahead
from bot.app import Bot
from bot.batch import Batch, Command
from bot.outbox import Queued, txn_id
from commands.context import Context
from commands.effects import Reply
from commands.registry import command
from storage.faults import StorageUnavailable
from tests.handlers.test_sync_batches import NOW, ROOM, member, message, offline_bot, sync
from tests.storage.conftest import migrated_at

ANA = "@ana:localhost"


@dataclass
class Ahead:
    """A bot whose sender runs; ``attempts``: the transaction ids it asked the homeserver to
    send, in order; ``at_commit``: how many it had asked at each commit. ``fail_first``: the
    first request fails (the network); ``hold``: a request for that transaction id waits for
    ``release``."""

    bot: Bot
    attempts: list[str] = field(default_factory=list)
    at_commit: list[int] = field(default_factory=list)
    fail_first: bool = False
    hold: str | None = None
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, _room_id: str, _content: dict[str, Any], txn: str,
                   _event_type: str = "m.room.message") -> str:
        self.attempts.append(txn)
        if self.fail_first and len(self.attempts) == 1:
            raise TimeoutError("the request was lost")
        if txn == self.hold:
            await self.release.wait()
        return f"$landed-{len(self.attempts)}"

    async def answered(self, event_id: str) -> str | None:
        """Once the sender is done: the event id the reply to ``event_id`` is marked with."""
        await self.bot.dispatcher.drain()
        await self.bot.outbox.settled(5)
        await self.bot.outbox.marks.write_now()
        async with self.bot.db.transaction() as repos:
            assert (await repos.inbox.get(event_id)).handled_at is not None  # type: ignore[union-attr]
            return await repos.outbox.event_id_of(txn_id("reply", event_id))


async def _running(bot: Bot) -> AsyncIterator[Ahead]:
    ahead = Ahead(bot)
    bot.transport.send = ahead.send  # type: ignore[method-assign]
    event.listen(bot.db.engine.sync_engine, "commit",
                 lambda _connection: ahead.at_commit.append(len(ahead.attempts)))
    sender = asyncio.create_task(bot.outbox.run())
    await bot.outbox.settled(5)  # its first read of the queue done (and committed)
    ahead.at_commit.clear()
    try:
        yield ahead
    finally:
        ahead.release.set()
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        await bot.dispatcher.drain()
        await bot.transport.close()
        await bot.db.dispose()


@pytest.fixture
async def both(tmp_path: Path, both_url: str, migrated_sqlite: Path) -> AsyncIterator[Ahead]:
    await migrated_at(both_url, migrated_sqlite)  # PostgreSQL's rows of earlier tests gone
    async for ahead in _running(await offline_bot(tmp_path, both_url)):
        yield ahead


@pytest.fixture
async def ahead(tmp_path: Path) -> AsyncIterator[Ahead]:
    async for running in _running(await offline_bot(tmp_path, "sqlite+aiosqlite:///data/cct.db")):
        yield running


@pytest.mark.parametrize("body", ["!ping", "!projet liste", "!projet voir zzz"])
async def test_a_reply_that_is_all_the_command_did_goes_before_the_commit(
        both: Ahead, body: str) -> None:
    """A reading command, and a refusal that wrote nothing: asked of the homeserver before the
    commit that records the command, once, and its row marked sent with that event."""
    tasks = await both.bot.handle_sync(sync([message("$a", ANA, body, NOW)], "s2"))
    assert tasks == []
    assert both.at_commit[0] == 1  # the batch's own commit: the reply was asked for already
    assert await both.answered("$a") == "$landed-1"
    assert both.attempts == [txn_id("reply", "$a")]  # never asked again from its row


def _add_writing_command(bot: Bot) -> None:
    @bot.dispatcher.registry.add
    @command("note", fr=("note",), section="reports")
    async def note(ctx: Context) -> Reply:
        await ctx.db().state.set("note", "written")
        return Reply("Noté.")


async def test_a_command_that_wrote_is_answered_after_its_commit(ahead: Ahead) -> None:
    """Its reply says what is saved: it goes once that is committed."""
    _add_writing_command(ahead.bot)
    tasks = await ahead.bot.handle_sync(sync([message("$a", ANA, "!note", NOW)], "s2"))
    assert tasks == []  # run with its batch
    assert ahead.at_commit[0] == 0
    assert await ahead.answered("$a") == "$landed-1"
    assert ahead.attempts == [txn_id("reply", "$a")]


async def test_a_command_whose_batch_saves_more_is_answered_after_the_commit(
        ahead: Ahead) -> None:
    """A reply read in a transaction that also records an arrival could show it: it waits."""
    tasks = await ahead.bot.handle_sync(sync([
        member("$j", "@bob:localhost", NOW, previous="invite"), message("$a", ANA, "!ping", NOW)],
        "s2"))
    assert tasks == []  # run with its batch
    assert ahead.at_commit[0] == 0
    assert await ahead.answered("$a") == "$landed-1"


async def test_a_reply_sent_ahead_of_a_commit_that_failed_is_not_sent_again(
        both: Ahead) -> None:
    """The batch is saved again and the command run apart: its reply, with the same
    transaction id, finds the send made and is marked with its event, asked for once."""
    failed: list[int] = []

    def fails_once(_connection: object) -> None:
        if both.attempts and not failed:
            failed.append(1)
            raise RuntimeError("the commit failed")

    event.listen(both.bot.db.engine.sync_engine, "commit", fails_once)
    tasks = await both.bot.handle_sync(sync([message("$a", ANA, "!ping", NOW)], "s2"))
    assert failed and len(tasks) == 1  # run apart from its batch, as any failed lone command
    await asyncio.gather(*tasks)
    assert await both.answered("$a") == "$landed-1"
    assert both.attempts == [txn_id("reply", "$a")]


async def test_a_reply_sent_ahead_that_failed_is_sent_from_its_row_as_a_failed_row(
        ahead: Ahead) -> None:
    """The failure is the row's first: tried again after the outbox's wait (a 429's wait
    kept), not at once."""
    ahead.bot.outbox.failures.first_wait_s = 0.2
    ahead.fail_first = True
    await ahead.bot.handle_sync(sync([message("$a", ANA, "!ping", NOW)], "s2"))
    assert ahead.at_commit[0] == 1
    await asyncio.sleep(0.05)
    assert ahead.attempts == [txn_id("reply", "$a")]  # waiting to be tried again
    async with asyncio.timeout(10):
        while len(ahead.attempts) < 2:
            await asyncio.sleep(0.05)
    assert await ahead.answered("$a") == "$landed-2"
    assert ahead.attempts == [txn_id("reply", "$a")] * 2


def _add_commands_asking_more(bot: Bot) -> None:
    """``!long``: a reply longer than a message of ordinary size; ``!suite``: one with a
    follow-up."""
    @bot.dispatcher.registry.add
    @command("long", fr=("long",), section="reports")
    async def long(_ctx: Context) -> Reply:
        return Reply("Très long. " * 2000)

    async def later(_repos: object) -> list[object]:
        return []

    @bot.dispatcher.registry.add
    @command("suite", fr=("suite",), section="reports")
    async def suite(_ctx: Context) -> Reply:
        return Reply("Et ensuite…", then=(later,))


@pytest.mark.parametrize("body", ["!long", "!suite"])
async def test_a_reply_long_to_send_or_with_more_to_do_goes_after_the_commit(
        ahead: Ahead, body: str) -> None:
    _add_commands_asking_more(ahead.bot)
    tasks = await ahead.bot.handle_sync(sync([message("$a", ANA, body, NOW)], "s2"))
    assert tasks == []
    assert ahead.at_commit[0] == 0


async def test_nothing_is_sent_ahead_while_the_sender_reads_its_queue(ahead: Ahead) -> None:
    ahead.bot.outbox.wake()  # rows were committed without being handed over
    assert not ahead.bot.outbox.send_ahead(ROOM, {"body": "pong"}, "t")


async def test_a_reply_never_passes_rows_waiting_in_its_room(ahead: Ahead) -> None:
    bot = ahead.bot
    async with bot.db.transaction() as repos:
        row = await repos.outbox.add(txn_id="earlier", room_id=ROOM, content={"body": "avant"},
                                     created_at=NOW - timedelta(seconds=1))
    assert row is not None
    ahead.hold = "earlier"
    bot.outbox.push(Queued.of(row))
    await asyncio.sleep(0)
    await bot.handle_sync(sync([message("$a", ANA, "!ping", NOW)], "s2"))
    assert ahead.at_commit[-1] == 1  # the earlier row only, still waiting
    ahead.release.set()
    assert await ahead.answered("$a") == "$landed-2"
    assert ahead.attempts == ["earlier", txn_id("reply", "$a")]


def test_a_batch_answers_only_when_it_holds_one_command_and_nothing_else() -> None:
    lone = Command("$a", ROOM, ANA, "!ping", NOW)
    assert Batch(commands=[lone]).answers_only()
    assert not Batch(commands=[lone, Command("$b", ROOM, ANA, "!ping", NOW)]).answers_only()
    assert not Batch(commands=[lone], joined={ROOM: NOW}).answers_only()
    assert not Batch(commands=[lone], queued=[Queued(1, ROOM, "m.room.message", "{}", "t")]
                     ).answers_only()


async def test_a_send_ahead_no_row_claimed_is_stopped_when_the_sender_closes(
        ahead: Ahead) -> None:
    ahead.hold = "unclaimed"
    assert ahead.bot.outbox.send_ahead(ROOM, {"body": "pong"}, "unclaimed")
    await asyncio.sleep(0)
    assert ahead.attempts == ["unclaimed"]  # under way, the homeserver silent
    await ahead.bot.outbox.close()
    assert not [task for task in asyncio.all_tasks()
                if task.get_name().startswith("ahead ") and not task.done()]


def _add_failing_command(bot: Bot) -> None:
    @bot.dispatcher.registry.add
    @command("casse", fr=("casse",), section="reports")
    async def casse(_ctx: Context) -> Reply:
        raise RuntimeError("a bug, or a transaction that can no longer commit")


async def test_an_internal_error_is_answered_after_the_commit(ahead: Ahead) -> None:
    """Its cause may be a transaction that cannot commit, whose command then runs again: the
    answer of that run must not find the error's event under its transaction id."""
    _add_failing_command(ahead.bot)
    tasks = await ahead.bot.handle_sync(sync([message("$a", ANA, "!casse", NOW)], "s2"))
    assert tasks == []
    assert ahead.at_commit[0] == 0
    assert await ahead.answered("$a") == "$landed-1"


async def test_a_reply_sent_ahead_of_a_commit_the_database_refused_is_the_only_answer(
        ahead: Ahead) -> None:
    """The database refusing to save (disk full…) is told to the sender of each command, but
    one whose reply reached the room has its answer: no notice, and it is not run again."""
    def refused(_connection: object) -> None:
        raise OperationalError("COMMIT", {}, Exception("database or disk is full"))

    event.listen(ahead.bot.db.engine.sync_engine, "commit", refused)
    with pytest.raises(StorageUnavailable):
        await ahead.bot.handle_sync(sync([message("$a", ANA, "!ping", NOW)], "s2"))
    assert ahead.attempts == [txn_id("reply", "$a")]
    assert "$a" in ahead.bot.recorder.told_down


async def test_a_send_no_row_claimed_is_kept_while_under_way_then_forgotten(
        ahead: Ahead, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot_ahead, "KEPT_S", 0.01)
    outbox = ahead.bot.outbox
    ahead.hold = "slow"
    assert outbox.send_ahead(ROOM, {"body": "pong"}, "slow")
    assert outbox.send_ahead(ROOM, {"body": "pong"}, "quick")
    await asyncio.sleep(0.05)  # past the time kept, "slow" still under way
    assert await outbox.ahead.landed("quick") is False  # done, no row claimed it: forgotten
    ahead.release.set()
    assert await outbox.ahead.landed("slow") is True  # kept until it ended
