"""SQLite's write-ahead log copied back into the database file in a worker thread, never in a
commit (a commit runs in the event loop's thread, ``storage/sqlite_driver.py``; a checkpoint
writes pages and ``fsync``s the file; docs/performance.md has the figures).

The bot's connections run with ``wal_autocheckpoint=0`` (``sqlite_file.writer_pragmas``). After
a commit, at most every ``CHECKPOINT_EVERY_S`` (the last commit of a burst included: its
checkpoint waits for the interval to end), a checkpoint runs on a connection of its own in a
thread, holding ``Database``'s write lock: the bot's own writers wait for it without stopping
the loop, and SQLite never has to retry its locks in the loop's thread. The log is copied whole
(but what a reader still uses), and the next commit starts it again from its beginning instead
of growing it (unless a reader is still in it). An erasure empties it the same way
(``truncate``)."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from contextlib import suppress

log = logging.getLogger("storage.db")

CHECKPOINT_EVERY_S = 1.0
# How long an emptying checkpoint waits for readers still in the log (in its thread; our own
# writers wait meanwhile).
READERS_WAIT_S = 0.2

Row = tuple[int, int, int]  # busy, frames in the log, frames copied


class Checkpoints:
    """The checkpoints of the SQLite file ``path``, each holding ``write_lock`` (ours):
    ``committed`` after each commit of ours, ``truncate`` to empty the log, ``close`` at stop."""

    def __init__(self, path: str, write_lock: asyncio.Lock,
                 every: float = CHECKPOINT_EVERY_S) -> None:
        self.path = path
        self.every = every
        self._write_lock = write_lock
        self._last: float | None = None
        self._due: asyncio.Task[None] | None = None
        self._now = asyncio.Event()
        self._connection: sqlite3.Connection | None = None
        self._closed = False

    def committed(self) -> None:
        """A transaction of ours was committed: a checkpoint is due once ``every`` seconds
        have passed since the last one (at once if they have), unless one is due already."""
        if self._closed or (self._due is not None and not self._due.done()):
            return
        loop = asyncio.get_running_loop()
        wait = 0.0 if self._last is None else self._last + self.every - loop.time()
        self._now = asyncio.Event()
        self._due = asyncio.create_task(self._checkpoint_in(max(0.0, wait)),
                                        name="sqlite-checkpoint")
        self._due.add_done_callback(_log_failure)

    async def truncate(self) -> bool:
        """The log copied whole and emptied (an erasure's old values leave the ``-wal``
        file), our writers waiting meanwhile; ``False`` if a reader kept it from being done,
        if it failed (logged), or once closed."""
        async with self._write_lock:
            row = None if self._closed else await self._in_thread("TRUNCATE")
        return row is not None and row[0] == 0

    def log_left(self) -> bool:
        """Whether the write-ahead log holds anything (a stop by ``kill -9`` leaves it)."""
        try:
            return os.path.getsize(f"{self.path}-wal") > 0
        except OSError:
            return False

    async def close(self) -> None:
        """A checkpoint still due runs now; then none any more, and the thread's connection is
        closed."""
        await self._due_now()
        async with self._write_lock:  # no commit of ours meanwhile: none after this one
            self._closed = True
            if self._connection is not None:
                self._connection.close()
                self._connection = None
        await self._due_now()  # one a commit scheduled before the lock: it finds us closed

    async def _due_now(self) -> None:
        if self._due is not None:
            self._now.set()
            await asyncio.gather(self._due, return_exceptions=True)

    async def _checkpoint_in(self, wait: float) -> None:
        """A checkpoint after ``wait`` seconds, or sooner if ``close`` asks for it."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self._now.wait(), wait)
        async with self._write_lock:
            if not self._closed:
                self._last = asyncio.get_running_loop().time()
                await self._in_thread("PASSIVE")

    async def _in_thread(self, mode: str) -> Row | None:
        """``_run(mode)`` in a worker thread; if the caller is cancelled meanwhile, it still
        waits for the thread to be done with the connection (and the write lock) first."""
        running = asyncio.ensure_future(asyncio.to_thread(self._run, mode))
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            with suppress(Exception):
                await running
            raise

    def _run(self, mode: str) -> Row | None:
        """``PRAGMA wal_checkpoint(mode)`` in the calling (worker) thread; its row, or ``None``
        if it failed (logged)."""
        try:
            if self._connection is None:
                self._connection = sqlite3.connect(self.path, timeout=READERS_WAIT_S,
                                                   isolation_level=None,
                                                   check_same_thread=False)
            row = self._connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        except sqlite3.Error as error:  # the next commit's checkpoint tries again
            log.warning("write-ahead log checkpoint failed: %s", error)
            return None
        return (int(row[0]), int(row[1]), int(row[2])) if row else None


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("write-ahead log checkpoint failed", exc_info=task.exception())
