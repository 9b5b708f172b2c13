"""A Matrix event may carry U+0000 in its text (the homeserver accepts it), which PostgreSQL
text cannot hold: the sync reads commands and thread replies without it, so that one such
message never fails its batch (nor holds back the sync), on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Bot
from commands.effects import effect_txn
from commands.polls.service import root_key
from tests.handlers.conftest import both_url  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.test_sync_batches import NOW, message, offline_bot, sync
from tests.storage.conftest import fresh_postgres

ANA = "@ana:localhost"


@pytest.fixture
async def bot(tmp_path: Path, both_url: str) -> AsyncIterator[Bot]:  # noqa: F811
    if both_url.startswith("postgresql"):
        await fresh_postgres(both_url)
    instance = await offline_bot(tmp_path, both_url)
    yield instance
    await instance.dispatcher.drain()
    await instance.transport.close()
    await instance.db.dispose()


async def test_a_command_and_a_poll_comment_with_a_nul_character_are_read_without_it(
        bot: Bot) -> None:
    async with bot.db.transaction() as repos:  # an open poll whose message is $root
        poll = await repos.polls.create(question="Quand ?", territory="tout",
                                        room_id=next(iter(bot.club_rooms)), closes_at=None,
                                        created_by=ANA, at=NOW)
        await repos.outbox.add(txn_id=effect_txn(root_key(poll.id)), room_id=poll.room_id,
                               created_at=NOW, content={"body": "Sondage"})
        await repos.outbox.mark_all_sent_by_txn({effect_txn(root_key(poll.id)): "$root"}, NOW)
    reply = message("$reply", ANA, "Je pré\x00fère mardi", NOW)
    reply["content"]["m.relates_to"] = {"rel_type": "m.thread", "event_id": "$root"}
    await bot.handle_sync(sync([message("$cmd", ANA, "!ping\x00", NOW), reply], token="s9"))
    await bot.dispatcher.drain()
    assert bot.sync.token == "s9"
    async with bot.db.transaction() as repos:
        command = await repos.inbox.get("$cmd")
        [comment] = await repos.comments.latest(poll.id, 10)
    assert command is not None and command.body == "!ping"
    assert comment.text == "Je préfère mardi"
