"""The files a report is made of and their names: ``<stem>.odt``, ``<stem>-<key>.csv`` for each
table, ``<stem>-<key>.png`` for each chart. A name is made of ASCII letters, digits and dashes
only, whatever the document holds; two tables never share a file."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Iterator

from commands.reports.document import Chart, ReportDocument, Section, Table

_UNSAFE = re.compile(r"[^a-z0-9]+")


def safe_part(text: str, fallback: str) -> str:
    """« Phase 2 / été » → ``phase-2-ete``: a piece of a file name that no system refuses."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    part = _UNSAFE.sub("-", ascii_text.lower()).strip("-")[:60].strip("-")
    return part or fallback


def _free_key(key: str, fallback: str, taken: Container[str]) -> str:
    """The key made safe, then ``-2``, ``-3``… until no file of the report has it."""
    free = base = safe_part(key, fallback)
    number = 1
    while free in taken:
        number += 1
        free = f"{base}-{number}"
    return free


def _section_tables(sections: tuple[Section, ...]) -> Iterator[Table]:
    for section in sections:
        yield from section.tables
        yield from _section_tables(section.subsections)


def report_tables(document: ReportDocument) -> dict[str, Table]:
    """Every table of the report (the annex's, then any other in the sections), each once, by
    the stem of its file: a second table under a key already taken gets ``-2``, ``-3``…"""
    tables: dict[str, Table] = {}
    for table in (*document.annex, *_section_tables(document.sections)):
        if table in tables.values():
            continue
        tables[_free_key(table.key, "tableau", tables)] = table
    return tables


def report_charts(document: ReportDocument) -> dict[str, Chart]:
    """The charts by the stem of their file, made unique as the tables'."""
    charts: dict[str, Chart] = {}
    for chart in document.charts:
        charts[_free_key(chart.key, "graphique", charts)] = chart
    return charts


def stem(document: ReportDocument) -> str:
    return safe_part(document.file_stem, "bilan")


def odt_name(document: ReportDocument) -> str:
    return f"{stem(document)}.odt"


def csv_name(document: ReportDocument, key: str) -> str:
    return f"{stem(document)}-{key}.csv"


def png_name(document: ReportDocument, key: str) -> str:
    return f"{stem(document)}-{key}.png"
