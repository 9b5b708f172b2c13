"""Faults: the homeserver restarts, the bot is killed with SIGKILL. Nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import signal
import subprocess

import pytest

from tests.integration.conftest import unique
from tests.integration.matrix_user import MatrixUser
from tests.integration.test_cli import start_bot, write_config

pytestmark = pytest.mark.integration


async def each_answered_once(user: MatrixUser, room: str, sent: list[str], timeout: float) -> None:
    await user.wait_until(lambda: not user.unanswered(room, sent), timeout, "every reply")
    sentinel = await user.send_text(room, "!ping")
    await user.wait_for_reply(room, sentinel, timeout=60)
    assert [len(user.replies_to(room, event_id)) for event_id in sent] == [1] * len(sent)


async def test_homeserver_restart_is_survived(bot_factory, users, synapse) -> None:
    chargee = await users("chargee")
    runner = await bot_factory(start=False, club={"allowed_inviters": [chargee.user_id]})
    room = await chargee.create_room(name="CCT", invite=[runner.user_id])
    runner.overrides["rooms"] = {"main": room}
    await runner.start()
    await chargee.wait_membership(room, runner.user_id, "join")
    before = await chargee.send_text(room, "!ping")
    await chargee.wait_for_reply(room, before)
    await asyncio.to_thread(synapse.kill)
    await asyncio.sleep(3)  # the outage itself
    await asyncio.to_thread(synapse.start)
    after = [await chargee.send_text(room, "!ping") for _ in range(3)]
    await each_answered_once(chargee, room, [before, *after], timeout=120)


async def test_sigkill_during_a_stream_of_commands_loses_and_repeats_nothing(
        synapse, users, tmp_path) -> None:
    chargee = await users("chargee")
    bot_id = synapse.register(unique("killbot"), "kill-pw")
    room = await chargee.create_room(name="CCT", invite=[bot_id])
    config = tmp_path / "config.toml"
    write_config(config, synapse, bot_id, room, chargee.user_id)
    sent: list[str] = []
    process = start_bot(config, "kill-pw")
    try:
        await chargee.wait_membership(room, bot_id, "join", timeout=60)
        for cycle in range(3):
            for i in range(15):
                sent.append(await chargee.send_text(room, f"!ping {cycle}-{i}" if i % 3 else "!aide"))
                if i == 7:
                    process.send_signal(signal.SIGKILL)  # mid-stream, no clean-up at all
                    await asyncio.to_thread(process.wait, 30)
            process = start_bot(config, "kill-pw")
        await each_answered_once(chargee, room, sent, timeout=180)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                await asyncio.to_thread(process.wait, 30)
            except subprocess.TimeoutExpired:
                process.kill()


async def test_a_30_second_homeserver_outage_during_activity(bot_factory, users, synapse) -> None:
    """Synapse stops while the bot is answering a stream of commands, stays down 30 s and comes
    back: the bot reconnects by itself and answers everything once."""
    chargee = await users("chargee")
    runner = await bot_factory(start=False, club={"allowed_inviters": [chargee.user_id]})
    room = await chargee.create_room(name="CCT", invite=[runner.user_id])
    runner.overrides["rooms"] = {"main": room}
    await runner.start()
    await chargee.wait_membership(room, runner.user_id, "join")
    sent = [await chargee.send_text(room, f"!ping {i}" if i % 2 else "!aide") for i in range(20)]
    await asyncio.to_thread(synapse.kill)  # in the middle of the answers
    await asyncio.sleep(30)
    await asyncio.to_thread(synapse.start)
    sent += [await chargee.send_text(room, f"!ping après {i}") for i in range(5)]
    await each_answered_once(chargee, room, sent, timeout=240)
