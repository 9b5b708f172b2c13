"""The retention purge, a daily job: the personal data of everyone recorded and inactive for
longer than ``Club.retention`` is erased like ``!oublier-moi`` does (counts kept), so are the
names of the guests of events older than that (they become headcounts), and the commands
handled and messages sent longer than ``Club.messages_retention`` ago are deleted (except the
messages the bot still needs)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from commands.context import Club
from commands.effects import Effect
from commands.jobs import Item, Job, JobRun
from commands.reports.erasure import purge_inactive, purge_messages

if TYPE_CHECKING:
    from storage.repositories import Repositories

log = logging.getLogger(__name__)
PURGE_AT = time(4, 0)  # club time: a quiet hour


def _due(day: date, club: Club) -> datetime:
    return datetime.combine(day, PURGE_AT, tzinfo=club.tz)


async def _next_purge(_repos: Repositories, club: Club,
                      now: datetime) -> Sequence[tuple[Item, datetime]]:
    """The next daily purge (its item: the day's ordinal)."""
    day = now.astimezone(club.tz).date()
    if _due(day, club) <= now:
        day += timedelta(days=1)
    return [(day.toordinal(), _due(day, club))]


async def _purge(job: JobRun, item: Item) -> Sequence[Effect]:
    if _due(date.fromordinal(int(item)), job.club) > job.now:
        return ()
    commands, messages = await purge_messages(job.repos, job.club, job.now,
                                              job.club.messages_retention)
    people = (await purge_inactive(job.repos, job.club, job.t, job.now, job.club.retention)
              if job.club.retention else 0)
    guests = (await job.repos.attendance.expire_guests(job.now - job.club.retention)
              if job.club.retention else 0)
    if people:
        log.info("retention: personal data of %d inactive people erased", people)
    if guests:
        log.info("retention: the names of %d guests of past events erased", guests)
    if commands or messages:
        log.info("retention: %d commands and %d messages deleted", commands, messages)
    return ()


RETENTION = Job("retention", pending=_next_purge, run=_purge)
