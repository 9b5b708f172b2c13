"""After an erasure, the database files scrubbed of the erased values (``Database``: SQLite's
write-ahead log emptied, PostgreSQL's tables vacuumed): at once, unless the last scrub was less
than ``SCRUB_EVERY_S`` ago; then once, when that interval ends, for every erasure in between.
One person erasing themselves in a loop (``!oublier-moi`` is open to all) would otherwise have
the database vacuum its tables each time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable

SCRUB_EVERY_S = 60.0


class Scrubs:
    """When the erased tables are scrubbed: ``after_erasure`` once each erasure is committed,
    ``close`` at stop (what is still to scrub, scrubbed then)."""

    def __init__(self, scrub: Callable[[list[str]], Awaitable[None]],
                 every: float = SCRUB_EVERY_S) -> None:
        self._scrub = scrub
        self.every = every
        self._pending: set[str] = set()
        self._last: float | None = None
        self._later: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    @property
    def pending(self) -> frozenset[str]:
        """The tables erased from and not scrubbed yet."""
        return frozenset(self._pending)

    async def after_erasure(self, tables: Iterable[str]) -> None:
        """``tables`` were erased from: scrubbed now, or with the next scrub already due."""
        self._pending.update(tables)
        if self._later is not None:
            return
        wait = self._wait()
        if wait > 0:
            self._wake = asyncio.Event()
            self._later = asyncio.create_task(self._scrub_later(wait), name="scrub")
            return
        await self._scrub_pending()

    async def close(self) -> None:
        """A scrub that was waiting for its interval to end, done now."""
        if self._later is not None:
            self._wake.set()
            await asyncio.gather(self._later, return_exceptions=True)
        elif self._pending:
            await self._scrub_pending()

    def _wait(self) -> float:
        if self._last is None:
            return 0.0
        return self._last + self.every - asyncio.get_running_loop().time()

    async def _scrub_later(self, wait: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), wait)
        self._later = None
        await self._scrub_pending()

    async def _scrub_pending(self) -> None:
        tables, self._pending = sorted(self._pending), set()
        self._last = asyncio.get_running_loop().time()
        await self._scrub(tables)
