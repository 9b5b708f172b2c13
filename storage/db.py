"""The engine, transactions and migrations. SQLite (WAL, foreign keys) or PostgreSQL by URL."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from commands.errors import StorageUnavailable
from storage.faults import is_unavailable
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
    cursor.execute("PRAGMA busy_timeout=10000")
    # WAL + NORMAL: a commit survives the bot being killed (kill -9); only a power cut may lose
    # the last commits, never corrupt the file.
    cursor.execute("PRAGMA synchronous=NORMAL")
    # What is deleted or overwritten is overwritten with zeros in the file (erased personal
    # data does not linger in free space).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Transactions are begun by SQLAlchemy, not guessed by the ``sqlite3`` module (the
    connection is in autocommit mode); not under ``AUTOCOMMIT``, where each statement is on its
    own."""
    if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
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

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Repositories]:
        """One transaction: committed when the block ends, rolled back on any exception."""
        lock = self._write_lock or nullcontext()
        async with lock:
            try:
                async with self._sessions() as session:
                    async with session.begin():
                        yield Repositories(session)
                    erased = session.info.get(ERASED_KEY)
                if erased:
                    await self._scrub(sorted(erased))
            except (OperationalError, DBAPIError) as error:
                if is_unavailable(error):
                    log.error("database unavailable: %s", error.orig)
                    raise StorageUnavailable() from error
                raise
            except (OSError, TimeoutError) as error:  # the server refused or did not answer
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
        """Applies the Alembic migrations up to head."""
        async with self.engine.begin() as connection:
            await connection.run_sync(_upgrade)

    async def current_revision(self) -> str | None:
        async with self.engine.connect() as connection:
            return await connection.run_sync(_current)

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def backup(self, target: Path) -> None:
        """A consistent copy of a SQLite database while the bot runs (SQLite's online backup),
        readable by its owner only. PostgreSQL: use ``pg_dump``."""
        if not self.is_sqlite:
            raise ValueError("online backup is for SQLite; use pg_dump for PostgreSQL")
        source = self.url[len(SQLITE_PREFIX):]
        await asyncio.to_thread(_sqlite_backup, source, target)


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
