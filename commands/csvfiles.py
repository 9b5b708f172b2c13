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
import math
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


class _DecimalComma:
    """A decimal number that the ``csv`` module writes unquoted, with a decimal comma."""

    def __init__(self, value: float) -> None:
        self.value = value

    def __float__(self) -> float:  # makes the csv module take it for a number: not quoted
        return self.value

    def __str__(self) -> str:
        if not math.isfinite(self.value):
            return ""
        text = f"{self.value:.10g}"
        if "e" in text:
            text = f"{self.value:.10f}".rstrip("0").rstrip(".")
        return text.replace(".", ",")


def spreadsheet_csv(rows: Iterable[Sequence[object]]) -> bytes:
    """The rows as a French spreadsheet opens them by a double click: UTF-8 with a byte order
    mark (without it, Excel reads Latin-1), ``;`` between cells, ``\\r\\n`` line ends, decimal
    numbers with a comma (``2,5``); text cells neutralised and quoted as in ``csv_text``. A lone
    surrogate (which a JSON string can carry) is written as ``?``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerows(
        [_DecimalComma(cell) if isinstance(cell, float) else neutralise("" if cell is None else cell)
         for cell in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8", "replace")
