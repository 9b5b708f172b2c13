"""Transactions: all or nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import text

from storage.db import Database
from tests.conftest import PG_ADMIN_DSN
from tests.storage.conftest import fresh_postgres

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


class Boom(Exception):
    pass


async def test_exception_rolls_everything_back(db: Database) -> None:
    with pytest.raises(Boom):
        async with db.transaction() as repos:
            await repos.state.set("k", "v")
            await repos.inbox.add_if_new(event_id="$1", room_id="!r:x", sender="@u:x", body="!ping",
                                         sent_at=T0, received_at=T0)
            await repos.outbox.add(txn_id="t1", room_id="!r:x", content={"body": "x"}, created_at=T0)
            await repos.session.flush()  # the rows did reach the database before the failure
            raise Boom
    async with db.transaction() as repos:
        assert await repos.state.get("k") is None
        assert await repos.inbox.get("$1") is None
        assert await repos.outbox.pending() == []


async def test_rollback_keeps_earlier_commits(db: Database) -> None:
    async with db.transaction() as repos:
        await repos.state.set("k", "before")
    with pytest.raises(Boom):
        async with db.transaction() as repos:
            await repos.state.set("k", "after")
            await repos.session.flush()
            raise Boom
    async with db.transaction() as repos:
        assert await repos.state.get("k") == "before"


async def test_commit_at_the_end_of_the_block(db: Database) -> None:
    async with db.transaction() as repos:
        await repos.welcomes.first_time("@a:x", "!r:x", T0)
    async with db.transaction() as repos:
        assert await repos.welcomes.first_time("@a:x", "!r:x", T0) is False


async def test_user_errors_pass_through_unchanged(db: Database) -> None:
    from commands.errors import NotFound

    with pytest.raises(NotFound):
        async with db.transaction() as repos:
            await repos.state.set("k", "v")
            raise NotFound()
    async with db.transaction() as repos:
        assert await repos.state.get("k") is None


async def test_a_savepoint_undoes_its_block_only(db: Database) -> None:
    async with db.transaction() as repos:
        await repos.state.set("outer", "kept")
        with pytest.raises(Boom):
            async with repos.savepoint():
                await repos.state.set("inner", "undone")
                await repos.state.set("outer", "changed, then undone")
                raise Boom
        async with repos.savepoint():
            await repos.state.set("second", "kept")
    async with db.transaction() as repos:
        assert await repos.state.get("outer") == "kept"
        assert await repos.state.get("inner") is None
        assert await repos.state.get("second") == "kept"


async def test_a_statement_failing_in_a_savepoint_leaves_the_transaction_usable(
        db: Database) -> None:
    async with db.transaction() as repos:
        await repos.state.set("k", "v")
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            async with repos.savepoint():
                await repos.inbox.add_if_new(event_id="$1", room_id="!r:x", sender="@u:x",
                                             body="!ping", sent_at=T0, received_at=T0)
                await repos.session.execute(text(
                    "INSERT INTO inbox (event_id, room_id, sender, body, sent_at, received_at) "
                    "VALUES ('$1', '!r:x', '@u:x', '!ping', '2026-01-01', '2026-01-01')"))
        await repos.state.set("after", "yes")
    async with db.transaction() as repos:
        assert await repos.state.get("k") == "v" and await repos.state.get("after") == "yes"
        assert await repos.inbox.get("$1") is None


async def test_unreachable_postgres_is_storage_unavailable() -> None:
    from storage.faults import StorageUnavailable

    db = Database("postgresql+asyncpg://postgres@127.0.0.1:1/nothing")
    try:
        with pytest.raises(StorageUnavailable):
            async with db.transaction() as repos:
                await repos.state.get("k")
    finally:
        await db.dispose()


async def _terminate(pid: int) -> None:
    """Ends that server session, as a restart or an administrator does."""
    admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await admin.execute("SELECT pg_terminate_backend($1, 5000)", pid)  # waits for its end
    finally:
        await admin.close()


def _terminate_unseen(pid: int) -> None:
    """Ends that session while the bot's event loop is blocked: the bot has not read the
    server's goodbye when it next takes the connection, as with a connection lost silently."""
    with ThreadPoolExecutor(1) as other:
        other.submit(asyncio.run, _terminate(pid)).result()


async def _pid(db: Database) -> int:
    async with db.transaction() as repos:
        return int(await repos.session.scalar(text("SELECT pg_backend_pid()")) or 0)


@pytest_asyncio.fixture
async def pg(postgres_url: str) -> AsyncIterator[str]:
    await fresh_postgres(postgres_url)
    migrated = Database(postgres_url)
    await migrated.upgrade()
    async with migrated.transaction() as repos:
        await repos.state.set("k", "kept")
    await migrated.dispose()
    yield postgres_url


async def test_a_connection_the_server_closed_is_replaced_before_use(pg: str) -> None:
    """The next transaction runs on a new connection: it neither fails nor is refused."""
    db = Database(pg)
    try:
        first = await _pid(db)
        await _terminate(first)
        await asyncio.sleep(0.2)  # the bot's loop reads the server's goodbye meanwhile
        async with db.transaction() as repos:
            assert await repos.state.get("k") == "kept"
        assert await _pid(db) != first
    finally:
        await db.dispose()


async def test_a_connection_lost_unseen_is_replaced_before_use(pg: str) -> None:
    """Its end not read yet by the bot (or its backend not gone yet): the ping finds it."""
    db = Database(pg)
    try:
        first = await _pid(db)
        _terminate_unseen(first)
        async with db.transaction() as repos:
            assert await repos.state.get("k") == "kept"
        assert await _pid(db) != first
    finally:
        await db.dispose()


async def test_a_connection_whose_session_is_being_ended_is_replaced(pg: str) -> None:
    """Right after an administrator (or a restart) ended the sessions, their backends not gone
    yet: checking only what asyncpg knew failed about one such transaction in two."""
    db = Database(pg)
    try:
        for _ in range(10):
            first = await _pid(db)
            admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
            try:
                await admin.execute("SELECT pg_terminate_backend($1)", first)  # no wait
            finally:
                await admin.close()
            async with db.transaction() as repos:
                assert await repos.state.get("k") == "kept"
    finally:
        await db.dispose()


async def test_a_new_connection_refusing_begin_is_the_storage_failing(
        pg: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pooled connection that does not answer BEGIN is replaced; a new one that refuses it
    too (the server shutting down) means the database cannot save: ``StorageUnavailable``,
    which the bot tells and retries, not an error of the pool's own."""
    from storage.faults import StorageUnavailable

    db = Database(pg)
    try:
        await _pid(db)  # one connection in the pool, which answered BEGIN
        refused = asyncpg.AdminShutdownError("terminating connection due to administrator "
                                             "command")

        async def start(_transaction: object) -> None:
            raise refused

        monkeypatch.setattr(asyncpg.transaction.Transaction, "start", start)
        with pytest.raises(StorageUnavailable):
            async with db.transaction() as repos:
                await repos.state.get("k")
        monkeypatch.undo()
        async with db.transaction() as repos:  # and once it answers again, all is well
            assert await repos.state.get("k") == "kept"
    finally:
        await db.dispose()
