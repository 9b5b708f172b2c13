"""The engine, transactions and migrations. SQLite (WAL, foreign keys) or PostgreSQL by URL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any, NoReturn

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import configure_mappers

from storage.faults import StorageBusy, StorageUnavailable, is_busy, is_unavailable
from storage.personal import ERASED_KEY
from storage.repositories import Repositories
from storage.scrubbing import SCRUB_EVERY_S, Scrubs
from storage.sqlite_checkpoint import CHECKPOINT_EVERY_S, Checkpoints
from storage.sqlite_driver import connector
from storage.sqlite_file import (
    LockWatch,
    backup_file,
    begin_immediate,
    begin_read,
    prepare_file,
    reader_pragmas,
    writer_pragmas,
)
from storage.undo import CountingSession

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_PREFIX = "sqlite+aiosqlite:///"
# Statements each PostgreSQL connection keeps prepared: asyncpg's default, 100, is fewer than
# the several hundred distinct ones the bot runs, and an evicted one costs a round trip to
# prepare again.
STATEMENTS_KEPT = 500
POOL_SIZE = 5  # connections a PostgreSQL pool keeps open (SQLAlchemy's default; 10 more at a peak)
BEGUN = "cct_begun"  # in a pooled connection's info: it answered BEGIN once


def prepare_storage(url: str) -> None:
    """What the first transaction would otherwise do in the event loop, done before it runs
    (``cct-bot run``): the database's driver and SQLAlchemy's dialect for it imported, and the
    ORM's mappers configured, which SQLAlchemy does at the first query."""
    make_url(url).get_dialect().import_dbapi()
    configure_mappers()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


