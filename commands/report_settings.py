"""The report's settings, as the config gives them (``[report.periods]``,
``[report.indicators]``), these by default: the periods named (the contract's phases) and the
indicators, each with what it counts (a key of ``COUNT_KEYS``, measured by
``commands.reports.indicators``), an optional filter and optional targets. See docs/bilan.md."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
LABEL_MAX = 120
CLUB_KINDS = ("rencontre", "territoriale")  # the club's own meetings (« réunir le CCT »)
# What an indicator may count (docs/bilan.md); the first ones take the events' kind and
# territory as filter, ``groups_active`` the groups' status.
EVENT_COUNTS = ("events_held", "joint_rencontres", "attendance")
STATUS_COUNTS = ("groups_active",)
COUNT_KEYS = (*EVENT_COUNTS, "participants", "new_participants", "people_mobilised",
              *STATUS_COUNTS, "group_status_changes", "actions_decided", "actions_done",
              "remontees_made", "remontees_carried", "remontees_answered", "initiatives_added",
              "funding_obtained", "proposals", "decisions_taken", "decision_participants",
              "charter_adoptions")


@dataclass(frozen=True)
class NamedPeriod:
    """A period of the config: ``phase2 = { du = "2024-01-01", au = "2026-10-31" }``."""

    name: str
    first: date
    last: date
    label: str = ""


DEFAULT_PERIODS: tuple[NamedPeriod, ...] = (
    NamedPeriod("phase1", date(2019, 5, 1), date(2022, 5, 31),
                "Phase 1 du contrat d'objectifs"),
    NamedPeriod("phase2", date(2024, 1, 1), date(2026, 10, 31),
                "Phase 2 du contrat d'objectifs"),
)


@dataclass(frozen=True)
class IndicatorSpec:
    """One indicator of ``[report.indicators]``."""

    key: str
    label: str
    counts: str  # a key of COUNTS
    kinds: tuple[str, ...] = ()  # events of these kinds only (events, attendance)
    territory: str = ""  # events of this territory only (events, attendance)
    status: str = ""  # groups of this status only (groups_active)
    target_per_year: float | None = None  # pro rata for a part of a year
    target_per_period: Mapping[str, float] = field(default_factory=dict)  # by period name


DEFAULT_INDICATORS: tuple[IndicatorSpec, ...] = (
    IndicatorSpec("rencontres", "Rencontres du club tenues", "events_held", kinds=CLUB_KINDS,
                  target_per_year=3),
    IndicatorSpec("rencontres_communes", "Rencontres communes aux deux territoires",
                  "joint_rencontres", target_per_year=2),
    IndicatorSpec("mobilisation", "Personnes mobilisées", "people_mobilised",
                  target_per_period={"phase1": 3500, "phase2": 3500}),
    IndicatorSpec("evenements", "Événements tenus (tous types)", "events_held"),
    IndicatorSpec("presences", "Présences aux événements", "attendance"),
    IndicatorSpec("webinaires", "Présences aux webinaires", "attendance", kinds=("webinaire",)),
    IndicatorSpec("participants", "Participants (membres du club)", "participants"),
    IndicatorSpec("nouveaux", "Nouveaux participants", "new_participants"),
    IndicatorSpec("groupes", "Groupes-projets actifs", "groups_active"),
    IndicatorSpec("actions", "Actions décidées aux événements", "actions_decided"),
    IndicatorSpec("actions_faites", "Actions réalisées", "actions_done"),
    IndicatorSpec("remontees", "Remontées portées aux élus", "remontees_carried"),
    IndicatorSpec("reponses", "Réponses des élus", "remontees_answered"),
    IndicatorSpec("initiatives", "Initiatives ajoutées au panorama", "initiatives_added"),
    IndicatorSpec("financements", "Financements obtenus (€)", "funding_obtained"),
)


@dataclass(frozen=True)
class ReportSettings:
    """``[report]``: the named periods and the indicators, in the config's order."""

    periods: tuple[NamedPeriod, ...] = DEFAULT_PERIODS
    indicators: tuple[IndicatorSpec, ...] = DEFAULT_INDICATORS
