"""Answers composed from a tool's result without an LLM: the first case whose ``when`` fields
match the result, in the question's language, with ``{dotted.path}`` fields filled in.

Example (configuration)::

    answer:
      - when: {statement.status: paid_on_time}
        zh: "您{month}的账单已于到期日（{statement.due_date}）前结清，未发生逾期。"
        en: "Your {month} statement was paid by its due date ({statement.due_date}): not late."
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_FIELD = re.compile(r"\{([A-Za-z0-9_.]+)\}")


@dataclass(frozen=True)
class TemplateCase:
    when: dict[str, Any]
    text: dict[str, str]  # language -> template


@dataclass(frozen=True)
class AnswerTemplate:
    cases: tuple[TemplateCase, ...]

    def render(self, data: Any, language: str) -> str | None:
        """The text for ``data``; None when no case matches or a field is missing."""
        for case in self.cases:
            if all(field(data, path) == value for path, value in case.when.items()):
                template = case.text.get(language) or next(iter(case.text.values()), None)
                if template is None:
                    return None
                values = {path: field(data, path) for path in _FIELD.findall(template)}
                if any(v is None for v in values.values()):
                    return None
                return _fill(template, values)
        return None


def _fill(template: str, values: dict[str, Any]) -> str:
    return _FIELD.sub(lambda match: str(values[match.group(1)]), template)


def field(data: Any, path: str) -> Any:
    """``statement.due_date`` of a JSON-like value (list items by index: ``items.0``)."""
    value = data
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value
