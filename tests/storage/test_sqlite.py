"""The SQLite file: WAL, foreign keys, private to the bot's user."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from sqlalchemy import text

from storage.db import Database


async def _pragma(db: Database, name: str) -> object:
    async with db.engine.connect() as connection:
        return await connection.scalar(text(f"PRAGMA {name}"))


async def test_sqlite_file_settings(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "folder" / "cct.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await db.upgrade()
        assert path.exists()
        assert await _pragma(db, "journal_mode") == "wal"
        assert await _pragma(db, "foreign_keys") == 1
        assert await _pragma(db, "busy_timeout") == 0  # a lock is waited for off SQLite's handler
        assert await _pragma(db, "synchronous") in (1, 2)  # NORMAL or FULL, never OFF
        assert await _pragma(db, "wal_autocheckpoint") == 0  # in a worker thread instead
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    finally:
        await db.dispose()


async def test_settings_apply_to_every_connection(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cct.db'}")
    try:
        async with db.engine.connect() as first, db.engine.connect() as second:
            for connection in (first, second):  # two at once: no transaction (one writer)
                auto = await connection.execution_options(isolation_level="AUTOCOMMIT")
                assert await auto.scalar(text("PRAGMA foreign_keys")) == 1
    finally:
        await db.dispose()


async def test_existing_file_kept(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cct.db'}"
    db = Database(url)
    await db.upgrade()
    async with db.transaction() as repos:
        await repos.state.set("k", "v")
    await db.dispose()
    again = Database(url)
    try:
        async with again.transaction() as repos:
            assert await repos.state.get("k") == "v"
    finally:
        await again.dispose()


async def test_the_driver_runs_in_the_event_loop_s_thread(tmp_path: Path) -> None:
    """No statement is handed to another thread (what aiosqlite did, 4–5 times a statement)."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cct.db'}")
    threads: set[int] = set()
    try:
        await db.upgrade()
        async with db.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            driver._conn.create_function("thread", 0, lambda: threads.add(threading.get_ident()))
            await connection.execute(text("SELECT thread()"))
        assert threads == {threading.get_ident()}
    finally:
        await db.dispose()


async def test_autocommit_and_explicit_transactions(tmp_path: Path) -> None:
    """SQLAlchemy's isolation level setting goes through (AUTOCOMMIT: each statement on its
    own), and a transaction is BEGUN explicitly (savepoints need it)."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cct.db'}")
    try:
        await db.upgrade()
        async with db.engine.connect() as connection:
            auto = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text("INSERT INTO bot_state (key, value) VALUES ('a', '1')"))
        async with db.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            assert driver._conn.isolation_level is None  # still ours to BEGIN after AUTOCOMMIT
            await connection.execute(text("SELECT 1"))
            assert driver._conn.in_transaction  # BEGIN was sent before the first statement
            await connection.rollback()
            assert not driver._conn.in_transaction
            assert await connection.scalar(text("SELECT value FROM bot_state WHERE key = 'a'")) == "1"
    finally:
        await db.dispose()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_an_existing_database_readable_by_others_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "cct.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.upgrade()
    async with db.engine.connect() as connection:  # the WAL and shared-memory files exist
        await connection.execute(text("SELECT 1"))
        companions = [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm")]
        assert all(companion.exists() for companion in companions)
        for file in (path, *companions):
            file.chmod(0o644)
        again = Database(f"sqlite+aiosqlite:///{path}")
        await again.dispose()
        assert [_mode(file) for file in (path, *companions)] == [0o600] * 3
    await db.dispose()
    path.chmod(0o664)
    reopened = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with reopened.transaction() as repos:
            await repos.state.set("k", "v")
        assert _mode(path) == 0o600
    finally:
        await reopened.dispose()


async def test_files_sqlite_creates_are_private_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        path = tmp_path / "data" / "cct.db"
        db = Database(f"sqlite+aiosqlite:///{path}")
        await db.upgrade()
        async with db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
            assert [_mode(file) for file in files] == [0o600] * 3
        assert _mode(path.parent) == 0o700
        await db.dispose()
    finally:
        os.umask(previous)
