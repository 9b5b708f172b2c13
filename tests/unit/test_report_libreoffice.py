"""The sample report's .odt opened by LibreOffice (converted headless to PDF): every page there,
every indicator, table title and chart caption in the PDF's text."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from commands.reports import parts
from commands.reports.files import report_files
from devtools.report_sample import sample_document
from scripts.check_report_odt import to_pdf
from tests.conftest import unavailable


def test_libreoffice_reads_the_whole_report(tmp_path: Path) -> None:
    if shutil.which("libreoffice") is None or shutil.which("pdftotext") is None:
        unavailable(
            "LibreOffice or poppler missing: apt-get install --no-install-recommends "
            "libreoffice-writer poppler-utils fonts-liberation2"
        )
    document = sample_document()
    for name, data in report_files(document).items():
        (tmp_path / name).write_bytes(data)
    pdf = to_pdf(tmp_path / parts.odt_name(document), tmp_path)
    words = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(words.split())
    expected = [
        document.title,
        document.period_label,
        *(indicator.label for indicator in document.indicators),
        *(table.title for table in parts.report_tables(document).values()),
        *(f"Figure {i} : {chart.title}" for i, chart in enumerate(document.charts, 1)),
    ]
    missing = [text for text in expected if " ".join(text.split()) not in flat]
    assert not missing
    assert flat.count("en retard") == sum(indicator.behind for indicator in document.indicators)
    assert words.count("\f") >= 6  # the title page, the summary, the charts, sections, annex
