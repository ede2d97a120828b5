"""Load .txt, .md, .html, .pdf and .docx files into heading and paragraph blocks.

The media type comes from the content, whatever the name: PDF and Word by their magic bytes,
text by decoding it (HTML when it starts like HTML). The suffix only tells text kinds apart
(``.md`` is Markdown, ``.html`` is HTML) and is never a reason to refuse readable text, so
``notes.exe`` holding text is loaded as text. Unsupported *content* (binary, a zip that is not a
Word document) is refused. One exception: a ``.pdf`` or ``.docx`` name over content that is
neither is refused as corrupt, not read as text, because such a file is nearly always a broken
download or an error page saved under the document's name, and indexing it would put that page
in the knowledge base in the document's place.

Every failure is an ``IngestError`` whose message names the file and says what to do:
``UnsupportedFileError`` (binary or unknown content), ``CorruptFileError`` (unreadable, password
protected, or no extractable text) and ``FileTooLargeError`` (over a size or page limit, or a
zip bomb).

Example::

    loaded = load_file(Path("handbook.pdf"))
    drafts = splitter.split(loaded.blocks)
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import docx
import pypdf
from docx.document import Document as DocxDocument
from docx.table import Table
from markdown_it import MarkdownIt
from markdown_it.token import Token
from selectolax.lexbor import LexborHTMLParser, LexborNode

from kotaemon.core.errors import (
    CorruptFileError,
    FileTooLargeError,
    IngestError,
    UnsupportedFileError,
)
from kotaemon.core.text import CJK_TEXT

TEXT, MARKDOWN, HTML, PDF = "text/plain", "text/markdown", "text/html", "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"})
_SUPPORTED = "supported are text, Markdown and HTML (UTF-8 or GB18030), PDF and Word .docx"
_NO_TEXT = {
    PDF: "no text to index: the PDF has no text layer, as a scan has; run OCR on it first "
    "(e.g. ocrmypdf) and upload the result",
    DOCX: "no text to index: the document is empty or holds only images; add the text",
    HTML: "no text to index: the page is empty or only markup and scripts; save the page with "
    "its content",
    TEXT: "no text to index: the file is empty or only blank lines; add text or leave it out",
}
_MAX_ZIP_RATIO = 100
_RATIO_FLOOR = 2**20  # smaller zip members are harmless whatever their compression ratio

_CJK_BREAK = re.compile(rf"(?<=[{CJK_TEXT}])\s*\n\s*(?=[{CJK_TEXT}])")
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_BLANK_LINE = re.compile(r"\n\s*\n")
_BOMS = {codecs.BOM_UTF8: "utf-8-sig", codecs.BOM_UTF16_LE: "utf-16", codecs.BOM_UTF16_BE: "utf-16"}
_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
_CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "iso-8859-1": "cp1252"}


@dataclass(frozen=True, slots=True)
class Block:
    """One heading or paragraph of a loaded file."""

    text: str
    kind: Literal["heading", "paragraph"]
    level: int = 0
    page: int | None = None


@dataclass(frozen=True, slots=True)
class LoadedFile:
    """A file's title, sniffed media type and blocks in reading order."""

    title: str
    media_type: str
    blocks: list[Block]


def sniff_media_type(data: bytes, filename: str) -> str:
    """The media type from the content, with the suffix only to tell text kinds apart.

    :raises UnsupportedFileError: binary content or a zip that is not a Word document.
    :raises CorruptFileError: a .pdf or .docx whose bytes are not one.
    """
    return _sniff(data, Path(filename).name or filename)[0]


