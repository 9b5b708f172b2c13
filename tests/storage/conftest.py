"""The ``db`` fixture: every storage test runs on SQLite (a file) and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text

from storage.db import Database


async def fresh_postgres(url: str) -> None:
    """Empties the test database, so a test never sees another's rows or tables."""
    db = Database(url)
    try:
        async with db.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await db.dispose()


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
async def db(empty_db: Database) -> Database:
    """A database migrated to head."""
    await empty_db.upgrade()
    return empty_db


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" in metafunc.fixturenames:
        metafunc.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
