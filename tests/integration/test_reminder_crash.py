"""Reminders survive `kill -9`: the bot is killed at random moments while 200 reminders come
due, and restarted, 10 times; each reminder reaches the room exactly once (counted on the
homeserver)."""

from __future__ import annotations

import asyncio
import random
import re
import signal
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.db import Database
from tests.integration.conftest import unique
from tests.integration.matrix_user import MatrixUser
from tests.integration.test_cli import start_bot, write_config

pytestmark = pytest.mark.integration
COUNT = 200
CYCLES = 10
_SENT = re.compile(r"^⏰ Rappel(?: \(en retard\))? : crash (\d+)$")


async def add_reminders(url: str, room: str, start: datetime) -> None:
    db = Database(url)
    try:
        async with db.transaction() as repos:
            for index in range(COUNT):
                due = start + timedelta(milliseconds=100 * index)
                await repos.reminders.add(kind="room", room_id=room, owner="@chargee:test",
                                          text=f"crash {index}", rule=None, due_at=due,
                                          send_at=due, meeting_id=None, offset="",
                                          created_at=datetime.now(UTC))
    finally:
        await db.dispose()


def delivered(user: MatrixUser, room: str) -> Counter[int]:
    found: Counter[int] = Counter()
    for event in user.events.get(room, []):
        match = _SENT.match(getattr(event, "body", "") or "")
        if match:
            found[int(match.group(1))] += 1
    return found


async def stop(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        await asyncio.to_thread(process.wait, 30)


async def test_kill_9_while_reminders_come_due_delivers_each_exactly_once(
        synapse, users, tmp_path: Path) -> None:
    chargee = await users("chargee")
    bot_id = synapse.register(unique("crashbot"), "crash-pw")
    room = await chargee.create_room(name="CCT", invite=[bot_id])
    config = tmp_path / "config.toml"
    write_config(config, synapse, bot_id, room, chargee.user_id)
    process = start_bot(config, "crash-pw")
    try:
        await chargee.wait_membership(room, bot_id, "join", timeout=60)
        await stop(process, signal.SIGTERM)
        url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'cct.db'}"
        await add_reminders(url, room, datetime.now(UTC) + timedelta(seconds=3))
        rng = random.Random(9)
        for _ in range(CYCLES):
            process = start_bot(config, "crash-pw")
            await asyncio.sleep(rng.uniform(0.5, 3.0))
            await stop(process, signal.SIGKILL)  # at a random moment, no clean-up at all
        process = start_bot(config, "crash-pw")

        async def all_delivered() -> None:
            while len(delivered(chargee, room)) < COUNT:
                await asyncio.sleep(0.5)

        try:
            await asyncio.wait_for(all_delivered(), timeout=180)
        except TimeoutError:
            missing = sorted(set(range(COUNT)) - set(delivered(chargee, room)))
            pytest.fail(f"{len(missing)} reminders never arrived: {missing[:20]}…")
        sentinel = await chargee.send_text(room, "!ping")
        await chargee.wait_for_reply(room, sentinel, timeout=60)  # anything late has arrived
        counts = delivered(chargee, room)
        assert sorted(counts) == list(range(COUNT))
        assert {n for n in counts.values()} == {1}, [i for i, n in counts.items() if n > 1]
    finally:
        await stop(process, signal.SIGTERM)
