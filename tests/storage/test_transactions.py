"""Transactions: all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage.db import Database

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


async def test_unreachable_postgres_is_storage_unavailable() -> None:
    from commands.errors import StorageUnavailable

    db = Database("postgresql+asyncpg://postgres@127.0.0.1:1/nothing")
    try:
        with pytest.raises(StorageUnavailable):
            async with db.transaction() as repos:
                await repos.state.get("k")
    finally:
        await db.dispose()
