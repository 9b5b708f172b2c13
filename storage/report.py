"""What the report reads over any period [start, end): the events with everyone who came, the
participants (from the ledger), the groups and what became of them, the actions decided at
events, the remontées, the initiatives and the funding obtained."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Action,
    AuditEntry,
    GroupFunding,
    GroupMember,
    GroupNeed,
    GroupProgress,
    Initiative,
    Meeting,
    MeetingAttendance,
    MeetingGuest,
    MeetingHeadcount,
    MeetingRsvp,
    Participant,
    ParticipantYear,
    ProjectGroup,
    Remontee,
)

NOT_SAID = "non-renseigne"


@dataclass(frozen=True)
class EventRow:
    """An event of the period and everyone who came: members named, guests, headcounts."""

    id: int
    kind: str
    title: str
    starts_at: datetime
    territory: str
    status: str
    group_id: int | None
    named: int
    guests: int
    counted: int
    rsvps: int

    @property
    def attendance(self) -> int:
        return self.named + self.guests + self.counted


@dataclass(frozen=True)
class GroupRow:
    id: int
    name: str
    slug: str
    status: str
    territory: str
    created_at: datetime
    members: int
    funding_note: str


@dataclass(frozen=True)
class Dated:
    """A dated line about a group: a progress note, a need met, a status change."""

    group_id: int
    at: datetime
    text: str
    old: str = ""
    new: str = ""


@dataclass(frozen=True)
class FundingRow:
    group_id: int
    funder: str
    amount_cents: int
    day: date


@dataclass(frozen=True)
class ActionRow:
    id: int
    meeting_id: int
    group_id: int | None
    text: str
    status: str
    due_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True)
class RemonteeRow:
    id: int
    text: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    answer: str
    answered_at: datetime | None


def _in(column: Any, start: datetime, end: datetime) -> Any:
    return and_(column >= start, column < end)


class ReportRepository:
    """The report's reads (``commands.reports.content``)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def events(self, start: datetime, end: datetime) -> list[EventRow]:
        """Every event starting in the period, cancelled ones too, with everyone who came."""
        def count(model: Any) -> Any:
            return select(func.count()).where(model.meeting_id == Meeting.id).scalar_subquery()
        counted = (select(func.coalesce(func.sum(MeetingHeadcount.count), 0))
                   .where(MeetingHeadcount.meeting_id == Meeting.id).scalar_subquery())
        rsvps = (select(func.count()).where(MeetingRsvp.meeting_id == Meeting.id,
                                            MeetingRsvp.answer == "present").scalar_subquery())
        rows = await self.session.execute(
            select(Meeting.id, Meeting.kind, Meeting.title, Meeting.starts_at, Meeting.territory,
                   Meeting.status, Meeting.group_id, count(MeetingAttendance),
                   count(MeetingGuest), counted, rsvps)
            .where(_in(Meeting.starts_at, start, end)).order_by(Meeting.starts_at, Meeting.id))
        return [EventRow(*row[:7], *(int(n) for n in row[7:])) for row in rows.all()]

    async def participants(self, start: datetime, end: datetime, years: tuple[int, int],
                           whole_years: bool) -> dict[tuple[str, str], tuple[int, int]]:
        """The people who took part in the period, once each, and those of them whose very
        first participation falls in it, by (territory, category). A person took part in the
        period if the first participation of one of their years falls in it (the ledger keeps
        each year's first one). ``years``: the first and last calendar years it touches;
        ``whole_years``: it is made of whole years, so that, as for the yearly figures, the
        ledger is read only for people whose span of participation goes beyond its years."""
        first, last = years
        person = Participant
        in_ledger = exists().where(ParticipantYear.user_id == person.user_id,
                                   ParticipantYear.year.between(first, last),
                                   _in(ParticipantYear.first_at, start, end))
        if whole_years:  # read from the profile and span index alone, as the yearly figures
            # their last year in the period: its first participation is in it
            took_part = or_(person.last_year <= last, in_ledger)
            fresh = person.first_year >= first
        else:
            took_part = or_(_in(person.first_seen, start, end), in_ledger)
            fresh = _in(person.first_seen, start, end)
        territory = func.coalesce(person.territory, NOT_SAID)
        category = func.coalesce(person.category, NOT_SAID)
        new = func.sum(case((fresh, 1), else_=0))
        rows = await self.session.execute(
            select(territory, category, func.count(), new)
            .where(person.first_year <= last, person.last_year >= first, took_part)
            .group_by(territory, category))
        return {(t, c): (int(n), int(fresh or 0)) for t, c, n, fresh in rows.all()}

    async def participants_until(self, end: datetime) -> int:
        """Everyone who took part before ``end``."""
        return int(await self.session.scalar(
            select(func.count()).where(Participant.first_year.is_not(None),
                                       Participant.first_seen < end)) or 0)

    async def attendees(self, start: datetime, end: datetime) -> int:
        """The members named at an event (not cancelled) of the period, once each."""
        return int(await self.session.scalar(
            select(func.count(func.distinct(MeetingAttendance.user_id)))
            .join(Meeting, Meeting.id == MeetingAttendance.meeting_id)
            .where(_in(Meeting.starts_at, start, end), Meeting.status != "annulee")) or 0)

    async def groups(self, end: datetime) -> list[GroupRow]:
        """The groups created before ``end``, with their members today."""
        members = (select(func.count()).where(GroupMember.group_id == ProjectGroup.id)
                   .scalar_subquery())
        rows = await self.session.execute(
            select(ProjectGroup.id, ProjectGroup.name, ProjectGroup.slug, ProjectGroup.status,
                   ProjectGroup.territory, ProjectGroup.created_at, members, ProjectGroup.funding)
            .where(ProjectGroup.created_at < end).order_by(ProjectGroup.id))
        return [GroupRow(gid, name, slug, status, territory, created, int(members), note)
                for gid, name, slug, status, territory, created, members, note in rows.all()]

    async def status_changes(self, start: datetime, end: datetime) -> list[Dated]:
        """The groups' status changes of the period (their audit entries), old and new status
        as they were shown."""
        rows = await self.session.execute(
            select(AuditEntry.subject_id, AuditEntry.at, AuditEntry.details)
            .where(AuditEntry.subject == "group", AuditEntry.action == "status",
                   _in(AuditEntry.at, start, end)).order_by(AuditEntry.at, AuditEntry.id))
        changes = []
        for group_id, at, details in rows.all():
            try:
                values = json.loads(details)
            except ValueError:
                values = {}
            values = values if isinstance(values, dict) else {}
            changes.append(Dated(group_id, at, "", str(values.get("old", "")),
                                 str(values.get("new", ""))))
        return changes

    async def progress(self, start: datetime, end: datetime) -> list[Dated]:
        rows = await self.session.execute(
            select(GroupProgress.group_id, GroupProgress.created_at, GroupProgress.text)
            .where(_in(GroupProgress.created_at, start, end))
            .order_by(GroupProgress.created_at, GroupProgress.id))
        return [Dated(*row) for row in rows.all()]

    async def needs_met(self, start: datetime, end: datetime) -> list[Dated]:
        rows = await self.session.execute(
            select(GroupNeed.group_id, GroupNeed.met_at, GroupNeed.text)
            .where(_in(GroupNeed.met_at, start, end)).order_by(GroupNeed.met_at, GroupNeed.id))
        return [Dated(group_id, met_at, text) for group_id, met_at, text in rows.all()
                if met_at is not None]

    async def funding(self, first: date, last: date) -> list[FundingRow]:
        """The money obtained from the day ``first`` to the day ``last`` (included)."""
        rows = await self.session.execute(
            select(GroupFunding.group_id, GroupFunding.funder, GroupFunding.amount_cents,
                   GroupFunding.obtained_on)
            .where(GroupFunding.obtained_on >= first, GroupFunding.obtained_on <= last)
            .order_by(GroupFunding.obtained_on, GroupFunding.id))
        return [FundingRow(*row) for row in rows.all()]

    async def actions(self, start: datetime, end: datetime) -> list[ActionRow]:
        """The actions decided at the events of the period, with what became of them."""
        rows = await self.session.execute(
            select(Action.id, Action.meeting_id, Action.group_id, Action.text, Action.status,
                   Action.due_at, Action.closed_at)
            .join(Meeting, Meeting.id == Action.meeting_id)
            .where(_in(Meeting.starts_at, start, end)).order_by(Meeting.starts_at, Action.id))
        return [ActionRow(*row) for row in rows.all()]

    async def remontees(self, start: datetime, end: datetime) -> list[RemonteeRow]:
        """The remontées made, carried to the élus or answered in the period."""
        rows = await self.session.execute(
            select(Remontee.id, Remontee.text, Remontee.status, Remontee.created_at,
                   Remontee.sent_at, Remontee.answer, Remontee.answered_at)
            .where(_in(Remontee.created_at, start, end) | _in(Remontee.sent_at, start, end)
                   | _in(Remontee.answered_at, start, end)).order_by(Remontee.id))
        return [RemonteeRow(*row) for row in rows.all()]

    async def initiatives(self, start: datetime, end: datetime) -> Sequence[tuple[str, str]]:
        """(name, commune) of the initiatives added to the panorama in the period."""
        rows = await self.session.execute(
            select(Initiative.name, Initiative.commune)
            .where(_in(Initiative.created_at, start, end)).order_by(Initiative.id))
        return [(name, commune) for name, commune in rows.all()]
