"""SQLite for SQLAlchemy's asyncio engine, run in the event loop's own thread.

aiosqlite runs each call (cursor, execute, fetch, close, commit) in a thread of its own and
wakes the event loop with the result: four or five thread hand-offs per statement. The bot's
statements take microseconds in SQLite, so those hand-offs were most of a command's database
time (``bench.turn`` measures it; docs/performance.md has the figure).
Here the same calls run at once, in the loop's thread: this module gives SQLAlchemy's aiosqlite
adapter (``create_async_engine(..., async_creator=connector(path))``) an object with the part
of aiosqlite's interface that the adapter uses, over a plain ``sqlite3`` connection.

The price: while SQLite works, nothing else of the bot runs. The bot's queries are short (the
slowest, the yearly figures, a few milliseconds at the club's target scale), its writes are
serialised by ``Database`` and, in WAL mode, readers never wait for a writer; only another
process writing to the same file would make a statement wait (``busy_timeout``).

The connection is opened in autocommit mode (``isolation_level=None``): ``Database`` emits
``BEGIN`` itself when SQLAlchemy starts a transaction, as SQLAlchemy's documentation advises for
SAVEPOINT support with the ``sqlite3`` module.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any


class Cursor:
    """An ``aiosqlite.Cursor`` look-alike whose coroutines finish without waiting."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> Cursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _RunNow:
    """Stands for aiosqlite's request queue, which SQLAlchemy's adapter uses directly to set the
    isolation level: the request is carried out at once, and the connection is left in
    autocommit mode all the same (``Database`` begins transactions itself; SQLAlchemy would
    leave ``""`` behind an ``AUTOCOMMIT`` use)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def put_nowait(self, request: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = request
        try:
            future.set_result(function())
        except Exception as error:  # handed to the awaiting caller, as aiosqlite does
            future.set_exception(error)
        self._connection.isolation_level = None


class Connection:
    """An ``aiosqlite.Connection`` look-alike over a ``sqlite3`` connection."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection: sqlite3.Connection | None = connection
        self._tx = _RunNow(connection)

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    @property
    def isolation_level(self) -> str | None:
        """Always ``None`` (autocommit mode): SQLAlchemy's adapter sets it through ``_tx``,
        which keeps it so."""
        return self._conn.isolation_level

    def cursor(self) -> Cursor:
        return Cursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Closes at once (SQLAlchemy's forced termination)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def connector(path: str) -> Callable[[], Awaitable[Connection]]:
    """The ``async_creator`` of an engine on the SQLite file ``path``."""

    async def connect() -> Connection:
        # check_same_thread: the pool may close a connection from the garbage collector.
        return Connection(sqlite3.connect(path, isolation_level=None, check_same_thread=False))

    return connect
