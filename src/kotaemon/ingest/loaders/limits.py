"""Size limits every loader shares: file size in messages, and zip bomb checks for Word files."""

from __future__ import annotations

import zipfile

from kotaemon.core.errors import FileTooLargeError

_MAX_ZIP_RATIO = 100
_RATIO_FLOOR = 2**20  # smaller zip members are harmless whatever their compression ratio


def size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n:,} bytes"


def too_large(name: str, nbytes: int, limit: int) -> str:
    return (
        f"{name}: {size(nbytes)} is over the {size(limit)} limit; split it into smaller files "
        "or raise the limit (KOTAEMON_MAX_FILE_BYTES)"
    )


def check_zip(infos: list[zipfile.ZipInfo], name: str, max_uncompressed: int) -> None:
    """Refuse an archive that unpacks too large or compresses like a zip bomb."""
    if (total := sum(i.file_size for i in infos)) > max_uncompressed:
        raise FileTooLargeError(
            f"{name}: unpacks to {size(total)}, over the {size(max_uncompressed)} limit; "
            "remove large embedded images or split the document"
        )
    limit = _MAX_ZIP_RATIO
    if bombs := [i for i in infos if i.file_size > max(_RATIO_FLOOR, limit * i.compress_size)]:
        raise FileTooLargeError(
            f"{name}: {bombs[0].filename} is compressed over {limit}:1, like a zip bomb; "
            "open the document in Word, save it again and upload that"
        )