class Database:
    """Opens transactions that give repositories; maps storage faults to ``StorageUnavailable``."""

    def __init__(self, url: str, *, echo: bool = False, scrub_every: float = SCRUB_EVERY_S,
                 checkpoint_every: float = CHECKPOINT_EVERY_S) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            prepare_file(url[len(SQLITE_PREFIX):])
        if self.is_sqlite:
            self.engine: AsyncEngine = create_async_engine(
                url, echo=echo, hide_parameters=True,
                async_creator=connector(url[len(SQLITE_PREFIX):]))
            event.listen(self.engine.sync_engine, "connect", writer_pragmas)
            event.listen(self.engine.sync_engine, "begin", begin_immediate)
        else:
            self.engine = create_async_engine(
                url, echo=echo, hide_parameters=True, pool_size=POOL_SIZE,
                connect_args={"prepared_statement_cache_size": STATEMENTS_KEPT})
            event.listen(self.engine.sync_engine.pool, "checkout", begin_at_checkout)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False,
                                            sync_session_class=CountingSession)
        # SQLite has one writer: serialising our own transactions avoids "database is locked".
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        self._reader: AsyncEngine | None = None
        self._readers = self._sessions
        if self.is_sqlite:
            self._reader = create_async_engine(
                url, echo=echo, hide_parameters=True,
                async_creator=connector(url[len(SQLITE_PREFIX):]))
            event.listen(self._reader.sync_engine, "connect", reader_pragmas)
            event.listen(self._reader.sync_engine, "begin", begin_read)
            self._readers = async_sessionmaker(self._reader, expire_on_commit=False)
        self.lock = LockWatch(url[len(SQLITE_PREFIX):], self._write_lock)
        self.scrubs = Scrubs(self._scrub, scrub_every)
        path = url[len(SQLITE_PREFIX):] if self.is_sqlite else ""
        self.checkpoints = None if self._write_lock is None or path in ("", ":memory:") else \
            Checkpoints(path, self._write_lock, checkpoint_every)

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
                if self.checkpoints is not None:
                    self.checkpoints.committed()
            except (OperationalError, DBAPIError) as error:
                _raise_fault(error)
            except (OSError, TimeoutError) as error:  # the server refused or did not answer
                log.error("database unreachable: %s", error)
                raise StorageUnavailable() from error
        if erased:
            await self.scrubs.after_erasure(erased)

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

    async def _scrub(self, tables: list[str]) -> bool:
        """After personal data was erased (``Scrubs`` says when): SQLite's write-ahead log is
        checkpointed and emptied (the erased values' old pages leave the ``-wal`` file;
        ``secure_delete`` has zeroed them in the database file); PostgreSQL's ``tables`` are
        vacuumed (their dead row versions become free space; see docs/privacy.md for what
        remains). ``False`` if it could not be done yet (logged: the erasure itself is
        committed; ``Scrubs`` tries again)."""
        try:
            if self.is_sqlite:
                return await self._empty_log()
            return await self._vacuum(tables)
        except Exception:
            log.exception("erasure committed; the database files could not be scrubbed yet")
            return False

    @asynccontextmanager
    async def _autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A connection outside any transaction (``VACUUM`` refuses one)."""
        async with self.engine.connect() as connection:
            yield await connection.execution_options(isolation_level="AUTOCOMMIT")

    async def _empty_log(self) -> bool:
        if self.checkpoints is None or await self.checkpoints.truncate():
            return True
        log.warning("erasure: the write-ahead log could not be emptied yet (a reader was in it)")
        return False

    async def _vacuum(self, tables: list[str]) -> bool:
        """Whether every table could be vacuumed."""
        done = True
        async with self._autocommit() as auto:
            for name in tables:  # each on its own: one refused does not stop the others
                try:
                    await auto.exec_driver_sql(f'VACUUM "{name}"')
                except DBAPIError as error:
                    done = False
                    log.warning("erasure: %s could not be vacuumed yet (%s)", name,
                                type(error.orig).__name__)
        return done

    async def scrub_leftovers(self) -> None:
        """At start: what a stop by ``kill -9`` may have left unscrubbed after an erasure. On
        SQLite a write-ahead log left behind is emptied (a clean stop leaves none; on
        PostgreSQL, autovacuum frees dead rows)."""
        if self.checkpoints is None or not self.checkpoints.log_left():
            return
        if not await self._empty_log():
            self.scrubs.again_later(["-wal"])  # SQLite's scrub empties the whole log

    async def upgrade(self) -> None:
        """Applies the Alembic migrations up to head (once another program's write lock, if
        any, is freed). The migration files are read in a worker thread; a database already at
        head costs the loop one read, and waits for no write lock."""
        head = await asyncio.to_thread(_script_heads)
        if await self._at(head):
            return
        while True:
            try:
                async with self.engine.begin() as connection:
                    await connection.run_sync(_upgrade, head)
                return
            except OperationalError as error:
                if not is_busy(error):
                    raise
            await self.lock.freed(None)

    async def _at(self, head: frozenset[str]) -> bool:
        """Whether the database is at ``head``, read without the write lock; ``False`` when
        another program keeps it from being read (the migrations then wait for it)."""
        try:
            async with (self._reader or self.engine).connect() as connection:
                return bool(await connection.run_sync(_database_heads) == head)
        except OperationalError as error:
            if not is_busy(error):
                raise
        return False

    async def current_revision(self) -> str | None:
        async with (self._reader or self.engine).connect() as connection:
            return await connection.run_sync(_current)

    @property
    def transactions_at_once(self) -> int | None:
        """How many transactions of one kind of work (the queued commands) should run at once:
        on PostgreSQL one fewer than the pool keeps, so that a burst across many rooms does not
        open connections beyond the pool's and close them again (the pool stays shared with
        other work); ``None`` on SQLite, where writes take turns."""
        return None if self.is_sqlite else POOL_SIZE - 1

    async def dispose(self) -> None:
        await self.scrubs.close()
        if self.checkpoints is not None:
            await self.checkpoints.close()
        self.lock.close()
        await self.engine.dispose()
        if self._reader is not None:
            await self._reader.dispose()

    async def vacuum_analyze(self, table: str = "") -> None:
        """On PostgreSQL, ``VACUUM ANALYZE`` of ``table`` (a name of the schema), else of every
        table: what autovacuum does soon after a bulk load (the planner's statistics, the
        visibility map for index-only scans). Nothing on SQLite."""
        if self.is_sqlite:
            return
        async with self._autocommit() as auto:
            await auto.exec_driver_sql(f'VACUUM ANALYZE "{table}"' if table else "VACUUM ANALYZE")

    async def backup(self, target: Path) -> None:
        """A consistent copy of a SQLite database while the bot runs (SQLite's online backup),
        readable by its owner only. PostgreSQL: use ``pg_dump``."""
        if not self.is_sqlite:
            raise ValueError("online backup is for SQLite; use pg_dump for PostgreSQL")
        source = self.url[len(SQLITE_PREFIX):]
        await asyncio.to_thread(backup_file, source, target)


def begin_at_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """A connection the server closed or lost is replaced before use: its transaction's
    ``BEGIN``, which SQLAlchemy's asyncpg adapter would send with the first statement, is sent
    at checkout, and a connection that does not answer it is replaced (``pool_pre_ping`` would
    take three more round trips: it wraps a ping in a transaction of its own). Checking only
    what asyncpg already knows is not enough: right after an administrator ends the sessions,
    their backends are not gone yet (tests/storage/test_transactions.py, the "still ending"
    case). A connection just opened that refuses it is not replaced again: its error is the
    database's (``StorageUnavailable``). The BEGIN being sent first, an execution option that
    sets the transaction's mode (``postgresql_readonly``) would come too late:
    ``Database.reading`` says ``SET TRANSACTION READ ONLY``. The adapter's
    ``_start_transaction`` is private: SQLAlchemy is pinned (constraints.txt) and those tests
    fail if it changes."""
    try:
        dbapi_connection.run_async(lambda _connection: dbapi_connection._start_transaction())
    except Exception as error:
        if not record.info.get(BEGUN):  # just opened: the server's refusal is the answer
            raise
        raise DisconnectionError("the connection did not answer BEGIN") from error
    record.info[BEGUN] = True  # the pool clears its record's info when it reconnects


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


def _script_heads() -> frozenset[str]:
    """The revisions of the migration files' heads."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def _database_heads(connection: Connection) -> frozenset[str]:
    """The revisions the database is at."""
    return frozenset(MigrationContext.configure(connection).get_current_heads())


def _upgrade(connection: Connection, head: frozenset[str]) -> None:
    if _database_heads(connection) == head:  # another program migrated it meanwhile
        return
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
