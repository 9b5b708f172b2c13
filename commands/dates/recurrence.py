"""Recurring reminders: « chaque lundi 9h », « chaque premier mardi du mois à 18h »…

A ``Recurrence`` is stored as text: an RFC 5545 RRULE, a ``|`` and the local wall-clock time,
e.g. ``FREQ=WEEKLY;BYDAY=MO|09:00``, ``FREQ=MONTHLY;BYDAY=1TU|18:00``,
``FREQ=MONTHLY;BYDAY=-1FR|17:00``, ``FREQ=MONTHLY;BYMONTHDAY=15|10:00``, ``FREQ=DAILY|08:30``,
``FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;DTSTART=20261126|18:00`` (every other week: the first
occurrence anchors the count). Occurrences are computed with ``dateutil.rrule`` on naive local
times, then placed in the club's time zone: Monday 09:00 stays 09:00 local before and after a
DST change (the UTC offset changes).

Reading goes through the same grammar as every other date (``grammar.scan``): the repetition is
one of the parts, its time (« soir à 19h », « 8h du matin ») is read like any other.
``split_reminder`` reads what ``!rappel`` gets: a repetition or a moment, and the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import Literal
from zoneinfo import ZoneInfo

from dateutil import rrule

from commands.dates._common import (
    MAX_INPUT,
    PARIS,
    PARTS_OF_DAY,
    RRULE_DAYS,
    WEEKDAY_NAMES,
    DateError,
    aware_now,
    check_length,
    is_after,
    quoted,
    wall_clock,
)
from commands.dates.format import format_day_of_year, format_time
from commands.dates.grammar import Parts
from commands.dates.parse import (
    afternoon,
    leading_parts,
    minutes_of,
    place_moment,
    read,
)
from commands.dates.rules import RuleHead

Frequency = Literal["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]
_FREQUENCIES: dict[str, Literal[0, 1, 2, 3]] = {"DAILY": rrule.DAILY, "WEEKLY": rrule.WEEKLY,
                                                 "MONTHLY": rrule.MONTHLY, "YEARLY": rrule.YEARLY}
_ORDINALS_FR = {1: "premier", 2: "deuxième", 3: "troisième", 4: "quatrième", -1: "dernier"}
_ORDINALS_EN = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}


@dataclass(frozen=True)
class Recurrence:
    """Every day, some weekdays, the n-th (or last) weekday of the month, a day of the month, or a
    day of the year."""

    freq: Frequency
    at: time
    weekdays: tuple[int, ...] = ()
    """WEEKLY: the weekdays (0 = Monday), sorted; MONTHLY with ``nth``: exactly one."""
    nth: int | None = None
    """MONTHLY: 1 to 4, or -1 for the last such weekday of the month."""
    monthday: int | None = None
    """MONTHLY: 1 to 28, or -1 for the last day of the month."""
    interval: int = 1
    """Every ``interval`` days, weeks or months (« tous les 15 jours »: WEEKLY, 2)."""
    anchor: date | None = None
    """With an interval: the day of the first occurrence, from which the others are counted."""
    month: int | None = None
    """YEARLY: the month of ``monthday`` (« chaque année le 15 mars »)."""

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
            "YEARLY": self.nth is None and not self.weekdays and self.month is not None
            and self.monthday is not None and valid_day_of_year(self.month, self.monthday),
        }.get(self.freq, False)
        ok = ok and (self.month is None) == (self.freq != "YEARLY")
        ok = ok and 1 <= self.interval <= 60 and (self.anchor is None) == (self.interval == 1)
        if not ok or self.at.tzinfo is not None or self.at.second or self.at.microsecond:
            raise ValueError(f"inconsistent recurrence: {self!r}")

    # --- storage ---

    def to_rule(self) -> str:
        """``FREQ=MONTHLY;BYDAY=1TU|18:00`` (RRULE, then the local time)."""
        rule = f"FREQ={self.freq}"
        if self.interval != 1:
            rule += f";INTERVAL={self.interval}"
        if self.weekdays:
            nth = "" if self.nth is None else str(self.nth)
            rule += ";BYDAY=" + ",".join(f"{nth}{RRULE_DAYS[d]}" for d in self.weekdays)
        if self.month is not None:
            rule += f";BYMONTH={self.month}"
        if self.monthday is not None:
            rule += f";BYMONTHDAY={self.monthday}"
        if self.anchor is not None:
            rule += f";DTSTART={self.anchor:%Y%m%d}"
        return f"{rule}|{self.at.hour:02d}:{self.at.minute:02d}"

    @classmethod
    def from_rule(cls, text: str) -> Recurrence:
        """The recurrence ``to_rule`` wrote; ``ValueError`` for anything else."""
        match = re.fullmatch(r"FREQ=(DAILY|WEEKLY|MONTHLY|YEARLY)(?:;INTERVAL=(\d{1,2}))?"
                             r"(?:;BYDAY=((?:-?\d)?[A-Z]{2}(?:,[A-Z]{2})*))?(?:;BYMONTH=(\d{1,2}))?"
                             r"(?:;BYMONTHDAY=(-?\d{1,2}))?(?:;DTSTART=(\d{8}))?\|(\d{2}):(\d{2})",
                             text, re.ASCII)
        if match is None:
            raise ValueError(f"not a recurrence rule: {text!r}")
        freq, interval, byday, month, monthday, anchor, hour, minute = match.groups()
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
                   int(monthday) if monthday else None, int(interval or 1),
                   datetime.strptime(anchor, "%Y%m%d").date() if anchor else None,
                   int(month) if month else None)

    # --- occurrences ---

    def _rule(self, start: datetime) -> rrule.rrule:
        byweekday: list[rrule.weekday] | None = None
        if self.weekdays:
            days = [rrule.weekdays[d] for d in self.weekdays]
            byweekday = [d(self.nth) for d in days] if self.nth is not None else days
        if self.anchor is not None:  # counted from the first occurrence
            start = datetime.combine(self.anchor, time(0))
        return rrule.rrule(_FREQUENCIES[self.freq], dtstart=start, interval=self.interval,
                           byweekday=byweekday, bymonth=self.month, bymonthday=self.monthday,
                           byhour=self.at.hour,
                           byminute=self.at.minute, bysecond=0)

    def next_after(self, moment: datetime, tz: ZoneInfo = PARIS) -> datetime:
        """The first occurrence strictly after ``moment``, aware in ``tz``, at the local time ``at``.

        An occurrence that falls in the spring-forward gap moves forward by the gap (02:30 →
        03:30); one in the fall-back hour is its first occurrence.
        """
        local = aware_now(moment, tz)
        start = datetime.combine(local.date() - timedelta(days=1), time(0))
        if self.anchor is not None:
            start = max(start, datetime.combine(self.anchor, time(0)))
        for naive in islice(self._rule(start).xafter(start, inc=True), 64):
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
        return f"{self._what(english)} {'at' if english else 'à'} {at}"

    def _what(self, english: bool) -> str:
        if self.freq == "DAILY":
            if self.interval > 1:
                return f"every {self.interval} days" if english else f"tous les {self.interval} jours"
            return "every day" if english else "chaque jour"
        if self.freq == "WEEKLY":
            return self._weekly(english)
        if self.freq == "YEARLY":
            assert self.month is not None and self.monthday is not None
            day = format_day_of_year(self.month, self.monthday, "en" if english else "fr")
            return f"every year on {day}" if english else f"chaque année le {day}"
        return self._monthly(english)

    def _weekly(self, english: bool) -> str:
        """« chaque mardi et jeudi », « chaque jour du lundi au vendredi », « un mardi sur deux »."""
        names = WEEKDAY_NAMES["en" if english else "fr"]
        n = self.interval
        days = [names[d] for d in self.weekdays]
        run = list(range(self.weekdays[0], self.weekdays[-1] + 1))
        joined = days[0] if len(days) == 1 else \
            f"{', '.join(days[:-1])} {'and' if english else 'et'} {days[-1]}"
        if len(days) >= 3 and list(self.weekdays) == run:
            listed = f"from {days[0]} to {days[-1]}" if english else f"du {days[0]} au {days[-1]}"
            listed = ("every day " if english else "chaque jour ") + listed
        else:
            listed = f"every {joined}" if english else f"chaque {joined}"
        if n == 1:
            return listed
        if english:
            return f"every other {days[0]}" if n == 2 and len(days) == 1 else \
                f"every {n} weeks on {joined if len(days) < 3 else listed}"
        if len(days) == 1:
            return f"un {days[0]} sur {_SUR_FR.get(n, str(n))}"
        return f"toutes les {n} semaines, {listed}"

    def _monthly(self, english: bool) -> str:
        """« chaque premier mardi du mois », « chaque dernier jour du mois », « chaque mois le 15 »."""
        n = self.interval
        every_n = ("" if n == 1 else (f"every {n} months, " if english else f"tous les {n} mois, "))
        if self.nth is not None:
            day = WEEKDAY_NAMES["en" if english else "fr"][self.weekdays[0]]
            if english:
                return f"{every_n}every {_ORDINALS_EN[self.nth]} {day} of the month"
            return f"{every_n}chaque {_ORDINALS_FR[self.nth]} {day} du mois"
        if self.monthday == -1:
            return every_n + ("every last day of the month" if english else "chaque dernier jour du mois")
        assert self.monthday is not None
        if english:
            return f"every {n} months on the {_english_ordinal(self.monthday)}" if n > 1 else \
                f"every month on the {_english_ordinal(self.monthday)}"
        day = "1er" if self.monthday == 1 else str(self.monthday)
        return f"tous les {n} mois le {day}" if n > 1 else f"chaque mois le {day}"


_SUR_FR = {2: "deux", 3: "trois", 4: "quatre"}


def valid_day_of_year(month: int, day: int) -> bool:
    """A day every year has (not 29 February)."""
    try:
        date(2027, month, day)
    except ValueError:
        return False
    return True


def _english_ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


# --- reading ---------------------------------------------------------------------------------


def _at_time(parts: Parts, head: RuleHead, text: str, default_time: time) -> int:
    """The time of the repetition in minutes (« soir à 19h » is 19h, « tous les soirs » 18h30)."""
    part = parts.part or head.part
    if parts.start is not None:
        return minutes_of(afternoon(parts.start, part), text)
    if part is not None:
        start = PARTS_OF_DAY[part][0]
        return start.hour * 60 + start.minute
    return default_time.hour * 60 + default_time.minute


def _build(parts: Parts, text: str, now: datetime, tz: ZoneInfo, default_time: time) -> Recurrence:
    head = parts.rule
    if head is None or parts.end is not None or parts.same_time:
        raise DateError("dates.unparseable_recurrence", value=quoted(text))
    minutes = _at_time(parts, head, text, default_time)
    weekdays = head.weekdays
    if minutes >= 1440:  # « chaque lundi à minuit »: the end of Monday
        if head.freq in ("MONTHLY", "YEARLY"):
            raise DateError("dates.unparseable_recurrence", value=quoted(text))
        minutes -= 1440
        weekdays = tuple(sorted((d + 1) % 7 for d in weekdays))
    at = time(minutes // 60, minutes % 60)
    if head.freq == "YEARLY":  # « chaque année le 15 mars »
        assert head.month is not None and head.monthday is not None
        if not valid_day_of_year(head.month, head.monthday):
            raise DateError("dates.bad_date", value=quoted(text))
        return Recurrence("YEARLY", at, monthday=head.monthday, month=head.month)
    if head.monthday is not None and not (1 <= head.monthday <= 28 or head.monthday == -1):
        raise DateError("dates.bad_monthday", value=quoted(text))
    # « tous les 8 jours », « tous les 15 jours »: on the weekday of the first occurrence.
    first = Recurrence("DAILY", at).next_after(now, tz).date()
    if head.freq == "WEEKLY" and not weekdays:
        weekdays = (first.weekday(),)
    monthday = head.monthday
    if head.freq == "MONTHLY" and monthday is None and head.nth is None:  # « tous les mois »
        monthday = first.day
        if monthday > 28:
            raise DateError("dates.bad_monthday", value=quoted(text))
    if head.interval == 1:
        return Recurrence(head.freq, at, weekdays, head.nth, monthday)  # type: ignore[arg-type]
    # Every other week, every three days…: counted from the first occurrence.
    if head.freq == "WEEKLY":
        first = Recurrence("WEEKLY", at, weekdays).next_after(now, tz).date()
    elif head.freq == "MONTHLY":
        if head.nth is not None:
            raise DateError("dates.unparseable_recurrence", value=quoted(text))
        first = Recurrence("MONTHLY", at, monthday=monthday).next_after(now, tz).date()
    return Recurrence(head.freq, at, weekdays, None, monthday,  # type: ignore[arg-type]
                      head.interval, first)


def _rule_parts(text: str) -> Parts | None:
    parts = read(text)
    if parts is None or parts.rule is None:
        # Within « !rappel chaque … » the leading word is optional: « lundi 9h ».
        parts = read("chaque " + text)
    return parts if parts is not None and parts.rule is not None else None


def parse_recurrence(text: str, *, now: datetime, tz: ZoneInfo = PARIS,
                     default_time: time = time(9, 0)) -> Recurrence:
    """« chaque lundi 9h », « tous les jours 8h30 », « chaque dernier vendredi du mois 17h »…

    The leading « chaque » / « tous les » / « every » is optional. Without a time, ``default_time``.
    """
    aware_now(now, tz)
    check_length(text)
    parts = _rule_parts(text)
    if parts is None:
        raise DateError("dates.unparseable_recurrence", value=quoted(text))
    return _build(parts, text, now, tz, default_time)


def split_recurrence(text: str, *, now: datetime, tz: ZoneInfo = PARIS,
                     default_time: time = time(9, 0)) -> tuple[Recurrence, str]:
    """For ``!rappel chaque <règle> <texte>``: the longest leading rule, and the rest of the text."""
    aware_now(now, tz)
    found = leading_parts(text, _rule_parts)
    if found is None:
        raise DateError("dates.unparseable_recurrence", value=quoted(text.strip()[:MAX_INPUT]))
    head, parts, rest = found
    return _build(parts, head, now, tz, default_time), rest


def split_reminder(text: str, *, now: datetime, tz: ZoneInfo = PARIS,
                   default_time: time = time(9, 0), language: str = "fr",
                   ) -> tuple[datetime | Recurrence, str]:
    """For ``!rappel <quand> <texte>``: a moment or a repetition (« le 15 de chaque mois à 10h »,
    « du lundi au vendredi à 8h »), read by the longest leading part that has the shape of one,
    and the rest of the text."""
    aware_now(now, tz)
    found = leading_parts(text)
    if found is None:
        raise DateError("dates.unparseable", value=quoted(text.strip()))
    head, parts, rest = found
    if parts.rule is not None:
        return _build(parts, head, now, tz, default_time), rest
    return place_moment(parts, head, now=now, tz=tz, default_time=default_time,
                        language=language), rest
