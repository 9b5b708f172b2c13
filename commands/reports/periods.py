"""The period a report covers: a calendar year (``2025``), a period named in the config
(``phase2``, ``[report.periods]``) or two days (``--du 2024-01-01 --au 2026-10-31``), both
included; its years, and its bounds in the club's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from commands.errors import BadArgument
from commands.report_settings import NamedPeriod
from commands.vocabulary import normalise

EARLIEST = date(2000, 1, 1)
YEARS_AHEAD = 5  # a period ends by 31 December of this many years after the current one


@dataclass(frozen=True)
class Period:
    """The days ``first`` to ``last`` (both included); ``name``: the config's period it is."""

    first: date
    last: date
    name: str = ""
    label: str = ""

    @property
    def is_year(self) -> bool:
        """Exactly one calendar year."""
        return (self.first.year == self.last.year and (self.first.month, self.first.day) == (1, 1)
                and (self.last.month, self.last.day) == (12, 31))

    @property
    def whole_years(self) -> bool:
        """From a 1 January to a 31 December."""
        return (self.first.month, self.first.day, self.last.month, self.last.day) == (1, 1, 12, 31)

    @property
    def key(self) -> str:
        """``phase2``, ``2025``, ``2024-01-01-2026-10-31``: the name of its files."""
        if self.name:
            return self.name
        if self.is_year:
            return str(self.first.year)
        return f"{self.first.isoformat()}-{self.last.isoformat()}"

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The first instant of ``first`` and of the day after ``last``, in ``tz``, as UTC."""
        return _midnight(self.first, tz), _midnight(self.last + timedelta(days=1), tz)

    def years(self) -> tuple[Period, ...]:
        """The period cut at each 1 January: one part per calendar year it touches."""
        parts = []
        for year in range(self.first.year, self.last.year + 1):
            parts.append(Period(max(self.first, date(year, 1, 1)),
                                min(self.last, date(year, 12, 31))))
        return tuple(parts)

    def share_of_year(self) -> float:
        """How much of its calendar year this part covers (1.0 for the whole year)."""
        year = self.first.year
        days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
        return ((self.last - self.first).days + 1) / days


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def resolve(raw: str | None, first: date | None, last: date | None, *, today: date,
            named: tuple[NamedPeriod, ...], default_year: int) -> Period:
    """The period asked: a year or a configured name (``raw``), or ``--du``/``--au``; nothing
    asked: the calendar year ``default_year``. Raises ``BadArgument`` for a period unknown,
    reversed, before 2000, starting in the future or ending more than ``YEARS_AHEAD`` years
    ahead (the report's figures are written year by year)."""
    choices = ", ".join(p.name for p in named) or "—"
    if raw and (first or last):
        raise BadArgument("report.period_twice")
    if raw:
        period = _named_or_year(raw, named, choices, today)
    elif first or last:
        if first is None or last is None:
            raise BadArgument("report.period_both_days")
        period = Period(first, last)
    else:
        period = Period(date(default_year, 1, 1), date(default_year, 12, 31))
    if period.last < period.first:
        raise BadArgument("report.period_reversed", first=period.first.isoformat(),
                          last=period.last.isoformat())
    if period.first < EARLIEST or period.first > today:
        raise BadArgument("report.period_out", first=period.first.isoformat(),
                          today=today.isoformat())
    latest = date(today.year + YEARS_AHEAD, 12, 31)
    if period.last > latest:
        raise BadArgument("report.period_end_out", latest=latest.isoformat(),
                          last=period.last.isoformat())
    return period


def _named_or_year(raw: str, named: tuple[NamedPeriod, ...], choices: str,
                   today: date) -> Period:
    word = normalise(raw)
    for period in named:
        if normalise(period.name) == word:
            return Period(period.first, period.last, period.name, period.label)
    if word.isdigit() and len(word) == 4:
        year = int(word)
        if year < EARLIEST.year:  # before 2000 (0000 is no date at all)
            raise BadArgument("report.period_out", first=f"{word}-01-01",
                              today=today.isoformat())
        return Period(date(year, 1, 1), date(year, 12, 31))
    raise BadArgument("report.unknown_period", value=raw.strip()[:40], choices=choices)
