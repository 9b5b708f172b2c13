"""Undoing what a block wrote when it fails: a savepoint, or, for a block run in a transaction
that can be done again from the start, no savepoint at all (two round trips less on
PostgreSQL) and ``CannotUndo`` if it fails after writing.

Sessions count the statements that write (``CountingSession``): any statement run through the
session that is not a SELECT (or is one marked as writing: ``storage.statements.WRITES``), and
each flush with changes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from enum import Enum
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import ORMExecuteState, Session

from storage.faults import StorageUnavailable, storage_faults
from storage.repositories import Repositories
from storage.statements import WRITES

WRITTEN = "writes"  # the session's ``info`` key: statements that wrote so far


class CannotUndo(Exception):
    """A block run without a savepoint wrote, or met a database error, then failed: its whole
    transaction must be rolled back (and done again another way)."""


class CountingSession(Session):
    """A session that counts the statements that write (``info[WRITTEN]``)."""


@event.listens_for(CountingSession, "do_orm_execute")
def _count_statement(state: ORMExecuteState) -> None:
    if not state.is_select or state.execution_options.get(WRITES):
        _count(state.session)


@event.listens_for(CountingSession, "before_flush")
def _count_flush(session: Session, _context: Any, _instances: Any) -> None:
    _count(session)


def writes(repos: Repositories) -> int:
    """How many statements of ``repos``' session wrote so far."""
    return int(repos.session.info.get(WRITTEN, 0))


def _count(session: Session) -> None:
    session.info[WRITTEN] = session.info.get(WRITTEN, 0) + 1


class Undo(Enum):
    """How what a block wrote is undone if it raises (``undoable``)."""

    SAVEPOINT = "savepoint"  # a savepoint: the rest of the transaction stays
    REDONE = "redone"  # the caller can roll the whole transaction back and do it again
    NOTHING = "nothing"  # nothing can be written (a read-only transaction)


@asynccontextmanager
async def undoable(repos: Repositories, how: Undo) -> AsyncIterator[None]:
    """What the block writes is undone, as ``how`` says, if it raises. ``REDONE``: no
    savepoint; a block that raises after writing, after a database error, or with changes
    still pending in the session raises ``CannotUndo`` instead; one that raises having written
    nothing leaves the transaction as it was. The storage failing raises
    ``StorageUnavailable`` (``StorageBusy`` for SQLite's lock held by another program)."""
    if how is not Undo.REDONE:
        async with storage_faults(), repos.savepoint() if how is Undo.SAVEPOINT else nullcontext():
            yield
        return
    session = repos.session
    async with storage_faults():  # what the transaction left pending is not the block's
        await repos.flush()
    before = session.info.get(WRITTEN, 0)
    try:
        async with storage_faults():
            yield
    except StorageUnavailable:
        raise
    except Exception as error:
        if (session.info.get(WRITTEN, 0) != before or isinstance(error, DBAPIError)
                or session.new or session.dirty or session.deleted):
            raise CannotUndo() from error
        raise