def load_bytes(
    data: bytes,
    filename: str,
    *,
    max_bytes: int = 50 * 2**20,
    max_pages: int = 2000,
    max_uncompressed_bytes: int = 200 * 2**20,
) -> LoadedFile:
    """Parse ``data``, the contents of ``filename``, into blocks; raises an ``IngestError``."""
    name = Path(filename).name or filename
    if len(data) > max_bytes:
        raise FileTooLargeError(_too_large(name, len(data), max_bytes))
    media_type, text = _sniff(data, name)
    title: str | None = None
    if media_type == PDF:
        title, blocks = _load_pdf(data, name, max_pages)
    elif media_type == DOCX:
        title, blocks = _load_docx(data, name, max_uncompressed_bytes)
    elif media_type == HTML:
        title, blocks = _load_html(text, name)
    else:
        blocks = _markdown_blocks(text) if media_type == MARKDOWN else _text_blocks(text)
    if not blocks:
        raise CorruptFileError(f"{name}: {_NO_TEXT.get(media_type, _NO_TEXT[TEXT])}")
    h1 = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), None)
    return LoadedFile(title or h1 or Path(name).stem or name, media_type, blocks)


def load_file(path: Path, *, max_bytes: int = 50 * 2**20, **limits: int) -> LoadedFile:
    """Load a file from disk, refusing one over ``max_bytes`` before reading it."""
    path = Path(path)
    if (size := path.stat().st_size) > max_bytes:
        raise FileTooLargeError(_too_large(path.name, size, max_bytes))
    with path.open("rb") as f:
        data = f.read(max_bytes + 1)  # a file that grew since stat() still fails the size check
    return load_bytes(data, path.name, max_bytes=max_bytes, **limits)


def _sniff(data: bytes, name: str) -> tuple[str, str]:
    """(media type, decoded text — empty for PDF and DOCX)."""
    suffix = Path(name).suffix.lower()
    if data[:1024].lstrip().startswith(b"%PDF-"):
        return PDF, ""
    if data.startswith(b"PK\x03\x04"):
        if any(i.filename == "word/document.xml" for i in _zip_infos(data) or []):
            return DOCX, ""
        if suffix != ".docx":
            raise UnsupportedFileError(f"{name}: zip archives are not supported; {_SUPPORTED}")
    if suffix in (".pdf", ".docx"):
        kind = "PDF" if suffix == ".pdf" else "Word (.docx) document"
        raise CorruptFileError(
            f"{name}: not a valid {kind} (the content does not match the suffix); "
            "re-export or re-download the original file"
        )
    if (text := _decode(data)) is None:
        raise UnsupportedFileError(
            f"{name}: unsupported content: binary data or an unknown text encoding; save text as "
            f"UTF-8 ({_SUPPORTED})"
        )
    looks_html = text[:1024].lstrip().lower().startswith(("<!doctype html", "<html"))
    if looks_html or suffix in (".html", ".htm"):
        return HTML, text
    return (MARKDOWN if suffix in (".md", ".markdown") else TEXT), text


def _zip_infos(data: bytes) -> list[zipfile.ZipInfo] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None


def _decode(data: bytes) -> str | None:
    """Text from a BOM, an HTML <meta charset>, UTF-8 or GB18030; None if it looks binary."""
    bom_codecs = [codec for bom, codec in _BOMS.items() if data.startswith(bom)]
    if not bom_codecs and b"\x00" in data:
        return None
    match = _META_CHARSET.search(data[:4096])
    declared = match.group(1).decode("ascii").lower() if match else "utf-8"
    for codec in bom_codecs or [_CHARSET_ALIASES.get(declared, declared), "utf-8", "gb18030"]:
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        sample = text[:8192]
        return None if len(_CONTROL.findall(sample)) > len(sample) * 0.05 else text
    return None


