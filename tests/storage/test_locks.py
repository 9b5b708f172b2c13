"""Another program holding SQLite's write lock (a real second process): the bot's transactions
wait for it without stopping the event loop, reads go on, and a wait has a limit when asked."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from storage.db import Database
from storage.faults import StorageBusy, StorageUnavailable, is_busy, storage_faults
from tests.lock_holder import LockHolder
from tests.storage.test_migrations import _migrate_to


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cct.db'}")
    await db.upgrade()
    try:
        yield db
    finally:
        await db.dispose()


def _file(db: Database) -> str:
    return db.url.split("///", 1)[1]


async def _set(db: Database, key: str, value: str, patience: float | None = None) -> None:
    async with db.transaction(patience=patience) as repos:
        await repos.state.set(key, value)


async def _get(db: Database, key: str) -> str | None:
    async with db.reading() as repos:
        return await repos.state.get(key)


@pytest.mark.parametrize("mode", ["IMMEDIATE", "EXCLUSIVE"])
async def test_a_write_waits_for_the_lock_while_the_event_loop_runs(sqlite_db: Database,
                                                                    mode: str) -> None:
    db = sqlite_db
    async with LockHolder(_file(db), mode, key="theirs") as other:
        writing = asyncio.create_task(_set(db, "ours", "bot"))
        await asyncio.sleep(0)
        # Meanwhile the loop runs: other work is done, reads are answered.
        assert await _get(db, "ours") is None and await _get(db, "theirs") is None
        assert db.lock.held and not writing.done()
        await other.release()
        await writing
    assert await _get(db, "ours") == "bot" and await _get(db, "theirs") == "other program"
    assert not db.lock.held


async def test_a_write_waits_no_longer_than_its_patience(sqlite_db: Database) -> None:
    db = sqlite_db
    async with LockHolder(_file(db)):
        with pytest.raises(StorageBusy):
            await _set(db, "ours", "bot", patience=0)
        with pytest.raises(StorageBusy):
            await _set(db, "ours", "bot", patience=0.05)
    assert await _get(db, "ours") is None  # nothing was written
    await _set(db, "ours", "bot", patience=0)  # free again: at once
    assert await _get(db, "ours") == "bot"


async def test_several_writes_waiting_all_go_through_in_turn(sqlite_db: Database) -> None:
    db = sqlite_db
    async with LockHolder(_file(db)):
        writes = [asyncio.create_task(_set(db, f"k{i}", str(i))) for i in range(5)]
        await asyncio.sleep(0)
        assert not any(write.done() for write in writes)
    await asyncio.gather(*writes)
    assert [await _get(db, f"k{i}") for i in range(5)] == [str(i) for i in range(5)]


async def _waiting(db: Database, task: asyncio.Task[None]) -> None:
    """Until the database is waiting for another program's lock (``task``'s error, if it
    ended first)."""
    async with asyncio.timeout(30):
        while not db.lock.held and not task.done():
            await asyncio.sleep(0.01)
    if task.done():
        task.result()


async def test_the_migrations_wait_for_the_lock(sqlite_db: Database) -> None:
    db = sqlite_db
    head = await db.current_revision()
    await _migrate_to(db, "-1", down=True)
    behind = await db.current_revision()
    assert behind not in (None, head)
    async with LockHolder(_file(db)) as other:
        upgrading = asyncio.create_task(db.upgrade())
        await _waiting(db, upgrading)
        assert await db.current_revision() == behind  # a read, meanwhile
        assert not upgrading.done()
        await other.release()
        await upgrading
    assert await db.current_revision() == head


async def test_a_database_at_head_starts_without_waiting_for_the_lock(sqlite_db: Database) -> None:
    async with LockHolder(_file(sqlite_db)):
        await asyncio.wait_for(sqlite_db.upgrade(), 10)


async def test_a_database_no_one_may_read_is_waited_for_at_start(sqlite_db: Database) -> None:
    head = await sqlite_db.current_revision()
    await sqlite_db.dispose()  # no connection of ours open: the other program locks the file
    db = Database(sqlite_db.url)
    try:
        async with LockHolder(_file(db), "EXCLUSIVE", whole_file=True) as other:
            upgrading = asyncio.create_task(db.upgrade())
            await _waiting(db, upgrading)
            assert not upgrading.done()
            await other.release()
            await upgrading
        assert await db.current_revision() == head
    finally:
        await db.dispose()


async def test_a_read_only_transaction_refuses_writes(db: Database) -> None:
    """On SQLite and PostgreSQL: what could not be answered from a read waits for the lock."""
    with pytest.raises(StorageBusy):
        async with db.reading() as repos:
            await repos.state.set("k", "v")
            await repos.flush()
    async with db.reading() as repos:
        assert await repos.state.get("k") is None
    async with db.transaction() as repos:  # the connection is as good as before
        await repos.state.set("k", "v")
    async with db.reading() as repos:
        assert await repos.state.get("k") == "v"


def _locked_error() -> OperationalError:
    cause = sqlite3.OperationalError("database is locked")
    cause.sqlite_errorcode = 5
    return OperationalError("UPDATE x", {}, cause)


async def test_database_is_locked_is_storage_busy_not_a_lost_command() -> None:
    assert is_busy(_locked_error())
    with pytest.raises(StorageBusy):
        async with storage_faults():
            raise _locked_error()
    assert issubclass(StorageBusy, StorageUnavailable)  # never an internal error
