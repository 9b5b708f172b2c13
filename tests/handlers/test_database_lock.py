"""Another program holds the database's write lock (a real second process) while commands
arrive: the sync goes on, what a read can answer is answered at once, what must write waits and
is answered once when the lock is freed, its sender told once if that took long. Nothing is
lost, nothing answered twice."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import Bot
from bot.batch import Batch, Command
from commands.effects import REF_PREFIX
from tests.handlers.fakes import record_sends
from tests.handlers.test_sync_batches import NOW, ROOM, message, offline_bot, queued, sync
from tests.lock_holder import LockHolder

ALICE = "@alice:localhost"
BOB = "@bob:localhost"
OTHER_ROOM = "!other:localhost"
BUSY = "La base de données est occupée, je réessaie…"


async def _bot(tmp_path: Path, busy_notice_seconds: int) -> Bot:
    instance = await offline_bot(tmp_path, "sqlite+aiosqlite:///data/cct.db")
    # ``offline_bot``'s settings, with the notice's limit of the test
    settings = instance.settings
    object.__setattr__(settings, "database_busy_notice_seconds", busy_notice_seconds)
    instance.dispatcher.busy_notice_s = busy_notice_seconds
    async with instance.db.transaction() as repos:
        await repos.rooms.mark_joined(OTHER_ROOM, NOW - timedelta(days=2))
    instance.sent = record_sends(instance.transport)  # type: ignore[attr-defined]
    instance.dispatcher.send_now = instance.transport.send
    return instance


@pytest.fixture(params=[0, 3600], ids=["told-at-once", "never-told"])
async def bot(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Bot]:
    instance = await _bot(tmp_path, request.param)
    try:
        yield instance
    finally:
        await instance.dispatcher.drain(limit_s=5)
        if instance.sync.unsaved.saver is not None:
            instance.sync.unsaved.saver.cancel()
        await instance.transport.close()
        await instance.db.dispose()


def _file(bot: Bot) -> str:
    return bot.db.url.split("///", 1)[1]


def _sent_to(bot: Bot, event_id: str) -> list[str]:
    """The bodies sent at once (without the outbox) in reply to ``event_id``."""
    return [content["body"] for _room, content, _txn in bot.sent  # type: ignore[attr-defined]
            if content.get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
            == event_id]


async def _queued_replies(bot: Bot) -> list[str]:
    async with bot.db.reading() as repos:
        return [json.loads(row.content)["m.relates_to"]["m.in_reply_to"]["event_id"]
                for row in await repos.outbox.pending()]


async def _inbox(bot: Bot) -> list[str]:
    """The commands in the inbox, read without waiting for the lock."""
    async with bot.db.reading() as repos:
        return [row.event_id for row in await repos.inbox.pending()]


async def _saved(bot: Bot) -> None:
    """Waits for the batches kept in memory to be saved and their commands to run."""
    if bot.sync.unsaved.saver is not None:
        await bot.sync.unsaved.saver
    await bot.dispatcher.drain()


async def test_a_write_waits_for_the_lock_while_another_room_is_answered(bot: Bot) -> None:
    notice_at_once = bot.settings.database_busy_notice_seconds == 0
    async with LockHolder(_file(bot)) as other:
        await bot.handle_sync(sync([message("$a", ALICE, "!projet creer Atelier vélo", NOW)],
                                   "s2"))
        # The sync went on: the batch waits in memory, nothing is saved or answered yet.
        assert bot.sync.token == "s2" and bot.sync.unsaved.batches
        tasks = await bot.handle_sync(sync([message("$b", BOB, "!ping", NOW)], "s3",
                                           room=OTHER_ROOM))
        await asyncio.gather(*tasks)
        assert len(_sent_to(bot, "$b")) == 1  # answered during the lock, from a read
        assert _sent_to(bot, "$a") in ([], [BUSY])  # not answered: at most told to wait
        if notice_at_once:
            while not _sent_to(bot, "$a"):  # the saver tells $a's sender, the lock still held
                await asyncio.sleep(0.01)
        assert await _inbox(bot) == []  # nothing could be written
        await other.release()
        await _saved(bot)
    assert _sent_to(bot, "$a") == ([BUSY] if notice_at_once else [])  # told once at most
    assert len(_sent_to(bot, "$b")) == 1  # not answered again
    assert await _queued_replies(bot) == ["$a"]  # $a's answer, once, through the outbox
    assert await queued(bot) == ["handled", "handled"]
    async with bot.db.reading() as repos:
        group = await repos.groups.get(1)
        assert await repos.groups.get(2) is None
        assert await repos.state.get("sync_token") == "s3"
    assert group is not None and group.name == "Atelier vélo"


async def test_commands_of_a_room_keep_their_order_behind_one_that_waits(bot: Bot) -> None:
    async with LockHolder(_file(bot)):
        await bot.handle_sync(sync([message("$a", ALICE, "!projet creer Atelier vélo", NOW)],
                                   "s2"))
        tasks = await bot.handle_sync(sync([message("$b", ALICE, "!projet liste", NOW)], "s3"))
        await asyncio.gather(*tasks)
        assert _sent_to(bot, "$b") == []  # it would not list the group created before it
    await _saved(bot)
    assert await _queued_replies(bot) == ["$a", "$b"]
    async with bot.db.reading() as repos:
        listing = json.loads((await repos.outbox.pending())[1].content)["body"]
    assert "Atelier vélo" in listing


async def test_a_queued_command_meeting_the_lock_is_told_and_answered_once(bot: Bot) -> None:
    notice_at_once = bot.settings.database_busy_notice_seconds == 0
    async with bot.db.transaction() as repos:
        await repos.inbox.add_if_new(event_id="$q", room_id=ROOM, sender=ALICE,
                                     body="!projet creer Jardin", sent_at=NOW, received_at=NOW,
                                     handled_at=None)
    async with LockHolder(_file(bot)) as other:
        task = bot.dispatcher.submit("$q", ROOM)
        if notice_at_once:
            while not _sent_to(bot, "$q"):
                await asyncio.sleep(0.01)
        assert not task.done()
        await other.release()
        await task
    assert _sent_to(bot, "$q") == ([BUSY] if notice_at_once else [])
    assert await _queued_replies(bot) == ["$q"]


async def test_at_stop_batches_still_waiting_are_left_to_the_next_start(
        bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.sync.STOP_LOCK_WAIT_S", 0)
    async with LockHolder(_file(bot)):
        await bot.handle_sync(sync([message("$a", ALICE, "!projet creer Atelier vélo", NOW)],
                                   "s2"))
        assert bot.sync.unsaved.saver is not None
        bot.sync.unsaved.saver.cancel()
        await bot.sync.save_position()
    async with bot.db.reading() as repos:  # the next start reads the batch again
        assert await repos.state.get("sync_token") is None
    assert await _inbox(bot) == []


def test_batches_kept_in_memory_are_saved_as_one_in_their_order() -> None:
    one = Command("$1", ROOM, ALICE, "!ping", NOW)
    two = Command("$2", ROOM, ALICE, "!ping", NOW)
    at = NOW - timedelta(minutes=1)
    merged = (Batch(commands=[one], joined={"!a": at, "!b": at}, left=["!c"],
                    last_events={ROOM: "$1", "!a": "$x"})
              .then(Batch(commands=[two], joined={"!c": NOW}, left=["!b"],
                          last_events={ROOM: "$2"})))
    assert merged.commands == [one, two]
    assert merged.joined == {"!a": at, "!c": NOW}  # !b joined then left: left
    assert merged.left == ["!c", "!b"]  # !c: left (forgotten), then joined again (recorded)
    assert merged.last_events == {ROOM: "$2", "!a": "$x"}


async def test_a_read_answer_still_being_sent_is_not_waited_for_inside_the_transaction(
        bot: Bot) -> None:
    """A batch came while the lock was being taken, its command answered from a read whose
    send hangs (a slow homeserver): the batches before it are saved without waiting for that
    send (the write lock is not held meanwhile); it is saved once its answer is sent, recorded
    as answered (not run again)."""
    gate = asyncio.Event()
    send = bot.dispatcher.send_now
    assert send is not None

    async def hanging(*args: object, **kwargs: object) -> str:
        await gate.wait()
        return await send(*args, **kwargs)  # type: ignore[arg-type]

    async with LockHolder(_file(bot)) as other:
        await bot.handle_sync(sync([message("$a", ALICE, "!projet creer Atelier vélo", NOW)],
                                   "s2"))
        bot.dispatcher.send_now = hanging
        await bot.handle_sync(sync([message("$b", BOB, "!ping", NOW)], "s3", room=OTHER_ROOM))
        await other.release()
        async with asyncio.timeout(30):  # for ever if the send were waited for in the transaction
            while len(bot.sync.unsaved.batches) > 1:
                await asyncio.sleep(0.01)
        assert len(await queued(bot)) == 1 and not gate.is_set()  # $a's batch alone
        gate.set()
        await _saved(bot)
    assert len(_sent_to(bot, "$b")) == 1  # answered once, from the read
    assert await _queued_replies(bot) == ["$a"]  # $b is not run again
    assert await queued(bot) == ["handled", "handled"]


def _in_thread(event: dict[str, Any], root: str) -> dict[str, Any]:
    event["content"]["m.relates_to"] = {"rel_type": "m.thread", "event_id": root}
    return event


async def test_answers_sent_during_the_lock_stay_in_the_commands_thread(bot: Bot) -> None:
    """A command written in a thread is answered there, from a read or told to wait, as the
    outbox would answer it."""
    notice_at_once = bot.settings.database_busy_notice_seconds == 0
    async with LockHolder(_file(bot)) as other:
        await bot.handle_sync(sync([_in_thread(message(
            "$a", ALICE, "!projet creer Atelier vélo", NOW), "$root-a")], "s2"))
        tasks = await bot.handle_sync(sync([_in_thread(message("$b", BOB, "!ping", NOW),
                                                       "$root-b")], "s3", room=OTHER_ROOM))
        await asyncio.gather(*tasks)
        if notice_at_once:
            while not _sent_to(bot, "$a"):
                await asyncio.sleep(0.01)
        await other.release()
        await _saved(bot)
    threads = {content["m.relates_to"]["m.in_reply_to"]["event_id"]:
               content["m.relates_to"].get("event_id")
               for _room, content, _txn in bot.sent}  # type: ignore[attr-defined]
    assert threads == ({"$a": "$root-a", "$b": "$root-b"} if notice_at_once
                       else {"$b": "$root-b"})


async def test_a_reference_is_resolved_while_another_program_holds_the_lock(bot: Bot) -> None:
    """A message naming an earlier one (a thread, an edit) finds its event id from a read: the
    outbox does not wait for the write lock to send it."""
    async with bot.db.transaction() as repos:
        row = await repos.outbox.add(txn_id="first", room_id=ROOM, content={"body": "a"},
                                     created_at=NOW)
        assert row is not None
        await repos.outbox.mark_sent(row.id, "$first", NOW)
    async with LockHolder(_file(bot)):
        async with asyncio.timeout(5):  # for ever if it took the write lock
            resolved = await bot.outbox.delivery.resolve({"event_id": f"{REF_PREFIX}first"})
    assert resolved == {"event_id": "$first"}
