"""Loaders: every fixture is generated in tmp_path (fpdf2 for PDFs, python-docx for DOCX)."""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pypdf
import pytest
from fpdf import FPDF

from kotaemon.core.errors import (
    CorruptFileError,
    FileTooLargeError,
    IngestError,
    UnsupportedFileError,
)
from kotaemon.ingest.loaders import (
    SUPPORTED_SUFFIXES,
    Block,
    load_bytes,
    load_file,
    sniff_media_type,
)

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CHINESE_TEXT = (
    "第一段第一行，\n接着第二行。\n\nThe second\nparagraph   here.\n\n  混合 mixed\ttext  \n"
)


def para(text: str, page: int | None = None) -> Block:
    return Block(text, "paragraph", 0, page)


def heading(text: str, level: int) -> Block:
    return Block(text, "heading", level)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def make_pdf(pages: list[str], title: str | None = None) -> bytes:
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
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


# -- text ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gb18030"])
def test_text_in_each_encoding(tmp_path: Path, encoding: str) -> None:
    loaded = load_file(write(tmp_path, "notes.txt", CHINESE_TEXT.encode(encoding)))

    assert loaded.media_type == "text/plain"
    assert loaded.title == "notes"
    assert loaded.blocks == [
        para("第一段第一行，接着第二行。"),  # CJK lines join without a space
        para("The second paragraph here."),  # Latin lines join with one
        para("混合 mixed text"),
    ]


def test_suffixless_text_is_plain_text(tmp_path: Path) -> None:
    assert load_file(write(tmp_path, "README", b"hello\r\nworld")).blocks == [para("hello world")]


# -- Markdown -----------------------------------------------------------------------------------

MARKDOWN = """\
---
title: front matter is dropped
---
# Fees **and** charges

Intro with *emphasis*, `code_span`, a [link](https://example.com) and snake_case_name
that wraps.

## Late fees

- First item
- Second **bold** item
  continued here
1. Numbered item

| Fee | Amount |
|-----|-------:|
| Late | `$25` |

Plan | Rate
:--- | ---:
Basic | 5%

```python
def fee(days):
    return  25 * days
```

> Quoted advice.

Setext heading
--------------
"""


def test_markdown_blocks(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "fees.md", MARKDOWN.encode()))

    assert loaded.media_type == "text/markdown"
    assert loaded.title == "Fees and charges"
    assert loaded.blocks == [
        heading("Fees and charges", 1),
        para("Intro with emphasis, code_span, a link and snake_case_name that wraps."),
        heading("Late fees", 2),
        para("First item"),
        para("Second bold item continued here"),
        para("Numbered item"),
        para("Fee | Amount\nLate | $25"),
        para("Plan | Rate\nBasic | 5%"),
        para("def fee(days):\n    return  25 * days"),  # code is kept verbatim
        para("Quoted advice."),
        heading("Setext heading", 2),
    ]


# -- HTML ---------------------------------------------------------------------------------------

HTML = """<!DOCTYPE html>
<html><head><title> Loan   Guide </title><style>p { color: red }</style>
<script>var tracking = "noise";</script></head>
<body>
<header><a href="/">Home</a> site banner</header>
<nav><ul><li>Menu link</li></ul></nav>
<noscript>Enable JavaScript</noscript>
<div>Text directly in a div<br>after a line break</div>
<article><header><h1>Repayment <em>terms</em></h1></header>
<p>Pay on
time. 每月按时
还款。</p>
<ul><li>Item one<ul><li>Nested item</li></ul></li></ul>
<table><tr><th>Fee</th><th>Amount</th></tr><tr><td>Late</td><td><b>$25</b></td></tr></table>
<pre>code  line 1
  code line 2</pre>
<blockquote>A quote</blockquote>
<dl><dt>Term</dt><dd>Definition</dd></dl>
</article>
Loose body text
<footer>Copyright footer</footer>
</body></html>
"""


