"""Durations as people write them (``20min``, ``1h30``, ``une heure et demie``), at most 12 hours."""

from __future__ import annotations

import re
from datetime import timedelta

from commands.dates._common import DateError, check_length, normalize, quoted

MAX_DURATION = timedelta(hours=12)
_MINUTE_WORDS = r"(?:minutes?|mins?|mn|m)"
_HOUR_WORDS = r"(?:heures?|hours?|hrs?|h)"
_DURATIONS = (
    re.compile(rf"(?P<h>\d{{1,2}}) ?{_HOUR_WORDS}(?: ?(?P<m>\d{{1,2}}) ?{_MINUTE_WORDS}?)?", re.ASCII),
    re.compile(rf"(?P<h>\d{{1,2}}) ?{_HOUR_WORDS} et (?P<half>demie?)", re.ASCII),
    re.compile(rf"(?P<h>\d{{1,2}})[.,](?P<tenth>\d) ?{_HOUR_WORDS}", re.ASCII),
    re.compile(rf"(?P<m>\d{{1,4}}) ?{_MINUTE_WORDS}", re.ASCII),
    re.compile(r"(?P<h>\d{1,2}):(?P<m>\d{2})", re.ASCII),
    re.compile(rf"(?P<one>une|an|one|a) ?{_HOUR_WORDS}(?: et (?P<half>demie?))?", re.ASCII),
    re.compile(r"(?P<halfhour>une demi-heure|une demi heure|demi-heure|half an hour)", re.ASCII),
)


def parse_duration(text: str) -> timedelta:
    """``20min``, ``1h30``, ``1 h 30``, ``90 minutes``, ``45mn``, ``1:30``, ``1 hour``…: 0 < d ≤ 12 h."""
    check_length(text)
    folded = normalize(text)
    for pattern in _DURATIONS:
        match = pattern.fullmatch(folded)
        if match is None:
            continue
        found = match.groupdict()
        if found.get("halfhour"):
            return timedelta(minutes=30)
        hours = 1 if found.get("one") else int(found.get("h") or 0)
        minutes = int(found.get("m") or 0) + (30 if found.get("half") else 0)
        minutes += int(found.get("tenth") or 0) * 6
        if hours and minutes >= 60:
            raise DateError("dates.bad_duration", value=quoted(text))
        duration = timedelta(hours=hours, minutes=minutes)
        if not timedelta(0) < duration <= MAX_DURATION:
            raise DateError("dates.bad_duration", value=quoted(text))
        return duration
    raise DateError("dates.unparseable_duration", value=quoted(text))
