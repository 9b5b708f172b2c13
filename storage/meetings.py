"""The rencontres of the club: the meetings, who says they will come, who came."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, String, bindparam, cast, delete, func, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Meeting,
    MeetingAttendance,
    MeetingGuest,
    MeetingHeadcount,
    MeetingRsvp,
    UTCDateTime,
)
from storage.participants import record_participation
from storage.statements import dialect_of, insert

PLANNED, CANCELLED = "prevue", "annulee"


@dataclass(frozen=True)
class MeetingSummary:
    """A line of the rencontres' list: the meeting, its answers by kind, how many came."""

    meeting: Meeting
    answers: dict[str, int] = field(default_factory=dict)  # present, absent, peutetre
    attended: int = 0  # everyone who came: members named, guests, headcounts


class MeetingRepository:
    """Meetings, RSVPs and attendance. Every timestamp is aware UTC."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- meetings ---------------------------------------------------------------------------
    async def create(self, *, starts_at: datetime, ends_at: datetime, place: str, territory: str,
                     created_by: str, at: datetime, poll_id: int | None = None,
                     rooms: str = "[]", **details: Any) -> Meeting:
        """A planned event; ``details``: its other columns (kind, title, theme, description,
        link, group_id, capacity, organiser), their defaults otherwise."""
        details.setdefault("organiser", created_by)
        meeting = Meeting(starts_at=starts_at, ends_at=ends_at, place=place, territory=territory,
                          status=PLANNED, poll_id=poll_id, sequence=0, minutes="",
                          cancel_reason="", rooms=rooms, created_by=created_by, created_at=at,
                          updated_at=at, **{"kind": "rencontre", "title": "", "description": "",
                                            "link": "", **details})
        self.session.add(meeting)
        await self.session.flush()
        await self.session.refresh(meeting, ["group_name", "group_slug"])
        return meeting

    async def get(self, meeting_id: int) -> Meeting | None:
        return await self.session.get(Meeting, meeting_id)

    async def organises(self, user_id: str) -> bool:
        """Whether ``user_id`` is the organiser of an event (one not cancelled)."""
        query = select(Meeting.id).where(Meeting.organiser == user_id,
                                         Meeting.status != CANCELLED).limit(1)
        return await self.session.scalar(query) is not None

    async def next_planned(self, now: datetime) -> Meeting | None:
        """The soonest planned meeting that has not started yet."""
        query = (select(Meeting).where(Meeting.status == PLANNED, Meeting.starts_at >= now)
                 .order_by(Meeting.starts_at, Meeting.id).limit(1))
        return await self.session.scalar(query)

    async def upcoming(self, now: datetime, limit: int | None = None) -> list[MeetingSummary]:
        """Meetings starting from ``now`` on (cancelled ones included), soonest first (all of
        them, or the first ``limit``)."""
        found = await self.session.scalars(_meetings(upcoming=True, limited=limit is not None),
                                           _values(now, limit))
        return await self._summaries(found.all())

    async def past(self, now: datetime, limit: int | None = None) -> list[MeetingSummary]:
        """Meetings that started before ``now``, most recent first (all of them, or the latest
        ``limit``)."""
        found = await self.session.scalars(_meetings(upcoming=False, limited=limit is not None),
                                           _values(now, limit))
        return await self._summaries(found.all())

    async def programme(self, now: datetime, *, kind: str | None = None,
                        territories: Sequence[str] = (), group_id: int | None = None,
                        theme: str | None = None) -> list[MeetingSummary]:
        """The planned events from ``now`` on, soonest first, of ``kind``, for one of
        ``territories``, for the group ``group_id``, about ``theme`` (each when given)."""
        query = _filtered(select(Meeting).where(Meeting.status == PLANNED, Meeting.starts_at >= now)
                          .order_by(Meeting.starts_at, Meeting.id), kind, territories, group_id)
        if theme is not None:
            query = query.where(Meeting.theme == theme)
        return await self._summaries((await self.session.scalars(query)).all())

    async def calendar(self, since: datetime, *, kind: str | None = None,
                       territories: Sequence[str] = (), group_id: int | None = None,
                       limit: int = 2000) -> Sequence[Meeting]:
        """The events starting from ``since`` on, whatever became of them (cancelled ones
        included), soonest first, of ``kind``, for one of ``territories``, for the group
        ``group_id`` (each when given); at most ``limit``."""
        query = _filtered(select(Meeting).where(Meeting.starts_at >= since)
                          .order_by(Meeting.starts_at, Meeting.id).limit(limit),
                          kind, territories, group_id)
        return (await self.session.scalars(query)).all()

    async def summary(self, meeting_id: int) -> MeetingSummary | None:
        """One meeting with its answers by kind and its attendance."""
        meeting = await self.get(meeting_id)
        return None if meeting is None else (await self._summaries([meeting]))[0]

    async def _summaries(self, meetings: Sequence[Meeting]) -> list[MeetingSummary]:
        """Each meeting with its answers by kind and its attendance, counted in one statement
        (attendance rows come with no answer)."""
        ids = [m.id for m in meetings]
        if not ids:
            return []
        answers: dict[int, dict[str, int]] = {i: {} for i in ids}
        attended: dict[int, int] = {}
        for meeting_id, answer, count in await self.session.execute(_answers_and_attendance(),
                                                                    {"b_ids": ids}):
            if answer is None:  # members named, guests, headcounts: everyone who came
                attended[meeting_id] = attended.get(meeting_id, 0) + int(count)
            else:
                answers[meeting_id][answer] = int(count)
        return [MeetingSummary(m, answers[m.id], attended.get(m.id, 0)) for m in meetings]

    # --- RSVPs --------------------------------------------------------------------------------
    async def set_rsvp(self, meeting_id: int, user_id: str, answer: str, at: datetime, *,
                       tz: ZoneInfo) -> None:
        """Records a person's answer, replacing an earlier one (one statement); answering is
        taking part at ``at`` (its year in ``tz``, the club's time zone)."""
        statement = insert(dialect_of(self.session), MeetingRsvp).values(
            meeting_id=meeting_id, user_id=user_id, answer=answer, at=at)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=[MeetingRsvp.meeting_id, MeetingRsvp.user_id],
            set_={"answer": answer, "at": at}))
        # The row may be in the session's identity map with its old values.
        existing = self.session.identity_map.get(
            self.session.identity_key(MeetingRsvp, (meeting_id, user_id)))
        if existing is not None:
            await self.session.refresh(existing)
        await record_participation(self.session, [user_id], at, tz)

    async def rsvp(self, meeting_id: int, user_id: str) -> str | None:
        """A person's answer, or ``None``."""
        row = await self.session.get(MeetingRsvp, (meeting_id, user_id))
        return row.answer if row else None

    async def clear_rsvp(self, meeting_id: int, user_id: str) -> bool:
        """Forgets a person's answer; ``False`` when there was none."""
        result: Any = await self.session.execute(delete(MeetingRsvp).where(
            MeetingRsvp.meeting_id == meeting_id, MeetingRsvp.user_id == user_id))
        return bool(result.rowcount)

    async def rsvps(self, meeting_id: int) -> Sequence[MeetingRsvp]:
        """Every answer to a meeting, oldest first."""
        query = (select(MeetingRsvp).where(MeetingRsvp.meeting_id == meeting_id)
                 .order_by(MeetingRsvp.at, MeetingRsvp.user_id))
        return (await self.session.scalars(query)).all()

    # --- places ---------------------------------------------------------------------------
    async def locked(self, meeting_id: int) -> Meeting | None:
        """The meeting, its row locked until the transaction ends (PostgreSQL: ``FOR UPDATE``;
        SQLite has one writer at a time): whoever takes a place next waits for this one."""
        query = (select(Meeting).where(Meeting.id == meeting_id).with_for_update()
                 .execution_options(populate_existing=True))
        return await self.session.scalar(query)

    async def answered(self, meeting_id: int, answer: str) -> list[str]:
        """Who gave ``answer`` (``present``: the places taken; ``attente``: the waiting list),
        in the order they gave it."""
        query = (select(MeetingRsvp.user_id)
                 .where(MeetingRsvp.meeting_id == meeting_id, MeetingRsvp.answer == answer)
                 .order_by(MeetingRsvp.at, MeetingRsvp.user_id))
        return list((await self.session.scalars(query)).all())

    async def places_held(self, user_id: str, now: datetime) -> list[int]:
        """The planned events with places, not started at ``now``, where ``user_id`` holds a
        place or waits for one (``present``, ``attente``), soonest first."""
        query = (select(Meeting.id).join(MeetingRsvp, MeetingRsvp.meeting_id == Meeting.id)
                 .where(MeetingRsvp.user_id == user_id,
                        MeetingRsvp.answer.in_(("present", "attente")),
                        Meeting.capacity.is_not(None), Meeting.status == PLANNED,
                        Meeting.starts_at >= now)
                 .order_by(Meeting.starts_at, Meeting.id))
        return list((await self.session.scalars(query)).all())

    # --- attendance --------------------------------------------------------------------------
    async def set_attendance(self, meeting_id: int, user_ids: Iterable[str], at: datetime, *,
                             tz: ZoneInfo) -> list[str]:
        """Replaces the list of who came; returns it (duplicates removed, order kept). Coming
        is taking part when the meeting starts (its year in ``tz``, the club's time zone)."""
        people = list(dict.fromkeys(user_ids))
        await self.session.execute(
            delete(MeetingAttendance).where(MeetingAttendance.meeting_id == meeting_id))
        self.session.add_all(MeetingAttendance(meeting_id=meeting_id, user_id=user, recorded_at=at)
                             for user in people)
        await self.session.flush()
        meeting = await self.session.get(Meeting, meeting_id)  # the caller's: no query
        if meeting is not None:
            await record_participation(self.session, people, meeting.starts_at, tz)
        return people

    async def attendance(self, meeting_id: int) -> Sequence[MeetingAttendance]:
        query = (select(MeetingAttendance).where(MeetingAttendance.meeting_id == meeting_id)
                 .order_by(MeetingAttendance.user_id))
        return (await self.session.scalars(query)).all()

    async def previous_start(self, meeting_id: int, before: datetime) -> datetime | None:
        """When the last rencontre before ``before`` (not cancelled, not this one) started."""
        query = (select(func.max(Meeting.starts_at))
                 .where(Meeting.starts_at < before, Meeting.id != meeting_id,
                        Meeting.status != CANCELLED))
        return await self.session.scalar(query)


