"""The report's .odt opened by LibreOffice (converted headless to PDF): every indicator, table
title and chart caption in the PDF's text, for the sample report and for one full of odd text."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from commands.reports import parts
from commands.reports.document import ReportDocument
from commands.reports.files import report_files
from commands.reports.writing import clean
from devtools.report_sample import sample_document
from scripts.check_report_odt import to_pdf
from tests.conftest import unavailable
from tests.unit.test_report_files import LONG, rich_document


def _pdf_text(document: ReportDocument, folder: Path) -> str:
    if shutil.which("libreoffice") is None or shutil.which("pdftotext") is None:
        unavailable(
            "LibreOffice or poppler missing: apt-get install --no-install-recommends "
            "libreoffice-writer poppler-utils fonts-liberation2"
        )
    for name, data in report_files(document).items():
        (folder / name).write_bytes(data)
    pdf = to_pdf(folder / parts.odt_name(document), folder)
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def _words(value: str) -> str:
    return " ".join(clean(value).split())


@pytest.mark.parametrize("build", [sample_document, rich_document])
def test_libreoffice_reads_the_whole_report(build: object, tmp_path: Path) -> None:
    assert callable(build)
    document: ReportDocument = build()
    pdf_text = _pdf_text(document, tmp_path)
    flat = _words(pdf_text)
    expected = [
        document.period_label,
        *(indicator.label for indicator in document.indicators if indicator.label.isascii()),
        *(table.title for table in parts.report_tables(document).values()),
        *(f"Figure {i} : {chart.title}" for i, chart in enumerate(document.charts, 1)),
    ]
    missing = [text for text in expected if _words(text) not in flat and text.isprintable()]
    assert not missing
    assert flat.count("en retard") == sum(indicator.behind for indicator in document.indicators)
    assert pdf_text.count("\f") >= 5  # the title page, the summary, charts, sections, annex


def test_the_long_and_odd_texts_are_all_there(tmp_path: Path) -> None:
    flat = _words(_pdf_text(rich_document(), tmp_path))
    assert flat.count(_words(LONG)[:200]) >= 2  # a paragraph and a table cell
    assert "<b>gras</b> & « guillemets » **markdown**" in flat
