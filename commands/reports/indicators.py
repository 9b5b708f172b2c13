"""The measure of the report's indicators (``commands.report_settings``) over a period, from
what the period holds (``Measures``), and their targets for that period."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from commands.report_settings import CLUB_KINDS, IndicatorSpec
from commands.reports.periods import Period

if TYPE_CHECKING:
    from datetime import datetime

    from storage.attendance import Turnout
    from storage.report import ActionRow, Dated, EventRow, FundingRow, GroupRow, RemonteeRow

HELD, CANCELLED, DONE, ARCHIVED = "tenue", "annulee", "faite", "archive"
JOINT = "commun"  # the territory of an event for both territorial groups


@dataclass(frozen=True)
class Decisions:
    """The collective decisions of a period (docs/decisions.md): proposals opened, outcomes
    written, and the people who took a position (not withdrawn) on a proposal."""

    proposals: int = 0
    decided: int = 0
    people: int = 0


@dataclass(frozen=True)
class Measures:
    """Everything counted over one period (or one year of it)."""

    period: Period
    start: datetime  # the period's bounds (UTC)
    end: datetime
    events: tuple[EventRow, ...]
    participants: Counter[tuple[str, str]]  # (territory, category) → people, once each
    newcomers: Counter[tuple[str, str]]
    participants_until: int  # everyone who took part before the period's end
    attendees: int  # members named at an event, once each
    turnout: Turnout  # everyone who came, once per event, by territory and category
    groups: tuple[GroupRow, ...]  # created before the period's end (the report's detail)
    group_statuses: Mapping[str, int]  # how many of them have each status (archived too)
    status_changes: tuple[Dated, ...]
    progress: tuple[Dated, ...]
    needs_met: tuple[Dated, ...]
    funding: tuple[FundingRow, ...]
    actions: tuple[ActionRow, ...]
    remontees: tuple[RemonteeRow, ...]
    suggestions: Mapping[str, int]
    initiatives: tuple[tuple[str, str], ...]
    decisions: Decisions
    charter_adoptions: int  # people whose adoption of the cadre de confiance is in the period

    def in_period(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


def target(spec: IndicatorSpec, period: Period) -> float | None:
    """The target of ``period``: its own (a named period's), else the yearly one summed over
    its years, each part of a year pro rata of its days."""
    if period.name and period.name in spec.target_per_period:
        return spec.target_per_period[period.name]
    if spec.target_per_year is None:
        return None
    total = sum(spec.target_per_year * part.share_of_year() for part in period.years())
    return round(total) if abs(total - round(total)) < 1e-9 else round(total, 1)


def _events(spec: IndicatorSpec, m: Measures, held: bool) -> list[EventRow]:
    return [e for e in m.events
            if (e.status == HELD if held else e.status != CANCELLED)
            and (not spec.kinds or e.kind in spec.kinds)
            and (not spec.territory or e.territory == spec.territory)]


def _joint(spec: IndicatorSpec, m: Measures) -> int:
    kinds = spec.kinds or CLUB_KINDS
    return sum(1 for e in m.events if e.status == HELD and e.kind in kinds
               and e.territory == JOINT)


def _groups_active(spec: IndicatorSpec, m: Measures) -> int:
    return sum(count for status, count in active_statuses(m).items()
               if not spec.status or status == spec.status)


# What an indicator may count: key → its measure over a period. Documented in docs/bilan.md.
COUNTS: dict[str, Callable[[IndicatorSpec, Measures], float]] = {
    "events_held": lambda s, m: len(_events(s, m, held=True)),
    "joint_rencontres": _joint,
    "attendance": lambda s, m: sum(e.attendance for e in _events(s, m, held=False)),
    "participants": lambda s, m: sum(m.participants.values()),
    "new_participants": lambda s, m: sum(m.newcomers.values()),
    "people_mobilised": lambda s, m: (sum(m.participants.values()) + m.turnout.guests
                                      + m.turnout.counted),
    "groups_active": _groups_active,
    "group_status_changes": lambda s, m: len(m.status_changes),
    "actions_decided": lambda s, m: len(m.actions),
    "actions_done": lambda s, m: sum(1 for a in m.actions
                                     if a.status == DONE and m.in_period(a.closed_at)),
    "remontees_made": lambda s, m: sum(1 for r in m.remontees if m.in_period(r.created_at)),
    "remontees_carried": lambda s, m: sum(1 for r in m.remontees if m.in_period(r.sent_at)),
    "remontees_answered": lambda s, m: sum(1 for r in m.remontees
                                           if m.in_period(r.answered_at)),
    "initiatives_added": lambda s, m: len(m.initiatives),
    "funding_obtained": lambda s, m: sum(f.amount_cents for f in m.funding) / 100,
    "proposals": lambda s, m: m.decisions.proposals,
    "decisions_taken": lambda s, m: m.decisions.decided,
    "decision_participants": lambda s, m: m.decisions.people,
    "charter_adoptions": lambda s, m: m.charter_adoptions,
}


def measure(spec: IndicatorSpec, measures: Measures) -> float:
    value = COUNTS[spec.counts](spec, measures)
    return int(value) if float(value).is_integer() else round(value, 2)


def active_statuses(m: Measures) -> dict[str, int]:
    """How many groups not archived have each status, by status."""
    return {status: count for status, count in sorted(m.group_statuses.items())
            if status != ARCHIVED}


def active_groups(m: Measures) -> list[GroupRow]:
    """The groups active in the period: not archived, or something happened to them in it."""
    touched = {row.group_id for rows in (m.status_changes, m.progress, m.needs_met, m.funding)
               for row in rows}
    touched |= {a.group_id for a in m.actions if a.group_id}
    return [g for g in m.groups if g.status != ARCHIVED or g.id in touched]
