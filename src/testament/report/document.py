"""A report as plain sections, rendered the same way to HTML and to PDF.

Keeping one structure for both formats means the PDF cannot silently omit what the
HTML shows. Text is escaped for HTML; the PDF uses DejaVu Sans (shipped with
matplotlib), which covers Latin, Cyrillic and Armenian script.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
from fpdf import FPDF
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@dataclass
class Picture:
    data: bytes
    caption: str
    mime: str = "image/png"

    @property
    def data_uri(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass
class Section:
    title: str
    lines: list[str] = field(default_factory=list)
    pictures: list[Picture] = field(default_factory=list)
    subsections: list[Section] = field(default_factory=list)


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


def _pdf_section(pdf: FPDF, section: Section, level: int) -> None:
    pdf.set_font("DejaVu", "B", 14 if level == 0 else 11)
    pdf.multi_cell(0, 8 if level == 0 else 6, section.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=9)
    for line in section.lines:
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    for picture in section.pictures:
        width = pdf.epw if picture.mime == "image/png" else min(pdf.epw, 80)
        pdf.image(io.BytesIO(picture.data), w=width)
        pdf.set_font("DejaVu", size=8)
        pdf.multi_cell(0, 4, picture.caption, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", size=9)
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
    pdf.multi_cell(0, 10, document.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    pdf.multi_cell(0, 6, document.subtitle, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for section in document.sections:
        _pdf_section(pdf, section, 0)
    return bytes(pdf.output())
