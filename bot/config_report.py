"""``[report.periods]`` and ``[report.indicators]``: the report's named periods and its
indicators with their targets, checked (``commands.reports.indicators``; docs/bilan.md)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from bot.config_reader import Reader
from commands.dates.days import parse_day
from commands.report_settings import (
    COUNT_KEYS,
    DEFAULT_INDICATORS,
    DEFAULT_PERIODS,
    EVENT_COUNTS,
    LABEL_MAX,
    NAME_PATTERN,
    STATUS_COUNTS,
    IndicatorSpec,
    NamedPeriod,
    ReportSettings,
)
from commands.vocabulary import MEETING_TERRITORIES, STATUSES

TARGET_MAX = 10_000_000
INDICATOR_KEYS = {"label", "counts", "kind", "territory", "status", "target_per_year",
                  "target_per_period"}


def read_report(r: Reader, event_kinds: Collection[str]) -> ReportSettings:
    """``event_kinds``: the keys of the club's kinds of events (``[events.kinds]``), which an
    indicator's ``kind`` names."""
    periods = _periods(r)
    return ReportSettings(periods, _indicators(r, {p.name for p in periods}, event_kinds))


def _table(r: Reader, name: str) -> Mapping[str, Any] | None:
    table = r.raw(name)
    if table is None:
        return None
    if not isinstance(table, Mapping) or not table:
        r.problem(name, "config.bad_report_table", section=name)
        return None
    return table


def _periods(r: Reader) -> tuple[NamedPeriod, ...]:
    table = _table(r, "report.periods")
    if table is None:
        return DEFAULT_PERIODS
    periods = []
    for name, value in table.items():
        key = f"report.periods.{name}"
        if not NAME_PATTERN.match(name) or name.isdigit():
            r.problem(key, "config.bad_report_name")
            continue
        if not isinstance(value, Mapping) or set(value) - {"du", "au", "label"}:
            r.problem(key, "config.bad_report_period")
            continue
        first, last = (_day(value.get(end)) for end in ("du", "au"))
        label = value.get("label", "")
        if first is None or last is None or last < first:
            r.problem(key, "config.bad_report_period")
        elif not isinstance(label, str) or len(label) > LABEL_MAX:
            r.problem(f"{key}.label", "config.bad_event_kind_label", maximum=LABEL_MAX)
        else:
            periods.append(NamedPeriod(name, first, last, " ".join(label.split())))
    return tuple(periods)


def _day(value: object) -> date | None:
    if isinstance(value, date):  # TOML's own dates: du = 2024-01-01
        return value
    return parse_day(value) if isinstance(value, str) else None


def _indicators(r: Reader, period_names: set[str],
                event_kinds: Collection[str]) -> tuple[IndicatorSpec, ...]:
    table = _table(r, "report.indicators")
    if table is None:
        return DEFAULT_INDICATORS
    specs = []
    for key, value in table.items():
        spec = _indicator(r, f"report.indicators.{key}", key, value, period_names)
        if spec is not None:
            _known_filters(r, f"report.indicators.{key}", spec, event_kinds)
            specs.append(spec)
    return tuple(specs)


def _known_filters(r: Reader, name: str, spec: IndicatorSpec,
                   event_kinds: Collection[str]) -> None:
    """An indicator's filters name kinds, a territory and a status the club has (a typo
    would count nothing, silently)."""
    for kind in spec.kinds:
        if kind not in event_kinds:
            r.problem(f"{name}.kind", "config.bad_report_value", value=kind[:40],
                      choices=", ".join(event_kinds))
    if spec.territory and spec.territory not in MEETING_TERRITORIES.keys:
        r.problem(f"{name}.territory", "config.bad_report_value", value=spec.territory[:40],
                  choices=", ".join(MEETING_TERRITORIES.keys))
    if spec.status and spec.status not in STATUSES.keys:
        r.problem(f"{name}.status", "config.bad_report_value", value=spec.status[:40],
                  choices=", ".join(STATUSES.keys))


def _indicator(r: Reader, name: str, key: str, value: object,
               period_names: set[str]) -> IndicatorSpec | None:
    if not NAME_PATTERN.match(key) or not isinstance(value, Mapping):
        r.problem(name, "config.bad_report_indicator")
        return None
    for unknown in sorted(set(value) - INDICATOR_KEYS):
        r.problem(f"{name}.{unknown}", "config.unknown_key")
    label, counts = value.get("label"), value.get("counts")
    if not isinstance(label, str) or not label.strip() or len(label) > LABEL_MAX:
        r.problem(f"{name}.label", "config.bad_event_kind_label", maximum=LABEL_MAX)
        return None
    if counts not in COUNT_KEYS:
        r.problem(f"{name}.counts", "config.bad_report_counts", choices=", ".join(COUNT_KEYS))
        return None
    kinds = value.get("kind", ())
    kinds = (kinds,) if isinstance(kinds, str) else kinds
    if (kinds or "territory" in value) and counts not in EVENT_COUNTS:
        r.problem(f"{name}.kind", "config.bad_report_filter", counts=counts)
    if "status" in value and counts not in STATUS_COUNTS:
        r.problem(f"{name}.status", "config.bad_report_filter", counts=counts)
    if not isinstance(kinds, (list, tuple)) or not all(isinstance(k, str) for k in kinds):
        r.problem(f"{name}.kind", "config.bad_report_indicator")
        kinds = ()
    per_year = value.get("target_per_year")
    if per_year is not None and not _target(per_year):
        r.problem(f"{name}.target_per_year", "config.bad_report_target", maximum=TARGET_MAX)
        per_year = None
    per_period = value.get("target_per_period", {})
    if not isinstance(per_period, Mapping) or not all(_target(v) for v in per_period.values()):
        r.problem(f"{name}.target_per_period", "config.bad_report_target", maximum=TARGET_MAX)
        per_period = {}
    for period in sorted(set(per_period) - period_names):
        r.problem(f"{name}.target_per_period.{period}", "config.bad_report_target_period",
                  choices=", ".join(sorted(period_names)) or "—")
    return IndicatorSpec(key, " ".join(label.split()), str(counts), tuple(kinds),
                         str(value.get("territory", "")), str(value.get("status", "")),
                         per_year, dict(per_period))


def _target(value: object) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and 0 <= value <= TARGET_MAX)
