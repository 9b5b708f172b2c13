"""After an erasure the erased values leave the database's files: SQLite's database file and
write-ahead log no longer hold them (``secure_delete``, a checkpoint that empties the log);
PostgreSQL's tables are vacuumed (see docs/privacy.md for what remains there)."""

from __future__ import annotations

import asyncio
import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from sqlalchemy import text

from bot.clock import FakeClock
from bot.outbox import Outbox
from commands.registry import Registry
from storage.db import Database
from tests.conftest import sqlite_copy
from tests.handlers.conftest import Harness, make_club, make_harness
from tests.handlers.fakes import FakeTransport
from tests.storage.conftest import fresh_postgres

BOB = "@bob:example.org"


async def leave_traces(bot: Harness, marker: str) -> None:
    """Alice writes ``marker`` in many places: a remontée, a group's description and progress,
    an initiative, a reminder."""
    for body in (f"!remontee {marker} au carrefour",
                 f"!projet creer Atelier --theme mobilité --territoire sud --description {marker}",
                 f"!projet avancement atelier {marker} encore",
                 f"!initiative ajouter Repair --theme biens --commune Embrun --contact {marker}",
                 f"!rappel demain 9h {marker}"):
        await bot.command(body)


async def forget(bot: Harness) -> None:
    await bot.command("!oublier-moi")
    await bot.command("!oublier-moi confirmer")


def holding(files: list[Path], marker: str) -> list[str]:
    needles = (marker.encode(), marker.lower().encode())
    return [path.name for path in files
            if path.exists() and any(n in path.read_bytes() for n in needles)]


async def test_erased_text_is_gone_from_the_sqlite_files(bot: Harness, tmp_path: Path) -> None:
    marker = f"Zorglub{secrets.token_hex(8)}"
    files = [tmp_path / "cct.db", tmp_path / "cct.db-wal"]
    await leave_traces(bot, marker)
    assert holding(files, marker)

    await forget(bot)

    assert holding(files, marker) == []
    assert (tmp_path / "cct.db-wal").stat().st_size < 100_000  # emptied, then a few commits


@pytest_asyncio.fixture
async def pg_bot(postgres_url: str, clock: FakeClock, transport: FakeTransport,
                 registry: Registry) -> AsyncIterator[Harness]:
    await fresh_postgres(postgres_url)
    database = Database(postgres_url)
    await database.upgrade()
    yield make_harness(database, clock, transport, Outbox(database, transport, clock),
                       registry, make_club())
    await database.dispose()


async def vacuums(bot: Harness, table: str) -> int:
    async with bot.db.transaction() as repos:
        return int((await repos.session.execute(text(
            "SELECT vacuum_count FROM pg_stat_user_tables WHERE schemaname = 'public' "
            "AND relname = :name"),
            {"name": table})).scalar_one())


async def dead_versions(bot: Harness, table: str) -> int:
    """The dead row versions in ``table``'s file, counted by reading its pages (pgstattuple).
    Not ``pg_stat_user_tables.n_dead_tup``: a statistic that the erasure's own connection
    may add its updates to up to a second after the vacuum reset it, rows long gone."""
    async with bot.db.transaction() as repos:
        return int((await repos.session.execute(text(
            "SELECT dead_tuple_count FROM pgstattuple(:name)"), {"name": table})).scalar_one())


async def test_postgresql_tables_are_vacuumed_after_an_erasure(pg_bot: Harness) -> None:
    async with pg_bot.db.transaction() as repos:
        await repos.session.execute(text("CREATE EXTENSION pgstattuple"))
    await leave_traces(pg_bot, "Zorglub")
    before = await vacuums(pg_bot, "remontees")
    await forget(pg_bot)
    for _ in range(200):  # the statistics may reach other sessions a moment later
        if await vacuums(pg_bot, "remontees") > before:
            break
        await asyncio.sleep(0.1)
    assert await vacuums(pg_bot, "remontees") > before
    assert await dead_versions(pg_bot, "remontees") == 0



async def someone_else_forgotten(bot: Harness) -> None:
    """Bob writes a remontée, then erases himself: a scrub, and the interval begins."""
    await bot.command("!remontee un trou dans la piste cyclable", sender=BOB)
    await bot.command("!oublier-moi", sender=BOB)
    await bot.command("!oublier-moi confirmer", sender=BOB)