def _filtered(query: Select[Meeting], kind: str | None, territories: Sequence[str],
              group_id: int | None) -> Select[Meeting]:
    """``query`` narrowed to ``kind``, to one of ``territories``, to ``group_id`` (each when
    given)."""
    if kind is not None:
        query = query.where(Meeting.kind == kind)
    if territories:
        query = query.where(Meeting.territory.in_(territories))
    if group_id is not None:
        query = query.where(Meeting.group_id == group_id)
    return query


def _values(now: datetime, limit: int | None) -> dict[str, Any]:
    return {"b_now": now} if limit is None else {"b_now": now, "b_limit": limit}


@cache
def _meetings(upcoming: bool, limited: bool) -> Any:
    """Meetings from ``b_now`` on, soonest first, or before it, latest first (``limited``: at
    most ``b_limit``); built once (values: b_now, b_limit)."""
    now = bindparam("b_now", type_=UTCDateTime())
    if upcoming:
        query = (select(Meeting).where(Meeting.starts_at >= now)
                 .order_by(Meeting.starts_at, Meeting.id))
    else:
        query = (select(Meeting).where(Meeting.starts_at < now)
                 .order_by(Meeting.starts_at.desc(), Meeting.id.desc()))
    return query.limit(bindparam("b_limit")) if limited else query


@cache
def _answers_and_attendance() -> Any:
    """(meeting_id, answer, people) of the answers of the meetings ``b_ids``, then
    (meeting_id, NULL, people) of their attendance (members named, guests, headcounts): one
    statement."""
    ids: Any = bindparam("b_ids", expanding=True)
    rsvps = (select(MeetingRsvp.meeting_id, MeetingRsvp.answer, func.count())
             .where(MeetingRsvp.meeting_id.in_(ids))
             .group_by(MeetingRsvp.meeting_id, MeetingRsvp.answer))
    came = (select(MeetingAttendance.meeting_id, cast(null(), String), func.count())
            .where(MeetingAttendance.meeting_id.in_(ids))
            .group_by(MeetingAttendance.meeting_id))
    guests = (select(MeetingGuest.meeting_id, cast(null(), String), func.count())
              .where(MeetingGuest.meeting_id.in_(ids)).group_by(MeetingGuest.meeting_id))
    counted = (select(MeetingHeadcount.meeting_id, cast(null(), String),
                      func.sum(MeetingHeadcount.count))
               .where(MeetingHeadcount.meeting_id.in_(ids))
               .group_by(MeetingHeadcount.meeting_id))
    return union_all(rsvps, came, guests, counted)
