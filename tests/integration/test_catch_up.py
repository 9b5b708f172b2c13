"""The catch-up at start on the real Synapse: a large sync response is parsed in a worker thread
(``bot.nio_client``) and what was said while the bot was down is answered, once each."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from bot import nio_client
from tests.integration.test_bot import club

pytestmark = pytest.mark.integration


async def test_commands_said_while_down_are_answered_once_after_a_threaded_parse(
        bot_factory, users, monkeypatch) -> None:
    runner, chargee, room = await club(bot_factory, users)
    await runner.stop()
    said = [await chargee.send_text(room, f"!ping {n}") for n in range(3)]
    threads: list[int] = []
    parse = nio_client.parsed_sync

    def parsed(body: bytes, data: tuple[Any, ...]) -> Any:
        threads.append(threading.get_ident())
        return parse(body, data)

    monkeypatch.setattr(nio_client, "THREAD_ABOVE_BYTES", 0)
    monkeypatch.setattr(nio_client, "parsed_sync", parsed)
    await runner.start()
    for event_id in said:
        await chargee.wait_for_reply(room, event_id, timeout=60)
    await chargee.send_text(room, "!ping")  # a later sync, and a reply, to wait for
    await chargee.wait_until(lambda: not chargee.unanswered(room, said), 30, "replies")
    assert all(len(chargee.replies_to(room, event_id)) == 1 for event_id in said)
    assert threads and threading.get_ident() not in threads


async def test_a_small_sync_is_parsed_in_the_loop(bot_factory, users, monkeypatch) -> None:
    runner, chargee, room = await club(bot_factory, users)
    await runner.stop()
    called: list[bytes] = []
    monkeypatch.setattr(nio_client, "parsed_sync", lambda body, data: called.append(body))
    await runner.start()
    event_id = await chargee.send_text(room, "!ping")
    assert "pong" in (await chargee.wait_for_reply(room, event_id, timeout=60)).body
    assert not called
