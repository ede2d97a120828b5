"""Small documents written for the loader tests: PDFs by fpdf2, Word files by python-docx."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pypdf
from fpdf import FPDF

from kotaemon.ingest.loaders import Block

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def para(text: str, page: int | None = None) -> Block:
    return Block(text, "paragraph", 0, page)


def heading(text: str, level: int, page: int | None = None) -> Block:
    return Block(text, "heading", level, page)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def make_pdf(pages: list[str], title: str | None = None) -> bytes:
    """One page per text, in 12-point Helvetica, lines wrapped by fpdf2."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    if title:
        pdf.set_title(title)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def three_page_pdf() -> bytes:
    return make_pdf([f"Page {n} talks about repayment terms." for n in (1, 2, 3)], "Loan Guide")


def encrypted_pdf() -> bytes:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(three_page_pdf()))
    writer.encrypt("s3cret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx(core_title: str = "") -> bytes:
    document = docx.Document()
    document.core_properties.title = core_title
    document.add_heading("Staff Handbook", 0)  # level 0 is the "Title" style
    document.add_heading("Leave", 1)
    document.add_paragraph("Employees get   25 days of leave.")
    document.add_paragraph("")
    document.add_heading("Details", 2)
    table = document.add_table(rows=2, cols=3)
    for cell, text in zip(table.rows[0].cells, ["Type", "Days", "Notes"], strict=True):
        cell.text = text
    row = table.rows[1].cells
    row[0].text, row[1].text = "Annual", "25"
    row[1].merge(row[2])  # a merged cell is listed once per spanned column by python-docx
    document.add_paragraph("员工每年享有带薪年假。")
    return save_docx(document)


def save_docx(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()
