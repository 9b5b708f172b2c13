"""The figures as text: ``!stats``, the report (Markdown) and its tables (CSV)."""

from __future__ import annotations

import html
from zoneinfo import ZoneInfo

import cmarkgfm

from commands.csvfiles import csv_text
from commands.i18n import Translator
from commands.reports.figures import NOT_SAID, Figures


def _label(t: Translator, section: str, key: str) -> str:
    if key == NOT_SAID:
        return t("report.not_said")
    name = f"{section}.{key}"
    return t(name) if t.has(name) else key


def _counts(t: Translator, section: str, counts: dict[str, int]) -> str:
    if not counts:
        return t("report.none")
    return ", ".join(f"{_label(t, section, key)} {value}" for key, value in counts.items())


def stats_text(figures: Figures, t: Translator) -> str:
    """``!stats``: the year's figures in a few lines."""
    f = figures
    return "\n".join([
        t("report.stats_title", year=f.year),
        "",
        t("report.line_participants", year=f.participants_year, total=f.participants_total,
          new=f.new_participants),
        t("report.line_attended", attended=f.attended, held=f.meetings_held,
          attendance=f.attendance_total),
        t("report.line_turnout", total=f.turnout.total,
          without=f.turnout.total - f.turnout.members),
        t("report.line_territory", counts=_counts(t, "territory", f.by_territory)),
        t("report.line_category", counts=_counts(t, "profile_category", f.by_category)),
        t("report.line_groups", count=f.active_groups,
          counts=_counts(t, "status", f.groups_by_status)),
        t("report.line_suggestions", count=sum(f.suggestions.values()),
          accepted=f.suggestions.get("acceptee", 0)),
        t("report.line_remontees", count=sum(f.remontees.values()),
          answered=f.remontees.get("repondue", 0)),
        t("report.line_decisions", count=f.decisions.proposals, decided=f.decisions.decided,
          people=f.decisions.people),
    ])


def report_markdown(figures: Figures, t: Translator, club: str, tz: ZoneInfo) -> str:
    """The yearly report: summary, rencontres, groups, participants."""
    f = figures
    lines = [t("report.title", club=club, year=f.year), "", stats_text(f, t).split("\n", 2)[2], "",
             t("report.meetings_title"), "",
             "| n° | " + " | ".join(t(f"report.col_{c}") for c in
                                     ("date", "territory", "status", "attendance", "rsvps")) + " |",
             "|---|---|---|---|---|---|"]
    for m in f.meetings:
        territory = _label(t, "meeting_territory", m.territory)
        status = _label(t, "meeting_status", m.status)
        lines.append(f"| {m.id} | {m.starts_at.astimezone(tz):%d/%m/%Y %H:%M} | {territory} | "
                     f"{status} | {m.attendance} | {m.rsvps} |")
    lines += ["", t("report.groups_title"), "",
              "| n° | " + " | ".join(t(f"report.col_{c}") for c in
                                     ("name", "status", "territory", "members")) + " |",
              "|---|---|---|---|---|"]
    for g in f.groups:
        name = g.name.replace("|", "\\|")
        lines.append(f"| {g.id} | {name} | {_label(t, 'status', g.status)} | "
                     f"{_label(t, 'territory', g.territory)} | {g.members} |")
    lines += ["", t("report.cumulative_title"), "",
              "| " + t("report.chart_month") + " | " + " | ".join(str(m) for m in range(1, 13)) + " |",
              "|---" * 13 + "|",
              "| " + t("report.chart_people") + " | " + " | ".join(str(c) for c in f.cumulative) + " |",
              "", t("report.footer")]
    return "\n".join(lines) + "\n"


def summary_csv(figures: Figures) -> str:
    """One indicator per line (stable English keys; values are exact counts)."""
    f = figures
    rows: list[list[object]] = [["indicator", "key", "value"],
                                ["participants_year", "", f.participants_year],
                                ["participants_total", "", f.participants_total],
                                ["new_participants", "", f.new_participants],
                                ["attended_at_least_once", "", f.attended],
                                ["meetings_held", "", f.meetings_held],
                                ["attendance_total", "", f.attendance_total],
                                ["active_groups", "", f.active_groups]]
    rows += [["participants_by_territory", k, v] for k, v in f.by_territory.items()]
    rows += [["participants_by_category", k, v] for k, v in f.by_category.items()]
    rows += [["groups_by_status", k, v] for k, v in f.groups_by_status.items()]
    rows += [["suggestions_by_status", k, v] for k, v in sorted(f.suggestions.items())]
    rows += [["remontees_by_status", k, v] for k, v in sorted(f.remontees.items())]
    rows += [["proposals", "", f.decisions.proposals],
             ["decisions_taken", "", f.decisions.decided],
             ["decision_participants", "", f.decisions.people]]
    rows += [["participants_cumulative_month", str(m), c] for m, c in enumerate(f.cumulative, 1)]
    return csv_text(rows)


def meetings_csv(figures: Figures, tz: ZoneInfo) -> str:
    rows: list[list[object]] = [["id", "date", "territory", "status", "place", "attendance",
                                 "rsvps_present"]]
    rows += [[m.id, m.starts_at.astimezone(tz).isoformat(), m.territory, m.status, m.place,
              m.attendance, m.rsvps] for m in figures.meetings]
    return csv_text(rows)


def groups_csv(figures: Figures) -> str:
    rows: list[list[object]] = [["id", "name", "status", "territory", "members"]]
    rows += [[g.id, g.name, g.status, g.territory, g.members] for g in figures.groups]
    return csv_text(rows)


def report_html(markdown: str, title: str) -> str:
    """The Markdown report as a standalone web page (cmark-gfm's safe mode: raw HTML in the
    source is left out)."""
    body: str = cmarkgfm.markdown_to_html_with_extensions(markdown, extensions=["table"])
    return ("<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title>"
            "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
            "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .5em}"
            "</style></head>\n<body>\n" + body + "</body></html>\n")


def report_files(figures: Figures, t: Translator, club: str, tz: ZoneInfo) -> dict[str, bytes]:
    """Every file of the report, by file name."""
    from commands.reports.chart import chart_png

    year = figures.year
    markdown = report_markdown(figures, t, club, tz)
    return {
        f"bilan-{year}.md": markdown.encode(),
        f"bilan-{year}.html": report_html(markdown, f"{club} — {year}").encode(),
        f"bilan-{year}-indicateurs.csv": summary_csv(figures).encode(),
        f"bilan-{year}-rencontres.csv": meetings_csv(figures, tz).encode(),
        f"bilan-{year}-groupes.csv": groups_csv(figures).encode(),
        f"bilan-{year}-graphique.png": chart_png(figures, t, str(tz)),
    }
