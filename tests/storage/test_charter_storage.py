"""The charter's versions and the proposals carrying one, on SQLite and PostgreSQL: the club's
charter is the version adopted last (ties: the one recorded last), a label is recorded once,
the proposals whose outcome is not written are the undecided ones, and 0024 adds the tables to
a database at 0023 without touching its adoptions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.repositories import Repositories
from tests.storage.test_migrations import _migrate_to

T0 = datetime(2099, 1, 5, 18, tzinfo=UTC)


async def _proposal(repos: Repositories, label: str, text: str) -> int:
    poll = await repos.polls.create(question=f"Version {label} ?", territory="tout",
                                    room_id="!main:x", closes_at=T0 + timedelta(days=3),
                                    created_by="@c:x", at=T0, kind="proposal")
    await repos.charter.propose(poll.id, label, text)
    return poll.id


async def test_the_charter_is_the_version_adopted_last(db: Database) -> None:
    async with db.transaction() as repos:
        assert await repos.charter.current() is None
        await repos.charter.record_version("1", "Respect.", T0)
        number = await _proposal(repos, "2", "Respect.\n\n**Écoute**.")
        await repos.charter.record_version("2", "Respect.\n\n**Écoute**.", T0 + timedelta(days=4),
                                           poll_id=number)
        await repos.charter.record_version("0", "Ancien.", T0 + timedelta(days=4))  # same time
    async with db.transaction() as repos:
        current = await repos.charter.current()
        assert current is not None and (current.version, current.poll_id) == ("0", None)
        assert [row.version for row in await repos.charter.versions()] == ["1", "2", "0"]
        two = await repos.charter.version("2")
        assert two is not None and two.text == "Respect.\n\n**Écoute**." and two.poll_id == number
        assert await repos.charter.version("3") is None


async def test_a_label_is_recorded_once(db: Database) -> None:
    async with db.transaction() as repos:
        await repos.charter.record_version("2", "A", T0)
    with pytest.raises(IntegrityError):
        async with db.transaction() as repos:
            await repos.charter.record_version("2", "B", T0 + timedelta(days=1))
    async with db.transaction() as repos:
        assert [(row.version, row.text) for row in await repos.charter.versions()] == [("2", "A")]


async def test_undecided_proposals_are_those_without_an_outcome(db: Database) -> None:
    async with db.transaction() as repos:
        first = await _proposal(repos, "2", "Deux.")
        second = await _proposal(repos, "3", "Trois.")
        poll = await repos.polls.get(first)
        assert poll is not None
        await repos.polls.set_outcome(poll, "rejetée", "@c:x", T0 + timedelta(days=3))
    async with db.transaction() as repos:
        assert [(p.poll_id, p.version) for p in await repos.charter.undecided_proposals()] == [
            (second, "3")]
        proposed = await repos.charter.proposal(first)
        assert proposed is not None and (proposed.version, proposed.text) == ("2", "Deux.")
        assert await repos.charter.proposal(second + 1) is None


async def test_0024_adds_the_versions_and_keeps_the_adoptions(empty_db: Database) -> None:
    await _migrate_to(empty_db, "0023")
    async with empty_db.transaction() as repos:
        await repos.charter.adopt("@bob:x", "1", T0)
    await empty_db.upgrade()
    async with empty_db.transaction() as repos:
        assert [row.user_id for row in await repos.charter.adoptions()] == ["@bob:x"]
        assert await repos.charter.current() is None  # the next start records the config's
        await repos.charter.record_version("1", "Respect.", T0)
    await _migrate_to(empty_db, "0023", down=True)
    async with empty_db.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
    assert "charter_versions" not in tables and "charter_adoptions" in tables
    await empty_db.upgrade()
