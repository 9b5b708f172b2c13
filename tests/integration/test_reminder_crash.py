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
_SENT = re.compile(r"^⏰ Rappel(?: \(en retard\))? de @\S+ : crash (\d+)$")


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

        try:
            await chargee.wait_until(lambda: len(delivered(chargee, room)) >= COUNT, 180,
                                     "every reminder")
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


async def test_kill_9_during_mixed_commands_and_reminders_keeps_every_acknowledged_change(
        synapse, users, tmp_path: Path) -> None:
    """500 mixed items over 10 kill cycles: 200 reminders and 300 commands (creating groups and
    pings); afterwards every reminder arrived once, every command was answered once, and every
    group the bot said it created is in the database."""
    chargee = await users("chargee")
    bot_id = synapse.register(unique("mixbot"), "mix-pw")
    room = await chargee.create_room(name="CCT", invite=[bot_id])
    config = tmp_path / "config.toml"
    write_config(config, synapse, bot_id, room, chargee.user_id)
    process = start_bot(config, "mix-pw")
    sent: list[str] = []
    try:
        await chargee.wait_membership(room, bot_id, "join", timeout=60)
        await stop(process, signal.SIGTERM)
        url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'cct.db'}"
        await add_reminders(url, room, datetime.now(UTC) + timedelta(seconds=3))
        rng = random.Random(11)
        for cycle in range(CYCLES):
            process = start_bot(config, "mix-pw")
            kill_at = rng.randrange(5, 30)
            for i in range(30):
                number = cycle * 30 + i
                body = f"!projet creer Groupe {number:03d}" if i % 2 else f"!ping {number}"
                sent.append(await chargee.send_text(room, body))
                if i == kill_at:
                    await stop(process, signal.SIGKILL)  # mid-stream; the rest while it is down
            await stop(process, signal.SIGKILL)
        process = start_bot(config, "mix-pw")

        await chargee.wait_until(lambda: len(delivered(chargee, room)) >= COUNT
                                 and not chargee.unanswered(room, sent), 240,
                                 "every reminder and every reply")
        sentinel = await chargee.send_text(room, "!ping")
        await chargee.wait_for_reply(room, sentinel, timeout=60)
        counts = delivered(chargee, room)
        assert sorted(counts) == list(range(COUNT)) and set(counts.values()) == {1}
        assert [len(chargee.replies_to(room, e)) for e in sent] == [1] * len(sent)
        created = {re.search(r"Groupe (\d{3})", r.body).group(1)  # type: ignore[union-attr]
                   for e in sent for r in chargee.replies_to(room, e)
                   if "Groupe-projet" in r.body}
    finally:
        await stop(process, signal.SIGTERM)
    db = Database(url)
    try:
        async with db.transaction() as repos:
            missing = [n for n in created if await repos.groups.by_name_key(f"groupe {n}") is None]
    finally:
        await db.dispose()
    assert created and missing == []
