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


def _upgrade_to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _vote_indexes(connection: Connection) -> dict[str, list[str]]:
    return {index["name"]: list(index["column_names"])
            for index in inspect(connection).get_indexes("poll_votes")}


COVERING = {"ix_poll_votes_poll": ["poll_id", "slot_id", "answer"],
            "ix_poll_votes_voter": ["poll_id", "user_id", "answer"],
            "ix_poll_votes_slot": ["slot_id", "answer", "voted_at"],
            "ix_poll_votes_user": ["user_id", "voted_at"]}


async def test_a_database_past_0003_gets_the_poll_vote_indexes(empty_db: Database) -> None:
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(_upgrade_to, "0006")
        assert await connection.run_sync(_vote_indexes) == {"ix_poll_votes_poll": ["poll_id"]}
    await empty_db.upgrade()
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(_vote_indexes) == COVERING


async def test_a_database_that_ran_the_edited_0003_upgrades_too(empty_db: Database) -> None:
    """0003 once made the covering indexes itself (edited in place): 0007 must not fail on
    them."""
    async with empty_db.engine.begin() as connection:
        await connection.run_sync(_upgrade_to, "0006")
        await connection.exec_driver_sql("DROP INDEX ix_poll_votes_poll")
        for name, columns in COVERING.items():
            await connection.exec_driver_sql(
                f"CREATE INDEX {name} ON poll_votes ({', '.join(columns)})")
    await empty_db.upgrade()
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(_vote_indexes) == COVERING
