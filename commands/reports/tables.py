"""The report's annex (its tables, also its CSV files) and its charts, from the measures of the
period and of each of its years."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from commands.report_settings import IndicatorSpec, ReportSettings
from commands.reports.document import Cell, Chart, Indicator, Series, Table
from commands.reports.indicators import (
    CANCELLED,
    Measures,
    active_groups,
    active_statuses,
    measure,
    target,
)
from commands.reports.words import NOT_SAID, Words, by_profile, share, shown

if TYPE_CHECKING:
    from commands.i18n import Translator


def annex_tables(w: Words, m: Measures, by_year: Sequence[Measures],
                 summary: Sequence[Indicator], settings: ReportSettings) -> dict[str, Table]:
    """Every table of the report, by key (each is also a CSV file)."""
    t = w.t
    tables = [
        Table("indicateurs", t("bilan.table_indicators"),
              _heads(t, "indicator", "actual", "target", "share", "behind"),
              tuple((i.label, i.actual, i.target, share(i), t("bilan.yes") if i.behind else "")
                    for i in summary)),
        Table("evenements", t("bilan.table_events"),
              _heads(t, "number", "date", "kind", "title", "territory", "status", "members",
                     "guests", "counted", "attendance"),
              tuple((e.id, w.day(e.starts_at), w.kind(e.kind), e.title,
                     w.label("meeting_territory", e.territory),
                     w.label("meeting_status", e.status), e.named, e.guests, e.counted,
                     e.attendance) for e in m.events)),
        Table("groupes", t("bilan.table_groups"),
              _heads(t, "number", "name", "status", "territory", "members", "changes",
                     "progress", "needs_met", "funding"),
              tuple((g.id, g.name, w.label("status", g.status), w.label("territory", g.territory),
                     g.members, _of(m.status_changes, g.id), _of(m.progress, g.id),
                     _of(m.needs_met, g.id),
                     sum(f.amount_cents for f in m.funding if f.group_id == g.id) / 100)
                    for g in active_groups(m))),
        *_follow_up_tables(w, m),
        _cells_table(w, "presences_categories", t("bilan.table_by_category"),
                     m.turnout.by_category(), by_profile(m.participants, 1), w.category),
        _cells_table(w, "presences_territoires", t("bilan.table_by_territory"),
                     m.turnout.by_territory(), by_profile(m.participants, 0), w.territory),
        Table("annees", t("bilan.table_years"),
              (t("bilan.col_indicator"), *(str(y.period.first.year) for y in by_year)),
              tuple((spec.label, *(_year_cell(spec, y) for y in by_year))
                    for spec in settings.indicators)),
    ]
    return {table.key: table for table in tables}


def _follow_up_tables(w: Words, m: Measures) -> tuple[Table, ...]:
    """The actions decided, the remontées and the funding obtained."""
    t = w.t
    groups = {g.id: g.name for g in m.groups}
    return (
        Table("actions", t("bilan.table_actions"),
              _heads(t, "number", "event", "group", "action", "status", "due", "closed"),
              tuple((a.id, a.meeting_id, groups.get(a.group_id or 0, ""), a.text,
                     w.label("action_status", a.status), w.day(a.due_at) if a.due_at else "",
                     w.day(a.closed_at) if a.closed_at else "") for a in m.actions)),
        Table("remontees", t("bilan.table_remontees"),
              _heads(t, "number", "date", "text", "status", "carried", "answer", "answered"),
              tuple((r.id, w.day(r.created_at), r.text, w.label("remontee_status", r.status),
                     w.day(r.sent_at) if r.sent_at else "", r.answer,
                     w.day(r.answered_at) if r.answered_at else "") for r in m.remontees)),
        Table("financements", t("bilan.table_funding"),
              _heads(t, "date", "group", "funder", "amount"),
              tuple((w.day(f.day), groups.get(f.group_id, ""), f.funder, f.amount_cents / 100)
                    for f in m.funding)),
    )


def _year_cell(spec: IndicatorSpec, m: Measures) -> Cell:
    goal = target(spec, m.period)
    value = measure(spec, m)
    return value if goal is None else f"{shown(value)} / {shown(goal)}"


def _heads(t: Translator, *names: str) -> tuple[str, ...]:
    return tuple(t(f"bilan.col_{name}") for name in names)


def _of(rows: Iterable[object], group_id: int) -> int:
    return sum(1 for row in rows if getattr(row, "group_id", None) == group_id)


def _cells_table(w: Words, key: str, title: str, came: dict[str, int],
                 participants: dict[str, int], label: Callable[[str], str]) -> Table:
    keys = sorted(set(came) | set(participants), key=lambda k: (k == NOT_SAID, k))
    rows = tuple((label(k), came.get(k, 0), participants.get(k, 0)) for k in keys)
    return Table(key, title, _heads(w.t, "who", "came", "participants"), rows)


def charts(w: Words, m: Measures, by_year: Sequence[Measures]) -> tuple[Chart, ...]:
    t = w.t
    months: dict[str, Counter[str]] = {}
    for year in by_year:
        first = year.period.first
        for month in range(first.month, year.period.last.month + 1):
            months[f"{first.year}-{month:02d}"] = Counter()
    for e in m.events:
        if e.status == CANCELLED:
            continue
        cell = months.setdefault(f"{e.starts_at.astimezone(w.tz):%Y-%m}", Counter())
        cell["members"] += e.named
        cell["others"] += e.guests + e.counted
    labels = tuple(months)
    attendance = Chart("presences", t("bilan.chart_attendance"), "stacked", labels,
                       (Series(t("bilan.series_members"),
                               tuple(float(months[k]["members"]) for k in labels)),
                        Series(t("bilan.series_others"),
                               tuple(float(months[k]["others"]) for k in labels))),
                       t("report.chart_people"))
    drawn = [attendance]
    for key, index, name in (("categories", 1, w.category), ("territoires", 0, w.territory)):
        came = m.turnout.by_category() if index else m.turnout.by_territory()
        members = by_profile(m.participants, index)
        keys = sorted(set(came) | set(members), key=lambda k: (k == NOT_SAID, k))
        drawn.append(Chart(key, t(f"bilan.chart_{key}"), "bar", tuple(name(k) for k in keys),
                            (Series(t("bilan.series_participants"),
                                    tuple(float(members.get(k, 0)) for k in keys)),
                             Series(t("bilan.series_came"),
                                    tuple(float(came.get(k, 0)) for k in keys))),
                            t("report.chart_people")))
    statuses = active_statuses(m)
    drawn.append(Chart("groupes", t("bilan.chart_groups"), "bar",
                        tuple(w.label("status", s) for s in sorted(statuses)),
                        (Series(t("bilan.series_groups"),
                                tuple(float(statuses[s]) for s in sorted(statuses))),),
                        t("bilan.series_groups")))
    return tuple(drawn)
