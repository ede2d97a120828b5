"""The parameter tables of deploy/helm/kotaemon/README.md, from the `## @param` comments of
values.yaml (Bitnami's convention), and the checks that keep values, docs and schema together.

    python deploy/helm/chart_readme.py          # rewrite the tables in the README
    python deploy/helm/chart_readme.py --check  # exit 1 if they are out of date
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CHART = Path(__file__).resolve().parent / "kotaemon"
VALUES = CHART / "values.yaml"
SCHEMA = CHART / "values.schema.json"
README = CHART / "README.md"
START, END = "<!-- parameters:start -->", "<!-- parameters:end -->"

_SECTION = re.compile(r"^\s*## @section (.+)$")
_PARAM = re.compile(r"^\s*## @param (\S+) (.+)$")


@dataclass(frozen=True)
class Param:
    key: str
    description: str
    section: str


def params(text: str) -> list[Param]:
    """Every `## @param key description`, in order, with the `## @section` it is under."""
    found, section = [], ""
    for line in text.splitlines():
        if match := _SECTION.match(line):
            section = match.group(1)
        elif match := _PARAM.match(line):
            found.append(Param(match.group(1), match.group(2), section))
    return found


def lookup(values: dict[str, Any], key: str) -> Any:
    node: Any = values
    for part in key.split("."):
        node = node[part]
    return node


def leaves(values: Any, prefix: str = "") -> list[str]:
    """Keys of every value that is not a non-empty map (a map's own keys are its leaves)."""
    if isinstance(values, dict) and values:
        return [leaf for k, v in values.items() for leaf in leaves(v, f"{prefix}{k}.")]
    return [prefix.removesuffix(".")]


def undocumented(values: dict[str, Any], documented: list[Param]) -> list[str]:
    """Leaves no `@param` covers (a param covers its whole subtree, e.g. api.resources)."""
    keys = {p.key for p in documented}
    return [
        leaf
        for leaf in leaves(values)
        if not any(leaf == k or leaf.startswith(k + ".") for k in keys)
    ]


def schema_node(schema: dict[str, Any], key: str) -> dict[str, Any] | None:
    node = schema
    for part in key.split("."):
        node = node.get("properties", {}).get(part)
        if node is None:
            return None
    return node


def _cell(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else f'"{value}"'
    if len(text) > 60:
        text = text[:57] + "…"
    return "`" + text.replace("|", "\\|") + "`"


def tables(text: str) -> str:
    values = yaml.safe_load(text)
    out, section = [], None
    for param in params(text):
        if param.section != section:
            section = param.section
            out += ["", f"### {section}", "", "| Name | Description | Default |", "|---|---|---|"]
        default = _cell(lookup(values, param.key))
        description = param.description.replace("|", "\\|")
        out.append(f"| `{param.key}` | {description} | {default} |")
    return "\n".join(out).strip() + "\n"


def render_readme(readme: str, values_text: str) -> str:
    before, rest = readme.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{tables(values_text)}{END}{after}"


def main(argv: list[str]) -> int:
    values_text = VALUES.read_text(encoding="utf-8")
    readme = README.read_text(encoding="utf-8")
    expected = render_readme(readme, values_text)
    if "--check" in argv:
        if expected != readme:
            print(f"{README} is out of date: run python {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    README.write_text(expected, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
