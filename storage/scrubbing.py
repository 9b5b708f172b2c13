"""After an erasure, the database files scrubbed of the erased values (``Database``: SQLite's
write-ahead log emptied, PostgreSQL's tables vacuumed): at once, unless the last scrub was less
than ``SCRUB_EVERY_S`` ago; then once, when that interval ends, for every erasure in between.
Erasures come one by one (several people, the nightly purge's, one person's repeated ones): each
would otherwise have the database vacuum its tables. A scrub that could not be done (a reader
in SQLite's log, an error) is tried again an interval later."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable

SCRUB_EVERY_S = 60.0


class Scrubs:
    """When the erased tables are scrubbed: ``after_erasure`` once each erasure is committed,
    ``close`` at stop (what is still to scrub, scrubbed then). ``scrub`` says whether it
    could be done."""

    def __init__(self, scrub: Callable[[list[str]], Awaitable[bool]],
                 every: float = SCRUB_EVERY_S) -> None:
        self._scrub = scrub
        self.every = every
        self._pending: set[str] = set()
        self._last: float | None = None
        self._later: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._under_way = asyncio.Lock()  # one scrub at a time; ``close`` waits for it
        self._closed = False

    @property
    def pending(self) -> frozenset[str]:
        """The tables erased from and not scrubbed yet."""
        return frozenset(self._pending)

    async def after_erasure(self, tables: Iterable[str]) -> None:
        """``tables`` were erased from: scrubbed now, or with the next scrub already due (at
        once once closed)."""
        self._pending.update(tables)
        if self._closed:
            await self._scrub_pending()
            return
        if self._later is not None:
            return
        wait = self._wait()
        if wait > 0:
            self._schedule(wait)
            return
        await self._scrub_pending()
        self._again()

    def again_later(self, tables: Iterable[str]) -> None:
        """``tables`` could not be scrubbed elsewhere (at start): tried again an interval
        later."""
        self._pending.update(tables)
        self._last = asyncio.get_running_loop().time()
        self._again()

    async def close(self) -> None:
        """A scrub under way waited for, then what is still to scrub scrubbed now (once: a
        failure is logged by ``scrub``)."""
        self._closed = True
        while self._later is not None:
            self._wake.set()
            await asyncio.gather(self._later, return_exceptions=True)
        async with self._under_way:
            pass
        if self._pending:
            await self._scrub_pending()

    def _wait(self) -> float:
        if self._last is None:
            return 0.0
        return self._last + self.every - asyncio.get_running_loop().time()

    def _schedule(self, wait: float) -> None:
        self._wake = asyncio.Event()
        self._later = asyncio.create_task(self._scrub_later(wait), name="scrub")

    async def _scrub_later(self, wait: float) -> None:
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            if self._wake.is_set():
                return  # closing: ``close`` scrubs what is pending
            await self._scrub_pending()
        finally:
            self._later = None
        self._again()

    async def _scrub_pending(self) -> None:
        async with self._under_way:
            tables, self._pending = sorted(self._pending), set()
            self._last = asyncio.get_running_loop().time()
            done = False
            try:
                done = await self._scrub(tables)
            finally:
                if not done:
                    self._pending.update(tables)

    def _again(self) -> None:
        """What could not be scrubbed, or was erased meanwhile, waits for the next interval."""
        if self._pending and self._later is None and not self._closed:
            self._schedule(max(0.0, self._wait()))
