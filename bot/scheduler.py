"""Timers derived from the database: one APScheduler job per pending item of each source,
rebuilt at start (the sources: the capabilities' declared jobs, ``bot.jobs``, and the
scheduled room messages, ``bot.scheduled``).

A job carries only ``(kind, item)``; ``fire`` re-reads the row, so a cancelled or moved item is
skipped. Tests call ``fire`` directly with a fake clock instead of waiting.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from commands.jobs import Item

log = logging.getLogger(__name__)


class JobSource(Protocol):
    """A kind of scheduled thing, stored in the database."""

    kind: str

    async def pending(self) -> Sequence[tuple[Item, datetime]]:
        """Every item still to fire, with its due time (aware)."""
        ...

    async def fire(self, item_id: Item) -> None:
        """Does what the item is for, if it is still due; marks it done in the same step."""
        ...


def job_id(kind: str, item_id: Item) -> str:
    return f"{kind}:{item_id}"


class Scheduler:
    """An AsyncIOScheduler whose jobs mirror the pending rows of its sources."""

    def __init__(self, sources: Sequence[JobSource]) -> None:
        self.sources = {source.kind: source for source in sources}
        self._scheduler = AsyncIOScheduler(timezone=UTC)

    async def start(self) -> None:
        self._scheduler.start()
        await self.rebuild()

    async def rebuild(self) -> int:
        """Drops every job and creates one per pending row; returns how many."""
        started = time.perf_counter()
        self._scheduler.remove_all_jobs()
        count = 0
        for kind, source in self.sources.items():
            for item_id, due in await source.pending():
                self.schedule(kind, item_id, due)
                count += 1
        ms = round((time.perf_counter() - started) * 1000, 1)
        log.info("scheduler: %d jobs from the database in %.0f ms", count, ms,
                 extra={"jobs": count, "ms": ms})
        return count

    async def refresh(self, prefix: str) -> int:
        """Rebuilds the jobs of the sources whose kind is ``prefix`` or starts with
        ``prefix-`` (after a command changed their rows); returns how many."""
        count = 0
        for kind, source in self.sources.items():
            if kind != prefix and not kind.startswith(prefix + "-"):
                continue
            for job in self._scheduler.get_jobs():
                if job.id.startswith(f"{kind}:"):
                    job.remove()
            for item_id, due in await source.pending():
                self.schedule(kind, item_id, due)
                count += 1
        return count

    def schedule(self, kind: str, item_id: Item, due: datetime) -> None:
        """Creates or moves the job of one item."""
        self._scheduler.add_job(self.fire, "date", run_date=due, args=[kind, item_id],
                                id=job_id(kind, item_id), replace_existing=True,
                                misfire_grace_time=None, coalesce=True)

    def cancel(self, kind: str, item_id: Item) -> None:
        job = self._scheduler.get_job(job_id(kind, item_id))
        if job is not None:
            job.remove()

    def jobs(self) -> dict[str, datetime | None]:
        """The scheduled jobs by id, with their next run time (``None`` until the scheduler
        starts)."""
        return {job.id: getattr(job, "next_run_time", None) for job in self._scheduler.get_jobs()}

    async def fire(self, kind: str, item_id: Item) -> None:
        """Runs one item now (what a job does when it is due)."""
        source = self.sources.get(kind)
        try:
            if source is None:
                raise KeyError(f"no job source of kind {kind!r}")
            await source.fire(item_id)
        except Exception:
            log.exception("scheduled %s failed", job_id(kind, item_id))
        if getattr(source, "refresh_after_fire", False):
            await self.refresh(kind)

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