async def test_an_erasure_soon_after_another_is_scrubbed_once_the_interval_ends(
        tmp_path: Path, migrated_sqlite: Path, clock: FakeClock, transport: FakeTransport,
        registry: Registry) -> None:
    """One person erasing themselves in a loop does not make the database scrub itself each
    time: an erasure within ``scrub_every`` of the last scrub waits for the interval to end."""
    database = Database(sqlite_copy(migrated_sqlite, tmp_path / "cct.db"), scrub_every=1.0)
    bot = make_harness(database, clock, transport, Outbox(database, transport, clock),
                       registry, make_club())
    files = [tmp_path / "cct.db", tmp_path / "cct.db-wal"]
    try:
        await someone_else_forgotten(bot)
        marker = f"Zorglub{secrets.token_hex(8)}"
        await leave_traces(bot, marker)
        await forget(bot)
        assert holding(files, marker)  # not yet
        for _ in range(50):
            if not holding(files, marker):
                break
            await asyncio.sleep(0.1)
        assert holding(files, marker) == []
    finally:
        await database.dispose()


async def test_a_scrub_still_waiting_is_done_when_the_database_closes(
        postgres_url: str, clock: FakeClock, transport: FakeTransport,
        registry: Registry) -> None:
    await fresh_postgres(postgres_url)
    database = Database(postgres_url, scrub_every=3600)
    await database.upgrade()
    bot = make_harness(database, clock, transport, Outbox(database, transport, clock),
                       registry, make_club())
    await someone_else_forgotten(bot)
    await leave_traces(bot, "Zorglub")
    await forget(bot)
    assert database.scrubs.pending  # waiting for the interval to end

    await database.dispose()

    database = Database(postgres_url)
    bot = make_harness(database, clock, transport, Outbox(database, transport, clock),
                       registry, make_club())
    try:
        async with bot.db.transaction() as repos:
            await repos.session.execute(text("CREATE EXTENSION pgstattuple"))
        assert await dead_versions(bot, "remontees") == 0
    finally:
        await database.dispose()


async def test_an_erasure_empties_the_log_while_checkpoints_run(
        tmp_path: Path, migrated_sqlite: Path, clock: FakeClock, transport: FakeTransport,
        registry: Registry) -> None:
    """The worker thread's checkpoints (after every commit here) and the erasure's own, which
    empties the log, take turns."""
    database = Database(sqlite_copy(migrated_sqlite, tmp_path / "cct.db"), checkpoint_every=0)
    bot = make_harness(database, clock, transport, Outbox(database, transport, clock),
                       registry, make_club())
    files = [tmp_path / "cct.db", tmp_path / "cct.db-wal"]
    try:
        marker = f"Zorglub{secrets.token_hex(8)}"
        await leave_traces(bot, marker)
        await forget(bot)
        assert holding(files, marker) == []
    finally:
        await database.dispose()


async def test_what_a_kill_left_unscrubbed_is_scrubbed_at_the_next_start(
        tmp_path: Path, migrated_sqlite: Path, clock: FakeClock, transport: FakeTransport,
        registry: Registry) -> None:
    """The files as a ``kill -9`` leaves them while an erasure's scrub waits for its interval:
    the next start empties SQLite's log."""
    database = Database(sqlite_copy(migrated_sqlite, tmp_path / "cct.db"), scrub_every=3600)
    bot = make_harness(database, clock, transport, Outbox(database, transport, clock),
                       registry, make_club())
    marker = f"Zorglub{secrets.token_hex(8)}"
    killed = tmp_path / "killed"
    killed.mkdir()
    try:
        await someone_else_forgotten(bot)
        await leave_traces(bot, marker)
        await forget(bot)
        for name in ("cct.db", "cct.db-wal"):  # the files at the kill
            shutil.copyfile(tmp_path / name, killed / name)
    finally:
        await database.dispose()
    files = [killed / "cct.db", killed / "cct.db-wal"]
    assert holding(files, marker)

    restarted = Database(f"sqlite+aiosqlite:///{killed / 'cct.db'}")
    try:
        await restarted.scrub_leftovers()
        assert holding(files, marker) == []
    finally:
        await restarted.dispose()
