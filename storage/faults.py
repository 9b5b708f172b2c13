"""Which database errors mean "cannot save right now" (read-only, disk full, server gone)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError

from commands.errors import StorageUnavailable

_UNAVAILABLE_HINTS = ("readonly", "read-only", "disk", "full", "unable to open", "i/o",
                      "connection", "could not", "terminating")


def is_unavailable(error: DBAPIError) -> bool:
    """Whether ``error`` is the storage failing, not the statement being wrong."""
    if error.connection_invalidated:
        return True
    text = str(error.orig).lower()
    return any(hint in text for hint in _UNAVAILABLE_HINTS)


@asynccontextmanager
async def storage_faults() -> AsyncIterator[None]:
    """Turns the storage failing inside the block into ``StorageUnavailable``."""
    try:
        yield
    except DBAPIError as error:
        if is_unavailable(error):
            raise StorageUnavailable() from error
        raise
