"""The ``db`` fixture: every storage test runs on SQLite (a file) and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text

from storage.db import Database
from tests import pg_snapshot
from tests.conftest import sqlite_copy


async def fresh_postgres(url: str) -> None:
    """Empties the test database, so a test never sees another's rows or tables."""
    db = Database(url)
    try:
        async with db.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await db.dispose()


async def migrated_postgres(url: str) -> None:
    """The test database migrated to head with no rows but those the migrations insert: put
    back from its snapshot (``tests.pg_snapshot``), or emptied, migrated and snapshotted when
    there is none or a test changed the schema."""
    if await pg_snapshot.put_back(url):
        return
    await fresh_postgres(url)
    db = Database(url)
    try:
        await db.upgrade()
    finally:
        await db.dispose()
    await pg_snapshot.take(url)


async def migrated_at(url: str, migrated_sqlite: Path) -> None:
    """The database at ``url`` migrated to head with no rows of a test: PostgreSQL's put back
    (``migrated_postgres``), SQLite's a copy of the session's migrated file."""
    if url.startswith("postgresql"):
        await migrated_postgres(url)
    else:
        sqlite_copy(migrated_sqlite, Path(url.removeprefix("sqlite+aiosqlite:///")))


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of the test's backend. A sync fixture: ``postgres_url`` is only requested (and
    PostgreSQL only required) by the PostgreSQL variant, outside the running event loop."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'db' / 'cct.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest_asyncio.fixture
async def empty_db(database_url: str) -> AsyncIterator[Database]:
    """A database with no tables at all, on the backend of the test's parameter."""
    if database_url.startswith("postgresql"):
        await fresh_postgres(database_url)
    db = Database(database_url)
    try:
        yield db
    finally:
        await db.dispose()


@pytest_asyncio.fixture
async def db(database_url: str, migrated_sqlite: Path) -> AsyncIterator[Database]:
    """A database migrated to head, on the backend of the test's parameter."""
    await migrated_at(database_url, migrated_sqlite)
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" in metafunc.fixturenames:
        metafunc.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
