"""Which database errors mean "cannot save right now" (read-only, disk full, server gone; another
program holding SQLite's write lock), and database error texts without the values they quote."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError

_UNAVAILABLE_HINTS = ("readonly", "read-only", "disk", "full", "unable to open", "i/o",
                      "connection", "could not", "terminating")


class StorageUnavailable(Exception):
    """The database cannot save right now (read-only, disk full, server gone…): nothing was
    changed. Not a user's mistake: the bot tells the user so in its own words (the catalog's
    ``error.storage_unavailable``) and keeps the work to do again."""


class StorageBusy(StorageUnavailable):
    """Another program holds the database's write lock (an administrator's ``sqlite3``, a
    backup): nothing was changed; the work waits for the lock and is done when it frees
    (the catalog's ``error.storage_busy``)."""


# SQLite's result codes (their low byte) for a lock held by another connection.
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6


def is_busy(error: DBAPIError) -> bool:
    """Whether ``error`` is SQLite's "database is locked": another program holds the lock (the
    work can be done once it frees)."""
    code = getattr(error.orig, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)


def is_unavailable(error: DBAPIError) -> bool:
    """Whether ``error`` is the storage failing, not the statement being wrong."""
    if error.connection_invalidated:
        return True
    text = str(error.orig).lower()
    return any(hint in text for hint in _UNAVAILABLE_HINTS)


@asynccontextmanager
async def storage_faults() -> AsyncIterator[None]:
    """Turns the storage failing inside the block into ``StorageUnavailable`` (``StorageBusy``
    for a lock held by another program)."""
    try:
        yield
    except DBAPIError as error:
        if is_busy(error):
            raise StorageBusy() from error
        if is_unavailable(error):
            raise StorageUnavailable() from error
        raise


# What PostgreSQL and asyncpg quote of a statement's values in their errors (the engine hides
# the statement's parameters themselves: ``hide_parameters``): the DETAIL line (« Key (name)=(…)
# already exists », « Failing row contains (…) »), the argument asyncpg could not encode, the
# value a type could not read (« invalid input syntax for type integer: "…" »).
_QUOTED_VALUES = (
    (re.compile(r"^(\s*DETAIL:\s+).*$", re.MULTILINE), r"\1***"),
    (re.compile(r"(invalid input for query argument \$\d+: ).*?( \(|$)", re.MULTILINE),
     r"\1***\2"),
    (re.compile(r'(: )"[^"\n]*"(\s*)$', re.MULTILINE), r'\1"***"\2'),
)


def without_values(text: str) -> str:
    """``text`` (a database error, a traceback) with the values the database quoted masked."""
    for pattern, replacement in _QUOTED_VALUES:
        text = pattern.sub(replacement, text)
    return text
