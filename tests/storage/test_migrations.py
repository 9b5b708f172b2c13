"""Alembic migrations: an empty database goes to head, and the schema matches the models."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from storage.db import Database, alembic_config
from storage.models import Base

TABLES = {"bot_state", "joined_rooms", "inbox", "outbox", "welcomes", "scheduled_messages",
          "project_groups", "group_members", "group_progress", "group_needs", "initiatives",
          "audit_log", "people", "meetings", "meeting_rsvps", "meeting_attendance", "polls",
          "poll_slots", "poll_votes", "agenda_suggestions", "agenda_supports", "agenda_items",
          "agenda_states", "remontees", "reminders", "participants", "participant_years"}


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                           "compare_server_default": True})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _downgrade_to_base(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "base")


async def test_empty_database_has_no_revision(empty_db: Database) -> None:
    assert await empty_db.current_revision() is None
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(_tables) == set()


async def test_upgrade_to_head(empty_db: Database) -> None:
    await empty_db.upgrade()
    assert await empty_db.current_revision() == _head()
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(_tables) == TABLES | {"alembic_version"}


async def test_upgrade_twice_is_harmless(db: Database) -> None:
    await db.upgrade()
    assert await db.current_revision() == _head()


async def test_migrated_schema_matches_the_models(db: Database) -> None:
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_diff) == []


async def test_models_cover_every_table() -> None:
    assert set(Base.metadata.tables) == TABLES


async def test_downgrade_to_base_then_up_again(db: Database) -> None:
    async with db.engine.begin() as connection:
        await connection.run_sync(_downgrade_to_base)
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_tables) <= {"alembic_version"}
    assert await db.current_revision() is None
    await db.upgrade()
    assert await db.current_revision() == _head()
