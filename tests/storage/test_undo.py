"""Undoing what a block wrote (``storage.undo``): without a savepoint, a block that failed after
writing cannot be undone alone and says so; one that wrote nothing leaves the transaction as
it was."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import column, event, select, table

from storage.db import Database
from storage.models import ScheduledMessage
from storage.undo import CannotUndo, Undo, undoable

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


class Boom(Exception):
    pass


def savepoints(db: Database) -> list[str]:
    """The SAVEPOINT statements ``db`` runs from now on."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.upper().startswith("SAVEPOINT"):
            seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    return seen


async def test_a_block_that_reads_then_fails_leaves_the_transaction_as_it_was(
        db: Database) -> None:
    seen = savepoints(db)
    async with db.transaction() as repos:
        await repos.state.set("outer", "kept")
        with pytest.raises(Boom):  # its own error, not CannotUndo: nothing to undo
            async with undoable(repos, Undo.REDONE):
                assert await repos.state.get("outer") == "kept"
                raise Boom
        await repos.state.set("after", "kept")
    async with db.transaction() as repos:
        assert await repos.state.get("outer") == await repos.state.get("after") == "kept"
    assert seen == []


async def test_a_block_that_writes_and_succeeds_needs_no_savepoint(db: Database) -> None:
    seen = savepoints(db)
    async with db.transaction() as repos, undoable(repos, Undo.REDONE):
        await repos.state.set("k", "v")
    async with db.transaction() as repos:
        assert await repos.state.get("k") == "v"
    assert seen == []


async def test_a_block_that_wrote_then_failed_cannot_be_undone_alone(db: Database) -> None:
    with pytest.raises(CannotUndo) as raised:
        async with db.transaction() as repos:
            await repos.state.set("outer", "rolled back with the rest")
            async with undoable(repos, Undo.REDONE):
                await repos.state.set("inner", "written")
                raise Boom
    assert isinstance(raised.value.__cause__, Boom)
    async with db.transaction() as repos:
        assert await repos.state.get("outer") is None and await repos.state.get("inner") is None


async def test_changes_left_pending_in_the_session_cannot_be_undone_alone(db: Database) -> None:
    """An object added and not flushed would be written at the commit."""
    with pytest.raises(CannotUndo):
        async with db.transaction() as repos, undoable(repos, Undo.REDONE):
            repos.session.add(ScheduledMessage(room_id="!r:x", markdown="x", due_at=T0,
                                               created_at=T0))
            raise Boom
    async with db.transaction() as repos:
        assert await repos.scheduled.pending() == []


async def test_a_statement_that_failed_cannot_be_undone_alone(db: Database) -> None:
    """A read that failed: PostgreSQL refuses anything more in that transaction."""
    with pytest.raises(CannotUndo):
        async with db.transaction() as repos, undoable(repos, Undo.REDONE):
            await repos.session.execute(select(column("x")).select_from(table("no_such_table")))


async def test_a_message_queued_counts_as_written(db: Database) -> None:
    """On PostgreSQL a message and the people it concerns are one SELECT whose CTEs insert."""
    with pytest.raises(CannotUndo):
        async with db.transaction() as repos, undoable(repos, Undo.REDONE):
            await repos.outbox.add(txn_id="t1", room_id="!r:x", content={"body": "x"},
                                   created_at=T0, about=("@a:x",))
            raise Boom


async def test_what_was_pending_before_the_block_is_not_the_blocks(db: Database) -> None:
    """Rows the transaction left for the session to write are written before the block: its
    failure having written nothing leaves them, and the transaction, as they were."""
    async with db.transaction() as repos:
        repos.session.add(ScheduledMessage(room_id="!r:x", markdown="x", due_at=T0,
                                           created_at=T0))
        with pytest.raises(Boom):
            async with undoable(repos, Undo.REDONE):
                raise Boom
    async with db.transaction() as repos:
        assert len(await repos.scheduled.pending()) == 1


async def test_with_a_savepoint_the_rest_of_the_transaction_stays(db: Database) -> None:
    seen = savepoints(db)
    async with db.transaction() as repos:
        await repos.state.set("outer", "kept")
        with pytest.raises(Boom):
            async with undoable(repos, Undo.SAVEPOINT):
                await repos.state.set("inner", "undone")
                raise Boom
    async with db.transaction() as repos:
        assert await repos.state.get("outer") == "kept" and await repos.state.get("inner") is None
    assert len(seen) == 1
