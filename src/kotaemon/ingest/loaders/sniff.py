"""The media type of a file, read from its content; the name only tells text kinds apart.

PDF and Word are known by their magic bytes, text by decoding it (HTML when it starts like
HTML). The suffix never refuses readable text: ``notes.exe`` holding text is text, and
``.md``/``.html`` only say which kind of text. Unsupported *content* (binary data, a zip that is
not a Word document) is refused as ``UnsupportedFileError``. A ``.pdf`` or ``.docx`` name over
content that is neither is refused as ``CorruptFileError``, not read as text: such a file is
nearly always a broken download or an error page saved under the document's name, and indexing
it would put that page in the knowledge base in the document's place.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from pathlib import Path

from kotaemon.core.errors import CorruptFileError, UnsupportedFileError

TEXT, MARKDOWN, HTML, PDF = "text/plain", "text/markdown", "text/html", "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"})
SUPPORTED = "supported are text, Markdown and HTML (UTF-8 or GB18030), PDF and Word .docx"

_BOMS = {codecs.BOM_UTF8: "utf-8-sig", codecs.BOM_UTF16_LE: "utf-16", codecs.BOM_UTF16_BE: "utf-16"}
_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
_CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "iso-8859-1": "cp1252"}
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def sniff_media_type(data: bytes, filename: str) -> str:
    """The media type from the content, with the suffix only to tell text kinds apart.

    :raises UnsupportedFileError: binary content or a zip that is not a Word document.
    :raises CorruptFileError: a .pdf or .docx whose bytes are not one.
    """
    return sniff(data, Path(filename).name or filename)[0]


def sniff(data: bytes, name: str) -> tuple[str, str]:
    """(media type, decoded text — empty for PDF and DOCX); raises as ``sniff_media_type``."""
    suffix = Path(name).suffix.lower()
    if data[:1024].lstrip().startswith(b"%PDF-"):
        return PDF, ""
    if data.startswith(b"PK\x03\x04"):
        if any(i.filename == "word/document.xml" for i in zip_infos(data) or []):
            return DOCX, ""
        if suffix != ".docx":
            raise UnsupportedFileError(f"{name}: zip archives are not supported; {SUPPORTED}")
    if suffix in (".pdf", ".docx"):
        kind = "PDF" if suffix == ".pdf" else "Word (.docx) document"
        raise CorruptFileError(
            f"{name}: not a valid {kind} (the content does not match the suffix); "
            "re-export or re-download the original file"
        )
    if (text := _decode(data)) is None:
        raise UnsupportedFileError(
            f"{name}: unsupported content: binary data or an unknown text encoding; save text as "
            f"UTF-8 ({SUPPORTED})"
        )
    looks_html = text[:1024].lstrip().lower().startswith(("<!doctype html", "<html"))
    if looks_html or suffix in (".html", ".htm"):
        return HTML, text
    return (MARKDOWN if suffix in (".md", ".markdown") else TEXT), text


def zip_infos(data: bytes) -> list[zipfile.ZipInfo] | None:
    """The members of a zip archive, or None if ``data`` is not one."""
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
