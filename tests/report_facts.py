"""The facts of one calendar year as the report counts them (``commands.reports.content.gather``,
what ``!stats`` and ``!bilan`` read), in one comparable value: what the tests of erasure,
participation and migrations compare before and after, and against the reference recount
(``tests.storage.union_reference``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from commands.reports.content import gather
from commands.reports.indicators import ARCHIVED, HELD, Decisions, Measures
from commands.reports.periods import Period

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from storage.attendance import Turnout
    from storage.repositories import Repositories

NOT_SAID = "non-renseigne"


@dataclass(frozen=True)
class MeetingFact:
    """An event of the year and everyone who came (members named, guests, headcounts)."""

    id: int
    starts_at: datetime
    territory: str
    status: str
    attendance: int
    rsvps: int


@dataclass(frozen=True)
class GroupFact:
    id: int
    name: str
    status: str
    territory: str
    members: int


@dataclass(frozen=True)
class YearFacts:
    """What the report counts over one year."""

    participants: Mapping[tuple[str, str], tuple[int, int]]  # (territory, category) → (took
    # part in the year, of whom for the first time)
    participants_total: int  # took part at least once before the year's end
    attended: int  # members named at a rencontre of the year (not cancelled), once each
    meetings: tuple[MeetingFact, ...]
    groups: tuple[GroupFact, ...]  # created before the year's end
    suggestions: Mapping[str, int]  # agenda suggestions of the year, by status
    remontees: Mapping[str, int]  # remontées made in the year, by status
    turnout: Turnout
    decisions: Decisions
    cumulative: tuple[int, ...]  # participants so far at each month's end

    @property
    def participants_year(self) -> int:
        return sum(people for people, _new in self.participants.values())

    @property
    def new_participants(self) -> int:
        return sum(new for _people, new in self.participants.values())

    @property
    def by_territory(self) -> dict[str, int]:
        return _by(self.participants, 0)

    @property
    def by_category(self) -> dict[str, int]:
        return _by(self.participants, 1)

    @property
    def meetings_held(self) -> int:
        return sum(1 for m in self.meetings if m.status == HELD)

    @property
    def attendance_total(self) -> int:
        return sum(m.attendance for m in self.meetings if m.status == HELD)

    @property
    def groups_by_status(self) -> dict[str, int]:
        """Of the groups not archived."""
        return dict(sorted(Counter(g.status for g in self.groups if g.status != ARCHIVED)
                           .items()))

    @property
    def active_groups(self) -> int:
        return sum(self.groups_by_status.values())


def _by(cells: Mapping[tuple[str, str], tuple[int, int]], part: int) -> dict[str, int]:
    """The participants of the year by territory (``part`` 0) or category (1), « non
    renseigné » last."""
    counts: Counter[str] = Counter()
    for cell, (people, _new) in cells.items():
        counts[cell[part]] += people
    return dict(sorted(counts.items(), key=lambda item: (item[0] == NOT_SAID, item[0])))


def year_period(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31))


def year_bounds(year: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """1 January 00:00 of ``year`` and of the next, in ``tz``, as UTC."""
    return year_period(year).bounds(tz)


def month_ends(year: int, tz: ZoneInfo) -> list[datetime]:
    """The first instant after each month of ``year`` (12 values, UTC)."""
    return [datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz).astimezone(UTC)
            for month in range(1, 13)]


def facts_of(m: Measures, cumulative: tuple[int, ...]) -> YearFacts:
    """The facts of what ``gather`` read."""
    cells = {cell: (people, m.newcomers[cell]) for cell, people in m.participants.items()
             if people}
    return YearFacts(
        participants=cells, participants_total=m.participants_until, attended=m.attendees,
        meetings=tuple(MeetingFact(e.id, e.starts_at, e.territory, e.status, e.attendance,
                                   e.rsvps) for e in m.events),
        groups=tuple(GroupFact(g.id, g.name, g.status, g.territory, g.members)
                     for g in m.groups),
        suggestions=dict(m.suggestions),
        remontees=dict(Counter(r.status for r in m.remontees if m.in_period(r.created_at))),
        turnout=m.turnout, decisions=m.decisions, cumulative=cumulative)


async def year_facts(repos: Repositories, year: int, tz: ZoneInfo) -> YearFacts:
    """The facts of ``year`` as the report reads them (``gather`` over the calendar year, and
    the participants so far at each month's end as it reads them at the period's end)."""
    measures = await gather(repos, year_period(year), tz)
    cumulative = tuple([await repos.report.participants_until(end)
                        for end in month_ends(year, tz)])
    return facts_of(measures, cumulative)
