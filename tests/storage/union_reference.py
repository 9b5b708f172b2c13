"""The reference recount: participation as it was computed before the ledger (up to migration
0007), one UNION ALL of every activity table grouped by person, and the year's other facts read
from the tables as 0007 had them. Kept for the tests only, to prove the ledger (and the
migration that fills it) gives the report the same counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case, func, literal_column, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from commands.reports.indicators import Decisions
from storage.attendance import MEMBERS, AttendanceRepository
from storage.models import (
    AgendaSuggestion,
    AgendaSupport,
    GroupMember,
    GroupNeed,
    GroupProgress,
    Initiative,
    Meeting,
    MeetingAttendance,
    MeetingRsvp,
    Participant,
    ParticipantYear,
    PollVote,
    ProjectGroup,
    Remontee,
)
from storage.repositories import Repositories
from tests.report_facts import (
    NOT_SAID,
    GroupFact,
    MeetingFact,
    YearFacts,
    month_ends,
    year_bounds,
)

START: Any = bindparam("b_start")
END: Any = bindparam("b_end")


@dataclass(frozen=True)
class Participation:
    """Counts of people who took part, for one (territory, category) of their profile."""

    territory: str | None
    category: str | None
    people: int  # took part at least once, until the end of the year
    active: int  # took part during the year
    new: int  # first took part during the year
    before: tuple[int, ...]  # had taken part before each edge asked for


def _union_people(start: datetime, end: datetime, year: int, acts: bool) -> Any:
    """Per person: their first activity before ``end`` and whether they took part in ``year``
    (the previous ``ParticipantRepository.participation``, unchanged). Up to 0007,
    ``participant_years`` held the years each person used the bot; with ``acts``, the other
    acts of participation are read from their own tables instead (suggestions, supports,
    remontées, initiatives, progress notes, needs), so that the reference owes nothing to the
    ledger."""
    def source(user: Any, at: Any) -> Any:
        return (select(user.label("user_id"), func.min(at).label("at"),
                       case((func.max(at) >= start, 1), else_=0).label("active"))
                .where(at < end).group_by(user))

    other_acts = (
        [source(AgendaSuggestion.author, AgendaSuggestion.created_at),
         source(AgendaSupport.user_id, AgendaSupport.at),
         source(Remontee.author, Remontee.created_at),
         source(Initiative.created_by, Initiative.created_at),
         source(GroupProgress.author, GroupProgress.created_at),
         source(GroupNeed.created_by, GroupNeed.created_at)] if acts
        else [select(ParticipantYear.user_id, null(), literal_column("1"))
              .where(ParticipantYear.year == year)])
    every = union_all(
        select(Participant.user_id.label("user_id"), Participant.first_seen.label("at"),
               literal_column("0").label("active")).where(Participant.first_seen < end),
        *other_acts,
        source(GroupMember.user_id, GroupMember.joined_at),
        source(PollVote.user_id, PollVote.voted_at),
        source(MeetingRsvp.user_id, MeetingRsvp.at),
        source(MeetingAttendance.user_id, Meeting.starts_at)
        .join(Meeting, Meeting.id == MeetingAttendance.meeting_id),
    ).subquery()
    return (select(every.c.user_id, func.min(every.c.at).label("first"),
                   func.max(every.c.active).label("active"))
            .group_by(every.c.user_id).subquery())


async def union_participation(session: AsyncSession, start: datetime, end: datetime, year: int,
                              edges: Sequence[datetime], *,
                              acts: bool = False) -> list[Participation]:
    person = _union_people(start, end, year, acts)
    query = (select(Participant.territory, Participant.category, func.count(),
                    func.sum(person.c.active),
                    func.sum(case((person.c.first >= start, 1), else_=0)),
                    *(func.sum(case((person.c.first < edge, 1), else_=0)) for edge in edges))
             .select_from(person.outerjoin(Participant, Participant.user_id == person.c.user_id))
             .group_by(Participant.territory, Participant.category))
    return ordered(Participation(territory, category, int(people), int(active or 0),
                                 int(new or 0), tuple(int(count or 0) for count in before))
                   for territory, category, people, active, new, *before
                   in (await session.execute(query)).all())


def ordered(rows: Iterable[Participation]) -> list[Participation]:
    """By profile (territory, category), « not said » first."""
    return sorted(rows, key=lambda row: (row.territory or "", row.category or ""))


async def union_people(session: AsyncSession, year: int, tz: ZoneInfo, *,
                       acts: bool = False) -> dict[str, tuple[datetime | None, bool]]:
    """user id → (first activity, took part in ``year``), by the UNION."""
    person = _union_people(*year_bounds(year, tz), year, acts)
    rows = (await session.execute(select(person.c.user_id, person.c.first, person.c.active)))
    return {user: (first, bool(active)) for user, first, active in rows.all()}


async def ledger_people(session: AsyncSession, year: int) -> dict[str, tuple[datetime | None, bool]]:
    """The same, read from the ledger."""
    query = (select(ParticipantYear.user_id, func.min(ParticipantYear.first_at),
                    func.max(ParticipantYear.year)).where(ParticipantYear.year <= year)
             .group_by(ParticipantYear.user_id))
    return {user: (first, last == year)
            for user, first, last in (await session.execute(query)).all()}


def _meetings() -> Any:
    """The rencontres of [b_start, b_end) as revision 0007 holds them: the members named, the
    positive answers."""
    named = (select(func.count()).where(MeetingAttendance.meeting_id == Meeting.id)
             .scalar_subquery())
    rsvps = (select(func.count()).where(MeetingRsvp.meeting_id == Meeting.id,
                                        MeetingRsvp.answer == "present").scalar_subquery())
    return (select(Meeting.id, Meeting.starts_at, Meeting.territory, Meeting.status, named,
                   rsvps)
            .where(Meeting.starts_at >= START, Meeting.starts_at < END)
            .order_by(Meeting.starts_at, Meeting.id))


def _attendees() -> Any:
    return (select(func.count(func.distinct(MeetingAttendance.user_id)))
            .join(Meeting, Meeting.id == MeetingAttendance.meeting_id)
            .where(Meeting.starts_at >= START, Meeting.starts_at < END,
                   Meeting.status != "annulee"))


def _groups() -> Any:
    members = (select(func.count()).where(GroupMember.group_id == ProjectGroup.id)
               .scalar_subquery())
    return (select(ProjectGroup.id, ProjectGroup.name, ProjectGroup.status,
                   ProjectGroup.territory, members).where(ProjectGroup.created_at < END)
            .order_by(ProjectGroup.id))


def _statuses(model: type[AgendaSuggestion] | type[Remontee]) -> Any:
    return (select(model.status, func.count())
            .where(model.created_at >= START, model.created_at < END).group_by(model.status))


class _NamedOnly(AttendanceRepository):
    """Before revision 0017 only the members named were recorded (no guests, no headcounts)."""

    ways = (MEMBERS,)


async def union_figures(repos: Repositories, year: int, tz: ZoneInfo, *,
                        acts: bool = False) -> YearFacts:
    """The facts of ``year`` (``tests.report_facts``) with the participants counted by the UNION,
    read by statements of their own from what revision 0007 already held (they work on a
    database at 0007 too: no ``first_at``, no guests, no headcounts, no proposals)."""
    session = repos.session
    start, end = year_bounds(year, tz)
    edges = month_ends(year, tz)
    rows = await union_participation(session, start, end, year, edges, acts=acts)
    cells: Counter[tuple[str, str]] = Counter()
    fresh: Counter[tuple[str, str]] = Counter()
    for row in rows:
        if row.active:
            cell = (row.territory or NOT_SAID, row.category or NOT_SAID)
            cells[cell] += row.active
            fresh[cell] += row.new
    bounds = {"b_start": start, "b_end": end}

    async def statuses(model: type[AgendaSuggestion] | type[Remontee]) -> dict[str, int]:
        return {status: int(n) for status, n in await session.execute(_statuses(model), bounds)}

    return YearFacts(
        participants={cell: (people, fresh[cell]) for cell, people in cells.items()},
        participants_total=sum(row.people for row in rows),
        attended=int(await session.scalar(_attendees(), bounds) or 0),
        meetings=tuple(MeetingFact(*row) for row in await session.execute(_meetings(), bounds)),
        groups=tuple(GroupFact(*row) for row in await session.execute(_groups(), bounds)),
        suggestions=await statuses(AgendaSuggestion), remontees=await statuses(Remontee),
        turnout=await _NamedOnly(session).turnout_between(start, end), decisions=Decisions(),
        cumulative=tuple(sum(row.before[n] for row in rows) for n in range(len(edges))))
