"""Loading as a whole: every way a file is refused, and the limits. Per-format behaviour is in
test_text, test_html, test_pdf*, test_docx and test_sniff."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from pathlib import Path

import docx
import pypdf
import pytest

from kotaemon.core.errors import (
    CorruptFileError,
    FileTooLargeError,
    IngestError,
    UnsupportedFileError,
)
from kotaemon.ingest.loaders import load_bytes, load_file

from .documents import encrypted_pdf, make_docx, make_pdf, three_page_pdf, write, zip_bytes

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
