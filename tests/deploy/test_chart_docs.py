"""Values, their documentation and their schema stay together: every value has a `## @param`,
every documented value is in values.schema.json with the same words, and the chart's README
tables are generated from them."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest
import yaml

from ..conftest import ROOT

_spec = importlib.util.spec_from_file_location(
    "chart_readme", ROOT / "deploy" / "helm" / "chart_readme.py"
)
chart_readme = importlib.util.module_from_spec(_spec)
sys.modules["chart_readme"] = chart_readme  # its dataclass looks itself up there
_spec.loader.exec_module(chart_readme)

VALUES_TEXT = chart_readme.VALUES.read_text(encoding="utf-8")
VALUES = yaml.safe_load(VALUES_TEXT)
SCHEMA = json.loads(chart_readme.SCHEMA.read_text(encoding="utf-8"))
PARAMS = chart_readme.params(VALUES_TEXT)


def schema_keys(node: dict, prefix: str = "") -> list[str]:
    keys = []
    for name, child in node.get("properties", {}).items():
        keys.append(prefix + name)
        keys += schema_keys(child, f"{prefix}{name}.")
    return keys


def test_every_value_is_documented() -> None:
    assert chart_readme.undocumented(VALUES, PARAMS) == []
    assert len({p.key for p in PARAMS}) == len(PARAMS), "a value is documented twice"


@pytest.mark.parametrize("param", PARAMS, ids=[p.key for p in PARAMS])
def test_every_documented_value_exists_and_is_in_the_schema(param) -> None:
    chart_readme.lookup(VALUES, param.key)  # KeyError: documented but not in values.yaml
    node = chart_readme.schema_node(SCHEMA, param.key)
    assert node is not None, f"{param.key} is not in values.schema.json"
    assert node.get("description") == param.description, "schema and @param say different things"


def test_the_schema_has_no_value_that_values_yaml_lacks() -> None:
    for key in schema_keys(SCHEMA):
        parent = key.rsplit(".", 1)[0] if "." in key else None
        # Below a documented map (resources: limits, requests) the schema may go deeper.
        if (
            parent
            and chart_readme.schema_node(SCHEMA, parent).get("additionalProperties") is not False
        ):
            continue
        chart_readme.lookup(VALUES, key)


def test_every_map_of_the_schema_refuses_unknown_keys() -> None:
    def walk(node: dict, path: str) -> None:
        if "properties" in node and node.get("additionalProperties") is not False:
            if path in (
                "api.resources",
                "worker.resources",
                "migrations.resources",
                "cnpg.resources",
                "redis.resources",
            ):  # Kubernetes types: open
                return
            pytest.fail(f"{path or 'the root'} accepts unknown keys")
        for name, child in node.get("properties", {}).items():
            walk(child, f"{path}.{name}".lstrip("."))

    walk(SCHEMA, "")


def test_the_readme_tables_are_up_to_date() -> None:
    readme = chart_readme.README.read_text(encoding="utf-8")
    assert chart_readme.render_readme(readme, VALUES_TEXT) == readme, (
        "run: .venv/bin/python deploy/helm/chart_readme.py"
    )
    for param in PARAMS:
        assert f"| `{param.key}` |" in readme
