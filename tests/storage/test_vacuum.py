"""``Database.vacuum_analyze``: PostgreSQL's statistics brought up to date after a bulk load."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from storage.db import Database

JOINED = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


async def _analysed(db: Database, table: str) -> bool:
    """Whether PostgreSQL holds the planner's statistics of ``table``'s columns (``pg_stats``,
    filled by ``ANALYZE``) and its estimate of its 3 rows (``pg_class.reltuples``), in the
    schema in use (other tests may leave tables of the same name in others)."""
    async with db.reading() as repos:
        columns = await repos.session.scalar(text(
            "SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() "
            "AND tablename = :name"), {"name": table})
        rows = await repos.session.scalar(text(
            "SELECT reltuples FROM pg_class WHERE relname = :name "
            "AND relnamespace = current_schema()::regnamespace"), {"name": table})
    return bool(columns) and rows == 3


async def test_vacuum_analyze_updates_the_statistics_of_one_table_or_all(db: Database) -> None:
    async with db.transaction() as repos:
        for number in range(3):
            await repos.state.set(f"key{number}", "value")
            await repos.rooms.mark_joined(f"!room{number}:example.org", JOINED)
    if db.is_sqlite:  # nothing to do there, and nothing fails
        await db.vacuum_analyze("bot_state")
        await db.vacuum_analyze()
        return
    assert not await _analysed(db, "bot_state")
    await db.vacuum_analyze("bot_state")
    assert await _analysed(db, "bot_state")
    assert not await _analysed(db, "joined_rooms")
    await db.vacuum_analyze()
    assert await _analysed(db, "joined_rooms")
