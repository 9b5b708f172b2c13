"""The report's styles (odfpy): named paragraph styles a writer finds in LibreOffice or Word
(Title, Heading 1…4, Text body, Table Contents, Caption…), the A4 pages (a title page without
footer, then pages with the title and the page number at the foot), the tables' borders and
header fill, what is behind in red. The language of the text is set in the default style, so that
the spelling is checked in French."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from odf import style, teletype, text
from odf.opendocument import OpenDocument

FONT = "Liberation Sans"  # metric-compatible with Arial, which Word uses in its place
INK, ACCENT, MUTED = "#1a1a1a", "#1d5c3a", "#5f6b66"
BEHIND_INK, BEHIND_FILL, REACHED_INK = "#a4161a", "#fbe4e4", "#1d6b32"
HEADER_FILL, BORDER = "#e2eee6", "0.5pt solid #8a9a91"
TEXT_WIDTH_CM = 17.0  # A4 less two margins of 2 cm
LANGUAGE_TAGS = {"fr": ("fr", "FR"), "en": ("en", "GB")}


@dataclass(frozen=True)
class _Paragraph:
    name: str
    parent: str | None = "Standard"
    paragraph: Mapping[str, str] = field(default_factory=dict)
    text: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[str, str] = field(default_factory=dict)  # class, next style, master page…


_KEEP = {"keepwithnext": "always"}
_HEADING = {"nextstylename": "Text_20_body"}

NAMED = (
    _Paragraph("Standard", None, attributes={"class": "text"}),
    _Paragraph(
        "Text_20_body",
        paragraph={"marginbottom": "0.22cm", "lineheight": "125%", "orphans": "2", "widows": "2"},
    ),
    _Paragraph(
        "Title",
        paragraph={"textalign": "center", "margintop": "7cm", "marginbottom": "0.6cm"},
        text={"fontsize": "26pt", "fontweight": "bold", "color": ACCENT},
        attributes={"class": "chapter"},
    ),
    _Paragraph(
        "Subtitle",
        paragraph={"textalign": "center", "marginbottom": "0.4cm"},
        text={"fontsize": "15pt"},
        attributes={"class": "chapter"},
    ),
    _Paragraph(
        "Cover_20_Period",
        paragraph={
            "textalign": "center",
            "margintop": "0.8cm",
            "paddingtop": "0.3cm",
            "bordertop": f"1.5pt solid {ACCENT}",
        },
        text={"fontsize": "13pt", "color": MUTED},
    ),
    _Paragraph(
        "Heading",
        paragraph={**_KEEP, "margintop": "0.5cm", "marginbottom": "0.2cm"},
        text={"fontweight": "bold", "color": ACCENT},
        attributes={**_HEADING, "class": "text"},
    ),
    _Paragraph(
        "Heading_20_1",
        "Heading",
        paragraph={
            **_KEEP,
            "margintop": "0.2cm",
            "marginbottom": "0.35cm",
            "paddingbottom": "0.1cm",
            "borderbottom": f"1pt solid {ACCENT}",
        },
        text={"fontsize": "17pt"},
        attributes={**_HEADING, "defaultoutlinelevel": "1"},
    ),
    *(
        _Paragraph(
            f"Heading_20_{level}",
            "Heading",
            _KEEP,
            {"fontsize": size},
            {**_HEADING, "defaultoutlinelevel": str(level)},
        )
        for level, size in ((2, "13.5pt"), (3, "11.5pt"), (4, "10.5pt"))
    ),
    _Paragraph("Table_20_Contents", text={"fontsize": "9.5pt"}, attributes={"class": "extra"}),
    _Paragraph(
        "Table_20_Heading", "Table_20_Contents", text={"fontweight": "bold"}, attributes={"class": "extra"}
    ),
    _Paragraph("Table_20_Number", "Table_20_Contents", {"textalign": "end"}, attributes={"class": "extra"}),
    _Paragraph(
        "Caption",
        paragraph={**_KEEP, "margintop": "0.35cm", "marginbottom": "0.12cm"},
        text={"fontsize": "10pt", "fontweight": "bold"},
        attributes={"class": "extra"},
    ),
    _Paragraph(
        "File_20_Name",
        paragraph={**_KEEP, "marginbottom": "0.12cm"},
        text={"fontsize": "8.5pt", "color": MUTED, "fontstyle": "italic"},
    ),
    _Paragraph("Figure", paragraph={**_KEEP, "textalign": "center", "margintop": "0.3cm"}),
    _Paragraph(
        "Figure_20_Caption",
        "Caption",
        {"textalign": "center", "margintop": "0.1cm", "marginbottom": "0.4cm", "keepwithnext": "auto"},
        {"fontweight": "normal", "fontstyle": "italic", "color": MUTED},
    ),
    _Paragraph(
        "Footer",
        paragraph={"textalign": "center"},
        text={"fontsize": "8.5pt", "color": MUTED},
        attributes={"class": "extra"},
    ),
)

AUTOMATIC = (
    # A paragraph in one of the first two styles starts a page of the master page it names.
    _Paragraph("P_Cover", "Title", attributes={"masterpagename": "First_20_Page"}),
    _Paragraph("P_After_Cover", "Heading_20_1", attributes={"masterpagename": "Standard"}),
    _Paragraph("P_New_Page", "Heading_20_1", {"breakbefore": "page"}),
    _Paragraph("P_Head_Number", "Table_20_Heading", {"textalign": "end"}),
    _Paragraph("P_Behind", "Table_20_Contents", text={"fontweight": "bold", "color": BEHIND_INK}),
    _Paragraph("P_Reached", "Table_20_Contents", text={"fontweight": "bold", "color": REACHED_INK}),
    _Paragraph(
        "P_Empty", "Table_20_Contents", {"textalign": "center"}, {"fontstyle": "italic", "color": MUTED}
    ),
)
CELLS = {"Cell_Head": HEADER_FILL, "Cell": None, "Cell_Behind": BEHIND_FILL}


def _style(spec: _Paragraph, named: bool) -> style.Style:
    attributes = {"name": spec.name, "family": "paragraph", **spec.attributes}
    if named:
        attributes["displayname"] = spec.name.replace("_20_", " ")
    if spec.parent:
        attributes["parentstylename"] = spec.parent
    one = style.Style(**attributes)
    if spec.paragraph:
        one.addElement(style.ParagraphProperties(**spec.paragraph))
    if spec.text:
        one.addElement(style.TextProperties(**spec.text))
    return one


def _page_layout(name: str, side_margin: str, footer: bool) -> style.PageLayout:
    layout = style.PageLayout(name=name)
    layout.addElement(
        style.PageLayoutProperties(
            pagewidth="21cm",
            pageheight="29.7cm",
            printorientation="portrait",
            margintop="2cm",
            marginbottom="1.5cm" if footer else "2cm",
            marginleft=side_margin,
            marginright=side_margin,
        )
    )
    if footer:
        footer_style = style.FooterStyle()
        footer_style.addElement(style.HeaderFooterProperties(minheight="0.6cm", margintop="0.4cm"))
        layout.addElement(footer_style)
    return layout


def _pages(doc: OpenDocument, footer_text: str) -> None:
    """The title page's master (no footer, wider margins), then the standard one: the footer
    says ``footer_text`` and the page number."""
    layout, cover = _page_layout("A4", "2cm", True), _page_layout("A4_20_Cover", "2.5cm", False)
    doc.automaticstyles.addElement(layout)
    doc.automaticstyles.addElement(cover)
    doc.masterstyles.addElement(
        style.MasterPage(
            name="First_20_Page", displayname="First Page", pagelayoutname=cover, nextstylename="Standard"
        )
    )
    standard = style.MasterPage(name="Standard", pagelayoutname=layout)
    footer, line = style.Footer(), text.P(stylename="Footer")
    teletype.addTextToElement(line, footer_text)
    line.addElement(text.PageNumber(selectpage="current"))
    footer.addElement(line)
    standard.addElement(footer)
    doc.masterstyles.addElement(standard)


def add_styles(doc: OpenDocument, language: str, footer_text: str) -> None:
    """Every style of the report into ``doc``; ``footer_text`` is already clean text."""
    language_tag, country = LANGUAGE_TAGS.get(language, ("fr", "FR"))
    doc.fontfacedecls.addElement(
        style.FontFace(name=FONT, fontfamily=FONT, fontfamilygeneric="swiss", fontpitch="variable")
    )
    default = style.DefaultStyle(family="paragraph")
    default.addElement(
        style.TextProperties(
            fontname=FONT, fontsize="10.5pt", color=INK, language=language_tag, country=country
        )
    )
    doc.styles.addElement(default)
    for spec in NAMED:
        doc.styles.addElement(_style(spec, named=True))
    for spec in AUTOMATIC:
        doc.automaticstyles.addElement(_style(spec, named=False))
    report_table = style.Style(name="Report_Table", family="table")
    report_table.addElement(
        style.TableProperties(
            width=f"{TEXT_WIDTH_CM}cm",
            align="margins",
            bordermodel="collapsing",
            margintop="0cm",
            marginbottom="0.3cm",
        )
    )
    doc.automaticstyles.addElement(report_table)
    for name, fill in CELLS.items():
        cell = style.Style(name=name, family="table-cell")
        fill_property = {"backgroundcolor": fill} if fill else {}
        cell.addElement(
            style.TableCellProperties(
                border=BORDER, padding="0.08cm", verticalalign="middle", **fill_property
            )
        )
        doc.automaticstyles.addElement(cell)
    _pages(doc, footer_text)


def column_style(name: str, width_cm: float) -> style.Style:
    """A table column's automatic style (its width)."""
    column = style.Style(name=name, family="table-column")
    column.addElement(style.TableColumnProperties(columnwidth=f"{width_cm:.2f}cm"))
    return column
