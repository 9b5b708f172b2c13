"""SQLite's write-ahead log copied back into the database file in a worker thread.

By default the connection whose commit brings the log past 1,000 pages runs the checkpoint
itself, in that commit: for the bot, in the event loop's thread (``storage/sqlite_driver.py``),
where the checkpoint's writes and its ``fsync`` of the database file stopped the whole bot for
13–18 ms on a quiet disk, and longer when the homeserver beside it was writing. The bot's
connections run with ``wal_autocheckpoint=0`` (``sqlite_file.writer_pragmas``) and, after a
commit, at most every ``CHECKPOINT_EVERY_S``, a ``PASSIVE`` checkpoint runs on a connection of
its own in a thread: it copies what no reader still needs and waits for no lock; the writers
go on appending meanwhile. The log then holds what was written in the last few seconds."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

log = logging.getLogger("storage.db")

CHECKPOINT_EVERY_S = 5.0


class Checkpoints:
    """The checkpoints of the SQLite file ``path``: ``committed`` after each commit of ours,
    ``idle`` before a checkpoint of our own (an erasure's), ``close`` at stop."""

    def __init__(self, path: str, every: float = CHECKPOINT_EVERY_S) -> None:
        self.path = path
        self.every = every
        self._last: float | None = None
        self._running: asyncio.Task[None] | None = None

    def committed(self) -> None:
        """A transaction of ours was committed: a checkpoint starts if none ran for ``every``
        seconds and none is running."""
        now = asyncio.get_running_loop().time()
        if self._running is not None and not self._running.done():
            return
        if self._last is not None and now - self._last < self.every:
            return
        self._last = now
        self._running = asyncio.create_task(asyncio.to_thread(self._checkpoint),
                                            name="sqlite-checkpoint")

    async def idle(self) -> None:
        """Returns once no checkpoint of ours is running."""
        if self._running is not None:
            await asyncio.gather(self._running, return_exceptions=True)

    async def close(self) -> None:
        await self.idle()

    def _checkpoint(self) -> None:
        try:
            connection = sqlite3.connect(self.path, timeout=0, isolation_level=None)
            try:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                connection.close()
        except sqlite3.Error as error:  # the next commit's checkpoint tries again
            log.warning("write-ahead log checkpoint failed: %s", error)
