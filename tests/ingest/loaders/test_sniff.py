"""The media type comes from the content; the name only tells text kinds apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from kotaemon.core.errors import CorruptFileError, UnsupportedFileError
from kotaemon.ingest.loaders import SUPPORTED_SUFFIXES, load_file, sniff_media_type

from .documents import DOCX_TYPE, make_docx, para, write, zip_bytes


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


def test_text_under_any_name_is_loaded_as_text(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "notes.exe", b"Cards can be frozen in the app."))

    assert (loaded.media_type, loaded.title) == ("text/plain", "notes")
    assert loaded.blocks == [para("Cards can be frozen in the app.")]


def test_a_word_file_under_a_pdf_name_is_read_as_word(tmp_path: Path) -> None:
    assert load_file(write(tmp_path, "handbook.pdf", make_docx())).media_type == DOCX_TYPE


@pytest.mark.parametrize(
    ("data", "filename", "error"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00" * 64, "tool.exe", UnsupportedFileError),
        (zip_bytes({"a.jpg": b"\xff\xd8\xff"}), "photos.zip", UnsupportedFileError),
        (zip_bytes({"a.txt": b"x"}), "notes.txt", UnsupportedFileError),
        (b"<html>Access denied</html>", "report.pdf", CorruptFileError),  # not read as text
        (b"plain text", "letter.docx", CorruptFileError),
    ],
)
def test_unsupported_content_and_names_that_lie(
    data: bytes, filename: str, error: type[Exception]
) -> None:
    with pytest.raises(error, match=f"^{filename}: "):
        sniff_media_type(data, filename)
