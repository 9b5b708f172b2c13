"""SQLite's write-ahead log is copied back into the database file by a worker thread, never in
a commit (which runs in the event loop's thread): ``storage/sqlite_checkpoint.py``."""

from __future__ import annotations

from pathlib import Path

from storage.db import Database

PAGE_FILLER = "x" * 4000  # about a page of 4 KiB per row


async def write(db: Database, marker: str, rows: int) -> None:
    """``rows`` transactions, each a row of about a page, the first one holding ``marker``."""
    for index in range(rows):
        async with db.transaction() as repos:
            await repos.state.set(f"{marker}-{index}", marker + PAGE_FILLER)


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
        assert db.checkpoints is not None
        await db.checkpoints.idle()
        await write(db, "Zorglub", 1500)
        assert in_file(Path(f"{path}-wal"), "Zorglub")
        assert not in_file(path, "Zorglub")
    finally:
        await db.dispose()


async def test_the_log_is_copied_back_by_a_worker_thread_after_commits(tmp_path: Path) -> None:
    path = tmp_path / "cct.db"
    db = Database(f"sqlite+aiosqlite:///{path}", checkpoint_every=0)
    try:
        await db.upgrade()
        await write(db, "Zorglub", 3)
        assert db.checkpoints is not None
        await db.checkpoints.idle()
        await write(db, "Bidule", 1)  # the last commit's checkpoint copies it all
        await db.checkpoints.idle()
        assert in_file(path, "Zorglub") and in_file(path, "Bidule")
    finally:
        await db.dispose()
