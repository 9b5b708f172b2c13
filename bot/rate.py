"""CommandRate: the commands a person may send a minute (``limits.commands_per_minute``)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime, timedelta

RATE_WINDOW = timedelta(minutes=1)


@dataclass
class _Sent:
    """One sender's commands run in the last minute (times, oldest first), and when they were
    last told they were over the rate."""

    times: list[datetime] = field(default_factory=list)
    noticed: datetime | None = None


class CommandRate:
    """At most ``limit`` commands a minute per person (a sliding window in memory, by the
    time the homeserver gave each command; 0: no limit). Beyond it a command is not run: the
    first of a minute is answered with a notice (``over`` gives how long until the person is
    under the rate again), the others of that minute are dropped without a word."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._senders: dict[str, _Sent] = {}
        self._checks = 0

    def over(self, sender: str, at: datetime) -> timedelta | None:
        """``None`` if a command of ``sender`` sent ``at`` is within the rate (it is counted),
        else how long until it would be."""
        if self.limit <= 0:
            return None
        self._checks += 1
        if self._checks % 1000 == 0:
            self._forget_before(at - RATE_WINDOW)
        sent = self._senders.setdefault(sender, _Sent())
        first = bisect.bisect_right(sent.times, at - RATE_WINDOW)
        del sent.times[:first]
        recent = bisect.bisect_right(sent.times, at)
        if recent < self.limit:
            sent.times.insert(recent, at)
            return None
        return sent.times[recent - self.limit] + RATE_WINDOW - at

    def notice_due(self, sender: str, at: datetime) -> bool:
        """Whether a command over the rate gets the notice: the first of each minute does."""
        sent = self._senders.setdefault(sender, _Sent())
        if sent.noticed is not None and at - sent.noticed < RATE_WINDOW:
            return False
        sent.noticed = at
        return True

    def _forget_before(self, moment: datetime) -> None:
        """Drops the senders with nothing in the window (memory stays bounded)."""
        self._senders = {sender: sent for sender, sent in self._senders.items()
                         if (sent.times and sent.times[-1] > moment)
                         or (sent.noticed is not None and sent.noticed > moment)}
