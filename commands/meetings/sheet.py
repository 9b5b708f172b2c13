"""A sign-in sheet read from a CSV file, as spreadsheets write it: UTF-8 with or without BOM, or
Excel's Windows-1252; ``;``, ``,`` or tab separated; a first line naming the columns in French
or English (nom — or prénom and nom —, catégorie, territoire, matrix), in any order. Each line
comes out as it was typed, with its line number; checking it is the caller's work."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from commands.csvfiles import FORMULA_STARTS
from commands.errors import UserError
from commands.text import storable
from commands.vocabulary import normalise

LINES_MAX = 3000
COLUMNS = {
    "name": {"nom", "noms", "nom-prenom", "prenom-nom", "nom-et-prenom", "prenom-et-nom",
             "nom-complet", "name", "full-name", "participant", "participante", "personne",
             "identite"},
    "first": {"prenom", "first-name", "firstname", "given-name"},
    "last": {"nom-de-famille", "last-name", "lastname", "surname", "family-name"},
    "category": {"categorie", "category", "qualite", "college", "statut", "public", "type"},
    "territory": {"territoire", "territory", "secteur", "zone", "origine", "provenance",
                  "commune-ou-territoire"},
    "matrix": {"matrix", "identifiant-matrix", "id-matrix", "compte-matrix", "matrix-id",
               "pseudo-matrix", "adresse-matrix", "identifiant"},
}


@dataclass(frozen=True)
class SheetLine:
    """One line of the sheet, its cells stripped (empty when the column is absent)."""

    number: int  # in the file: the header is line 1
    name: str
    category: str
    territory: str
    matrix: str


def decode(data: bytes) -> str:
    """UTF-8 (a BOM dropped), else Windows-1252 (what Excel writes in France)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise UserError("signin.bad_encoding") from None


def _separator(header: str) -> str:
    """The separator the header line uses most (``;`` on a tie: French spreadsheets)."""
    return max(";,\t", key=lambda sep: (header.count(sep), sep == ";"))


def _columns(header: list[str]) -> dict[str, int]:
    """Each known column's position (the first of its names)."""
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        label = normalise(cell)
        for column, names in COLUMNS.items():
            if label in names and column not in found:
                found[column] = index
                break
    name = found.get("name")
    if name is not None and "first" in found and "last" not in found and (
            normalise(header[name]) == "nom"):
        found["last"] = found.pop("name")  # « Prénom ; Nom »
    return found


def _cell(row: list[str], index: int | None) -> str:
    value = row[index].strip() if index is not None and index < len(row) else ""
    if value.startswith("'") and value[1:2] in FORMULA_STARTS and value[1:2]:
        value = value[1:]  # the quote a spreadsheet export puts before ``=``, ``@``…
    return " ".join(value.split())


def read_sheet(data: bytes) -> list[SheetLine]:
    """The sheet's lines (blank ones skipped); ``UserError`` (``signin.*``) when it is not a
    sheet: no header naming the columns, no name column, too many lines, unknown encoding, a
    cell longer than the ``csv`` module reads (a quote never closed takes the rest of the file)."""
    try:
        return _lines(decode(data))
    except csv.Error:
        raise UserError("signin.bad_csv", maximum=csv.field_size_limit()) from None


def _lines(text: str) -> list[SheetLine]:
    text = storable(text)  # line breaks as \n; no NUL or other control in a name
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text), delimiter=_separator(first))
    rows = iter(reader)
    header = next(rows, [])
    columns = _columns(header)
    if not columns:
        raise UserError("signin.no_header")
    if not {"name", "first", "last", "matrix"} & columns.keys():
        raise UserError("signin.no_name_column")
    lines: list[SheetLine] = []
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(lines) >= LINES_MAX:
            raise UserError("signin.too_many_lines", maximum=LINES_MAX)
        name = _cell(row, columns.get("name")) or " ".join(
            part for part in (_cell(row, columns.get("first")), _cell(row, columns.get("last")))
            if part)
        lines.append(SheetLine(reader.line_num, name, _cell(row, columns.get("category")),
                               _cell(row, columns.get("territory")),
                               _cell(row, columns.get("matrix"))))
    return lines
