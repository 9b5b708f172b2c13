"""The programme's pages: at most ``PAGE_EVENTS`` events a page (``?page=2``), under the
heading of their month (« janvier 2027 », « janvier 2027 (suite) » when the month began on
the page before). A page number that is not one shows the first page, one past the end the
last (as an unknown filter shows everything)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from commands.dates import format_month
from web.views import EventView, zone_of

PAGE_EVENTS = 20
MAX_PAGE_DIGITS = 6


@dataclass(frozen=True)
class Month:
    """The events of one month on a page."""

    key: str  # « 2027-01 »: the heading's anchor
    label: str  # « janvier 2027 »
    continued: bool  # its first events are on the page before
    events: list[EventView] = field(default_factory=list)


@dataclass(frozen=True)
class Paging:
    """One page of the programme: its months, where it stands, the links to its neighbours
    (a query string, the filters kept; ``None`` at either end)."""

    number: int
    count: int
    months: list[Month]
    previous: str | None
    next: str | None


def page_number(raw: str) -> int:
    """The page asked (``?page=``), 1 when it is not a number."""
    return int(raw) if raw.isdigit() and len(raw) <= MAX_PAGE_DIGITS else 1


def paged(events: Sequence[EventView], asked: int, filters: Mapping[str, str],
          size: int = PAGE_EVENTS) -> Paging:
    """Page ``asked`` (within 1 and the last) of ``events``, grouped by month; ``filters``
    (name: value, the empty ones left out) kept in the links to the other pages."""
    count = max(1, -(-len(events) // size))
    number = min(max(asked, 1), count)
    start = (number - 1) * size
    before = _month_of(events[start - 1])[0] if start else None
    months: list[Month] = []
    for event in events[start:start + size]:
        key, label = _month_of(event)
        if not months or months[-1].key != key:
            months.append(Month(key, label, continued=key == before))
        months[-1].events.append(event)
    kept = {name: value for name, value in filters.items() if value}
    return Paging(number, count, months,
                  previous=_query(kept, number - 1) if number > 1 else None,
                  next=_query(kept, number + 1) if number < count else None)


def _month_of(event: EventView) -> tuple[str, str]:
    tz = zone_of(event)
    local = event.starts_at.astimezone(tz)
    return f"{local.year:04d}-{local.month:02d}", format_month(local, tz=tz)


def _query(filters: Mapping[str, str], number: int) -> str:
    values = {**filters, **({"page": str(number)} if number > 1 else {})}
    return "?" + urlencode(values) if values else ""
