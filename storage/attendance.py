"""Everyone who came to an event: the club members named (``meeting_attendance``), the guests
without Matrix by name only (``meeting_guests``) and the headcount of the others, by category
and territory (``meeting_headcounts``); their counts for one event or for a period (the yearly
figures, the report)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, bindparam, delete, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.meetings import CANCELLED
from storage.models import (
    Meeting,
    MeetingAttendance,
    MeetingGuest,
    MeetingHeadcount,
    Participant,
)
from storage.participants import record_participation
from storage.personal import ERASED_KEY
from storage.statements import dialect_of, insert

TYPED, SHEET = "commande", "feuille"  # where a guest's name comes from
NOT_SAID = "non-renseigne"  # a member without a profile (``commands.categories.NOT_SAID``)
MEMBERS, GUESTS, HEADCOUNT = "membres", "invites", "effectif"  # the ways people are recorded


@dataclass(frozen=True)
class Turnout:
    """People who came (to one event or over a period): how many of each way they were recorded
    (``MEMBERS`` named on Matrix, ``GUESTS`` by name, ``HEADCOUNT`` counted), and how many in
    each (territory, category)."""

    ways: Mapping[str, int] = field(default_factory=dict)
    cells: Mapping[tuple[str, str], int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.ways.values())

    @property
    def members(self) -> int:
        return self.ways.get(MEMBERS, 0)

    @property
    def guests(self) -> int:
        return self.ways.get(GUESTS, 0)

    @property
    def counted(self) -> int:
        return self.ways.get(HEADCOUNT, 0)

    def by_category(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for (_territory, category), people in self.cells.items():
            counts[category] += people
        return dict(counts)

    def by_territory(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for (territory, _category), people in self.cells.items():
            counts[territory] += people
        return dict(counts)


class AttendanceRepository:
    """Headcounts, guests, and the members named in the sheet of an event."""

    ways = (MEMBERS, GUESTS, HEADCOUNT)  # what the counts read (their tables)

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def set_headcount(self, meeting_id: int, territory: str, counts: Mapping[str, int],
                            at: datetime) -> None:
        """Replaces the headcount of ``territory`` at the event (categories left out: none);
        the people it holds from forgotten guests (``from_guests``) stay, on top of it."""
        rows = await self.session.execute(
            select(MeetingHeadcount.category, MeetingHeadcount.from_guests).where(
                MeetingHeadcount.meeting_id == meeting_id,
                MeetingHeadcount.territory == territory,
                MeetingHeadcount.from_guests > 0))
        kept = {category: people for category, people in rows.all()}
        await self.session.execute(delete(MeetingHeadcount).where(
            MeetingHeadcount.meeting_id == meeting_id, MeetingHeadcount.territory == territory))
        await self.session.flush()
        typed = {category: count for category, count in counts.items() if count > 0}
        self.session.add_all(
            MeetingHeadcount(meeting_id=meeting_id, territory=territory, category=category,
                             count=typed.get(category, 0) + kept.get(category, 0),
                             from_guests=kept.get(category, 0), recorded_at=at)
            for category in {**typed, **kept})
        await self.session.flush()

    async def headcounts(self, meeting_id: int) -> dict[tuple[str, str], int]:
        """(territory, category) → people counted at the event."""
        rows = await self.session.execute(
            select(MeetingHeadcount.territory, MeetingHeadcount.category, MeetingHeadcount.count)
            .where(MeetingHeadcount.meeting_id == meeting_id))
        return {(territory, category): count for territory, category, count in rows.all()}

    async def add_guests(self, meeting_id: int, guests: Iterable[tuple[str, str, str]],
                         at: datetime, source: str = TYPED) -> None:
        """Adds guests: (name, category, territory) each, typed or from a sheet (``source``)."""
        self.session.add_all(MeetingGuest(meeting_id=meeting_id, name=name, category=category,
                                          territory=territory, source=source, recorded_at=at)
                             for name, category, territory in guests)
        await self.session.flush()

    async def clear_guests(self, meeting_id: int, source: str) -> int:
        """Forgets the event's guests from ``source``; returns how many there were."""
        result: Any = await self.session.execute(delete(MeetingGuest).where(
            MeetingGuest.meeting_id == meeting_id, MeetingGuest.source == source))
        if result.rowcount:
            self.session.info.setdefault(ERASED_KEY, set()).add("meeting_guests")
        return int(result.rowcount or 0)

    async def guests(self, meeting_id: int) -> Sequence[MeetingGuest]:
        """The event's guests, in the order they were recorded."""
        return (await self.session.scalars(select(MeetingGuest)
                                           .where(MeetingGuest.meeting_id == meeting_id)
                                           .order_by(MeetingGuest.id))).all()

    async def add_members(self, meeting: Meeting, user_ids: Iterable[str], at: datetime, *,
                          tz: ZoneInfo) -> list[str]:
        """Adds club members to those who came to ``meeting`` (those already there stay);
        returns the ones added. Coming is taking part when the event starts."""
        people = list(dict.fromkeys(user_ids))
        if not people:
            return []
        statement = insert(dialect_of(self.session), MeetingAttendance).on_conflict_do_nothing()
        added = []
        for user in people:
            result: Any = await self.session.execute(statement.values(
                meeting_id=meeting.id, user_id=user, recorded_at=at))
            if result.rowcount:
                added.append(user)
        await record_participation(self.session, people, meeting.starts_at, tz)
        return added

    async def turnout(self, meeting_id: int) -> Turnout:
        """Who came to one event, counted."""
        return await self._counted(_turnout(self.ways, between=False), {"b_meeting": meeting_id})

    async def turnout_between(self, start: datetime, end: datetime) -> Turnout:
        """Who came to the events (not cancelled) starting in [start, end), counted: a person
        is counted once per event (the report's people counted, with the headcounts)."""
        return await self._counted(_turnout(self.ways, between=True),
                                   {"b_start": start, "b_end": end})

    async def _counted(self, statement: Any, values: dict[str, Any]) -> Turnout:
        ways: Counter[str] = Counter()
        cells: Counter[tuple[str, str]] = Counter()
        for way, where_from, what, people in await self.session.execute(statement, values):
            ways[way] += int(people)
            cells[(where_from, what)] += int(people)
        return Turnout(dict(ways), dict(cells))

    async def expire_guests(self, started_before: datetime) -> int:
        """The guests of the events started before ``started_before`` lose their names: each
        becomes one more in the headcount of their category and territory (counts kept);
        returns how many."""
        old = select(Meeting.id).where(Meeting.starts_at < started_before).scalar_subquery()
        return await self._to_headcount(MeetingGuest.meeting_id.in_(old), started_before)

    async def forget_guest(self, meeting_id: int, name: str, at: datetime) -> int:
        """The guests of the event named ``name`` (exactly, capitals and spaces aside) lose
        their name, as above (an erasure asked for); returns how many."""
        wanted = " ".join(name.split()).casefold()
        ids = [guest.id for guest in await self.guests(meeting_id)
               if " ".join(guest.name.split()).casefold() == wanted]
        return await self._to_headcount(MeetingGuest.id.in_(ids), at) if ids else 0

    async def _to_headcount(self, which: ColumnElement[bool], at: datetime) -> int:
        rows = (await self.session.execute(
            select(MeetingGuest.meeting_id, MeetingGuest.territory, MeetingGuest.category,
                   func.count()).where(which)
            .group_by(MeetingGuest.meeting_id, MeetingGuest.territory,
                      MeetingGuest.category))).all()
        for meeting_id, territory, category, people in rows:
            row = await self.session.get(MeetingHeadcount, (meeting_id, territory, category))
            if row is None:
                self.session.add(MeetingHeadcount(meeting_id=meeting_id, territory=territory,
                                                  category=category, count=int(people),
                                                  from_guests=int(people), recorded_at=at))
            else:
                row.count += int(people)
                row.from_guests += int(people)
        await self.session.execute(delete(MeetingGuest).where(which))
        if rows:  # their names are zeroed in the files (``storage.db``)
            self.session.info.setdefault(ERASED_KEY, set()).add("meeting_guests")
        return sum(int(people) for *_, people in rows)


