"""The outbox's marks: a row sent is marked sent in the database a moment later
(``MARK_AFTER_S``), with the others sent meanwhile: not while the homeserver is busy delivering
it. Until then, a crash sends it again with the same transaction id, which the homeserver
deduplicates."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from storage.db import Database

log = logging.getLogger("bot.outbox")
MARK_AFTER_S = 0.2


class Marks:
    """Sent rows (id, event id, time) whose mark is not written yet."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._marks: list[tuple[int, str, datetime]] = []
        self._marking: asyncio.Task[None] | None = None

    def add(self, row_id: int, event_id: str, at: datetime) -> None:
        """A row sent: its mark is written soon."""
        self._marks.append((row_id, event_id, at))
        if self._marking is None:
            self._marking = asyncio.create_task(self._write_soon())

    async def write(self) -> None:
        """Marks what was sent as sent in the database, in one transaction."""
        marks, self._marks = self._marks, []
        if not marks:
            return
        try:
            async with self.db.transaction() as repos:
                await repos.outbox.mark_all_sent(marks)
        except BaseException:
            self._marks = marks + self._marks  # kept for the next try (sent only once meanwhile)
            raise

    async def write_now(self) -> None:
        """``write``, the one planned a moment later cancelled."""
        self.cancel()
        await self.write()

    def cancel(self) -> None:
        if self._marking is not None:
            self._marking.cancel()
            self._marking = None

    async def close(self) -> None:
        """Stops writing (what is unmarked is sent again, deduplicated, at the next start)."""
        marking, self._marking = self._marking, None
        if marking is not None:
            marking.cancel()
            await asyncio.gather(marking, return_exceptions=True)

    def unmarked(self) -> list[tuple[int, str, datetime]]:
        return list(self._marks)

    async def _write_soon(self) -> None:
        await asyncio.sleep(MARK_AFTER_S)
        self._marking = None
        try:
            await self.write()
        except Exception:
            log.exception("outbox: could not mark %d message(s) sent; retrying", len(self._marks))
            if self._marking is None and self._marks:
                self._marking = asyncio.create_task(self._write_soon())
