"""Loads the named queries of the store's ``.sql`` files (``queries.sql``, ``jobs.sql``…)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import LiteralString

from psycopg import sql

_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


@cache
def _queries() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(Path(__file__).parent.glob("*.sql")):
        parts = _NAME.split(path.read_text(encoding="utf-8"))[1:]
        for name, body in zip(parts[::2], parts[1::2], strict=True):
            if name in found:
                raise RuntimeError(f"query {name!r} is defined twice ({path.name})")
            found[name] = body.strip()
    return found


def query(name: str) -> LiteralString:
    """The text of a named query (it comes from our own file, never from input)."""
    return _queries()[name]  # our own file's text, never input


def composed(name: str, **literals: int | str) -> sql.Composed:
    """A named query with ``{placeholders}`` filled by integer literals or identifiers."""
    values = {
        key: sql.Literal(value) if isinstance(value, int) else sql.Identifier(value)
        for key, value in literals.items()
    }
    return sql.SQL(query(name)).format(**values)
