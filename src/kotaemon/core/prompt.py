"""Prompt templates with ``{name}`` fields."""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from kotaemon.core.errors import ConfigurationError, InvalidInputError
from kotaemon.core.language import LANGUAGES, Language


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


def fixed_prompts(texts: Mapping[str, str], what: str) -> dict[Language, PromptTemplate]:
    """Templates without fields, by language (an operator's system prompts).

    :raises ConfigurationError: for a language other than en and zh, or a text with fields
        (write literal braces as ``{{`` and ``}}``).
    """
    chosen: dict[Language, PromptTemplate] = {}
    for language, text in texts.items():
        if language not in LANGUAGES:
            raise ConfigurationError(
                f"{what}: {language!r} is not a language; use {' or '.join(LANGUAGES)}"
            )
        try:
            template = PromptTemplate(text)
        except InvalidInputError as exc:
            raise ConfigurationError(f"{what} ({language}): {exc}") from None
        if template.fields:
            raise ConfigurationError(
                f"{what} ({language}) has fields {list(template.fields)}; it is fixed text "
                "(write literal braces as {{ and }})"
            )
        chosen[language] = template  # checked just above
    return chosen
