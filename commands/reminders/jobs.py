"""The reminders' job: one timer at the earliest send time (not one per reminder: 10,000
pending reminders cost one query at start), each due reminder sent in its own transaction with
its change of state."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from commands.context import Club
from commands.effects import Effect
from commands.jobs import Item, Job, JobRun
from commands.meetings.reminders import REMINDERS_KIND
from commands.reminders.deliver import deliver, reminder_key

if TYPE_CHECKING:
    from storage.repositories import Repositories

log = logging.getLogger(__name__)
BATCH = 200  # reminders read at a time (the first by send time)


async def _upcoming(repos: Repositories, _club: Club,
                    _now: datetime) -> Sequence[tuple[Item, datetime]]:
    return await repos.reminders.upcoming(BATCH)


async def _send(job: JobRun, item: Item) -> Sequence[Effect]:
    """One reminder, if still pending and due: its messages, its new state."""
    reminder = await job.repos.reminders.get(int(item))
    if reminder is None or reminder.status != "pending" or reminder.send_at > job.now:
        return ()
    job.key = reminder_key(reminder)
    facts = {"reminder": reminder.id, "kind": reminder.kind,
             "late_s": int((job.now - reminder.send_at).total_seconds())}
    outcome = await deliver(job.repos, reminder, job.club, job.t, job.now, job.matrix)
    if outcome.status == "dropped":
        log.info("reminder %s dropped: no longer useful", reminder.id, extra=facts)
    else:
        log.info("reminder %s sent", reminder.id, extra={**facts, "messages": len(outcome.effects)})
    return outcome.effects


REMINDERS = Job(REMINDERS_KIND, pending=_upcoming, run=_send, timer=True)