def _line(text: str) -> str:
    """Control characters dropped and all whitespace (newlines too) collapsed to one space."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()


def _lines(text: str) -> str:
    """Whitespace collapsed inside each line; empty lines dropped."""
    return "\n".join(filter(None, map(_line, text.splitlines())))


def _flow(text: str) -> str:
    """Join wrapped lines: nothing between two CJK characters, else one space."""
    return _line(_CJK_BREAK.sub("", text))


def _text_blocks(text: str, page: int | None = None) -> list[Block]:
    """One paragraph per run of non-blank lines."""
    return [_para(p, page) for p in map(_flow, _BLANK_LINE.split(text)) if p]


def _code(text: str) -> str:
    """Code kept verbatim, except control characters, trailing spaces and blank edge lines."""
    return "\n".join(_CONTROL.sub("", line).rstrip() for line in text.splitlines()).strip("\n")


def _para(text: str, page: int | None = None) -> Block:
    return Block(text, "paragraph", 0, page)


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n:,} bytes"


def _too_large(name: str, size: int, limit: int) -> str:
    return (
        f"{name}: {_size(size)} is over the {_size(limit)} limit; split it into smaller files "
        "or raise the limit (KOTAEMON_MAX_FILE_BYTES)"
    )


_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n.*?\n---[ \t]*\r?\n", re.S)
_MARKDOWN = MarkdownIt("commonmark").enable("table")


def _markdown_blocks(text: str) -> list[Block]:
    """Headings, paragraphs, list items, code blocks and table rows of a Markdown text."""
    blocks: list[Block] = []
    rows: list[str] = []
    row: list[str] = []
    heading_level = 0
    in_cell = False
    for token in _MARKDOWN.parse(_FRONT_MATTER.sub("", text, count=1)):
        kind = token.type
        if kind == "heading_open":
            heading_level = int(token.tag[1])
        elif kind == "heading_close":
            heading_level = 0
        elif kind in ("th_open", "td_open", "th_close", "td_close"):
            in_cell = kind.endswith("_open")
        elif kind == "tr_close" and row:
            rows.append(" | ".join(row))
            row = []
        elif kind == "table_close" and rows:
            blocks.append(_para("\n".join(rows)))  # a table stays together, a row per line
            rows = []
        elif kind in ("fence", "code_block") and (code := _code(token.content)):
            blocks.append(_para(code))
        elif kind == "inline" and (content := _inline_text(token)):
            if in_cell:
                row.append(content)
            elif heading_level:
                blocks.append(Block(content, "heading", heading_level))
            else:
                blocks.append(_para(content))
    return blocks


def _inline_text(token: Token) -> str:
    """The plain text of an inline token: markup dropped, links and images keep their text."""
    parts = [
        "\n" if child.type in ("softbreak", "hardbreak") else child.content
        for child in token.children or []
        if child.type in ("text", "code_inline", "softbreak", "hardbreak", "html_inline")
        or (child.type == "image" and child.content)
    ]
    return _flow("".join(parts))


_IGNORED = {"script", "style", "nav", "header", "footer", "noscript", "template", "svg", "iframe"}
_CONTENT, _KEPT = {"article", "main"}, {"header", "footer"}  # kept inside article or main
_BLOCK_TAGS = {"p", "div", "li", "ul", "ol", "dl", "dt", "dd", "blockquote", "section", "aside"}
_BLOCK_TAGS |= {"body", "table", "thead", "tbody", "tfoot", "caption", "figure", "figcaption"}
_BLOCK_TAGS |= {"form", "fieldset", "address", "details", "summary", "center", "hr", *_CONTENT}
_HEADINGS = {f"h{n}": n for n in range(1, 7)}


class _HtmlWalker:
    """Walks the DOM collecting inline text, emitting a block at every block-level boundary."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.inline: list[str] = []

    def walk(self, node: LexborNode, in_content: bool = False) -> None:
        for child in node.iter(include_text=True):
            tag = child.tag or "-"
            if tag == "-text":
                self.inline.append(_SPACES.sub(" ", _CJK_BREAK.sub("", child.text_content or "")))
            elif tag == "br":
                self.inline.append("\n")
            elif tag.startswith("-") or (tag in _IGNORED and not (in_content and tag in _KEPT)):
                continue  # comments and page furniture
            elif tag in _HEADINGS:
                self.flush()
                self.walk(child, in_content)
                self.flush(_HEADINGS[tag])
            elif tag == "pre":
                self.flush()
                if code := _code(child.text(deep=True)):
                    self.blocks.append(_para(code))
            elif tag == "tr":
                self.flush()
                cells = (_line(c.text(deep=True, separator=" ")) for c in child.iter())
                if row := " | ".join(c for c in cells if c):
                    self.blocks.append(_para(row))
            elif tag in _BLOCK_TAGS or tag in _IGNORED:
                self.flush()
                self.walk(child, in_content or tag in _CONTENT)
                self.flush()
            else:  # an inline element: its text joins the surrounding text
                self.walk(child, in_content)

    def flush(self, level: int = 0) -> None:
        text = _lines("".join(self.inline))
        self.inline.clear()
        if text:
            self.blocks.append(Block(_line(text), "heading", level) if level else _para(text))


