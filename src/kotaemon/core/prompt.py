"""Prompt templates with ``{name}`` fields."""

from __future__ import annotations

import string
from typing import Any

from kotaemon.core.errors import InvalidInputError


class PromptTemplate:
    """A text with ``{name}`` fields, filled by :meth:`format`; ``{{`` and ``}}`` are braces.

    Example::

        PromptTemplate(template="Context:\\n{context}\\n\\nQ: {question}").format(
            context="...", question="...")

    :raises InvalidInputError: if a field is not a plain name (``{a.b}``, ``{0}``), or at
        :meth:`format` time if a field has no value.
    """

    def __init__(self, template: str) -> None:
        self.template = template
        self.fields = self._parse(template)

    @staticmethod
    def _parse(template: str) -> tuple[str, ...]:
        names: list[str] = []
        for _, name, _, _ in string.Formatter().parse(template):
            if name is None:
                continue
            if not name.isidentifier():
                raise InvalidInputError(
                    f"template field {{{name}}} is not a plain name; use {{name}}, "
                    "or {{ and }} for literal braces"
                )
            if name not in names:
                names.append(name)
        return tuple(names)

    def format(self, **values: Any) -> str:
        """The template with every field replaced by ``str(value)``."""
        missing = [name for name in self.fields if name not in values]
        if missing:
            raise InvalidInputError(f"prompt template is missing values for: {', '.join(missing)}")
        return self.template.format(**{name: values[name] for name in self.fields})

    def __repr__(self) -> str:
        return f"PromptTemplate(fields={list(self.fields)})"
