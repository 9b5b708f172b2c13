"""SQLite's write-ahead log is copied back into the database file by a worker thread, never in
a commit (which runs in the event loop's thread): ``storage/sqlite_checkpoint.py``."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from storage.db import Database
from storage.sqlite_checkpoint import Checkpoints

PAGE_FILLER = "x" * 4000  # about a page of 4 KiB per row


async def write(db: Database, marker: str, rows: int) -> None:
    """``rows`` transactions, each a row of about a page, the first one holding ``marker``."""
    for index in range(rows):
        async with db.transaction() as repos:
            await repos.state.set(f"{marker}-{index}", marker + PAGE_FILLER)


def size(path: Path) -> int:
    return path.stat().st_size


async def copied(path: Path, marker: str) -> bool:
    """Whether ``marker`` reaches the database file within 1.5 s."""
    for _ in range(30):
        if in_file(path, marker):
            return True
        await asyncio.sleep(0.05)
    return False


def in_file(path: Path, marker: str) -> bool:
    return path.exists() and marker.encode() in path.read_bytes()


async def test_a_commit_never_runs_a_checkpoint(tmp_path: Path) -> None:
    """Past SQLite's 1,000 pages of log, its own automatic checkpoint would have copied the
    rows into the database file in the commit; none runs there."""
    path = tmp_path / "cct.db"
    db = Database(f"sqlite+aiosqlite:///{path}", checkpoint_every=3600)
    try:
        await db.upgrade()
        await write(db, "first", 1)  # the first commit's checkpoint, then none for an hour
        await asyncio.sleep(0.2)
        await write(db, "Zorglub", 1500)
        assert in_file(Path(f"{path}-wal"), "Zorglub")
        assert not in_file(path, "Zorglub")
    finally:
        await db.dispose()


async def test_the_log_is_copied_back_by_a_worker_thread_after_commits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: set[int] = set()
    run = Checkpoints._run

    def recorded(self: Checkpoints, mode: str) -> tuple[int, int, int] | None:
        threads.add(threading.get_ident())
        return run(self, mode)

    monkeypatch.setattr(Checkpoints, "_run", recorded)
    path = tmp_path / "cct.db"
    db = Database(f"sqlite+aiosqlite:///{path}", checkpoint_every=0.2)
    try:
        await db.upgrade()
        await write(db, "Zorglub", 3)
        assert await copied(path, "Zorglub")  # the first commit's checkpoint
        await write(db, "Bidule", 1)  # within the interval: its checkpoint waits for its end
        await asyncio.sleep(0.05)
        assert not in_file(path, "Bidule")
        assert await copied(path, "Bidule")
        assert threads and threading.get_ident() not in threads
    finally:
        await db.dispose()


async def test_the_log_stays_small_under_steady_writes(tmp_path: Path) -> None:
    """Our writers wait for each checkpoint: the log is copied whole, and the next commit
    starts it again from its beginning rather than growing it."""
    path = tmp_path / "cct.db"
    db = Database(f"sqlite+aiosqlite:///{path}", checkpoint_every=0.01)
    try:
        await db.upgrade()
        for round_ in range(30):
            await write(db, f"round{round_}", 100)
            await asyncio.sleep(0)
        assert size(Path(f"{path}-wal")) < 4 * 1024 * 1024
    finally:
        await db.dispose()
