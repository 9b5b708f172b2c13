"""Commands sent in a thread are answered in that thread, from the sync to the outbox and across
a restart (real SQLite, fake transport); the bot's own thread messages fall back on the thread's
latest event."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.app import Bot
from bot.outbox import Outbox
from commands.effects import Post, Reply
from commands.threads import LATEST
from tests.handlers.conftest import ROOM, Harness
from tests.handlers.fakes import FakeTransport
from tests.handlers.test_effects import queue
from tests.handlers.test_sync_batches import NOW, message, offline_bot, sync
from tests.handlers.test_sync_batches import ROOM as SYNC_ROOM

ROOT = "$root"


def in_thread(answered: str) -> dict[str, Any]:
    """The relation of the bot's answer to ``answered``, sent in the thread of ``ROOT``."""
    return {"rel_type": "m.thread", "event_id": ROOT, "is_falling_back": False,
            "m.in_reply_to": {"event_id": answered}}


async def test_a_command_in_a_thread_is_answered_in_it(bot: Harness) -> None:
    sent = await bot.command("!ping", thread_root=ROOT, event_id="$cmd")
    assert [s.content["m.relates_to"] for s in sent] == [in_thread("$cmd")]
    main = await bot.command("!ping", event_id="$main")  # the main timeline: a plain reply
    assert main[0].content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$main"}}


async def test_refusals_are_answered_in_the_thread_too(bot: Harness) -> None:
    sent = await bot.command("!pign", thread_root=ROOT, event_id="$typo")
    assert "Commande inconnue" in sent[0].content["body"]
    assert sent[0].content["m.relates_to"] == in_thread("$typo")


async def test_the_answer_keeps_its_thread_when_sent_after_a_restart(bot: Harness) -> None:
    """The relation is in the queued row: the sender of the next start sends it as it is."""
    await bot.queue("!ping", thread_root=ROOT, event_id="$cmd")
    await bot.dispatcher.handle("$cmd")  # committed; the bot stops before sending it
    transport = FakeTransport()
    await Outbox(bot.db, transport, bot.clock).flush()
    assert [s.content["m.relates_to"] for s in transport.sent] == [in_thread("$cmd")]


async def test_a_command_queued_at_a_stop_is_answered_in_its_thread_at_the_next_start(
        bot: Harness) -> None:
    await bot.queue("!ping", thread_root=ROOT, event_id="$cmd")
    assert await bot.dispatcher.resume() == 1  # the next start: read back from the inbox
    await bot.dispatcher.drain()
    await bot.outbox.flush()
    assert bot.transport.sent[-1].content["m.relates_to"] == in_thread("$cmd")


def threaded(event_id: str, body: str, root: str = ROOT,
             latest: str | None = None) -> dict[str, Any]:
    """A message as Element sends it in a thread: falling back on the thread's latest event."""
    event = message(event_id, "@ana:localhost", body, NOW)
    event["content"]["m.relates_to"] = {"rel_type": "m.thread", "event_id": root,
                                        "is_falling_back": True,
                                        "m.in_reply_to": {"event_id": latest or root}}
    return event


async def test_the_sync_reads_the_thread_of_a_command(tmp_path: Path) -> None:
    bot: Bot = await offline_bot(tmp_path, "sqlite+aiosqlite:///data/cct.db")
    try:
        tasks = await bot.handle_sync(sync([threaded("$a", "!ping"),
                                            threaded("$b", "!ping", latest="$a")]))
        await asyncio.gather(*tasks)
        async with bot.db.transaction() as repos:
            assert [(await repos.inbox.get(e)).thread_root for e in ("$a", "$b")] == [ROOT, ROOT]  # type: ignore[union-attr]
            replies = [json.loads(row.content) for row in await repos.outbox.pending()]
        assert sorted((r["m.relates_to"]["m.in_reply_to"]["event_id"], r["m.relates_to"])
                      for r in replies) == [("$a", in_thread("$a")), ("$b", in_thread("$b"))]
        # The latest event of each thread, from the sync (what the bot's own messages there
        # fall back on).
        assert bot.transport.threads.latest(SYNC_ROOM, ROOT) == "$b"
    finally:
        await bot.dispatcher.drain()
        await bot.transport.close()
        await bot.db.dispose()


async def test_a_thread_message_falls_back_on_the_latest_event_seen(
        db: Any, outbox: Outbox, transport: FakeTransport) -> None:
    transport.threads.note(ROOM, ROOT, "$someone-answered")
    await queue(db, outbox, [Post(ROOM, Reply("dans le fil"), thread=ROOT),
                             Post(ROOM, Reply("encore"), thread=ROOT)])
    first, second = transport.sent
    assert first.content["m.relates_to"] == {
        "rel_type": "m.thread", "event_id": ROOT, "is_falling_back": True,
        "m.in_reply_to": {"event_id": "$someone-answered"}}
    assert second.content["m.relates_to"]["m.in_reply_to"] == {"event_id": first.event_id}
    async with db.transaction() as repos:  # stored as it was queued: the latest, when sent
        stored = [json.loads(content) for content in (await repos.session.execute(
            text("SELECT content FROM outbox ORDER BY id"))).scalars()]
    assert [s["m.relates_to"]["m.in_reply_to"]["event_id"] for s in stored] == [LATEST] * 2