def _load_html(text: str, name: str) -> tuple[str | None, list[Block]]:
    tree = LexborHTMLParser(text)
    walker = _HtmlWalker()
    try:
        walker.walk(tree.body or tree.root)
    except RecursionError as exc:
        raise CorruptFileError(f"{name}: HTML nested too deeply to read; save it as text") from exc
    walker.flush()
    title = tree.css_first("head > title")
    return (_line(title.text()) if title else None), walker.blocks


def _load_pdf(data: bytes, name: str, max_pages: int) -> tuple[str | None, list[Block]]:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise CorruptFileError(
                f"{name}: the PDF is password protected; upload a copy saved without the password"
            )
        if (pages := len(reader.pages)) > max_pages:
            raise FileTooLargeError(f"{name}: {pages} pages is over the {max_pages}-page limit")
        title = _line(str(reader.metadata.title or "")) if reader.metadata else ""
        blocks = [
            block
            for number, page in enumerate(reader.pages, start=1)
            for block in _text_blocks(page.extract_text(), page=number)
        ]
    except IngestError:
        raise
    except Exception as exc:  # pypdf raises many exception types on damaged files
        raise CorruptFileError(
            f"{name}: the PDF is damaged or unreadable ({type(exc).__name__}: {exc}); "
            "re-export or re-download it"
        ) from exc
    return title or None, blocks


def _load_docx(data: bytes, name: str, max_uncompressed: int) -> tuple[str | None, list[Block]]:
    infos = _zip_infos(data) or []
    if (total := sum(i.file_size for i in infos)) > max_uncompressed:
        raise FileTooLargeError(
            f"{name}: unpacks to {_size(total)}, over the {_size(max_uncompressed)} limit; "
            "remove large embedded images or split the document"
        )
    limit = _MAX_ZIP_RATIO
    if bombs := [i for i in infos if i.file_size > max(_RATIO_FLOOR, limit * i.compress_size)]:
        raise FileTooLargeError(
            f"{name}: {bombs[0].filename} is compressed over {limit}:1, like a zip bomb; "
            "open the document in Word, save it again and upload that"
        )
    try:
        document = docx.Document(io.BytesIO(data))
        title = _line(document.core_properties.title or "")
        blocks = list(_docx_blocks(document))
    except Exception as exc:  # python-docx and lxml raise many exception types on damaged files
        raise CorruptFileError(
            f"{name}: the Word document is damaged or unreadable ({type(exc).__name__}: {exc}); "
            "open it in Word, save it again and upload the new copy"
        ) from exc
    return title or None, blocks


def _docx_blocks(document: DocxDocument) -> Iterator[Block]:
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                cells = row.cells  # a merged cell repeats once per spanned column: keep one
                cells = [c for i, c in enumerate(cells) if i == 0 or c is not cells[i - 1]]
                if text := " | ".join(filter(None, (_line(c.text) for c in cells))):
                    yield _para(text)
        elif text := _lines(item.text):
            style = (item.style.name if item.style is not None else None) or ""
            if match := re.fullmatch(r"heading\s*([1-9])|(title)", style, re.I):
                yield Block(_line(text), "heading", min(int(match.group(1) or 1), 6))
            else:
                yield _para(text)
