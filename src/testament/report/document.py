"""A report as plain sections, rendered the same way to HTML and to PDF.

Keeping one structure for both formats means the PDF cannot silently omit what the
HTML shows. Text is escaped for HTML; the PDF uses DejaVu Sans (shipped with
matplotlib), which covers Latin, Cyrillic and Armenian script. PDF text is set flush
left (justified lines of hashes and URLs open wide gaps), and a heading is kept on the
page of what follows it.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
from fpdf import FPDF
from fpdf.fonts import FontFace
from jinja2 import Environment, FileSystemLoader, select_autoescape
from PIL import Image

TEMPLATES = Path(__file__).parent / "templates"
FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
LINE_MM = 5.0
# A picture that does not fit below the text may shrink to this share before it moves
# to the next page (with its heading).
MIN_SHRINK = 0.6
# No picture is drawn taller than this, so that a square map leaves room for its caption.
MAX_PICTURE_MM = 150.0


@dataclass
class Picture:
    data: bytes
    caption: str
    mime: str = "image/png"
    share: float = 1.0  # of the text width, at most

    @property
    def data_uri(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"

    @property
    def ratio(self) -> float:
        """Height over width."""
        with Image.open(io.BytesIO(self.data)) as image:
            return image.height / image.width


@dataclass
class Table:
    """Rows of text under a header; `widths` are relative column widths."""

    header: list[str]
    rows: list[list[str]]
    widths: list[float] | None = None
    narrow: bool = False  # a short table of counts: not stretched across the page


@dataclass
class Section:
    title: str
    lines: list[str] = field(default_factory=list)
    pictures: list[Picture] = field(default_factory=list)
    subsections: list[Section] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    pictures_first: bool = False  # a still that belongs with its heading, before the text


@dataclass
class Document:
    title: str
    subtitle: str
    sections: list[Section]


def to_html(document: Document) -> str:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"])
    )
    return environment.get_template("report.html").render(doc=document)


class _Pdf(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("DejaVu", size=8)
        self.cell(0, 8, f"page {self.page_no()}/{{nb}}", align="C")

    @property
    def room(self) -> float:
        """Millimetres left on this page above the bottom margin."""
        return self.page_break_trigger - self.get_y()

    def text_height(self, lines: list[str], line_mm: float = LINE_MM) -> float:
        return sum(
            line_mm * max(1, math.ceil(self.get_string_width(line) / (self.epw - 2)))
            for line in lines
        )


def _picture_width(pdf: _Pdf, picture: Picture) -> float:
    return pdf.epw * picture.share if picture.mime == "image/png" else min(pdf.epw, 64)


def _picture_size(pdf: _Pdf, picture: Picture) -> tuple[float, float]:
    """Width and height in millimetres, at most the page's width and MAX_PICTURE_MM high."""
    width = _picture_width(pdf, picture)
    height = width * picture.ratio
    if height > MAX_PICTURE_MM:
        width, height = width * MAX_PICTURE_MM / height, MAX_PICTURE_MM
    return width, height


def _caption_height(pdf: _Pdf, picture: Picture) -> float:
    pdf.set_font("DejaVu", size=8)
    height = pdf.text_height([picture.caption], 4) + 1
    pdf.set_font("DejaVu", size=9)
    return height


def _first_block(pdf: _Pdf, section: Section) -> float:
    """The height that must follow a heading on its page: a few lines of its text, then a
    table's first rows, the (shrunk) first picture or the first subsection's start."""
    pdf.set_font("DejaVu", size=9)
    needed = min(pdf.text_height(section.lines), 3 * LINE_MM)
    if section.pictures and section.pictures_first:
        picture = section.pictures[0]
        needed = _picture_size(pdf, picture)[1] + _caption_height(pdf, picture) + LINE_MM * 3
    elif section.tables:
        needed += LINE_MM * (1 + min(3, len(section.tables[0].rows)))
    elif section.pictures:
        picture = section.pictures[0]
        needed += MIN_SHRINK * _picture_size(pdf, picture)[1] + _caption_height(pdf, picture)
    elif section.subsections:
        needed += _first_block(pdf, section.subsections[0]) + 8
    return needed


def _pdf_table(pdf: _Pdf, table: Table) -> None:
    pdf.set_font("DejaVu", size=8)
    with pdf.table(
        col_widths=table.widths,
        text_align="LEFT",
        v_align="TOP",
        align="LEFT",
        width=pdf.epw * (0.6 if table.narrow else 1),
        line_height=4.2,
        padding=(0.8, 1.5),
        borders_layout="HORIZONTAL_LINES",
        headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
    ) as grid:
        for values in [table.header, *table.rows]:
            row = grid.row()
            for value in values:
                row.cell(value)
    pdf.ln(2)
    pdf.set_font("DejaVu", size=9)


def _pdf_picture(pdf: _Pdf, picture: Picture) -> None:
    width, height = _picture_size(pdf, picture)
    caption = _caption_height(pdf, picture)
    if height + caption > pdf.room:
        if pdf.room - caption >= MIN_SHRINK * height:
            fitted = pdf.room - caption
            width, height = width * fitted / height, fitted
        else:
            pdf.add_page()
    pdf.image(io.BytesIO(picture.data), w=width, h=height)
    pdf.set_font("DejaVu", size=8)
    pdf.multi_cell(0, 4, picture.caption, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_font("DejaVu", size=9)
    pdf.ln(1)


def _pdf_section(pdf: _Pdf, section: Section, level: int) -> None:
    heading = 8 if level == 0 else 6
    if pdf.room < heading + _first_block(pdf, section):
        pdf.add_page()
    pdf.set_font("DejaVu", "B", 14 if level == 0 else 11)
    pdf.multi_cell(0, heading, section.title, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_font("DejaVu", size=9)
    for picture in section.pictures if section.pictures_first else []:
        _pdf_picture(pdf, picture)
    for line in section.lines:
        pdf.multi_cell(0, LINE_MM, line, new_x="LMARGIN", new_y="NEXT", align="L")
    for table in section.tables:
        _pdf_table(pdf, table)
    for picture in [] if section.pictures_first else section.pictures:
        _pdf_picture(pdf, picture)
    for sub in section.subsections:
        pdf.ln(2)
        _pdf_section(pdf, sub, level + 1)
    pdf.ln(3)


def to_pdf(document: Document) -> bytes:
    pdf = _Pdf(format="A4")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 18)
    pdf.multi_cell(0, 10, document.title, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_font("DejaVu", size=10)
    pdf.multi_cell(0, 6, document.subtitle, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(4)
    for section in document.sections:
        _pdf_section(pdf, section, 0)
    return bytes(pdf.output())
