"""Checks that the report's ``.odt`` opens in LibreOffice and shows how it looks.

    .venv/bin/python scripts/check_report_odt.py [--out DIR] [--pages N]

Builds the sample report (devtools/report_sample.py, written by hand: no database needed), writes
all its files to DIR (a temporary folder by default), converts the ``.odt`` headless to PDF with
LibreOffice, and renders the PDF's first N pages (1 by default) to ``docs/bilan-page<n>.png`` with
pdftoppm. Exits 1 when the conversion fails or gives no page.

Needs LibreOffice Writer and poppler (Debian: ``apt-get install --no-install-recommends
libreoffice-writer poppler-utils fonts-liberation2``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from commands.reports.files import report_files  # noqa: E402
from devtools.report_sample import sample_document  # noqa: E402

TOOLS = {"libreoffice": "libreoffice-writer", "pdftoppm": "poppler-utils"}


def missing_tools() -> list[str]:
    return [f"{tool} (Debian: {package})" for tool, package in TOOLS.items() if shutil.which(tool) is None]


def to_pdf(odt: Path, folder: Path) -> Path:
    """The ``.odt`` converted by LibreOffice, with a profile of its own (no clash with a
    LibreOffice already open)."""
    profile = folder / "lo-profile"
    subprocess.run(
        [
            "libreoffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            str(odt),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = folder / f"{odt.stem}.pdf"
    if not pdf.is_file():
        raise SystemExit(f"LibreOffice wrote no PDF for {odt}")
    return pdf


def render(pdf: Path, pages: int, folder: Path) -> list[Path]:
    written = []
    for page in range(1, pages + 1):
        target = ROOT / "docs" / f"bilan-page{page}.png"
        prefix = folder / f"page{page}"
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "70",
                "-f",
                str(page),
                "-l",
                str(page),
                "-singlefile",
                str(pdf),
                str(prefix),
            ],
            check=True,
            capture_output=True,
        )
        shutil.copyfile(prefix.with_suffix(".png"), target)
        written.append(target)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="where to keep the report's files")
    parser.add_argument("--pages", type=int, default=1, help="pages to render in docs/")
    args = parser.parse_args()
    missing = missing_tools()
    if missing:
        print(
            "Missing: " + ", ".join(missing) + ". Install them with apt-get install "
            "--no-install-recommends libreoffice-writer poppler-utils fonts-liberation2.",
            file=sys.stderr,
        )
        return 2
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.out or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in report_files(sample_document()).items():
            (folder / name).write_bytes(data)
            print(f"{folder / name} ({len(data)} bytes)")
        pdf = to_pdf(folder / "bilan-phase2.odt", folder)
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
        pages = next(int(line.split()[-1]) for line in info.stdout.splitlines() if line.startswith("Pages:"))
        print(f"{pdf}: {pages} pages")
        if pages < 1:
            return 1
        for path in render(pdf, min(args.pages, pages), folder):
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
