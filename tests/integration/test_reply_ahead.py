"""A reply sent while its command's transaction commits (``bot.ahead``), on a real Synapse:
when that commit fails and the send made is forgotten (as by a crash), the command runs again
and its reply, sent again with the same transaction id, is one event in the room."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from bot.ahead import SentAhead
from bot.outbox import txn_id
from tests.integration.test_bot import ask, club

pytestmark = pytest.mark.integration


async def test_a_reply_sent_before_a_lost_commit_is_one_event_in_the_room(
        bot_factory, users) -> None:
    runner, chargee, room = await club(bot_factory, users)
    await ask(chargee, room, "!ping")  # the bot's first answers are behind it
    bot = runner.bot
    assert bot is not None
    started: list[str] = []
    real_start = bot.outbox.ahead.start

    def start(room_id: str, content: dict, txn: str) -> bool:
        started.append(txn)
        return real_start(room_id, content, txn)

    bot.outbox.ahead.start = start  # type: ignore[method-assign]
    failed: list[str] = []
    forgotten: list[SentAhead] = []

    def lost(_connection: object) -> None:
        """The commit after a send ahead fails, and the send is forgotten."""
        if started and not failed:
            failed.append(started[-1])
            forgotten.append(bot.outbox.ahead)
            bot.outbox.ahead = SentAhead(bot.outbox.delivery)
            raise RuntimeError("the commit was lost")

    event.listen(bot.db.engine.sync_engine, "commit", lost)
    asked = await chargee.send_text(room, "!projet liste")
    await chargee.wait_for_reply(room, asked, timeout=30)
    assert failed == [txn_id("reply", asked)]
    await ask(chargee, room, "!ping")  # whatever was to come of the command has come
    replies = chargee.replies_to(room, asked)
    assert len(replies) == 1
    await bot.outbox.settled(5)
    await bot.outbox.marks.write_now()
    async with bot.db.transaction() as repos:
        assert await repos.outbox.event_id_of(txn_id("reply", asked)) == replies[0].event_id
    await forgotten[0].close()
