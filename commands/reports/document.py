"""The report as a document, independent of its file formats.

What the report says (its content: periods, indicators, the actions taken) is built into a
``ReportDocument``; how it is written (OpenDocument text, CSV tables, PNG charts, the summary
posted in the room) is done from that document alone. Every text in it is already translated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Cell = str | int | float | None  # None: nothing to show (no target, say)


@dataclass(frozen=True)
class Table:
    """A table of the report; each is also written as one CSV file named ``<key>.csv``."""

    key: str  # stable file-name stem, ASCII: "indicateurs", "evenements", "groupes"…
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class Series:
    label: str
    values: tuple[float, ...]  # one per label of the chart


@dataclass(frozen=True)
class Chart:
    """A chart of the report, drawn as ``<key>.png``: bars or lines over ``labels``."""

    key: str
    title: str
    kind: Literal["bar", "line", "stacked"]
    labels: tuple[str, ...]  # the x axis: months, years, categories…
    series: tuple[Series, ...]
    y_label: str = ""


@dataclass(frozen=True)
class Indicator:
    """One line of the summary: what was reached against its target, if it has one."""

    key: str
    label: str
    actual: int | float
    target: int | float | None = None

    @property
    def share(self) -> float | None:
        """The share of the target reached (1.0 = reached), None without a target."""
        if not self.target:
            return None
        return self.actual / self.target

    @property
    def behind(self) -> bool:
        return self.target is not None and self.actual < self.target


@dataclass(frozen=True)
class Section:
    """A titled part of the report: paragraphs of text, then its tables."""

    title: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    subsections: tuple[Section, ...] = ()


@dataclass(frozen=True)
class ReportDocument:
    """The whole report: title page, summary of indicators, charts, sections, annex."""

    file_stem: str  # "bilan-phase2", "bilan-2025", "bilan-2024-01-01-2026-10-31"
    title: str
    subtitle: str  # the club and the period, in words
    period_label: str
    indicators: tuple[Indicator, ...]
    charts: tuple[Chart, ...] = ()
    sections: tuple[Section, ...] = ()
    annex: tuple[Table, ...] = ()  # every table of the report, also the CSV files
    notes: tuple[str, ...] = field(default=())  # how things are counted, in a few lines
