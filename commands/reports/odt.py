"""The report as an OpenDocument text (``.odt``), written with odfpy from a ``ReportDocument``.

The document: a title page (title, subtitle, period), the summary of the indicators against their
targets (what is behind in red, « en retard »), how the figures are counted, the charts, one part
per section (headings, paragraphs, tables, subsections), and an annex with every table (each also
a CSV file, named under it). Named styles (Titre 1, Titre 2…, header rows repeated on each page)
so that it is edited in LibreOffice or Word like any other document; French spelling, numbers
written in French. Every text goes in as a text node (odfpy escapes it): a line break becomes a
line break, a blank line a new paragraph, a tab a tab; characters XML cannot hold are dropped.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeGuard

from odf import dc, draw, svg, table, teletype, text
from odf.element import Element
from odf.opendocument import OpenDocumentText

from commands.i18n import Translator
from commands.reports import parts
from commands.reports.charts import HEIGHT_INCHES, WIDTH_INCHES
from commands.reports.document import Cell, Indicator, ReportDocument, Section, Table
from commands.reports.odt_styles import LANGUAGE_TAGS, TEXT_WIDTH_CM, add_styles, column_style
from commands.reports.writing import clean, number_text, percent_text

MIMETYPE = "application/vnd.oasis.opendocument.text"
CHART_WIDTH_CM = 16.0
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class _Cell:
    value: Cell
    style: str = "Cell"  # the cell's style: its borders and fill
    paragraph: str | None = None  # the text's style, when not the usual one of its kind


def _add_text(element: Element, value: str) -> Element:
    teletype.addTextToElement(element, clean(value))
    return element


def _width(values: Sequence[str]) -> int:
    """A column's share of the width: its longest line up to a limit, never less than its
    longest word (a header in bold is not cut inside a word)."""
    longest = max((len(word) for value in values for word in value.split()), default=1)
    whole = max((len(value) for value in values), default=1)
    return max(5, round(longest * 1.2) + 3, min(whole, 40))


def _numeric(value: Cell) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class _Writer:
    """One document being written, its content in reading order."""

    def __init__(self, document: ReportDocument, t: Translator) -> None:
        self.source = document
        self.t = t
        self.language = t.language
        self.doc = OpenDocumentText()
        self.table_count = 0
        self.figure_count = 0
        add_styles(self.doc, self.language, clean(f"{document.title} — {t('report_file.page')} "))

    # -- content --------------------------------------------------------------------------

    def add(self, element: Element) -> Element:
        self.doc.text.addElement(element)
        return element

    def heading(self, title: str, level: int, stylename: str | None = None) -> None:
        level = min(max(level, 1), 4)
        self.add(_add_text(text.H(outlinelevel=level, stylename=stylename or f"Heading_20_{level}"), title))

    def paragraphs(self, value: str, stylename: str = "Text_20_body") -> None:
        """A blank line starts a new paragraph; an empty text writes nothing."""
        for block in _BLANK_LINE.split(clean(value)):
            if block.strip():
                self.add(_add_text(text.P(stylename=stylename), block.strip("\n")))

    def _cell_text(self, value: Cell) -> str:
        if value is None:
            return ""
        if _numeric(value):
            return number_text(value, self.language)
        return str(value)

    def _cell(self, cell: _Cell, span: int = 1) -> table.TableCell:
        numeric = _numeric(cell.value)
        attributes: dict[str, str | int] = {"stylename": cell.style, "valuetype": "string"}
        if numeric:
            attributes.update(valuetype="float", value=str(cell.value))
        if span > 1:
            attributes["numbercolumnsspanned"] = span
        element = table.TableCell(**attributes)
        paragraph = cell.paragraph or ("Table_20_Number" if numeric else "Table_20_Contents")
        element.addElement(_add_text(text.P(stylename=paragraph), self._cell_text(cell.value)))
        return element

    def _columns(self, element: table.Table, heads: list[str], rows: Sequence[Sequence[_Cell]]) -> None:
        """One automatic style per column, widths in proportion to what the column holds."""
        widths = [
            _width([head, *(self._cell_text(row[i].value) for row in rows if i < len(row))])
            for i, head in enumerate(heads)
        ]
        for index, width in enumerate(widths):
            name = f"Report_Table_{self.table_count}.{index + 1}"
            self.doc.automaticstyles.addElement(column_style(name, TEXT_WIDTH_CM * width / sum(widths)))
            element.addElement(table.TableColumn(stylename=name))

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[_Cell]]) -> None:
        """A table with its header row (repeated on each page) and every one of its rows; an
        empty table says so on one line. A column of numbers is aligned on the right."""
        count = max([len(headers), *(len(row) for row in rows)]) or 1
        heads = [*headers, *[""] * (count - len(headers))]
        rows = [[*row, *[_Cell(None)] * (count - len(row))] for row in rows]
        self.table_count += 1
        element = table.Table(name=f"Tableau{self.table_count}", stylename="Report_Table")
        self._columns(element, heads, rows)
        header_rows, head_row = table.TableHeaderRows(), table.TableRow()
        for index, head in enumerate(heads):
            numbers = bool(rows) and all(
                _numeric(row[index].value) or row[index].value in (None, "—") for row in rows
            )
            head_row.addElement(
                self._cell(_Cell(head, "Cell_Head", "P_Head_Number" if numbers else "Table_20_Heading"))
            )
        header_rows.addElement(head_row)
        element.addElement(header_rows)
        for row in rows:
            line = table.TableRow()
            for cell in row:
                line.addElement(self._cell(cell))
            element.addElement(line)
        if not rows:
            line = table.TableRow()
            line.addElement(self._cell(_Cell(self.t("report_file.empty_table"), paragraph="P_Empty"), count))
            for _ in range(count - 1):
                line.addElement(table.CoveredTableCell())
            element.addElement(line)
        self.add(element)

    def captioned_table(self, source: Table, file_name: str | None = None) -> None:
        self.add(_add_text(text.P(stylename="Caption"), source.title))
        if file_name:
            self.add(
                _add_text(text.P(stylename="File_20_Name"), self.t("report_file.csv_file", name=file_name))
            )
        self.table(
            [self._cell_text(head) for head in source.headers],
            [[_Cell(value) for value in row] for row in source.rows],
        )

    def cover(self) -> None:
        d = self.source
        self.add(_add_text(text.P(stylename="P_Cover"), d.title))
        self.paragraphs(d.subtitle, "Subtitle")
        self.paragraphs(d.period_label, "Cover_20_Period")

    def _indicator_row(self, indicator: Indicator) -> list[_Cell]:
        share = indicator.share
        if indicator.target is None:
            state, state_style = self.t("report_file.no_target"), None
        elif indicator.behind:
            state, state_style = self.t("report_file.behind"), "P_Behind"
        else:
            state, state_style = self.t("report_file.reached"), "P_Reached"
        fill = "Cell_Behind" if indicator.behind else "Cell"
        return [
            _Cell(indicator.label, fill),
            _Cell(indicator.actual, fill),
            _Cell(indicator.target if indicator.target is not None else "—", fill, "Table_20_Number"),
            _Cell(percent_text(share, self.language) if share is not None else "—", fill, "Table_20_Number"),
            _Cell(state, fill, state_style),
        ]

    def summary(self) -> None:
        d = self.source
        self.heading(self.t("report_file.summary_title"), 1, "P_After_Cover")
        columns = ("indicator", "actual", "target", "share", "state")
        self.table(
            [self.t(f"report_file.col_{c}") for c in columns],
            [self._indicator_row(indicator) for indicator in d.indicators],
        )
        if d.notes:
            self.heading(self.t("report_file.notes_title"), 2)
            for note in d.notes:
                self.paragraphs(note)

    def charts(self, pictures: dict[str, bytes]) -> None:
        if not pictures:
            return
        self.heading(self.t("report_file.charts_title"), 1)
        height = CHART_WIDTH_CM * HEIGHT_INCHES / WIDTH_INCHES
        for key, chart in parts.report_charts(self.source).items():
            if key not in pictures:
                continue
            self.figure_count += 1
            href = self.doc.addPicture(f"Pictures/{key}.png", "image/png", pictures[key])
            frame = draw.Frame(
                name=f"Figure{self.figure_count}",
                anchortype="as-char",
                width=f"{CHART_WIDTH_CM}cm",
                height=f"{height:.2f}cm",
            )
            frame.addElement(draw.Image(href=href, type="simple", show="embed", actuate="onLoad"))
            title = " ".join(clean(chart.title).split())  # the alternative text: plain text only
            frame.addElement(svg.Title(text=title))
            frame.addElement(svg.Desc(text=self.t("report_file.figure_alt", title=title)))
            paragraph = text.P(stylename="Figure")
            paragraph.addElement(frame)
            self.add(paragraph)
            self.add(
                _add_text(
                    text.P(stylename="Figure_20_Caption"),
                    self.t("report_file.figure", number=self.figure_count, title=chart.title),
                )
            )

    def section(self, section: Section, level: int, first: bool) -> None:
        self.heading(section.title, level, "P_New_Page" if first and level == 1 else None)
        for paragraph in section.paragraphs:
            self.paragraphs(paragraph)
        for one in section.tables:
            self.captioned_table(one)
        for subsection in section.subsections:
            self.section(subsection, level + 1, False)

    def annex(self) -> None:
        tables = parts.report_tables(self.source)
        if not tables:
            return
        self.heading(self.t("report_file.annex_title"), 1, "P_New_Page")
        self.paragraphs(self.t("report_file.annex_intro"))
        for key, one in tables.items():
            self.captioned_table(one, parts.csv_name(self.source, key))

    def metadata(self) -> None:
        d = self.source
        language, country = LANGUAGE_TAGS.get(self.language, ("fr", "FR"))
        self.doc.meta.addElement(dc.Title(text=clean(d.title)))
        self.doc.meta.addElement(dc.Subject(text=clean(d.subtitle)))
        self.doc.meta.addElement(dc.Description(text=clean(d.period_label)))
        self.doc.meta.addElement(dc.Language(text=f"{language}-{country}"))

    def bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.doc.write(buffer)
        return buffer.getvalue()


def odt_bytes(document: ReportDocument, pictures: dict[str, bytes], t: Translator) -> bytes:
    """The ``.odt`` file; ``pictures`` are the charts' PNG images by their key in
    ``parts.report_charts`` (a chart without its picture is left out)."""
    writer = _Writer(document, t)
    writer.metadata()
    writer.cover()
    writer.summary()
    writer.charts(pictures)
    for index, section in enumerate(document.sections):
        writer.section(section, 1, index == 0)
    writer.annex()
    return writer.bytes()
