"""commands.csvfiles: CSV cells a spreadsheet reads as text, never as formulas (OWASP)."""

from __future__ import annotations

import csv
import io

import pytest

from commands.csvfiles import csv_text, neutralise, spreadsheet_csv


@pytest.mark.parametrize("cell", ['=HYPERLINK("https://evil.example","clic")', "+1+2", "-2+3",
                                  "@SUM(A1:A2)", "\t=1", "\r=1"])
def test_a_cell_that_a_spreadsheet_would_compute_becomes_text(cell: str) -> None:
    assert neutralise(cell) == "'" + cell
    [[read]] = list(csv.reader(io.StringIO(csv_text([[cell]]))))
    assert read == "'" + cell


@pytest.mark.parametrize("cell", ["Atelier vélo", "", " =pas en tête", "a=b", "l'atelier", "'=déjà"])
def test_ordinary_text_is_kept(cell: str) -> None:
    assert neutralise(cell) == cell


def test_numbers_stay_numbers_and_text_is_quoted() -> None:
    assert csv_text([["id", "name", "members"], [3, "Vélo;=1+1", -2], [4, None, 0]]) == (
        '"id","name","members"\n3,"Vélo;=1+1",-2\n4,"",0\n')


def test_a_spreadsheet_csv_is_utf8_with_bom_semicolons_and_decimal_commas() -> None:
    data = spreadsheet_csv([["Groupe", "Montant", "Membres"], ["Vélo;=1+1", 12500.5, 14],
                            ["@Jardins", 0.1 + 0.2, None], ["Infini", float("inf"), -3]])
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig") == ('"Groupe";"Montant";"Membres"\r\n'
                                        '"Vélo;=1+1";12500,5;14\r\n'
                                        "\"'@Jardins\";0,3;\"\"\r\n"
                                        '"Infini";;-3\r\n')
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[1] == ["Vélo;=1+1", "12500,5", "14"]


def test_a_lone_surrogate_does_not_stop_a_spreadsheet_csv() -> None:
    assert spreadsheet_csv([["a\ud83db"]]).decode("utf-8-sig") == '"a?b"\r\n'
