"""The retention purge: once a day, the personal data of everyone recorded and inactive for
longer than ``[privacy] retention_days`` is erased like ``!oublier-moi`` does (counts kept), so
are the names of the guests of events older than that (they become headcounts), and the
commands handled and messages sent more than ``[privacy] messages_retention_days`` ago are
deleted (except the messages the bot still needs)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta

from bot.clock import Clock
from bot.config import PrivacySettings
from commands.context import Club
from commands.i18n import Translator
from commands.reports.erasure import purge_inactive, purge_messages
from storage.db import Database

log = logging.getLogger(__name__)
PURGE_AT = time(4, 0)  # club time: a quiet hour


class RetentionPurge:
    """A job source with one pending item: the next daily purge (its id: the day's ordinal)."""

    kind = "retention"
    refresh_after_fire = True

    def __init__(self, db: Database, clock: Clock, club: Callable[[], Club],
                 settings: PrivacySettings) -> None:
        self.db = db
        self.clock = clock
        self.club = club
        self.retention = timedelta(days=settings.retention_days)
        days = settings.messages_retention_days
        self.messages_retention = timedelta(days=days) if days else None

    def _due(self, day: date) -> datetime:
        return datetime.combine(day, PURGE_AT, tzinfo=self.club().tz)

    async def pending(self) -> Sequence[tuple[int, datetime]]:
        now = self.clock.now()
        day = now.astimezone(self.club().tz).date()
        if self._due(day) <= now:
            day += timedelta(days=1)
        return [(day.toordinal(), self._due(day))]

    async def fire(self, item_id: int) -> None:
        if self._due(date.fromordinal(item_id)) > self.clock.now():
            return
        club, now = self.club(), self.clock.now()
        async with self.db.transaction() as repos:
            commands, messages = await purge_messages(repos, club, now, self.messages_retention)
            people = (await purge_inactive(repos, club, Translator(club.language), now,
                                           self.retention) if self.retention else 0)
            guests = (await repos.attendance.expire_guests(now - self.retention)
                      if self.retention else 0)
        if people:
            log.info("retention: personal data of %d inactive people erased", people)
        if guests:
            log.info("retention: the names of %d guests of past events erased", guests)
        if commands or messages:
            log.info("retention: %d commands and %d messages deleted", commands, messages)