@cache
def _turnout(ways: tuple[str, ...], *, between: bool) -> Any:
    """One statement, built once: (way, territory, category, people) of the members (by their
    profile), the guests and the headcounts (the ``ways`` asked) of one event (``b_meeting``)
    or of the events not cancelled starting in [``b_start``, ``b_end``)."""
    where: tuple[ColumnElement[bool], ...] = (
        (Meeting.starts_at >= bindparam("b_start"), Meeting.starts_at < bindparam("b_end"),
         Meeting.status != CANCELLED) if between else (Meeting.id == bindparam("b_meeting"),))
    territory = func.coalesce(Participant.territory, NOT_SAID)
    category = func.coalesce(Participant.category, NOT_SAID)
    members = (select(literal(MEMBERS), territory, category, func.count())
               .select_from(MeetingAttendance)
               .join(Meeting, Meeting.id == MeetingAttendance.meeting_id)
               .outerjoin(Participant, Participant.user_id == MeetingAttendance.user_id)
               .where(*where).group_by(territory, category))
    guests = (select(literal(GUESTS), MeetingGuest.territory, MeetingGuest.category,
                     func.count())
              .join(Meeting, Meeting.id == MeetingGuest.meeting_id)
              .where(*where).group_by(MeetingGuest.territory, MeetingGuest.category))
    counted = (select(literal(HEADCOUNT), MeetingHeadcount.territory,
                      MeetingHeadcount.category, func.sum(MeetingHeadcount.count))
               .join(Meeting, Meeting.id == MeetingHeadcount.meeting_id)
               .where(*where)
               .group_by(MeetingHeadcount.territory, MeetingHeadcount.category))
    parts = {MEMBERS: members, GUESTS: guests, HEADCOUNT: counted}
    return union_all(*(parts[name] for name in ways))
