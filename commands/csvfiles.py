"""CSV files that a spreadsheet opens as data, never as formulas (OWASP, « CSV Injection »).

A text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be read
as a formula by Excel or LibreOffice (``=HYPERLINK(…)`` as a group's name): it gets a leading
single quote, which spreadsheets show as text. Every text cell is quoted, so that a separator
inside it (``;`` where French spreadsheets split on it) cannot start a new cell. Numbers are
written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: object) -> object:
    """``=1+1`` → ``'=1+1``; other values as they are."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """The rows as CSV (``\\n`` line ends), each text cell neutralised and quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerows([neutralise("" if cell is None else cell) for cell in row] for row in rows)
    return buffer.getvalue()
