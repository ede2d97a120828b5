"""Loads the named queries of ``queries.sql``."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import LiteralString, cast

from psycopg import sql

_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


@cache
def _queries() -> dict[str, str]:
    text = (Path(__file__).parent / "queries.sql").read_text(encoding="utf-8")
    parts = _NAME.split(text)[1:]
    return {name: body.strip() for name, body in zip(parts[::2], parts[1::2], strict=True)}


def query(name: str) -> LiteralString:
    """The text of a named query (it comes from our own file, never from input)."""
    return cast(LiteralString, _queries()[name])


def composed(name: str, **literals: int | str) -> sql.Composed:
    """A named query with ``{placeholders}`` filled by integer literals or identifiers."""
    values = {
        key: sql.Literal(value) if isinstance(value, int) else sql.Identifier(value)
        for key, value in literals.items()
    }
    return sql.SQL(query(name)).format(**values)
