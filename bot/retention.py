"""The retention purge: once a day, the personal data of participants inactive for longer
than ``[privacy] retention_days`` is erased like ``!oublier-moi`` does (counts kept)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from commands.reports.privacy import purge_inactive
from storage.db import Database

log = logging.getLogger(__name__)
PURGE_AT = time(4, 0)  # club time: a quiet hour


class RetentionPurge:
    """A job source with one pending item: the next daily purge (its id: the day's ordinal)."""

    kind = "retention"
    refresh_after_fire = True

    def __init__(self, db: Database, clock: Clock, tz: ZoneInfo, retention_days: int) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz
        self.retention = timedelta(days=retention_days)

    def _due(self, day: date) -> datetime:
        return datetime.combine(day, PURGE_AT, tzinfo=self.tz)

    async def pending(self) -> Sequence[tuple[int, datetime]]:
        if not self.retention:
            return []
        now = self.clock.now()
        day = now.astimezone(self.tz).date()
        if self._due(day) <= now:
            day += timedelta(days=1)
        return [(day.toordinal(), self._due(day))]

    async def fire(self, item_id: int) -> None:
        if not self.retention or self._due(date.fromordinal(item_id)) > self.clock.now():
            return
        async with self.db.transaction() as repos:
            count = await purge_inactive(repos, self.clock.now(), self.retention)
        if count:
            log.info("retention: personal data of %d inactive participants erased", count)