def test_html_blocks_skip_noise(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "guide.htm", HTML.encode()))

    assert loaded.media_type == "text/html"
    assert loaded.title == "Loan Guide"
    assert loaded.blocks == [
        para("Text directly in a div\nafter a line break"),
        heading("Repayment terms", 1),  # a header inside <article> is content
        para("Pay on time. 每月按时还款。"),
        para("Item one"),
        para("Nested item"),
        para("Fee | Amount"),
        para("Late | $25"),
        para("code  line 1\n  code line 2"),
        para("A quote"),
        para("Term"),
        para("Definition"),
        para("Loose body text"),
    ]
    assert "noise" not in str(loaded) and "Menu" not in str(loaded)


def test_html_declared_charset_and_h1_title(tmp_path: Path) -> None:
    page = '<html><head><meta charset="gbk"></head><body><h1>还款指南</h1><p>按时还款</p>'
    loaded = load_file(write(tmp_path, "page.txt", page.encode("gbk")))

    assert loaded.media_type == "text/html"  # sniffed from the content, not the suffix
    assert loaded.title == "还款指南"
    assert loaded.blocks == [heading("还款指南", 1), para("按时还款")]


# -- PDF and DOCX -------------------------------------------------------------------------------


def test_pdf_pages_are_numbered(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "guide.pdf", three_page_pdf()))

    assert loaded.media_type == "application/pdf"
    assert loaded.title == "Loan Guide"
    assert [b.page for b in loaded.blocks] == [1, 2, 3]
    assert [b.text for b in loaded.blocks] == [
        f"Page {n} talks about repayment terms." for n in (1, 2, 3)
    ]


def test_pdf_without_title_uses_stem_and_skips_empty_pages(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "scan-1.pdf", make_pdf(["", "Only page two has text."])))

    assert loaded.title == "scan-1"
    assert loaded.blocks == [para("Only page two has text.", page=2)]


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
        para("Type | Days | Notes"),
        para("Annual | 25"),
        para("员工每年享有带薪年假。"),
    ]


# -- sniffing -----------------------------------------------------------------------------------


