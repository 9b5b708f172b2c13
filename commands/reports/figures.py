"""The club's figures for one calendar year, read from the participation ledger
(``participants.participation``): what the tests of erasure, retention and migrations compare
before and after. ``!stats`` and ``!bilan`` count with ``commands.reports.content.gather``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from storage.attendance import Turnout
    from storage.repositories import Repositories

NOT_SAID = "non-renseigne"
ARCHIVED = "archive"  # a group's status that no figure counts as active


@dataclass(frozen=True)
class MeetingFigure:
    """One rencontre of the year."""

    id: int
    starts_at: datetime
    territory: str
    status: str
    place: str
    attendance: int
    rsvps: int


@dataclass(frozen=True)
class GroupFigure:
    id: int
    name: str
    status: str
    territory: str
    members: int


@dataclass(frozen=True)
class DecisionFigure:
    """The year's collective decisions: proposals opened, outcomes written, and the people
    who took a position (by Element poll or ``!position``) on a proposal."""

    proposals: int = 0
    decided: int = 0
    people: int = 0


@dataclass(frozen=True)
class Figures:
    """Everything the yearly report counts."""

    year: int
    participants_year: int  # took part during the year
    participants_total: int  # took part at least once, up to the end of the year
    new_participants: int  # first took part during the year
    attended: int  # came to at least one rencontre of the year
    by_territory: dict[str, int]  # this year's participants by profile territory
    by_category: dict[str, int]
    meetings: tuple[MeetingFigure, ...]
    groups: tuple[GroupFigure, ...]  # groups created before the end of the year
    # (empty when yearly_figures is not asked for the detail: !stats)
    groups_by_status: dict[str, int]  # of the groups not archived
    suggestions: dict[str, int]  # agenda suggestions of the year, by status
    remontees: dict[str, int]  # remontées of the year, by status
    # Everyone who came to the year's events, once per event: members named, guests, headcounts
    turnout: Turnout
    cumulative: tuple[int, ...] = field(default=())  # participants so far at each month's end
    # (empty without the detail, as groups)
    decisions: DecisionFigure = field(default=DecisionFigure())

    @property
    def meetings_held(self) -> int:
        return sum(1 for m in self.meetings if m.status == "tenue")

    @property
    def attendance_total(self) -> int:
        return sum(m.attendance for m in self.meetings if m.status == "tenue")

    @property
    def active_groups(self) -> int:
        return sum(self.groups_by_status.values())


def year_bounds(year: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """1 January 00:00 of ``year`` and of the next, in the club's time zone, as UTC."""
    start = datetime(year, 1, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC)
    return start, end


def month_ends(year: int, tz: ZoneInfo) -> list[datetime]:
    """The first instant after each month of ``year`` (12 values, UTC)."""
    ends = []
    for month in range(1, 13):
        after = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
        ends.append(after.astimezone(UTC))
    return ends


async def yearly_figures(repos: Repositories, year: int, tz: ZoneInfo, *,
                         detailed: bool = True) -> Figures:
    """The figures of ``year`` (calendar year in ``tz``), read from the database; the report's
    detail only if ``detailed``: the cumulative participants month by month (its chart) and the
    list of groups (its table). ``!stats`` does without both: it counts people without the
    month edges, and the groups by status instead of listing them."""
    start, end = year_bounds(year, tz)
    people = repos.participants
    edges = month_ends(year, tz) if detailed else []
    counts = await people.participation(year, edges)
    territories: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    for row in counts:
        if row.active:
            territories[row.territory or NOT_SAID] += row.active
            categories[row.category or NOT_SAID] += row.active
    meetings = tuple(MeetingFigure(**row) for row in await people.meetings_between(start, end))
    groups, by_status = await _groups(repos, end, detailed)
    return Figures(
        year=year,
        participants_year=sum(row.active for row in counts),
        participants_total=sum(row.people for row in counts),
        new_participants=sum(row.new for row in counts),
        attended=len(await people.attendees_between(start, end)),
        by_territory=_ordered(territories),
        by_category=_ordered(categories),
        meetings=meetings,
        groups=groups,
        groups_by_status=by_status,
        suggestions=await people.suggestions_between(start, end),
        remontees=await people.remontees_between(start, end),
        cumulative=tuple(sum(row.before[month] for row in counts)
                         for month in range(len(edges))),
        turnout=await repos.attendance.turnout_between(start, end),
        decisions=DecisionFigure(*await repos.polls.decisions_between(start, end)),
    )


async def _groups(repos: Repositories, end: datetime,
                  listed: bool) -> tuple[tuple[GroupFigure, ...], dict[str, int]]:
    """The groups created before ``end`` (only if ``listed``), and how many of those not
    archived have each status."""
    if listed:
        groups = tuple(GroupFigure(*row) for row in await repos.participants.groups_until(end))
        by_status = Counter(g.status for g in groups if g.status != ARCHIVED)
    else:
        groups, by_status = (), Counter(await repos.groups.count_by_status(end, ARCHIVED))
    return groups, dict(sorted(by_status.items()))


def _ordered(counts: Counter[str]) -> dict[str, int]:
    """By key, « non renseigné » last."""
    return dict(sorted(counts.items(), key=lambda item: (item[0] == NOT_SAID, item[0])))
