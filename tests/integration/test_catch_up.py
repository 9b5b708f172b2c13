"""The catch-up at start on the real Synapse: a large sync response is parsed in a worker thread
(``bot.nio_client``) and what was said while the bot was down is answered, once each; a large
page of history too."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

import pytest
from nio import RoomMessagesResponse, SyncResponse

from bot import nio_client
from tests.integration.test_bot import club

pytestmark = pytest.mark.integration


async def test_commands_said_while_down_are_answered_once_after_a_threaded_parse(
        bot_factory, users, monkeypatch) -> None:
    runner, chargee, room = await club(bot_factory, users)
    await runner.stop()
    said = [await chargee.send_text(room, f"!ping {n}") for n in range(3)]
    threads = parsed_in_threads(monkeypatch)
    await runner.start()
    for event_id in said:
        await chargee.wait_for_reply(room, event_id, timeout=60)
    await chargee.send_text(room, "!ping")  # a later sync, and a reply, to wait for
    await chargee.wait_until(lambda: not chargee.unanswered(room, said), 30, "replies")
    assert all(len(chargee.replies_to(room, event_id)) == 1 for event_id in said)
    assert threads[SyncResponse]
    assert threading.get_ident() not in [thread for thread, _ in threads[SyncResponse]]


async def test_a_page_of_history_is_parsed_in_a_worker_thread(bot_factory, users,
                                                              monkeypatch) -> None:
    runner, chargee, room = await club(bot_factory, users)
    said = [await chargee.send_text(room, f"message {n}") for n in range(5)]
    await chargee.wait_for_reply(room, await chargee.send_text(room, "!ping"), timeout=30)
    threads = parsed_in_threads(monkeypatch)
    assert runner.bot is not None
    transport = runner.bot.transport
    page = await transport.history(room, transport.client.next_batch, limit=20)
    assert set(said) <= {event.event_id for event in page.events}
    assert threads[RoomMessagesResponse]
    assert threading.get_ident() not in [thread for thread, _ in threads[RoomMessagesResponse]]


def parsed_in_threads(monkeypatch: pytest.MonkeyPatch, above: int = 0
                      ) -> dict[type, list[tuple[int, bytes]]]:
    """Every sync and history response over ``above`` bytes parsed in a worker thread from now
    on; the threads that parsed them and their bodies, by response class."""
    threads: dict[type, list[tuple[int, bytes]]] = defaultdict(list)
    parse = nio_client.parsed

    def parsed(response_class: type, body: bytes, data: tuple[Any, ...]) -> Any:
        threads[response_class].append((threading.get_ident(), body))
        return parse(response_class, body, data)

    monkeypatch.setattr(nio_client, "THREAD_ABOVE_BYTES", above)
    monkeypatch.setattr(nio_client, "parsed", parsed)
    return threads


async def test_a_small_sync_is_parsed_in_the_loop(bot_factory, users, monkeypatch) -> None:
    runner, chargee, room = await club(bot_factory, users)
    await runner.stop()
    # the restart's full-state sync may be large: only recorded
    threads = parsed_in_threads(monkeypatch, above=nio_client.THREAD_ABOVE_BYTES)
    await runner.start()
    event_id = await chargee.send_text(room, "!ping")
    assert "pong" in (await chargee.wait_for_reply(room, event_id, timeout=60)).body
    assert not [body for _, body in threads[SyncResponse] if event_id.encode() in body]
