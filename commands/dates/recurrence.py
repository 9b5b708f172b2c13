"""Recurring reminders: « chaque lundi 9h », « chaque premier mardi du mois à 18h »…

A ``Recurrence`` is stored as text: an RFC 5545 RRULE, a ``|`` and the local wall-clock time,
e.g. ``FREQ=WEEKLY;BYDAY=MO|09:00``, ``FREQ=MONTHLY;BYDAY=1TU|18:00``,
``FREQ=MONTHLY;BYDAY=-1FR|17:00``, ``FREQ=MONTHLY;BYMONTHDAY=15|10:00``, ``FREQ=DAILY|08:30``.
Occurrences are computed with ``dateutil.rrule`` on naive local times, then placed in the club's
time zone: Monday 09:00 stays 09:00 local before and after a DST change (the UTC offset changes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from itertools import islice
from typing import Literal
from zoneinfo import ZoneInfo

from dateutil import rrule

from commands.dates._common import (
    MAX_INPUT,
    PARIS,
    PART_RE,
    PART_WORDS,
    PARTS_OF_DAY,
    RRULE_DAYS,
    TIME_RE,
    WEEKDAY_NAMES,
    WEEKDAY_RE,
    WEEKDAY_WORDS,
    DateError,
    aware_now,
    check_length,
    is_after,
    normalize,
    quoted,
    time_value,
    wall_clock,
)
from commands.dates.format import format_time
from commands.dates.parse import leading_words

Frequency = Literal["DAILY", "WEEKLY", "MONTHLY"]
_FREQUENCIES: dict[str, Literal[1, 2, 3]] = {"DAILY": rrule.DAILY, "WEEKLY": rrule.WEEKLY,
                                              "MONTHLY": rrule.MONTHLY}
_ORDINALS_FR = {1: "premier", 2: "deuxième", 3: "troisième", 4: "quatrième", -1: "dernier"}
_ORDINALS_EN = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}


@dataclass(frozen=True)
class Recurrence:
    """Every day, some weekdays, the n-th (or last) weekday of the month, or a day of the month."""

    freq: Frequency
    at: time
    weekdays: tuple[int, ...] = ()
    """WEEKLY: the weekdays (0 = Monday), sorted; MONTHLY with ``nth``: exactly one."""
    nth: int | None = None
    """MONTHLY: 1 to 4, or -1 for the last such weekday of the month."""
    monthday: int | None = None
    """MONTHLY: 1 to 28, or -1 for the last day of the month."""

    def __post_init__(self) -> None:
        ok = {
            "DAILY": not self.weekdays and self.nth is None and self.monthday is None,
            "WEEKLY": bool(self.weekdays) and self.nth is None and self.monthday is None
            and list(self.weekdays) == sorted(set(self.weekdays))
            and all(0 <= d <= 6 for d in self.weekdays),
            "MONTHLY": (self.monthday is None and self.nth in (1, 2, 3, 4, -1)
                        and len(self.weekdays) == 1 and 0 <= self.weekdays[0] <= 6)
            or (self.nth is None and not self.weekdays and self.monthday is not None
                and (1 <= self.monthday <= 28 or self.monthday == -1)),
        }.get(self.freq, False)
        if not ok or self.at.tzinfo is not None or self.at.second or self.at.microsecond:
            raise ValueError(f"inconsistent recurrence: {self!r}")

    # --- storage ---

    def to_rule(self) -> str:
        """``FREQ=MONTHLY;BYDAY=1TU|18:00`` (RRULE, then the local time)."""
        rule = f"FREQ={self.freq}"
        if self.weekdays:
            nth = "" if self.nth is None else str(self.nth)
            rule += ";BYDAY=" + ",".join(f"{nth}{RRULE_DAYS[d]}" for d in self.weekdays)
        if self.monthday is not None:
            rule += f";BYMONTHDAY={self.monthday}"
        return f"{rule}|{self.at.hour:02d}:{self.at.minute:02d}"

    @classmethod
    def from_rule(cls, text: str) -> Recurrence:
        """The recurrence ``to_rule`` wrote; ``ValueError`` for anything else."""
        match = re.fullmatch(r"FREQ=(DAILY|WEEKLY|MONTHLY)(?:;BYDAY=((?:-?\d)?[A-Z]{2}(?:,[A-Z]{2})*))?"
                             r"(?:;BYMONTHDAY=(-?\d{1,2}))?\|(\d{2}):(\d{2})", text, re.ASCII)
        if match is None:
            raise ValueError(f"not a recurrence rule: {text!r}")
        freq, byday, monthday, hour, minute = match.groups()
        weekdays: list[int] = []
        nth = None
        for item in (byday.split(",") if byday else []):
            if item[:-2]:
                nth = int(item[:-2])
            if item[-2:] not in RRULE_DAYS:
                raise ValueError(f"not a recurrence rule: {text!r}")
            weekdays.append(RRULE_DAYS.index(item[-2:]))
        if not (0 <= int(hour) <= 23 and 0 <= int(minute) <= 59):
            raise ValueError(f"not a recurrence rule: {text!r}")
        return cls(freq, time(int(hour), int(minute)), tuple(weekdays), nth,  # type: ignore[arg-type]
                   int(monthday) if monthday else None)

    # --- occurrences ---

    def _rule(self, start: datetime) -> rrule.rrule:
        byweekday: list[rrule.weekday] | None = None
        if self.weekdays:
            days = [rrule.weekdays[d] for d in self.weekdays]
            byweekday = [d(self.nth) for d in days] if self.nth is not None else days
        return rrule.rrule(_FREQUENCIES[self.freq], dtstart=start, byweekday=byweekday,
                           bymonthday=self.monthday, byhour=self.at.hour, byminute=self.at.minute,
                           bysecond=0)

    def next_after(self, moment: datetime, tz: ZoneInfo = PARIS) -> datetime:
        """The first occurrence strictly after ``moment``, aware in ``tz``, at the local time ``at``.

        An occurrence that falls in the spring-forward gap moves forward by the gap (02:30 →
        03:30); one in the fall-back hour is its first occurrence.
        """
        local = aware_now(moment, tz)
        start = datetime.combine(local.date() - timedelta(days=1), time(0))
        for naive in islice(self._rule(start), 64):
            candidate = wall_clock(naive, tz)
            if is_after(candidate, moment):
                return candidate
        raise AssertionError(f"no occurrence of {self.to_rule()}")  # pragma: no cover

    def occurrences(self, moment: datetime, count: int, tz: ZoneInfo = PARIS) -> list[datetime]:
        """The next ``count`` occurrences after ``moment``."""
        found: list[datetime] = []
        for _ in range(count):
            moment = self.next_after(moment, tz)
            found.append(moment)
        return found

    # --- words ---

    def describe(self, language: str = "fr") -> str:
        """« chaque premier mardi du mois à 18h », "every first Tuesday of the month at 18:00"."""
        english = language == "en"
        at = format_time(datetime.combine(datetime(2000, 1, 1), self.at, PARIS), language, PARIS)
        names = WEEKDAY_NAMES["en" if english else "fr"]
        if self.freq == "DAILY":
            what = "every day" if english else "chaque jour"
        elif self.freq == "WEEKLY":
            days = [names[d] for d in self.weekdays]
            listed = days[0] if len(days) == 1 else \
                f"{', '.join(days[:-1])} {'and' if english else 'et'} {days[-1]}"
            what = f"every {listed}" if english else f"chaque {listed}"
        elif self.nth is not None:
            day = names[self.weekdays[0]]
            if english:
                what = f"every {_ORDINALS_EN[self.nth]} {day} of the month"
            else:
                what = f"chaque {_ORDINALS_FR[self.nth]} {day} du mois"
        elif self.monthday == -1:
            what = "every last day of the month" if english else "chaque dernier jour du mois"
        else:
            assert self.monthday is not None
            if english:
                what = f"every month on the {_english_ordinal(self.monthday)}"
            else:
                what = f"chaque mois le {'1er' if self.monthday == 1 else self.monthday}"
        return f"{what} {'at' if english else 'à'} {at}"


def _english_ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


# --- reading ---------------------------------------------------------------------------------

_LEAD = r"(?:(?:chaque|tous les|toutes les|every|each) )?"
_DAYS = rf"(?:{WEEKDAY_RE})s?\.?"
_DAY_LIST = rf"(?P<days>{_DAYS}(?:(?:, ?| et | and | & ){_DAYS})*)"
_NTH = (r"(?P<nth>1er|1re|1e|premiere?|first|2e|2eme|2nd|deuxieme|second|seconde|3e|3eme|3rd"
        r"|troisieme|third|4e|4eme|4th|quatrieme|fourth|derniere?|last)")
_OF_MONTH = r"(?: (?:du mois|de chaque mois|de tous les mois|of the month|of every month|of each month))"
_MONTHDAY = r"(?P<md>\d{1,2})(?:er|e|st|nd|rd|th)?"
_AT = rf"(?:,? (?:(?:a|at|vers|around) )?(?:(?P<t>{TIME_RE})|(?:le |l'|in the |the )?(?P<part>{PART_RE})))?"
_FORMS = tuple(re.compile(_LEAD + form + _AT, re.ASCII) for form in (
    r"(?P<daily>jours?|day|days)",
    rf"(?:(?:semaines?|week|weeks) (?:(?:le|les|on) )?)?{_DAY_LIST}",
    rf"(?:(?:le|the) )?{_NTH} (?P<day>{_DAYS}){_OF_MONTH}?",
    rf"(?:(?:le|the) )?(?P<lastday>dernier jour|last day){_OF_MONTH}",
    rf"(?:mois|month|months),? (?:(?:le|on the|the) )?{_MONTHDAY}",
    rf"(?:(?:le|the) )?{_MONTHDAY}{_OF_MONTH}",
))
_NTH_VALUES = {"1": 1, "p": 1, "f": 1, "2": 2, "d": 2, "s": 2, "3": 3, "t": 3, "4": 4, "q": 4}


def _nth_value(word: str) -> int:
    if word.startswith(("dernier", "last")):
        return -1
    return _NTH_VALUES[word[0]]


def _weekday(word: str) -> int:
    word = word.rstrip(".")
    return WEEKDAY_WORDS[word] if word in WEEKDAY_WORDS else WEEKDAY_WORDS[word[:-1]]


def _match(folded: str) -> re.Match[str] | None:
    for form in _FORMS:
        match = form.fullmatch(folded)
        if match is not None:
            return match
    return None


def _build(match: re.Match[str], text: str, default_time: time) -> Recurrence:
    found = match.groupdict()
    if found.get("t"):
        hour, minute = time_value(found["t"])
        if not (0 <= hour <= 23 and 0 <= minute <= 59):
            raise DateError("dates.bad_time", value=quoted(text))
        at = time(hour, minute)
    elif found.get("part"):
        at = PARTS_OF_DAY[PART_WORDS[found["part"]]][0]
    else:
        at = default_time
    if found.get("daily"):
        return Recurrence("DAILY", at)
    if found.get("days"):
        words = re.split(r", ?| et | and | & ", found["days"])
        return Recurrence("WEEKLY", at, tuple(sorted({_weekday(w) for w in words})))
    if found.get("nth"):
        return Recurrence("MONTHLY", at, (_weekday(found["day"]),), _nth_value(found["nth"]))
    if found.get("lastday"):
        return Recurrence("MONTHLY", at, monthday=-1)
    monthday = int(found["md"])
    if not 1 <= monthday <= 28:
        raise DateError("dates.bad_monthday", value=quoted(text))
    return Recurrence("MONTHLY", at, monthday=monthday)


def parse_recurrence(text: str, *, now: datetime, tz: ZoneInfo = PARIS,
                     default_time: time = time(9, 0)) -> Recurrence:
    """« chaque lundi 9h », « tous les jours 8h30 », « chaque dernier vendredi du mois 17h »…

    The leading « chaque » / « tous les » / « every » is optional. Without a time, ``default_time``.
    ``now`` and ``tz`` are checked (aware) and kept for symmetry with the other readers.
    """
    aware_now(now, tz)
    check_length(text)
    match = _match(normalize(text))
    if match is None:
        raise DateError("dates.unparseable_recurrence", value=quoted(text))
    return _build(match, text, default_time)


def split_recurrence(text: str, *, now: datetime, tz: ZoneInfo = PARIS,
                     default_time: time = time(9, 0)) -> tuple[Recurrence, str]:
    """For ``!rappel chaque <règle> <texte>``: the longest leading rule, and the rest of the text."""
    aware_now(now, tz)
    stripped = text.strip()
    if not stripped:
        raise DateError("dates.empty")
    for end in reversed(leading_words(stripped)):
        head = stripped[:end]
        match = _match(normalize(head))
        if match is not None:
            return _build(match, head, default_time), stripped[end:].strip()
    raise DateError("dates.unparseable_recurrence", value=quoted(stripped[:MAX_INPUT]))
