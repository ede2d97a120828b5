"""The Grafana dashboard and the Prometheus rules in ``deploy/``: valid PromQL (promtool), alerts
that fire when they should (promtool's rule tests), and only metrics the service exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from ..conftest import ROOT
from ..server.conftest import LiveServer

DASHBOARD = ROOT / "deploy" / "grafana" / "kotaemon-dashboard.json"
RULES = ROOT / "deploy" / "prometheus" / "rules.yaml"
RULE_TESTS = Path(__file__).with_name("alerts_test.yaml")

#: Metrics that other systems export: Prometheus itself, kube-state-metrics, and the
#: prometheus-adapter's per-pod rate the HorizontalPodAutoscaler reads.
EXTERNAL = {"up", "kube_pod_status_ready", "http_requests_per_second"}

_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
_PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
    "unless", "offset", "le", "inf", "nan",
}  # fmt: skip


def promtool() -> str:
    found = shutil.which("promtool")
    assert found, "promtool is missing: `make test` installs it (Debian package prometheus)"
    return found


def dashboard_exprs() -> list[str]:
    panels = json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def rule_exprs() -> list[str]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def recorded_names() -> set[str]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (not its functions, labels or keywords)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        following = expr[match.end() :].lstrip()[:1]
        if following != "(" and match.group().lower() not in _PROMQL_WORDS:
            names.add(match.group())
    return names


def test_the_rules_are_valid_and_their_alerts_fire_when_they_should() -> None:
    checked = subprocess.run(
        [promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(
        [promtool(), "test", "rules", str(RULE_TESTS)], capture_output=True, text=True, check=False
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    # promtool checks the syntax of rule expressions: check each query as a recording rule.
    rules = [
        {"record": f"dashboard:query_{n}", "expr": expr.replace("$__rate_interval", "5m")}
        for n, expr in enumerate(dashboard_exprs())
    ]
    path = tmp_path / "dashboard-rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    checked = subprocess.run(
        [promtool(), "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_dashboard_covers_what_operators_need() -> None:
    titles = " | ".join(
        p["title"].lower() for p in json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]
    )
    for topic in (
        "request rate",
        "p95",
        "p99",
        "error rate",
        "stage",
        "tokens",
        "first token",
        "cache hit",
        "queue depth",
        "without context",
    ):
        assert topic in titles, topic  # fmt: skip


@pytest.mark.integration
def test_every_metric_in_the_dashboard_and_rules_is_exported(kb_server: LiveServer) -> None:
    with kb_server.client() as client:
        client.post("/v1/search", json={"query": "late fee"})  # some traffic
        text = client.get("/metrics").text
    exported = set()
    for family in text_string_to_metric_families(text):
        # A labelled metric is declared before its first event; its series appear with it.
        exported |= {family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",))}
        exported |= {sample.name for sample in family.samples}
    used = set().union(*(metric_names(e) for e in dashboard_exprs() + rule_exprs()))
    unknown = used - exported - EXTERNAL - recorded_names()
    assert not unknown, f"not exported by the service: {sorted(unknown)}"
    assert {"http_requests_total", "kotaemon_answers_total"} <= used


def test_metric_names_are_read_from_promql() -> None:
    expr = (
        "histogram_quantile(0.95, sum by (le, stage) "
        '(rate(kotaemon_retrieval_duration_seconds_bucket{stage="dense"}[5m]))) > 1'
    )
    assert metric_names(expr) == {"kotaemon_retrieval_duration_seconds_bucket"}
    assert metric_names('sum(up{job="kotaemon"}) == 0 or absent(up)') == {"up"}
