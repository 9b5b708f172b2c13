"""The SQLite file: WAL, foreign keys, private to the bot's user."""

from __future__ import annotations

import stat
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
        assert await _pragma(db, "busy_timeout") == 10000
        assert await _pragma(db, "synchronous") in (1, 2)  # NORMAL or FULL, never OFF
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    finally:
        await db.dispose()


async def test_settings_apply_to_every_connection(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cct.db'}")
    try:
        async with db.engine.connect() as first, db.engine.connect() as second:
            for connection in (first, second):
                assert await connection.scalar(text("PRAGMA foreign_keys")) == 1
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
