"""How the report's keys and values read in its language: days, periods, kinds, categories,
territories, statuses, numbers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from babel.dates import format_date

from commands.categories import TERRITORIES
from commands.dates.format import babel_locale
from commands.reports.document import Cell, Indicator
from commands.reports.periods import Period

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from commands.context import Club
    from commands.i18n import Translator

NOT_SAID = "non-renseigne"


@dataclass(frozen=True)
class Words:
    """How keys and values read in the report's language."""

    t: Translator
    tz: ZoneInfo
    club: Club

    def day(self, value: datetime | date) -> str:
        day = value.astimezone(self.tz).date() if isinstance(value, datetime) else value
        return format_date(day, "dd/MM/yyyy", locale=babel_locale(self.t.language))

    def long_day(self, value: date) -> str:
        return format_date(value, "long", locale=babel_locale(self.t.language))

    def period(self, period: Period) -> str:
        if period.is_year:
            return self.t("bilan.period_year", year=period.first.year)
        days = self.t("bilan.period_days", first=self.long_day(period.first),
                      last=self.long_day(period.last))
        return f"{period.label} ({days})" if period.label else days

    def label(self, section: str, key: str) -> str:
        name = f"{section}.{key}"
        return self.t(name) if self.t.has(name) else key

    def kind(self, key: str) -> str:
        return self.club.event_kinds.label(key)

    def category(self, key: str) -> str:
        """A member's profile category or a headcount's (``[events.categories]``)."""
        if key == NOT_SAID:
            return self.t("report.not_said")
        if self.t.has(f"profile_category.{key}"):
            return self.t(f"profile_category.{key}")
        return self.club.categories.label(key)

    def territory(self, key: str) -> str:
        if key == NOT_SAID:
            return self.t("report.not_said")
        if self.t.has(f"territory.{key}"):
            return self.t(f"territory.{key}")
        return dict(TERRITORIES).get(key, key)



def share(indicator: Indicator) -> Cell:
    share = indicator.share
    return None if share is None else round(share * 100)


def shown(value: float) -> str:
    """``3``, ``8,5``, ``1500,05``: as French writes a number."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").replace(".", ",")


def by_profile(cells: Counter[tuple[str, str]], index: int) -> dict[str, int]:
    """(territory, category) counts by territory (``index`` 0) or by category (1)."""
    counts: Counter[str] = Counter()
    for key, people in cells.items():
        counts[key[index]] += people
    return dict(counts)
