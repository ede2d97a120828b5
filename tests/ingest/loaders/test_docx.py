"""Word: headings by style (English and Chinese names), lists, tables with their header row."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest

from kotaemon.ingest.loaders import Block, load_file

from .documents import DOCX_TYPE, heading, make_docx, para, save_docx, write


@pytest.mark.parametrize(("core_title", "title"), [("Core Title", "Core Title"), ("", None)])
def test_docx_blocks(tmp_path: Path, core_title: str, title: str | None) -> None:
    loaded = load_file(write(tmp_path, "handbook.docx", make_docx(core_title)))

    assert loaded.media_type == DOCX_TYPE
    assert loaded.title == (title or "Staff Handbook")  # else the Title-style heading
    assert loaded.blocks == [
        heading("Staff Handbook", 1),
        heading("Leave", 1),
        para("Employees get 25 days of leave."),
        heading("Details", 2),
        Block("Type | Days | Notes\nAnnual | 25", "table", header_rows=1),
        para("员工每年享有带薪年假。"),
    ]


def test_chinese_heading_styles_and_lists(tmp_path: Path) -> None:
    document = docx.Document()
    styles = document.styles
    for name, base in (("标题 1", "Heading 1"), ("标题 2", "Heading 2")):
        styles.add_style(name, 1).base_style = styles[base]  # 1: a paragraph style
    document.add_paragraph("还款规则", style="标题 1")
    document.add_paragraph("宽限期", style="标题 2")
    document.add_paragraph("到期还款日后三天内还款不算逾期。")
    document.add_paragraph("Open the app.", style="List Number")
    document.add_paragraph("Choose the card.", style="List Number")
    document.add_paragraph("Card number", style="List Bullet 2")
    document.add_paragraph("Pay.", style="List Number")
    document.add_paragraph("That is all.")
    loaded = load_file(write(tmp_path, "rules.docx", save_docx(document)))

    assert loaded.blocks == [
        heading("还款规则", 1),
        heading("宽限期", 2),
        para("到期还款日后三天内还款不算逾期。"),
        Block("1. Open the app.\n2. Choose the card.\n  - Card number\n3. Pay.", "list"),
        para("That is all."),
    ]