def test_supported_suffixes() -> None:
    assert {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"} == SUPPORTED_SUFFIXES


@pytest.mark.parametrize(
    ("data", "filename", "media_type"),
    [
        (b"%PDF-1.7\n...", "renamed.txt", "application/pdf"),
        (b"<!doctype html><p>x</p>", "page.txt", "text/html"),
        (b"  <HTML><body>x", "page.md", "text/html"),
        (b"# Title", "notes.markdown", "text/markdown"),
        (b"<p>not a document</p>", "notes.txt", "text/plain"),
        (b"plain notes", "notes.exe", "text/plain"),  # the content wins over the name
        (b"<!DOCTYPE html><p>x</p>", "page.aspx", "text/html"),
        (b"%PDF-1.7\n...", "report.docx", "application/pdf"),
        (zip_bytes({"word/document.xml": b"<w:document/>"}), "doc.bin", DOCX_TYPE),
    ],
)
def test_sniff_media_type(data: bytes, filename: str, media_type: str) -> None:
    assert sniff_media_type(data, filename) == media_type


# -- bad inputs ---------------------------------------------------------------------------------


def truncated_pdf() -> bytes:
    data = three_page_pdf()
    return data[: len(data) // 2]


BAD_INPUTS: list[tuple[str, Callable[[], bytes], type[IngestError], str]] = [
    ("empty.txt", lambda: b"", CorruptFileError, "no text to index"),
    ("blank.md", lambda: b"\n  \n---\n", CorruptFileError, "no text to index"),
    ("blank.html", lambda: b"<html><body> </body></html>", CorruptFileError, "no text to index"),
    ("noise.txt", lambda: random.Random(0).randbytes(4096), UnsupportedFileError, "binary"),
    ("setup.txt", lambda: b"MZ\x90\x00\x03\x00\x00\x00" * 64, UnsupportedFileError, "binary"),
    ("fake.pdf", lambda: b"I am plain text, not a PDF", CorruptFileError, "not a valid PDF"),
    ("cut.pdf", truncated_pdf, CorruptFileError, "damaged"),
    ("locked.pdf", encrypted_pdf, CorruptFileError, "password protected"),
    ("scan.pdf", lambda: make_pdf(["", ""]), CorruptFileError, "run OCR on it first"),
    ("fake.docx", lambda: b"plain text", CorruptFileError, "not a valid Word"),
    ("cut.docx", lambda: make_docx()[:2000], CorruptFileError, "not a valid Word"),
    ("nodoc.docx", lambda: zip_bytes({"a.txt": b"x"}), CorruptFileError, "not a valid Word"),
    (
        "broken.docx",
        lambda: zip_bytes({"word/document.xml": b"<not xml"}),
        CorruptFileError,
        "damaged",
    ),
    (
        "bomb.docx",
        lambda: zip_bytes({"word/document.xml": bytes(50 * 2**20)}),
        FileTooLargeError,
        "zip bomb",
    ),
    ("legacy.doc", lambda: b"\xd0\xcf\x11\xe0" + bytes(600), UnsupportedFileError, "unsupported"),
    ("archive.zip", lambda: zip_bytes({"a.txt": b"x"}), UnsupportedFileError, "zip archive"),
    ("photos.zip", lambda: zip_bytes({"a.jpg": b"x"}), UnsupportedFileError, "zip archive"),
]


@pytest.mark.parametrize(("name", "make", "error", "fragment"), BAD_INPUTS)
def test_bad_inputs(
    tmp_path: Path,
    name: str,
    make: Callable[[], bytes],
    error: type[IngestError],
    fragment: str,
) -> None:
    path = write(tmp_path, name, make())

    with pytest.raises(error) as caught:
        load_file(path)

    assert caught.type is error
    assert caught.value.message.startswith(f"{name}: ")
    assert fragment in caught.value.message


def test_text_under_any_name_is_loaded_as_text(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "notes.exe", b"Cards can be frozen in the app."))

    assert (loaded.media_type, loaded.title) == ("text/plain", "notes")
    assert loaded.blocks == [para("Cards can be frozen in the app.")]


@pytest.mark.parametrize(
    ("name", "data"),
    [("empty.txt", b""), ("blank.md", b"  \n"), ("blank.htm", b"<p> </p>"), ("empty.docx", None)],
)
def test_only_a_pdf_is_told_to_run_ocr(tmp_path: Path, name: str, data: bytes | None) -> None:
    if data is None:
        out = io.BytesIO()
        docx.Document().save(out)
        data = out.getvalue()

    with pytest.raises(CorruptFileError) as caught:
        load_file(write(tmp_path, name, data))

    assert caught.value.message.startswith(f"{name}: no text to index")
    assert "OCR" not in caught.value.message


def test_library_errors_are_chained(tmp_path: Path) -> None:
    with pytest.raises(CorruptFileError) as caught:
        load_file(write(tmp_path, "cut.pdf", truncated_pdf()))

    assert isinstance(caught.value.__cause__, pypdf.errors.PyPdfError)


@pytest.mark.parametrize("via_path", [True, False])
def test_oversize_file(tmp_path: Path, via_path: bool) -> None:
    path = write(tmp_path, "big.txt", b"word " * 1000)

    with pytest.raises(FileTooLargeError, match=r"^big\.txt: 5,000 bytes is over the 100 bytes"):
        if via_path:
            load_file(path, max_bytes=100)
        else:
            load_bytes(path.read_bytes(), "big.txt", max_bytes=100)


def test_page_and_unpacked_size_limits(tmp_path: Path) -> None:
    with pytest.raises(FileTooLargeError, match=r"^guide\.pdf: 3 pages is over the 2-page limit"):
        load_file(write(tmp_path, "guide.pdf", three_page_pdf()), max_pages=2)
    with pytest.raises(FileTooLargeError, match=r"^handbook\.docx: unpacks to"):
        load_file(write(tmp_path, "handbook.docx", make_docx()), max_uncompressed_bytes=10_000)
