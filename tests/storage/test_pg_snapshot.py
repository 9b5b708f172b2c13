"""The PostgreSQL test database put back between tests (``tests.pg_snapshot``, which the ``db``
fixtures use): every row and every sequence as they were; after a change of the schema the
snapshot is refused and the database rebuilt."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from storage.db import Database
from tests import pg_snapshot
from tests.storage.conftest import migrated_postgres

pytestmark = pytest.mark.postgres


async def _state(url: str) -> list[object]:
    """Every row of every table, and every sequence's value."""
    connection = await asyncpg.connect(pg_snapshot.dsn(url))
    try:
        state: list[object] = [await connection.fetch(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' "
            "ORDER BY 1")]
        for table in await pg_snapshot.tables(connection):
            state.append((table, await connection.fetch(
                f'SELECT * FROM public."{table}" ORDER BY 1')))
        return state
    finally:
        await connection.close()


async def _add_a_group(url: str) -> int:
    db = Database(url)
    try:
        async with db.transaction() as repos:
            group = await repos.groups.create(
                name="Atelier vélo", name_key="atelier velo", slug="atelier-velo",
                description="", theme="mobilite", territory="sud", status="en-cours",
                created_by="@a:b", at=datetime(2026, 1, 5, tzinfo=UTC))
            return group.id
    finally:
        await db.dispose()


async def test_rows_and_sequences_are_put_back(postgres_url: str) -> None:
    await migrated_postgres(postgres_url)
    migrated = await _state(postgres_url)
    first = await _add_a_group(postgres_url)
    assert await _state(postgres_url) != migrated
    assert await pg_snapshot.put_back(postgres_url)
    assert await _state(postgres_url) == migrated
    assert await _add_a_group(postgres_url) == first  # the same id again


async def test_a_changed_schema_is_rebuilt_not_put_back(postgres_url: str) -> None:
    await migrated_postgres(postgres_url)
    migrated = await _state(postgres_url)
    connection = await asyncpg.connect(pg_snapshot.dsn(postgres_url))
    try:
        await connection.execute("ALTER TABLE project_groups ADD COLUMN extra integer")
    finally:
        await connection.close()
    assert not await pg_snapshot.put_back(postgres_url)
    await migrated_postgres(postgres_url)
    assert await _state(postgres_url) == migrated
    assert await pg_snapshot.put_back(postgres_url)
