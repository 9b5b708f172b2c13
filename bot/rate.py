"""CommandRate: the commands a person may send a minute (``limits.commands_per_minute``)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime, timedelta

RATE_WINDOW = timedelta(minutes=1)
ARRIVAL_FACTOR = 3  # a catch-up after a stop brings several minutes' commands at once


@dataclass
class _Sent:
    """One sender's commands counted in the last minute: by the time the homeserver gave each
    (oldest first), and by the bot's clock when each arrived; when they were last told they
    were over the rate (the bot's clock)."""

    times: list[datetime] = field(default_factory=list)
    arrivals: list[datetime] = field(default_factory=list)
    noticed: datetime | None = None


class CommandRate:
    """At most ``limit`` commands a minute per person (a sliding window in memory, by the
    time the homeserver gave each command, so that a catch-up after a stop does not look like
    a burst; 0: no limit). That time is the sender's homeserver's word: whatever it says,
    at most ``ARRIVAL_FACTOR`` × ``limit`` of a person's commands are run a minute by the
    bot's clock. Beyond it a command is not run: the first of a minute is answered with a
    notice (``over`` gives how long until the person is under the rate again), the others of
    that minute are dropped without a word."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._senders: dict[str, _Sent] = {}
        self._checks = 0

    def over(self, sender: str, at: datetime, arrived: datetime | None = None) -> timedelta | None:
        """``None`` if a command of ``sender`` sent ``at`` (by its homeserver) and ``arrived``
        (by the bot's clock; ``at`` if not given) is within the rate (it is counted), else
        how long until it would be."""
        if self.limit <= 0:
            return None
        arrived = at if arrived is None else arrived
        self._checks += 1
        if self._checks % 1000 == 0:
            self._forget_before(at - RATE_WINDOW, arrived - RATE_WINDOW)
        sent = self._senders.setdefault(sender, _Sent())
        wait = _wait(sent.times, at, self.limit)
        wait = wait if wait is not None else _wait(sent.arrivals, arrived,
                                                   self.limit * ARRIVAL_FACTOR)
        if wait is None:
            bisect.insort(sent.times, at)
            bisect.insort(sent.arrivals, arrived)
        return wait

    def notice_due(self, sender: str, arrived: datetime) -> bool:
        """Whether a command over the rate gets the notice: the first of each minute (by the
        bot's clock) does."""
        sent = self._senders.setdefault(sender, _Sent())
        if sent.noticed is not None and arrived - sent.noticed < RATE_WINDOW:
            return False
        sent.noticed = arrived
        return True

    def _forget_before(self, moment: datetime, arrival: datetime) -> None:
        """Drops the senders with nothing in the window (memory stays bounded)."""
        self._senders = {sender: sent for sender, sent in self._senders.items()
                         if (sent.times and sent.times[-1] > moment)
                         or (sent.arrivals and sent.arrivals[-1] > arrival)
                         or (sent.noticed is not None and sent.noticed > arrival)}


def _wait(times: list[datetime], at: datetime, limit: int) -> timedelta | None:
    """``None`` if fewer than ``limit`` of ``times`` (sorted) fall in the minute up to ``at``
    (the older ones are dropped), else how long until one fewer would."""
    del times[:bisect.bisect_right(times, at - RATE_WINDOW)]
    recent = bisect.bisect_right(times, at)
    return None if recent < limit else times[recent - limit] + RATE_WINDOW - at
