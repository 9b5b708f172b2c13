"""The database refuses writes (a real read-only PostgreSQL database): commands get a short
answer that nothing was saved, nothing changes, and the bot recovers when writes come back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.app import Bot
from bot.clock import FakeClock
from bot.config import parse_settings
from commands.errors import StorageUnavailable
from tests.conftest import PG_ADMIN_DSN
from tests.handlers.test_sync_batches import BOT, NOW, ROOM, message, queued, sync
from tests.storage.conftest import fresh_postgres

ALICE = "@alice:localhost"


async def set_read_only(url: str, read_only: bool) -> None:
    """A real fault: the database turns read-only for every new session, and the bot's open
    sessions are cut (as when a disk fills and the server is restarted read-only)."""
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        state = "on" if read_only else "off"
        await admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = {state}')
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = $1 AND pid <> pg_backend_pid()", name)
    finally:
        await admin.close()


@pytest.fixture
def pg_url(postgres_url: str) -> str:
    return postgres_url


@pytest.fixture
async def bot(tmp_path: Path, pg_url: str) -> AsyncIterator[Bot]:
    await fresh_postgres(pg_url)
    settings = parse_settings({
        "matrix": {"homeserver": "http://127.0.0.1:9", "user_id": BOT, "password": "x",
                   "store_path": "store", "catch_up_minutes": 60, "encryption": False},
        "database": {"url": pg_url},
        "rooms": {"main": ROOM},
    }, base=tmp_path, env={})
    instance = Bot(settings, clock=FakeClock(NOW))
    await instance.db.upgrade()
    instance.club_rooms[ROOM] = "main"
    async with instance.db.transaction() as repos:
        await repos.rooms.mark_joined(ROOM, NOW - timedelta(days=2))
    await instance.load_state()
    sent: list[tuple[str, dict[str, Any], str]] = []

    async def send(room_id: str, content: dict[str, Any], txn_id: str,
                   event_type: str = "m.room.message") -> str:
        sent.append((room_id, content, txn_id))
        return f"$sent{len(sent)}"

    instance.transport.send = send  # type: ignore[method-assign]
    instance.sent = sent  # type: ignore[attr-defined]
    try:
        yield instance
    finally:
        await set_read_only(pg_url, False)
        await instance.dispatcher.drain(limit_s=1)
        await instance.transport.close()
        await instance.db.dispose()


async def test_read_only_database_answers_changes_nothing_and_recovers(bot: Bot,
                                                                       pg_url: str) -> None:
    batch = sync([message("$c1", ALICE, "!projet creer Atelier vélo", NOW)], token="s2")
    await set_read_only(pg_url, True)
    for _ in range(2):  # the sync loop retries the same batch while the database is down
        with pytest.raises(StorageUnavailable):
            await bot.handle_sync(batch)
    told = bot.sent  # type: ignore[attr-defined]
    assert len(told) == 1  # told once, not at every retry
    room, content, _ = told[0]
    assert room == ROOM and content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$c1"}}
    assert content["body"].startswith("Je ne peux rien enregistrer pour le moment")
    assert "rien n'a été modifié" in content["body"]

    await set_read_only(pg_url, False)  # the fault is gone
    await bot.handle_sync(batch)
    assert await queued(bot) == []  # the refused command is not run after all
    later = sync([message("$c2", ALICE, "!projet creer Atelier vélo", NOW)], token="s3")
    tasks = await bot.handle_sync(later)
    for task in tasks:
        await task
    async with bot.db.transaction() as repos:
        group = await repos.groups.get(1)
        token = await repos.state.get("sync_token")
    assert group is not None and group.name == "Atelier vélo" and token == "s3"
