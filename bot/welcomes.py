"""Grouped welcomes: newcomers recorded by the sync (``welcomes`` rows waiting to be greeted)
are greeted together, one message per room (``MAX_NAMED`` names at most each).

A room's waiting newcomers are greeted ``GATHER`` after the first of them arrived (those who
join within that second come in the same message), and never sooner than
``welcome_every_seconds`` after the room's previous welcome: a burst of arrivals gives one
message a minute, not one per person. One timer (``welcomes:0``) at the earliest such time, as
the reminders' engine. Each room's welcome is queued and its newcomers marked greeted in one
commit: recorded once, greeted once, even across a crash.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.effects import queue_effects
from bot.outbox import Outbox
from commands.context import Club
from commands.digest import in_groups_of
from commands.effects import Post
from commands.i18n import Translator
from commands.meta import welcome
from storage.db import Database

log = logging.getLogger(__name__)
GATHER = timedelta(seconds=1)  # the first newcomer waits this long for others joining with them
# Welcomes due this soon after a firing are sent by the same firing (a timer set while its own
# job still runs could be skipped by the scheduler as a second instance).
LOOK_AHEAD = timedelta(seconds=2)


def due_at(first_arrival: datetime, last_welcome: datetime | None, every: timedelta) -> datetime:
    """When a room's waiting newcomers are greeted."""
    gathered = first_arrival + GATHER
    return gathered if last_welcome is None else max(gathered, last_welcome + every)


class Welcomes:
    """A scheduler source with a single job at the time the next room's welcome is due."""

    kind = "welcomes"
    refresh_after_fire = True  # the scheduler re-reads ``pending`` once a firing is done

    def __init__(self, db: Database, outbox: Outbox, clock: Clock, club: Callable[[], Club],
                 every: timedelta) -> None:
        self.db, self.outbox, self.clock, self.club = db, outbox, clock, club
        self.every = every
        self._retry_at: dict[str, datetime] = {}  # a room whose welcome failed: tried again then

    async def _due_rooms(self) -> list[tuple[str, datetime]]:
        """Each room with newcomers waiting, and when they are greeted."""
        async with self.db.transaction() as repos:
            waiting = await repos.welcomes.waiting_rooms()
        return [(room_id, max(due_at(first, last, self.every),
                              self._retry_at.get(room_id, first)))
                for room_id, first, last in waiting]

    async def pending(self) -> Sequence[tuple[int, datetime]]:
        due = [at for _room, at in await self._due_rooms()]
        return [(0, min(due))] if due else []

    async def fire(self, item_id: int = 0) -> None:
        """Greets the rooms whose time has come, and those due in the next seconds as their
        time comes."""
        while True:
            now = self.clock.now()
            rooms = await self._due_rooms()
            for room_id, at in rooms:
                if at <= now:
                    await self._greet_or_log(room_id)
            upcoming = [at for _room, at in rooms if at > now]
            if len(upcoming) < len(rooms):
                continue  # greeted some: others may have arrived meanwhile
            if not upcoming or min(upcoming) - now > LOOK_AHEAD:
                return
            await asyncio.sleep(max((min(upcoming) - now).total_seconds(), 0))
            if self.clock.now() == now:  # a clock that does not move by itself (tests)
                return

    async def _greet_or_log(self, room_id: str) -> None:
        """One room's welcome; a failure is logged and the room tried again ``every`` later,
        without holding back the other rooms."""
        try:
            await self.greet(room_id)
        except Exception:
            log.exception("the newcomers of %s could not be welcomed; tried again later", room_id,
                          extra={"room": room_id})
            self._retry_at[room_id] = self.clock.now() + max(self.every, GATHER)
        else:
            self._retry_at.pop(room_id, None)

    async def greet(self, room_id: str) -> int:
        """One room's waiting newcomers: their welcome queued and them marked greeted in the
        same commit; returns how many."""
        now = self.clock.now()
        club = self.club()
        t = Translator(club.language)
        async with self.db.transaction() as repos:
            newcomers = await repos.welcomes.waiting_in(room_id)
            effects = [Post(room_id, welcome(t, club, part), key=f"welcome-{room_id}-{part[0]}")
                       for part in in_groups_of(newcomers)]
            await repos.welcomes.greeted(newcomers, now)
            queued = await queue_effects(repos, effects, f"welcome-{room_id}", now)
        for message in queued:
            self.outbox.push(message)
        log.info("%d newcomer(s) welcomed in %s", len(newcomers), room_id,
                 extra={"room": room_id, "newcomers": len(newcomers), "messages": len(queued)})
        return len(newcomers)
