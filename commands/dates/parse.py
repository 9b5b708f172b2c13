"""Reading dates, times, slots and durations written in French (or English).

The text is folded (no accents, lower case) and read left to right as a sequence of parts, in any
order, each at most once: a date (``14/01``, ``14 janvier 2027``, ``2027-01-14``), a weekday
(``mardi``, ``mar.``, ``lundi prochain``), a relative day (``demain``), a time (``18h30``) or a
range (``18h30-20h``), a part of the day (``matin``), a delay (``dans 2 jours``), and small
linking words (``le``, ``à``, ``vers``) which may not end the text. Reading (``_scan``) only
recognises the shape; checking values and placing them in time (``_resolve``) comes after, so
that ``split_moment`` can find the longest leading part that *looks like* a date and then report
what is wrong with it rather than silently reading a shorter part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from commands.dates._common import (
    AFTERNOON_PARTS,
    MAX_INPUT,
    MONTH_RE,
    MONTH_WORDS,
    PARIS,
    PART_RE,
    PART_WORDS,
    PARTS_OF_DAY,
    TIME_RE,
    WEEKDAY_NAMES,
    WEEKDAY_RE,
    WEEKDAY_WORDS,
    DateError,
    Slot,
    aware_now,
    check_length,
    is_after,
    normalize,
    quoted,
    time_value,
    wall_clock,
)
from commands.dates.format import day_and_month, format_moment

MAX_AHEAD = relativedelta(years=2)
MAX_SPLIT_WORDS = 12

_END = r"(?=[ ,]|$)"
_DAY_SUFFIX = r"(?:er|re|eme|e|st|nd|rd|th)?"
_UNITS = (r"minutes?|mins?|mn|heures?|hours?|hrs?|h|jours?|days?|j|semaines?|weeks?|sem|mois"
          r"|months?|annees?|ans?|years?")
_RELATIVE_DAYS = {"aujourd'hui": 0, "aujourdhui": 0, "today": 0, "demain": 1, "tomorrow": 1,
                  "apres-demain": 2, "apres demain": 2, "day after tomorrow": 2,
                  "the day after tomorrow": 2}


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(f"(?:{pattern}){_END}", re.ASCII)


# Tried in this order at each position; the first that matches is taken.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("half_hour", _rx(r"(?:dans une demi-heure|dans une demi heure|in half an hour)")),
    ("in_hm", _rx(r"(?:dans|in) (?P<h>\d{1,2}) ?h ?(?P<m>\d{2})")),
    ("in", _rx(rf"(?:dans|in) (?:(?P<n>\d{{1,3}})|(?P<one>une?|an?|one)) ?(?P<unit>{_UNITS})")),
    ("iso", _rx(r"(?:le |on )?(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})")),
    ("numeric", _rx(r"(?:le |on )?(?P<d>\d{1,2})(?:er)?/(?P<m>\d{1,2})(?:/(?P<y>\d{4}|\d{2}))?")),
    ("numeric", _rx(r"(?:le |on )?(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})")),
    ("day_month", _rx(rf"(?:le |on |the )?(?P<d>\d{{1,2}}{_DAY_SUFFIX}|premier) (?:of )?"
                      rf"(?P<mon>{MONTH_RE})\.?(?:,? (?P<y>\d{{4}}))?")),
    ("month_day", _rx(rf"(?P<mon>{MONTH_RE})\.? (?:the )?(?P<d>\d{{1,2}}){_DAY_SUFFIX}"
                      r"(?:,? (?P<y>\d{4}))?")),
    ("relative_part", _rx(rf"(?:ce|cet|cette|this) (?P<part>{PART_RE})|(?P<tonight>tonight)")),
    ("relative_day", _rx("|".join(sorted(_RELATIVE_DAYS, key=len, reverse=True)))),
    ("weekday", _rx(rf"(?:(?P<next>next) |(?:ce|cette|this) )?(?P<wd>{WEEKDAY_RE})\.?"
                    r"(?: (?P<prochain>prochaine?))?")),
    ("range", _rx(rf"(?:(?:de|from|entre|between) )?(?P<a>{TIME_RE}) ?(?:-|a|to|et|and|jusqu'a) ?"
                  rf"(?P<b>{TIME_RE})")),
    ("part", _rx(rf"(?:en |dans la |dans l'|le |l'|in the |the )?(?P<part>{PART_RE})")),
    ("time", _rx(rf"(?P<t>{TIME_RE})")),
    ("bare_day", _rx(r"(?P<le>le |the )?(?P<d>\d{1,2})(?:er|st|nd|rd|th)?")),
    ("filler", _rx(r"a|at|on|vers|around|le|the")),
)
_SEPARATOR = re.compile(r"[ ,]+")


class _NoMatch(Exception):
    """The text does not have the shape of a date (internal: becomes ``dates.unparseable``)."""


@dataclass
class _Parts:
    """What the text says, as written (values not checked yet)."""

    ymd: tuple[int | None, int, int] | None = None
    relative_days: int | None = None
    weekday: int | None = None
    weekday_word: str = ""
    next_week: bool = False
    bare_day: int | None = None
    start: tuple[int, int] | None = None
    end: tuple[int, int] | None = None
    part: str | None = None
    delta: relativedelta | None = None
    clock_delta: timedelta | None = None

    def has_day(self) -> bool:
        return self.ymd is not None or self.relative_days is not None or self.bare_day is not None


def _unit_delta(count: int, unit: str) -> tuple[relativedelta | None, timedelta | None]:
    if unit.startswith(("min", "mn")):
        return None, timedelta(minutes=count)
    if unit.startswith(("h", "heure")):
        return None, timedelta(hours=count)
    if unit.startswith(("j", "d")):
        return relativedelta(days=count), None
    if unit.startswith(("sem", "week")):
        return relativedelta(weeks=count), None
    if unit.startswith(("mois", "month")):
        return relativedelta(months=count), None
    return relativedelta(years=count), None


def _take(parts: _Parts, kind: str, match: re.Match[str], previous: str | None) -> bool:
    """Records one matched part; False when it cannot be taken here (already given…)."""
    relative = parts.delta is not None or parts.clock_delta is not None
    if kind in ("half_hour", "in_hm", "in"):
        if relative or parts.has_day() or parts.weekday is not None:
            return False
        if kind == "half_hour":
            parts.clock_delta = timedelta(minutes=30)
        elif kind == "in_hm":
            parts.clock_delta = timedelta(hours=int(match["h"]), minutes=int(match["m"]))
        else:
            count = int(match["n"]) if match["n"] else 1
            if count == 0:
                return False
            parts.delta, parts.clock_delta = _unit_delta(count, match["unit"])
        return True
    if kind in ("iso", "numeric", "day_month", "month_day"):
        if parts.has_day() or relative:
            return False
        year = int(match["y"]) if match["y"] else None
        if year is not None and year < 100:
            year += 2000
        if kind in ("day_month", "month_day"):
            month = MONTH_WORDS[match["mon"]]
            day_text = match["d"]
            day = 1 if day_text == "premier" else int(day_text.rstrip("abcdefghijklmnopqrstuvwxyz"))
        else:
            month, day = int(match["m"]), int(match["d"])
        parts.ymd = (year, month, day)
        return True
    if kind in ("relative_part", "relative_day"):
        if parts.has_day() or relative:
            return False
        if kind == "relative_part":
            if parts.part is not None:
                return False
            parts.relative_days = 0
            parts.part = PART_WORDS[match["part"] or "tonight"]
        else:
            parts.relative_days = _RELATIVE_DAYS[match[0]]
        return True
    if kind == "weekday":
        # First, or after « demain » / a date only: « demain 18h jeu de société » keeps its « jeu ».
        if parts.weekday is not None or relative or parts.start is not None or parts.part is not None:
            return False
        parts.weekday = WEEKDAY_WORDS[match["wd"]]
        parts.weekday_word = match["wd"]
        parts.next_week = bool(match["next"] or match["prochain"])
        return True
    if kind in ("range", "time"):
        if parts.start is not None or parts.clock_delta is not None:
            return False
        if kind == "range":
            parts.start, parts.end = time_value(match["a"]), time_value(match["b"])
        else:
            parts.start = time_value(match["t"])
        return True
    if kind in ("part", "bare_day") and relative and parts.delta is None:
        return False
    if kind == "part":
        # Not after a time: « demain 9h soirée crêpes » is 9h, not 21h.
        if parts.part is not None or parts.start is not None:
            return False
        parts.part = PART_WORDS[match["part"]]
        return True
    if kind == "bare_day":
        # A lone day number only right after a weekday (« mardi 14 ») or after « le » (« le 15 »).
        if parts.has_day() or relative or not (match["le"] or previous == "weekday"):
            return False
        parts.bare_day = int(match["d"])
        return True
    return kind == "filler"


def _scan(text: str) -> _Parts:
    """The parts of a whole (normalised) text, or ``_NoMatch``."""
    parts = _Parts()
    pos, previous, taken = 0, None, 0
    while pos < len(text):
        separator = _SEPARATOR.match(text, pos)
        if separator:
            pos = separator.end()
            continue
        for kind, pattern in _PATTERNS:
            match = pattern.match(text, pos)
            if match and _take(parts, kind, match, previous):
                break
        else:
            raise _NoMatch
        pos, previous = match.end(), kind
        taken += kind != "filler"
    if taken == 0 or previous == "filler":
        raise _NoMatch
    return parts


# --- placing the parts in time ---------------------------------------------------------------


def _valid_time(hour_minute: tuple[int, int], text: str) -> time:
    hour, minute = hour_minute
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise DateError("dates.bad_time", value=quoted(text))
    return time(hour, minute)


def _valid_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _explicit_day(ymd: tuple[int | None, int, int], today: date, text: str) -> date:
    year, month, day = ymd
    if not (1 <= month <= 12 and 1 <= day <= 31) or _valid_date(2028, month, day) is None:
        raise DateError("dates.bad_date", value=quoted(text))
    if year is not None:
        found = _valid_date(year, month, day)
        if found is None:  # 29/02 of a year that is not a leap year
            raise DateError("dates.bad_date", value=quoted(text))
        return found
    # No year: the next occurrence (today included), skipping years without a 29 February.
    year = today.year if (month, day) >= (today.month, today.day) else today.year + 1
    while (found := _valid_date(year, month, day)) is None:
        year += 1
    return found


def _bare_day(day: int, today: date, text: str) -> date:
    if not 1 <= day <= 31:
        raise DateError("dates.bad_date", value=quoted(text))
    first = today.replace(day=1)
    for months in range(13):
        month_start = first + relativedelta(months=months)
        found = _valid_date(month_start.year, month_start.month, day)
        if found is not None and found >= today:
            return found
    raise DateError("dates.bad_date", value=quoted(text))  # pragma: no cover - 31 comes back


def _times(parts: _Parts, text: str) -> tuple[time | None, time | None]:
    """Start and end times from the time, the range or the part of the day."""
    if parts.start is None:
        if parts.part is None:
            return None, None
        return PARTS_OF_DAY[parts.part]
    start_hm, end_hm = parts.start, parts.end
    if parts.part in AFTERNOON_PARTS:  # « ce soir 8h » is 20h
        start_hm = (start_hm[0] + 12, start_hm[1]) if 1 <= start_hm[0] <= 11 else start_hm
        if end_hm is not None and 1 <= end_hm[0] <= 11:
            end_hm = (end_hm[0] + 12, end_hm[1])
    start = _valid_time(start_hm, text)
    end = _valid_time(end_hm, text) if end_hm is not None else None
    if end is not None and end <= start:
        raise DateError("dates.range_backwards", value=quoted(text))
    return start, end


@dataclass(frozen=True)
class _Placed:
    start: datetime
    end_time: time | None


def _place(parts: _Parts, text: str, now: datetime, tz: ZoneInfo, *, slot: bool,
           default_time: time | None, language: str) -> _Placed:
    """The start (and how to find the end) of what ``parts`` says, checked."""
    local_now = aware_now(now, tz)
    today = local_now.date()
    start_time, end_time = _times(parts, text)

    if parts.clock_delta is not None:  # dans 10 min, dans 2 heures: elapsed time
        if parts.start is not None or parts.part is not None or parts.weekday is not None:
            raise DateError("dates.unparseable", value=quoted(text))
        moment = (now.astimezone(UTC) + parts.clock_delta).replace(second=0, microsecond=0)
        start = moment.astimezone(tz)
        return _checked(_Placed(start, None), now, tz, text, language)

    if start_time is None:
        if slot:
            raise DateError("dates.missing_time", value=quoted(text))
        if parts.delta is not None:  # dans 2 jours: the same time of day
            start_time = local_now.time().replace(second=0, microsecond=0)
        else:
            start_time = default_time or time(9, 0)

    day: date | None = None
    if parts.delta is not None:
        if parts.weekday is not None:
            raise DateError("dates.unparseable", value=quoted(text))
        day = today + parts.delta
    elif parts.ymd is not None:
        day = _explicit_day(parts.ymd, today, text)
    elif parts.bare_day is not None:
        day = _bare_day(parts.bare_day, today, text)
    elif parts.relative_days is not None:
        day = today + timedelta(days=parts.relative_days)

    if day is not None and parts.weekday is not None and day.weekday() != parts.weekday:
        when = datetime.combine(day, time(12), tz)
        raise DateError("dates.weekday_mismatch", value=quoted(text),
                        date=day_and_month(when, language, tz),
                        weekday=WEEKDAY_NAMES[_lang(language)][day.weekday()],
                        written=WEEKDAY_NAMES[_lang(language)][parts.weekday])
    if day is None and parts.weekday is not None:
        ahead = (parts.weekday - today.weekday()) % 7
        if ahead == 0 and (parts.next_week
                           or not is_after(wall_clock(datetime.combine(today, start_time), tz), now)):
            ahead = 7
        day = today + timedelta(days=ahead)
    if day is None:  # a time alone
        if slot:
            raise DateError("dates.missing_date", value=quoted(text))
        day = today
        if not is_after(wall_clock(datetime.combine(day, start_time), tz), now):
            day += timedelta(days=1)
    start = wall_clock(datetime.combine(day, start_time), tz)
    return _checked(_Placed(start, end_time), now, tz, text, language)


def _lang(language: str) -> str:
    return language if language in WEEKDAY_NAMES else "fr"


def _checked(placed: _Placed, now: datetime, tz: ZoneInfo, text: str, language: str) -> _Placed:
    if not is_after(placed.start, now):
        raise DateError("dates.in_past", value=quoted(text),
                        when=format_moment(placed.start, _lang(language), tz))
    if is_after(placed.start, aware_now(now, tz) + MAX_AHEAD):
        raise DateError("dates.too_far", value=quoted(text))
    return placed


def _parse(text: str) -> _Parts:
    check_length(text)
    try:
        return _scan(normalize(text))
    except _NoMatch:
        raise DateError("dates.unparseable", value=quoted(text)) from None


def parse_slot(text: str, *, now: datetime, tz: ZoneInfo = PARIS,
               default_duration: timedelta = timedelta(hours=2), language: str = "fr") -> Slot:
    """A candidate meeting time: « mardi 14 janvier 18h30 », « 14/01 18h30-20h », « demain soir »…

    The end is the end of the range, else the end of the part of the day, else ``start +
    default_duration``. ``language`` is only used for the words put into error messages.
    """
    parts = _parse(text)
    placed = _place(parts, text, now, tz, slot=True, default_time=None, language=language)
    start = placed.start
    if placed.end_time is not None:
        end = wall_clock(datetime.combine(start.date(), placed.end_time), tz)
    else:
        end = (start.astimezone(UTC) + default_duration).astimezone(tz)
    return Slot(start, end)


def parse_moment(text: str, *, now: datetime, tz: ZoneInfo = PARIS,
                 default_time: time = time(9, 0), language: str = "fr") -> datetime:
    """A point in time: « demain 9h », « dans 2 jours », « lundi prochain », « le 12/01 à 14h »…

    A range is refused (use ``parse_slot``); a part of the day means its start (« ce soir »
    is 18h30); a day without a time is at ``default_time``.
    """
    parts = _parse(text)
    if parts.end is not None:
        raise DateError("dates.unparseable", value=quoted(text))
    return _place(parts, text, now, tz, slot=False, default_time=default_time,
                  language=language).start


_WORD = re.compile(r"\S+")


def leading_words(text: str, limit: int = MAX_SPLIT_WORDS) -> list[int]:
    """End offsets of the first ``limit`` words of ``text`` that fit in ``MAX_INPUT`` characters."""
    ends: list[int] = []
    for match in _WORD.finditer(text):
        if len(ends) >= limit or match.end() > MAX_INPUT:
            break
        ends.append(match.end())
    return ends


def split_moment(text: str, *, now: datetime, tz: ZoneInfo = PARIS,
                 default_time: time = time(9, 0), language: str = "fr") -> tuple[datetime, str]:
    """For ``!rappel <quand> <texte>``: the longest leading part that reads as a moment, and the rest.

    The longest part that has the shape of a date wins, even when its values are wrong, so that
    « mardi 14 janvier 18h30 réunion » with a wrong weekday is refused rather than read as « mardi ».
    """
    stripped = text.strip()
    if not stripped:
        raise DateError("dates.empty")
    for end in reversed(leading_words(stripped)):
        head = stripped[:end]
        try:
            parts = _scan(normalize(head))
        except _NoMatch:
            continue
        if parts.end is not None:  # a range is not a moment: say so rather than read less
            raise DateError("dates.unparseable", value=quoted(head))
        moment = _place(parts, head, now, tz, slot=False, default_time=default_time,
                        language=language).start
        return moment, stripped[end:].strip()
    raise DateError("dates.unparseable", value=quoted(stripped))


# --- durations ---------------------------------------------------------------------------------

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
