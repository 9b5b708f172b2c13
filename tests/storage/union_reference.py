"""The reference recount: participation as the yearly figures computed it before the ledger
(up to migration 0007), one UNION ALL of every activity table grouped by person. Kept for the
tests only, to prove the ledger (and the migration that fills it) gives the same counts."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, literal_column, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from commands.reports.figures import Figures, year_bounds, yearly_figures
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
    Remontee,
)
from storage.participants import ParticipantRepository, Participation
from storage.polls import PollRepository
from storage.repositories import Repositories


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


class _UnionParticipants(ParticipantRepository):
    everyone_counted = False  # before revision 0017, only the members named

    def __init__(self, session: AsyncSession, tz: ZoneInfo, acts: bool) -> None:
        super().__init__(session)
        self.tz, self.acts = tz, acts

    async def participation(self, year: int, edges: Sequence[datetime]) -> list[Participation]:
        start, end = year_bounds(year, self.tz)
        return await union_participation(self.session, start, end, year, edges,
                                         acts=self.acts)


class _NamedOnly(AttendanceRepository):
    """Before revision 0017 only the members named were recorded (no guests, no headcounts)."""

    ways = (MEMBERS,)


async def union_figures(repos: Repositories, year: int, tz: ZoneInfo, *,
                        acts: bool = False) -> Figures:
    """``yearly_figures`` with the participants counted by the UNION (works on a database at
    revision 0007 too: it reads no ``first_at``)."""
    union = copy.copy(repos)
    union.participants = _UnionParticipants(repos.session, tz, acts)
    union.attendance = _NamedOnly(repos.session)
    union.polls = _NoDecisions(repos.session)
    return await yearly_figures(union, year, tz)


class _NoDecisions(PollRepository):
    """No proposals: a database before revision 0020 has neither them nor their columns."""

    async def decisions_between(self, start: datetime, end: datetime) -> tuple[int, int, int]:
        return 0, 0, 0
