"""SQLite's side of the database: the pragmas of its connections, transactions begun
explicitly, a file private to the bot's user, the online backup, and waiting for the write lock
another program holds (``LockWatch``) without stopping the event loop."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import stat
from contextlib import nullcontext
from itertools import chain, repeat
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from storage.faults import StorageBusy

log = logging.getLogger("storage.db")


def writer_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """The connections of ``Database.transaction``."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Another program holding the write lock never makes SQLite wait in the event loop's thread
    # (a wait there stops the whole bot): ``BEGIN IMMEDIATE`` fails at once and the transaction
    # waits for the lock asynchronously (``Database.transaction``).
    cursor.execute("PRAGMA busy_timeout=0")
    # WAL + NORMAL: a commit survives the bot being killed (kill -9); only a power cut may lose
    # the last commits, never corrupt the file.
    cursor.execute("PRAGMA synchronous=NORMAL")
    # What is deleted or overwritten is overwritten with zeros in the file (erased personal
    # data does not linger in free space).
    cursor.execute("PRAGMA secure_delete=ON")
    # No checkpoint in a commit (in the event loop's thread): ``sqlite_checkpoint`` runs them
    # in a worker thread.
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def reader_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """The connections of ``Database.reading``: SQLite refuses every write on them."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.close()


def begin_immediate(connection: Connection) -> None:
    """Transactions are begun by SQLAlchemy, not guessed by the ``sqlite3`` module (the
    connection is in autocommit mode); not under ``AUTOCOMMIT``, where each statement is on its
    own. ``IMMEDIATE``: the write lock is taken at the start, where waiting for it is safe
    (a transaction that read first and found the lock taken when it came to write would have
    to start again: SQLite's ``SQLITE_BUSY_SNAPSHOT``)."""
    if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def begin_read(connection: Connection) -> None:
    """A read-only transaction: no lock to take (in WAL mode readers never wait for a writer)."""
    connection.exec_driver_sql("BEGIN")


SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def prepare_file(path: str) -> None:
    """Creates the database's folder (0700) and file (0600), private to the bot's user, and
    takes the group's and others' rights off an existing file and its companions (``-wal``,
    ``-shm``, ``-journal``; SQLite creates them with the database file's mode)."""
    if path and path != ":memory:":
        folder = Path(path).parent
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not Path(path).exists():
            Path(path).touch(mode=0o600)
        for suffix in SQLITE_COMPANIONS:
            _owner_only(Path(path + suffix))


def _owner_only(path: Path) -> None:
    """Takes the group's and others' rights off an existing file."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        log.warning("database file was readable by others: mode corrected",
                    extra={"file": str(path), "mode": oct(mode), "new_mode": oct(mode & 0o700)})
        os.chmod(path, mode & 0o700)


# How long the lock's watcher waits before each try: quickly at first (most locks last
# milliseconds), then every 50 ms (the bot answers within 50 ms of the lock being freed).
PROBE_DELAYS_S = (0.002, 0.005, 0.01, 0.02, 0.05)


class LockWatch:
    """Waits for SQLite's write lock while another program holds it, without stopping the
    event loop: one watcher tries ``BEGIN IMMEDIATE`` (and ``ROLLBACK``) on a connection of its
    own, between the bot's transactions, every few milliseconds, and wakes every transaction
    waiting once it succeeds. Logs when the lock was met and how long it was held."""

    def __init__(self, path: str, write_lock: asyncio.Lock | None) -> None:
        self._path = path
        self._write_lock = write_lock
        self._freed = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None
        self.met_at: float | None = None  # loop time the lock was met, while it is held

    @property
    def held(self) -> bool:
        """Whether another program held the write lock at the last try."""
        return self._watcher is not None

    async def freed(self, deadline: float | None) -> None:
        """Returns once the lock is free (the caller tries again); ``StorageBusy`` at
        ``deadline`` (loop time; ``None``: no limit) if it is still held."""
        loop = asyncio.get_running_loop()
        if self._watcher is None:
            self._freed = asyncio.Event()
            self.met_at = loop.time()
            log.warning("the database is locked by another program; waiting for it")
            self._watcher = asyncio.create_task(self._watch(self._freed), name="lock-watch")
        left = None if deadline is None else deadline - loop.time()
        if left is not None and left <= 0:
            raise StorageBusy()
        try:
            await asyncio.wait_for(self._freed.wait(), left)
        except TimeoutError:
            raise StorageBusy() from None

    async def _watch(self, freed: asyncio.Event) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, timeout=0,
                                     check_same_thread=False)
        try:
            for delay in chain(PROBE_DELAYS_S, repeat(PROBE_DELAYS_S[-1])):
                await asyncio.sleep(delay)
                async with self._write_lock or nullcontext():  # between our own transactions
                    if _write_lock_free(connection):
                        break
        finally:
            connection.close()
            held = asyncio.get_running_loop().time() - (self.met_at or 0.0)
            log.info("the database's lock was freed after %.1f s", held,
                     extra={"held_s": round(held, 3)})
            self._watcher, self.met_at = None, None
            freed.set()  # the waiters try again (and meet the error, if the watch failed)

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()


def _write_lock_free(connection: sqlite3.Connection) -> bool:
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode & 0xFF in (5, 6):  # SQLITE_BUSY, SQLITE_LOCKED
            return False
        raise
    connection.execute("ROLLBACK")
    return True


def backup_file(source: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    target.touch(mode=0o600)
    os.chmod(target, 0o600)
    with sqlite3.connect(source) as origin, sqlite3.connect(target) as copy:
        origin.backup(copy)
