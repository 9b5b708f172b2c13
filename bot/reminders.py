"""The reminders' engine: one timer at the earliest send time (not one job per reminder: 10,000
pending reminders cost one query at start), each due reminder sent in its own transaction
with its state change, then the timer moves to the next one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.effects import queue_effects
from bot.outbox import Outbox
from commands.context import Club
from commands.i18n import Translator
from commands.reminders.deliver import deliver, reminder_key
from storage.db import Database

log = logging.getLogger(__name__)
BATCH = 200
# Reminders due this soon after a firing are sent by the same firing (a timer set while its own
# job still runs could be skipped by the scheduler as a second instance).
LOOK_AHEAD = timedelta(seconds=2)


class ReminderEngine:
    """A scheduler source with a single job (``reminders:0``) at the earliest send time."""

    kind = "reminders"
    refresh_after_fire = True  # the scheduler re-reads ``pending`` once a firing is done

    def __init__(self, db: Database, outbox: Outbox, clock: Clock,
                 club: Callable[[], Club]) -> None:
        self.db, self.outbox, self.clock, self.club = db, outbox, clock, club
        self.sent = 0

    async def pending(self) -> Sequence[tuple[int, datetime]]:
        async with self.db.transaction() as repos:
            earliest = await repos.reminders.next_send_at()
        return [] if earliest is None else [(0, earliest)]

    async def fire(self, item_id: int = 0) -> None:
        """Sends every reminder whose time has come, oldest first, and those due in the next
        seconds as their time comes."""
        while True:
            now = self.clock.now()
            async with self.db.transaction() as repos:
                ids = await repos.reminders.due_ids(now, BATCH)
                upcoming = None if ids else await repos.reminders.next_send_at()
            for reminder_id in ids:
                await self.send(reminder_id)
            if ids:
                continue
            if upcoming is None or upcoming - now > LOOK_AHEAD:
                return
            await asyncio.sleep(max((upcoming - self.clock.now()).total_seconds(), 0))
            if self.clock.now() == now:  # a clock that does not move by itself (tests)
                return

    async def send(self, reminder_id: int) -> None:
        """One reminder: its messages queued and its new state saved in the same commit."""
        now = self.clock.now()
        club = self.club()
        async with self.db.transaction() as repos:
            reminder = await repos.reminders.get(reminder_id)
            if reminder is None or reminder.status != "pending" or reminder.send_at > now:
                return
            key = reminder_key(reminder)
            facts = {"reminder": reminder_id, "kind": reminder.kind,
                     "late_s": int((now - reminder.send_at).total_seconds())}
            outcome = await deliver(repos, reminder, club, Translator(club.language), now)
            queued = await queue_effects(repos, outcome.effects, key, now)
        for message in queued:
            self.outbox.push(message)
        self.sent += 1
        if outcome.status == "dropped":
            log.info("reminder %s dropped: no longer useful", reminder_id, extra=facts)
        else:
            log.info("reminder %s sent", reminder_id, extra={**facts, "messages": len(queued)})
