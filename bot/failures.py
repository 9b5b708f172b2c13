"""The outbox's failing rows: when each is tried again (growing waits with jitter, a 429's wait
at least), whether it is to blame rather than the homeserver, and when it has failed long
enough to be set aside for good. The outbox is the only place that tries a request again: the
transport makes one request per call."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.delivery import Queued
from bot.matrix_api import MatrixError, backoff
from storage.db import Database

log = logging.getLogger("bot.outbox")
HOLD_S = 60.0  # how long a failing row holds its room's later rows (the homeserver answering)
LONGEST_WAIT_S = 600.0  # the longest wait between two tries of a failing row


@dataclass
class Failing:
    """A row that failed and is retried: since when (the database's clock, kept across
    restarts), since when in this process (loop time), how many tries, the next one."""

    since: datetime
    first: float
    tries: int
    retry_at: float
    paced: bool  # the last failure was the homeserver's pace (a 429), not the row's fault


def now() -> float:
    return asyncio.get_running_loop().time()


class Failures:
    """The rows failing in this process, by id."""

    def __init__(self, db: Database, clock: Clock, *, retry_for: timedelta,
                 first_wait_s: float, longest_wait_s: float, hold_s: float) -> None:
        self.db = db
        self.clock = clock
        self.retry_for = retry_for
        self.first_wait_s = first_wait_s
        self.longest_wait_s = longest_wait_s
        self.hold_s = hold_s
        self.rows: dict[int, Failing] = {}

    def to_blame(self, failing: Failing, answered: float) -> bool:
        """Whether a failing row, not the homeserver, is the trouble: it has failed for
        ``hold_s``, not for the homeserver's pace, and the homeserver answered meanwhile
        (loop time ``answered``)."""
        return (not failing.paced and now() - failing.first >= self.hold_s
                and answered > failing.first)

    async def note(self, message: Queued, error: BaseException, started: float, *,
                   paced: bool) -> Failing | None:
        """Notes a failure (of a try begun at ``started``) and when to try again; ``None`` past
        ``retry_for`` since the first one (the row is to be set aside for good)."""
        failing = self.rows.get(message.id)
        if failing is None:
            since = await self._since(message)
            failing = self.rows[message.id] = Failing(since, started, 0, now(), paced)
        failing.tries += 1
        failing.paced = paced
        if self.clock.now() - failing.since >= self.retry_for:
            return None
        wait = backoff(failing.tries, self.first_wait_s, self.longest_wait_s)
        if isinstance(error, MatrixError) and error.retry_after is not None:
            wait = max(wait, error.retry_after)
        failing.retry_at = now() + wait
        log.warning("outbox: %s %s to %s failed (%s); try %d, next in %.0fs", message.action,
                    message.id, message.room_id, error, failing.tries, wait,
                    extra={"row": message.id, "room": message.room_id, "tries": failing.tries})
        return failing

    async def _since(self, message: Queued) -> datetime:
        """When the row began failing: kept in the database (across restarts)."""
        if message.failing_since is not None:
            return message.failing_since
        since = self.clock.now()
        try:
            async with self.db.transaction() as repos:
                return await repos.outbox.failing(message.id, since)
        except Exception:
            log.exception("outbox: the failure of row %s could not be noted", message.id)
            return since
