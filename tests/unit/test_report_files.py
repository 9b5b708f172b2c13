"""The report's files from a ReportDocument: the .odt read back with odfpy (every table with every
cell, every indicator, every chart's image, the metadata), the CSV files as a French spreadsheet
reads them, the PNG charts opened with Pillow."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from odf import dc, draw, svg, table, teletype, text
from odf.element import Element
from odf.opendocument import OpenDocument, load
from PIL import Image

from commands.i18n import Translator
from commands.reports import parts
from commands.reports.charts import _tick_labels
from commands.reports.document import Chart, Indicator, ReportDocument, Section, Series, Table
from commands.reports.files import mimetype, report_files
from commands.reports.writing import clean, number_text, percent_text

TRICKY = (
    "<b>gras</b> & « guillemets » **markdown** [lien](javascript:alert(1)) "
    '=HYPERLINK("x") 🚲 עברית e\u0301 \x07bip\x00 \ud83d fin'
)
LONG = " ".join(["Le groupe a tenu ses réunions mensuelles, accueilli de nouveaux membres"] * 60)
EMPTY = Table("remontees", "Remontées portées aux élus", ("Date", "Remontée", "Réponse"), ())
PEOPLE = Table(
    "categories",
    "Personnes venues par catégorie",
    ("Catégorie", "2024", "2025"),
    (("Élus", 48, 61), ("Habitants; riverains", 210, 264), ("Non renseigné", None, 3)),
)
GROUPS = Table(
    "groupes",
    "Groupes-projets",
    ("Groupe", "Statut", "Financement (€)", "Note"),
    (
        ("Atelier vélo " + TRICKY, "actif", 12500.5, "ligne 1\nligne 2\tavec tab"),
        ("=1+1", "en pause", 0, LONG),
        ("Jardins", "autonome", None, ""),
    ),
)
SAME_KEY = Table("groupes", "Autres groupes (même clé)", ("Groupe",), (("Repair café",),))
UNSAFE = Table("../../etc/passwd", "Clé hostile", ("a", "b"), ((1, 2.25),))
INDICATORS = (
    Indicator("rencontres", "Rencontres du club tenues", 11, 9),
    Indicator("conjointes", "Rencontres conjointes", 1, 2),
    Indicator("mobilisation", "Citoyens mobilisés " + TRICKY, 2871, 3500),
    Indicator("financements", "Financements obtenus (€)", 18800.5),
    Indicator("nul", "Objectif nul", 0, 0),
)
CHARTS = (
    Chart(
        "presences",
        "Présents par année",
        "stacked",
        ("2024", "2025", "2026"),
        (Series("Rencontres", (150, 148, 114)), Series("Webinaires", (180, 260, 215))),
        "personnes",
    ),
    Chart(
        "categories",
        "Par catégorie " + TRICKY,
        "bar",
        tuple(f"Catégorie très longue numéro {i}" for i in range(12)),
        (Series("2024", tuple(float(i) for i in range(12))),),
        "",
    ),
    Chart(
        "mobilisation",
        "Cumul",
        "line",
        ("T1", "T2", "T3"),
        (Series("Réalisé", (310, 640)), Series("Objectif", (300, 600, 900, 1200))),
    ),
)


def rich_document() -> ReportDocument:
    return ReportDocument(
        file_stem="bilan-phase2",
        title="Club Climat — bilan " + TRICKY,
        subtitle="Rapport à l'ADEME\r\nsur deux lignes",
        period_label="du 1er janvier 2024 au 31 octobre 2026",
        indicators=INDICATORS,
        charts=CHARTS,
        sections=(
            Section(
                "Les événements",
                ("Premier paragraphe.\n\nSecond paragraphe\nà la ligne.", LONG),
                (PEOPLE, EMPTY),
                (
                    Section(
                        "Webinaires " + TRICKY,
                        ("Douze webinaires.",),
                        (),
                        (Section("Détail", ("Profond\ttabulé   espacé.",), (UNSAFE,)),),
                    ),
                ),
            ),
            Section("Les groupes-projets", (TRICKY,), (GROUPS, SAME_KEY)),
        ),
        annex=(PEOPLE, EMPTY, GROUPS),
        notes=("Un participant est venu au moins une fois.",),
    )


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return report_files(rich_document())


@pytest.fixture(scope="module")
def odt(files: dict[str, bytes]) -> OpenDocument:
    return load(io.BytesIO(files["bilan-phase2.odt"]))


def _text(element: Element) -> str:
    return str(teletype.extractText(element))


def _tables(doc: OpenDocument) -> list[list[list[str]]]:
    return [
        [
            [_text(cell) for cell in row.getElementsByType(table.TableCell)]
            for row in one.getElementsByType(table.TableRow)
        ]
        for one in doc.text.getElementsByType(table.Table)
    ]


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float):
        return number_text(value)
    return clean(str(value))


def _expected(source: Table) -> list[list[str]]:
    return [[_shown(h) for h in source.headers]] + [[_shown(v) for v in row] for row in source.rows]


def _walk(sections: tuple[Section, ...], level: int = 1) -> Iterator[tuple[Section, int]]:
    for section in sections:
        yield section, level
        yield from _walk(section.subsections, level + 1)


def test_the_files_are_the_odt_one_csv_per_table_and_one_png_per_chart(files: dict[str, bytes]) -> None:
    assert sorted(files) == sorted(
        [
            "bilan-phase2.odt",
            "bilan-phase2-categories.csv",
            "bilan-phase2-remontees.csv",
            "bilan-phase2-groupes.csv",
            "bilan-phase2-groupes-2.csv",
            "bilan-phase2-etc-passwd.csv",
            "bilan-phase2-presences.png",
            "bilan-phase2-categories.png",
            "bilan-phase2-mobilisation.png",
        ]
    )
    assert {mimetype(name) for name in files} == {
        "application/vnd.oasis.opendocument.text",
        "text/csv",
        "image/png",
    }


def test_the_odt_holds_every_table_of_the_annex_with_every_cell(odt: OpenDocument) -> None:
    read = _tables(odt)
    annex = parts.report_tables(rich_document())
    assert list(annex.values()) == [PEOPLE, EMPTY, GROUPS, UNSAFE, SAME_KEY]
    annex_tables = read[-len(annex) :]  # the annex closes the document
    for source, found in zip(annex.values(), annex_tables, strict=True):
        if source.rows:
            assert found == _expected(source)
        else:
            assert found == [list(source.headers), ["Aucune ligne pour cette période."]]
    # …and the sections' tables where they are, the summary first.
    assert read[1 : -len(annex)] == [
        _expected(PEOPLE),
        annex_tables[1],
        _expected(UNSAFE),
        _expected(GROUPS),
        _expected(SAME_KEY),
    ]
    files_named = [
        _text(p) for p in odt.text.getElementsByType(text.P) if p.getAttribute("stylename") == "File_20_Name"
    ]
    assert files_named == [f"Fichier : {parts.csv_name(rich_document(), key)}" for key in annex]


def test_numbers_are_numbers_in_the_odt_and_written_in_french(odt: OpenDocument) -> None:
    cells = [
        cell
        for cell in odt.text.getElementsByType(table.TableCell)
        if cell.getAttribute("valuetype") == "float"
    ]
    values = {(cell.getAttribute("value"), _text(cell)) for cell in cells}
    assert ("12500.5", "12\u202f500,5") in values
    assert ("2871", "2871") in values and ("18800.5", "18\u202f800,5") in values


def test_every_indicator_is_a_line_of_the_summary_behind_ones_flagged(odt: OpenDocument) -> None:
    summary = odt.text.getElementsByType(table.Table)[0]
    rows = summary.getElementsByType(table.TableRow)
    assert [_text(c) for c in rows[0].getElementsByType(table.TableCell)] == [
        "Indicateur",
        "Réalisé",
        "Objectif",
        "Part atteinte",
        "État",
    ]
    lines = [[_text(c) for c in row.getElementsByType(table.TableCell)] for row in rows[1:]]
    assert lines == [
        ["Rencontres du club tenues", "11", "9", percent_text(11 / 9), "atteint"],
        ["Rencontres conjointes", "1", "2", "50\xa0%", "en retard"],
        ["Citoyens mobilisés " + clean(TRICKY), "2871", "3500", "82\xa0%", "en retard"],
        ["Financements obtenus (€)", "18\u202f800,5", "—", "—", "sans objectif"],
        ["Objectif nul", "0", "0", "—", "atteint"],
    ]
    behind = [
        {c.getAttribute("stylename") for c in row.getElementsByType(table.TableCell)} for row in rows[1:]
    ]
    assert behind == [{"Cell"}, {"Cell_Behind"}, {"Cell_Behind"}, {"Cell"}, {"Cell"}]


def test_every_chart_is_an_image_in_the_package_with_its_caption(
    files: dict[str, bytes], odt: OpenDocument
) -> None:
    package = zipfile.ZipFile(io.BytesIO(files["bilan-phase2.odt"]))
    hrefs = [image.getAttribute("href") for image in odt.text.getElementsByType(draw.Image)]
    assert hrefs == ["Pictures/presences.png", "Pictures/categories.png", "Pictures/mobilisation.png"]
    for href in hrefs:
        key = href.removeprefix("Pictures/").removesuffix(".png")
        assert package.read(href) == files[f"bilan-phase2-{key}.png"]
    manifest = package.read("META-INF/manifest.xml").decode()
    assert all(f'manifest:full-path="{href}"' in manifest for href in hrefs)
    captions = [
        _text(p)
        for p in odt.text.getElementsByType(text.P)
        if p.getAttribute("stylename") == "Figure_20_Caption"
    ]
    assert captions == [f"Figure {i} : {clean(c.title)}" for i, c in enumerate(CHARTS, 1)]
    alternative = [_text(title) for title in odt.text.getElementsByType(svg.Title)]
    assert alternative == [" ".join(clean(c.title).split()) for c in CHARTS]


def test_the_title_page_the_headings_and_every_paragraph(odt: OpenDocument) -> None:
    document = rich_document()
    paragraphs = [_text(p) for p in odt.text.getElementsByType(text.P)]
    assert paragraphs[:3] == [
        clean(document.title),
        "Rapport à l'ADEME\nsur deux lignes",
        document.period_label,
    ]
    headings = [(int(h.getAttribute("outlinelevel")), _text(h)) for h in odt.text.getElementsByType(text.H)]
    assert headings == [
        (1, "Synthèse des indicateurs"),
        (2, "Comment les chiffres sont comptés"),
        (1, "Graphiques"),
        *[(level, clean(section.title)) for section, level in _walk(document.sections)],
        (1, "Annexe : les tableaux"),
    ]
    for expected in (
        "Premier paragraphe.",
        "Second paragraphe\nà la ligne.",
        LONG,
        "Profond\ttabulé   espacé.",
        clean(TRICKY),
        "Un participant est venu au moins une fois.",
    ):
        assert expected in paragraphs
    assert odt.text.getElementsByType(text.Tab) and odt.text.getElementsByType(text.LineBreak)


def test_the_metadata(odt: OpenDocument) -> None:
    assert _text(odt.meta.getElementsByType(dc.Title)[0]) == clean(rich_document().title)
    assert _text(odt.meta.getElementsByType(dc.Language)[0]) == "fr-FR"
    assert odt.mimetype == "application/vnd.oasis.opendocument.text"


def test_the_words_of_the_document_follow_the_language() -> None:
    files = report_files(rich_document(), Translator("en"))
    doc = load(io.BytesIO(files["bilan-phase2.odt"]))
    assert _text(doc.meta.getElementsByType(dc.Language)[0]) == "en-GB"
    assert next(_text(h) for h in doc.text.getElementsByType(text.H)) == "Indicators at a glance"


def test_each_table_is_a_csv_as_french_spreadsheets_open_it(files: dict[str, bytes]) -> None:
    for key, source in parts.report_tables(rich_document()).items():
        data = files[f"bilan-phase2-{key}.csv"]
        assert data.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
        assert rows[0] == list(source.headers)
        assert len(rows) == len(source.rows) + 1
    groups = list(
        csv.reader(
            io.StringIO(files["bilan-phase2-groupes.csv"].decode("utf-8-sig"), newline=""), delimiter=";"
        )
    )
    assert groups[1][2] == "12500,5" and groups[1][3] == "ligne 1\nligne 2\tavec tab"
    assert groups[2][0] == "'=1+1" and groups[3][2] == ""
    assert groups[1][0] == clean("Atelier vélo " + TRICKY)  # no control character, no surrogate
    people = files["bilan-phase2-categories.csv"].decode("utf-8-sig").splitlines()
    assert people[2] == '"Habitants; riverains";210;264'


def test_each_chart_is_a_png_of_a_readable_size(files: dict[str, bytes]) -> None:
    for key in ("presences", "categories", "mobilisation"):
        image = Image.open(io.BytesIO(files[f"bilan-phase2-{key}.png"]))
        assert image.format == "PNG" and image.size == (1200, 675)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 50  # drawn, not blank


def test_an_empty_chart_and_a_report_without_tables_or_charts() -> None:
    document = ReportDocument(
        "bilan 2025 / été", "Bilan", "", "2025", (), charts=(Chart("vide", "Rien", "bar", (), ()),)
    )
    files = report_files(document)
    assert sorted(files) == ["bilan-2025-ete-vide.png", "bilan-2025-ete.odt"]
    doc = load(io.BytesIO(files["bilan-2025-ete.odt"]))
    assert [_text(h) for h in doc.text.getElementsByType(text.H)] == [
        "Synthèse des indicateurs",
        "Graphiques",
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80), st.text(max_size=80))
def test_any_text_goes_into_the_document_and_reads_back(title: str, cell: str) -> None:
    document = ReportDocument(
        "bilan",
        title,
        title,
        title,
        (Indicator("i", cell, 1, 2),),
        sections=(Section(title, (cell,), (Table("t", title, (cell,), ((cell,),)),)),),
    )
    doc = load(io.BytesIO(report_files(document)["bilan.odt"]))
    assert _text(doc.meta.getElementsByType(dc.Title)[0]) == clean(title)
    assert [_text(h) for h in doc.text.getElementsByType(text.H)][1] == clean(title)
    summary, section_table, annex_table = _tables(doc)
    assert summary[1][0] == clean(cell)
    assert section_table == annex_table == [[clean(cell)], [clean(cell)]]


def test_a_long_axis_writes_at_most_sixteen_labels_and_a_short_one_all() -> None:
    months = [f"{m:02d}/{y}" for y in (2024, 2025, 2026) for m in range(1, 13)][:34]
    shown, rotation = _tick_labels(months)
    assert len(shown) == 34 and rotation == 35
    assert [label for label in shown if label] == months[::3]
    shown, rotation = _tick_labels(["Communauté de communes des Coteaux", "Ville-centre"])
    assert rotation == 0 and shown == ["Communauté de\ncommunes des\nCoteaux", "Ville-centre"]
