"""Every file of the report, from its ``ReportDocument`` alone: the OpenDocument text, one CSV
per table (as French spreadsheets open them), one PNG per chart. The texts are the same in every
file: control characters are dropped from the CSV cells as from the document."""

from __future__ import annotations

from commands.csvfiles import spreadsheet_csv
from commands.i18n import Translator
from commands.reports import parts
from commands.reports.document import ReportDocument
from commands.reports.writing import clean

MIMETYPES = {
    "odt": "application/vnd.oasis.opendocument.text",
    "csv": "text/csv",
    "png": "image/png",
}


def mimetype(filename: str) -> str:
    """The media type of one of the report's files, by its extension."""
    return MIMETYPES.get(filename.rsplit(".", 1)[-1].lower(), "application/octet-stream")


def report_files(document: ReportDocument, t: Translator | None = None) -> dict[str, bytes]:
    """``<stem>.odt``, ``<stem>-<table>.csv`` for each table, ``<stem>-<chart>.png`` for each
    chart, by file name. ``t`` gives the words the files add (French unless told). The
    writers (matplotlib, odfpy) are loaded at the first report, not with the bot."""
    from commands.reports.charts import chart_png
    from commands.reports.odt import odt_bytes

    t = t or Translator()
    pictures = {key: chart_png(chart, t.language) for key, chart in parts.report_charts(document).items()}
    files = {parts.odt_name(document): odt_bytes(document, pictures, t)}
    for key, table in parts.report_tables(document).items():
        rows = [
            [clean(cell) if isinstance(cell, str) else cell for cell in row]
            for row in (table.headers, *table.rows)
        ]
        files[parts.csv_name(document, key)] = spreadsheet_csv(rows)
    for key, picture in pictures.items():
        files[parts.png_name(document, key)] = picture
    return files
