"""What the report reads over any period [start, end): the events with everyone who came, the
participants (from the ledger), the groups and what became of them, the actions decided at
events, the remontées, the agenda suggestions, the collective decisions, the adoptions of the
cadre de confiance, the initiatives and the funding obtained."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage import report_statements as q


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


class ReportRepository:
    """The report's reads (``commands.reports.content``), each one statement built once
    (``storage.report_statements``) and run with the period's values."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _rows(self, statement: Any, **values: Any) -> list[Any]:
        names = {"start": "b_start", "end": "b_end", "first": "b_first", "last": "b_last"}
        return list((await self.session.execute(
            statement, {names[key]: value for key, value in values.items()})).all())

    async def events(self, start: datetime, end: datetime) -> list[EventRow]:
        """Every event starting in the period, cancelled ones too, with everyone who came."""
        rows = await self._rows(q.events(), start=start, end=end)
        return [EventRow(*row[:7], *(int(n) for n in row[7:])) for row in rows]

    async def participants(self, start: datetime, end: datetime, years: tuple[int, int],
                           whole_years: bool) -> dict[tuple[str, str], tuple[int, int]]:
        """The people who took part in the period, once each, and those of them whose very
        first participation falls in it, by (territory, category) (``q.participants``).
        ``years``: the first and last calendar years it touches; ``whole_years``: it is made
        of whole years."""
        rows = await self._rows(q.participants(whole_years), start=start, end=end,
                                first=years[0], last=years[1])
        cells: dict[tuple[str, str], tuple[int, int]] = {}
        for territory, category, people, fresh in rows:  # grouped as the index is: NULL first
            cell = (territory or q.NOT_SAID, category or q.NOT_SAID)
            before = cells.get(cell, (0, 0))
            cells[cell] = (before[0] + int(people), before[1] + int(fresh or 0))
        return cells

    async def participants_until(self, end: datetime) -> int:
        """Everyone who took part before ``end``."""
        [(count,)] = await self._rows(q.participants_until(), end=end)
        return int(count or 0)

    async def attendees(self, start: datetime, end: datetime) -> int:
        """The members named at an event (not cancelled) of the period, once each."""
        [(count,)] = await self._rows(q.attendees(), start=start, end=end)
        return int(count or 0)

    async def groups(self, end: datetime) -> list[GroupRow]:
        """The groups created before ``end``, with their members today."""
        return [GroupRow(gid, name, slug, status, territory, created, int(count), note)
                for gid, name, slug, status, territory, created, count, note
                in await self._rows(q.groups(), end=end)]

    async def group_statuses(self, end: datetime) -> dict[str, int]:
        """How many groups created before ``end`` have each status (archived too)."""
        return {status: int(count) for status, count
                in await self._rows(q.group_statuses(), end=end)}

    async def status_changes(self, start: datetime, end: datetime) -> list[Dated]:
        """The groups' status changes of the period (their audit entries), old and new status
        as they were shown."""
        changes = []
        for group_id, at, details in await self._rows(q.status_changes(), start=start, end=end):
            try:
                values = json.loads(details)
            except ValueError:
                values = {}
            values = values if isinstance(values, dict) else {}
            changes.append(Dated(group_id, at, "", str(values.get("old", "")),
                                 str(values.get("new", ""))))
        return changes

    async def progress(self, start: datetime, end: datetime) -> list[Dated]:
        return [Dated(*row) for row in await self._rows(q.progress(), start=start, end=end)]

    async def needs_met(self, start: datetime, end: datetime) -> list[Dated]:
        return [Dated(group_id, met_at, text) for group_id, met_at, text
                in await self._rows(q.needs_met(), start=start, end=end) if met_at is not None]

    async def funding(self, first: date, last: date) -> list[FundingRow]:
        """The money obtained from the day ``first`` to the day ``last`` (included)."""
        return [FundingRow(*row) for row in await self._rows(q.funding(), first=first,
                                                             last=last)]

    async def actions(self, start: datetime, end: datetime) -> list[ActionRow]:
        """The actions decided at the events of the period, with what became of them."""
        return [ActionRow(*row) for row in await self._rows(q.actions(), start=start, end=end)]

    async def remontees(self, start: datetime, end: datetime) -> list[RemonteeRow]:
        """The remontées made, carried to the élus or answered in the period."""
        return [RemonteeRow(*row) for row in await self._rows(q.remontees(), start=start,
                                                              end=end)]

    async def suggestions(self, start: datetime, end: datetime) -> dict[str, int]:
        """The agenda suggestions made in the period, by status."""
        return {status: int(count) for status, count
                in await self._rows(q.suggestions(), start=start, end=end)}

    async def decisions(self, start: datetime, end: datetime) -> tuple[int, int, int]:
        """The proposals opened in the period, the outcomes written then, and the people who
        then took a position (not withdrawn since) on a proposal."""
        [(opened, decided, people)] = await self._rows(q.decisions(), start=start, end=end)
        return int(opened or 0), int(decided or 0), int(people or 0)

    async def charter_adoptions(self, start: datetime, end: datetime) -> int:
        """The people whose adoption of the cadre de confiance (their latest, not withdrawn)
        falls in the period."""
        [(count,)] = await self._rows(q.charter_adoptions(), start=start, end=end)
        return int(count or 0)

    async def initiatives(self, start: datetime, end: datetime) -> Sequence[tuple[str, str]]:
        """(name, commune) of the initiatives added to the panorama in the period."""
        return [(name, commune) for name, commune
                in await self._rows(q.initiatives(), start=start, end=end)]
