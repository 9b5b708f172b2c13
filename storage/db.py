"""The engine, transactions and migrations. SQLite (WAL, foreign keys) or PostgreSQL by URL."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from itertools import chain, repeat
from pathlib import Path
from typing import Any, NoReturn

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.faults import StorageBusy, StorageUnavailable, is_busy, is_unavailable
from storage.personal import ERASED_KEY
from storage.repositories import Repositories
from storage.sqlite_driver import connector

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_PREFIX = "sqlite+aiosqlite:///"
# Statements each PostgreSQL connection keeps prepared: asyncpg's default, 100, is fewer than
# the several hundred distinct ones the bot runs, and an evicted one costs a round trip to
# prepare again.
STATEMENTS_KEPT = 500


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
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
    cursor.close()


def _sqlite_reader_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """The connections of ``Database.reading``: SQLite refuses every write on them."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Transactions are begun by SQLAlchemy, not guessed by the ``sqlite3`` module (the
    connection is in autocommit mode); not under ``AUTOCOMMIT``, where each statement is on its
    own. ``IMMEDIATE``: the write lock is taken at the start, where waiting for it is safe
    (a transaction that read first and found the lock taken when it came to write would have
    to start again: SQLite's ``SQLITE_BUSY_SNAPSHOT``)."""
    if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_read_begin(connection: Connection) -> None:
    """A read-only transaction: no lock to take (in WAL mode readers never wait for a writer)."""
    connection.exec_driver_sql("BEGIN")


SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def _prepare_sqlite_file(url: str) -> None:
    """Creates the database's folder (0700) and file (0600), private to the bot's user, and
    takes the group's and others' rights off an existing file and its companions (``-wal``,
    ``-shm``, ``-journal``; SQLite creates them with the database file's mode)."""
    path = url[len(SQLITE_PREFIX) :]
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


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


class Database:
    """Opens transactions that give repositories; maps storage faults to ``StorageUnavailable``."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            _prepare_sqlite_file(url)
        if self.is_sqlite:
            self.engine: AsyncEngine = create_async_engine(
                url, echo=echo, hide_parameters=True,
                async_creator=connector(url[len(SQLITE_PREFIX):]))
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        else:
            # A connection the server closed or lost is replaced before use: a ping at each
            # checkout (three round trips, ~0.3 ms here). Checking only what asyncpg already
            # knew was tried: a command right after sessions were ended then failed in 33 of
            # 60 tries, their backends not gone yet (docs/performance.md, sixth pass).
            self.engine = create_async_engine(
                url, echo=echo, hide_parameters=True, pool_pre_ping=True,
                connect_args={"prepared_statement_cache_size": STATEMENTS_KEPT})
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer: serialising our own transactions avoids "database is locked".
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        self._reader: AsyncEngine | None = None
        self._readers = self._sessions
        if self.is_sqlite:
            self._reader = create_async_engine(
                url, echo=echo, hide_parameters=True,
                async_creator=connector(url[len(SQLITE_PREFIX):]))
            event.listen(self._reader.sync_engine, "connect", _sqlite_reader_pragmas)
            event.listen(self._reader.sync_engine, "begin", _sqlite_read_begin)
            self._readers = async_sessionmaker(self._reader, expire_on_commit=False)
        self.lock = LockWatch(url[len(SQLITE_PREFIX):], self._write_lock)

    @asynccontextmanager
    async def transaction(self, *, patience: float | None = None) -> AsyncIterator[Repositories]:
        """One transaction: committed when the block ends, rolled back on any exception.

        On SQLite it begins by taking the write lock; while another program holds it, the
        transaction waits without stopping the event loop, at most ``patience`` seconds
        (``None``: as long as it takes), then raises ``StorageBusy``; 0: not at all."""
        deadline = None if patience is None else asyncio.get_running_loop().time() + patience
        while True:
            try:
                async with self._transaction() as repos:
                    yield repos
                return
            except _Locked:
                await self.lock.freed(deadline)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Repositories]:
        """One try: ``_Locked`` (before anything is yielded) if another program holds SQLite's
        write lock."""
        lock = self._write_lock or nullcontext()
        async with lock:
            try:
                async with self._sessions() as session:
                    async with session.begin():
                        if self.is_sqlite:
                            await _take_write_lock(session)
                        yield Repositories(session)
                    erased = session.info.get(ERASED_KEY)
                if erased:
                    await self._scrub(sorted(erased))
            except (OperationalError, DBAPIError) as error:
                _raise_fault(error)
            except (OSError, TimeoutError) as error:  # the server refused or did not answer
                log.error("database unreachable: %s", error)
                raise StorageUnavailable() from error

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Repositories]:
        """A transaction that only reads and is always rolled back; on SQLite it waits for no
        lock (in WAL mode readers never wait for a writer, even another program's) and the
        database refuses any write in it (``StorageUnavailable``). For what can be answered
        while another program holds the write lock."""
        try:
            async with self._readers() as session:  # closing it rolls back (what was read
                if not self.is_sqlite:                # stays readable, unlike a rollback)
                    await session.execute(text("SET TRANSACTION READ ONLY"))
                yield Repositories(session)
        except (OperationalError, DBAPIError) as error:
            if is_busy(error) or _write_refused(error):
                raise StorageBusy() from error  # the work must wait for the write lock
            _raise_fault(error)
        except (OSError, TimeoutError) as error:
            log.error("database unreachable: %s", error)
            raise StorageUnavailable() from error

    async def _scrub(self, tables: list[str]) -> None:
        """After personal data was erased: SQLite's write-ahead log is checkpointed and
        emptied (the erased values' old pages leave the ``-wal`` file; ``secure_delete`` has
        zeroed them in the database file); PostgreSQL's ``tables`` are vacuumed (their dead
        row versions become free space; see docs/privacy.md for what remains). A failure is
        logged: the erasure itself is committed."""
        try:
            await self._scrub_now(tables)
        except Exception:
            log.exception("erasure committed; the database files could not be scrubbed yet")

    async def _scrub_now(self, tables: list[str]) -> None:
        async with self.engine.connect() as connection:
            auto = await connection.execution_options(isolation_level="AUTOCOMMIT")
            if self.is_sqlite:
                busy = (await auto.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).one()[0]
                if busy:
                    log.warning("erasure: the write-ahead log could not be emptied (busy); it "
                                "will be at the next checkpoint")
                return
            for name in tables:  # each on its own: one refused does not stop the others
                try:
                    await auto.exec_driver_sql(f'VACUUM "{name}"')
                except DBAPIError as error:
                    log.warning("erasure: %s could not be vacuumed yet (%s)", name,
                                type(error.orig).__name__)

    async def upgrade(self) -> None:
        """Applies the Alembic migrations up to head (once another program's write lock, if
        any, is freed)."""
        while True:
            try:
                async with self.engine.begin() as connection:
                    await connection.run_sync(_upgrade)
                return
            except OperationalError as error:
                if not is_busy(error):
                    raise
            await self.lock.freed(None)

    async def current_revision(self) -> str | None:
        async with (self._reader or self.engine).connect() as connection:
            return await connection.run_sync(_current)

    async def dispose(self) -> None:
        self.lock.close()
        await self.engine.dispose()
        if self._reader is not None:
            await self._reader.dispose()

    async def backup(self, target: Path) -> None:
        """A consistent copy of a SQLite database while the bot runs (SQLite's online backup),
        readable by its owner only. PostgreSQL: use ``pg_dump``."""
        if not self.is_sqlite:
            raise ValueError("online backup is for SQLite; use pg_dump for PostgreSQL")
        source = self.url[len(SQLITE_PREFIX):]
        await asyncio.to_thread(_sqlite_backup, source, target)


class _Locked(Exception):
    """Another program holds SQLite's write lock: the transaction did not begin."""


async def _take_write_lock(session: AsyncSession) -> None:
    """Begins the session's transaction (``BEGIN IMMEDIATE``); ``_Locked`` if another program
    holds the write lock."""
    try:
        await session.connection()
    except OperationalError as error:
        if is_busy(error):
            raise _Locked() from error
        raise


def _write_refused(error: DBAPIError) -> bool:
    """A write in a read-only transaction: SQLite's ``SQLITE_READONLY`` (``query_only``),
    PostgreSQL's ``read_only_sql_transaction``."""
    code = getattr(error.orig, "sqlite_errorcode", None)
    return (isinstance(code, int) and code & 0xFF == 8) or \
        getattr(error.orig, "sqlstate", None) == "25006"


def _raise_fault(error: DBAPIError) -> NoReturn:
    """Raises what the database failing means for the bot: ``StorageBusy`` for a lock held by
    another program, ``StorageUnavailable`` for a database that cannot save, else ``error``
    itself (a statement that is wrong)."""
    if is_busy(error):
        log.warning("database locked by another program: %s", error.orig)
        raise StorageBusy() from error
    if is_unavailable(error):
        log.error("database unavailable: %s", error.orig)
        raise StorageUnavailable() from error
    raise error


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


def _sqlite_backup(source: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    target.touch(mode=0o600)
    os.chmod(target, 0o600)
    with sqlite3.connect(source) as origin, sqlite3.connect(target) as copy:
        origin.backup(copy)


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def secure_file(path: Path) -> None:
    """Makes a file the bot created readable by its own user only."""
    if path.exists():
        os.chmod(path, 0o600)
