"""What the report says, for any period: its indicators against their targets, the actions
taken in words (groups, events, actions, remontées), its tables and charts, as a
``ReportDocument``, from what the period holds (``gather``). The counting rules are in
docs/bilan.md."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from commands.report_settings import IndicatorSpec, ReportSettings
from commands.reports.document import Indicator, ReportDocument, Section, Table
from commands.reports.indicators import (
    CANCELLED,
    DONE,
    HELD,
    Decisions,
    Measures,
    active_groups,
    measure,
    target,
)
from commands.reports.periods import Period
from commands.reports.tables import annex_tables, charts
from commands.reports.words import Words
from commands.text import euros

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from commands.context import Club
    from commands.i18n import Translator
    from storage.repositories import Repositories

async def gather(repos: Repositories, period: Period, tz: ZoneInfo, *,
                 detailed: bool = True) -> Measures:
    """Everything the report counts over ``period``, read from the database; the groups one
    by one, their progress notes and needs met (what the report tells, no indicator counts:
    they count the groups by status) only if ``detailed``: ``!stats`` does without them."""
    start, end = period.bounds(tz)
    report = repos.report
    took_part = await report.participants(start, end, (period.first.year, period.last.year),
                                          period.whole_years)
    return Measures(
        period=period, start=start, end=end,
        events=tuple(await report.events(start, end)),
        participants=Counter({cell: people for cell, (people, _new) in took_part.items()}),
        newcomers=Counter({cell: new for cell, (_people, new) in took_part.items() if new}),
        participants_until=await report.participants_until(end),
        attendees=await report.attendees(start, end),
        turnout=await repos.attendance.turnout_between(start, end),
        groups=tuple(await report.groups(end)) if detailed else (),
        group_statuses=await report.group_statuses(end),
        status_changes=tuple(await report.status_changes(start, end)),
        progress=tuple(await report.progress(start, end)) if detailed else (),
        needs_met=tuple(await report.needs_met(start, end)) if detailed else (),
        funding=tuple(await report.funding(period.first, period.last)),
        actions=tuple(await report.actions(start, end)),
        remontees=tuple(await report.remontees(start, end)),
        suggestions=await report.suggestions(start, end),
        initiatives=tuple(await report.initiatives(start, end)),
        decisions=Decisions(*await report.decisions(start, end)),
        charter_adoptions=await report.charter_adoptions(start, end),
    )


def indicators(specs: Iterable[IndicatorSpec], measures: Measures) -> tuple[Indicator, ...]:
    """The summary's lines: each indicator's measure and its target over the period."""
    return tuple(Indicator(spec.key, spec.label, measure(spec, measures),
                           target(spec, measures.period)) for spec in specs)


# --- the document ----------------------------------------------------------------------------

async def build_report(repos: Repositories, period: Period, club: Club, t: Translator,
                       settings: ReportSettings) -> ReportDocument:
    """The report of ``period``: summary, charts, the actions taken in words, the annex."""
    tz = club.tz
    whole = await gather(repos, period, tz)
    years = period.years()
    by_year = [whole] if len(years) == 1 else [await gather(repos, part, tz, detailed=False)
                                               for part in years]
    words = Words(t, tz, club)
    summary = indicators(settings.indicators, whole)
    tables = annex_tables(words, whole, by_year, summary, settings)
    sections = (_events_section(words, whole, tables), _groups_section(words, whole),
                _actions_section(words, whole, tables), _remontees_section(words, whole),
                _participation_section(words, whole, tables),
                _years_section(words, by_year, tables))
    period_label = words.period(period)
    return ReportDocument(
        file_stem=f"bilan-{period.key}",
        title=t("bilan.title", club=club.name),
        subtitle=t("bilan.subtitle", club=club.name, period=period_label),
        period_label=period_label,
        indicators=summary,
        charts=charts(words, whole, by_year),
        sections=sections,
        annex=tuple(tables.values()),
        notes=tuple(t(f"bilan.note_{n}") for n in ("participants", "attendance", "period",
                                                    "names")),
    )


# --- sections --------------------------------------------------------------------------------

def _events_section(w: Words, m: Measures, tables: dict[str, Table]) -> Section:
    t = w.t
    parts = []
    kinds = dict.fromkeys(e.kind for e in m.events)
    for kind in kinds:
        events = [e for e in m.events if e.kind == kind]
        held = [e for e in events if e.status == HELD]
        came = sum(e.attendance for e in events if e.status != CANCELLED)
        lines = [t("bilan.kind_summary", held=len(held), cancelled=sum(
            1 for e in events if e.status == CANCELLED), came=came)]
        lines += [t("bilan.event_line", date=w.day(e.starts_at), title=e.title or w.kind(e.kind),
                    territory=w.label("meeting_territory", e.territory),
                    status=w.label("meeting_status", e.status), came=e.attendance,
                    named=e.named, others=e.guests + e.counted) for e in events]
        parts.append(Section(w.kind(kind), tuple(lines)))
    intro = (t("bilan.events_intro", count=len(m.events)),) if m.events else (
        t("bilan.events_none"),)
    return Section(t("bilan.section_events"), intro, (tables["evenements"],), tuple(parts))


def _groups_section(w: Words, m: Measures) -> Section:
    t = w.t
    parts = []
    for group in active_groups(m):
        lines = [t("bilan.group_status", status=w.label("status", group.status),
                   members=group.members)]
        lines += [t("bilan.group_change", date=w.day(c.at), old=c.old, new=c.new)
                  for c in m.status_changes if c.group_id == group.id]
        lines += [t("bilan.group_progress", date=w.day(p.at), text=p.text)
                  for p in m.progress if p.group_id == group.id]
        lines += [t("bilan.group_need_met", date=w.day(n.at), text=n.text)
                  for n in m.needs_met if n.group_id == group.id]
        lines += [t("bilan.group_funding", date=w.day(f.day), funder=f.funder,
                    amount=euros(f.amount_cents))
                  for f in m.funding if f.group_id == group.id]
        if group.funding_note:
            lines.append(t("bilan.group_funding_note", text=group.funding_note))
        lines += [t("bilan.group_action", text=a.text, status=w.label("action_status", a.status))
                  for a in m.actions if a.group_id == group.id]
        parts.append(Section(group.name, tuple(lines)))
    intro = t("bilan.groups_intro", count=len(parts)) if parts else t("bilan.groups_none")
    return Section(t("bilan.section_groups"), (intro,), subsections=tuple(parts))


def _actions_section(w: Words, m: Measures, tables: dict[str, Table]) -> Section:
    t = w.t
    done = sum(1 for a in m.actions if a.status == DONE)
    open_ = sum(1 for a in m.actions if a.status not in (DONE, CANCELLED))
    text = t("bilan.actions_intro", count=len(m.actions), done=done, open=open_)
    return Section(t("bilan.section_actions"), (text,), (tables["actions"],))


def _remontees_section(w: Words, m: Measures) -> Section:
    t = w.t
    lines = [t("bilan.remontees_intro", made=sum(1 for r in m.remontees
                                                  if m.in_period(r.created_at)),
               carried=sum(1 for r in m.remontees if m.in_period(r.sent_at)),
               answered=sum(1 for r in m.remontees if m.in_period(r.answered_at)))]
    for r in m.remontees:
        if r.sent_at is None:
            continue
        line = t("bilan.remontee_carried", date=w.day(r.sent_at), text=r.text)
        if r.answered_at is not None:
            line += " " + t("bilan.remontee_answer", date=w.day(r.answered_at), answer=r.answer)
        lines.append(line)
    return Section(t("bilan.section_remontees"), tuple(lines))


def _participation_section(w: Words, m: Measures, tables: dict[str, Table]) -> Section:
    t = w.t
    text = t("bilan.participation_intro", participants=sum(m.participants.values()),
             new=sum(m.newcomers.values()), came=m.turnout.total,
             without=m.turnout.guests + m.turnout.counted, attendees=m.attendees,
             initiatives=len(m.initiatives))
    initiatives = tuple(t("bilan.initiative_line", name=name, commune=commune)
                        for name, commune in m.initiatives)
    return Section(t("bilan.section_participation"), (text, *initiatives),
                   (tables["presences_categories"], tables["presences_territoires"]))


def _years_section(w: Words, by_year: Sequence[Measures], tables: dict[str, Table]) -> Section:
    return Section(w.t("bilan.section_years"), (w.t("bilan.years_intro", count=len(by_year)),),
                   (tables["annees"],))
