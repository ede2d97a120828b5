"""Monitoring: the PrometheusRule and the dashboard are deploy/'s files as they are, the
autoscaler's metric is derived from the service's counter, and scrapes land under job kotaemon."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import psycopg
import pytest
import yaml

from ..conftest import ROOT, fresh_database
from ..observability.test_deploy import DASHBOARD, RULES, promtool
from .chart import CHART, find, render_defaults

ADAPTER = ROOT / "deploy" / "prometheus" / "prometheus-adapter-values.yaml"


def test_the_chart_reads_the_rules_and_the_dashboard_from_deploy() -> None:
    # One source of truth: the chart's files are links to deploy/, which Helm follows.
    for link, target in [
        (CHART / "files" / "prometheus" / "rules.yaml", RULES),
        (CHART / "files" / "grafana" / "kotaemon-dashboard.json", DASHBOARD),
    ]:
        assert link.is_symlink() and link.resolve() == target.resolve()


def test_the_prometheus_rule_holds_rules_yaml_unchanged() -> None:
    docs = render_defaults(
        metrics={"prometheusRule": {"enabled": True, "labels": {"release": "kps"}}}
    )
    rule = find(docs, "PrometheusRule", "kotaemon")
    assert rule["spec"] == yaml.safe_load(RULES.read_text(encoding="utf-8"))
    assert rule["metadata"]["labels"]["release"] == "kps"
    # Alert texts keep their Prometheus templates: Helm did not evaluate them.
    assert "{{ $value | humanizeDuration }}" in json.dumps(rule)
    assert not [d for d in render_defaults() if d["kind"] == "PrometheusRule"]


def test_the_dashboard_config_map_holds_the_dashboard_for_the_sidecar() -> None:
    docs = render_defaults(metrics={"grafanaDashboard": {"enabled": True}})
    config_map = find(docs, "ConfigMap", "kotaemon-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config_map["data"]["kotaemon-dashboard.json"]) == json.loads(
        DASHBOARD.read_text(encoding="utf-8")
    )


def test_service_monitors_scrape_api_and_workers_under_the_jobs_the_alerts_use() -> None:
    docs = render_defaults(
        metrics={"serviceMonitor": {"enabled": True}}, secrets={"metricsToken": "t0ken"}
    )
    api = find(docs, "ServiceMonitor", "kotaemon-api")
    service = find(docs, "Service", "kotaemon-service")
    # rules.yaml alerts on up{job="kotaemon"}: the job label comes from the Service's label.
    assert service["metadata"]["labels"][api["spec"]["jobLabel"]] == "kotaemon"
    assert api["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    (endpoint,) = api["spec"]["endpoints"]
    assert endpoint["port"] == "http" and endpoint["path"] == "/metrics"
    # /metrics asks for KOTAEMON_METRICS_TOKEN: the scrape sends it from the same Secret.
    assert endpoint["authorization"]["credentials"] == {
        "name": "kotaemon-secrets",
        "key": "KOTAEMON_METRICS_TOKEN",
    }
    worker = find(docs, "ServiceMonitor", "kotaemon-worker")
    worker_service = find(docs, "Service", "kotaemon-worker")
    assert worker_service["metadata"]["labels"][worker["spec"]["jobLabel"]] == "kotaemon-worker"
    assert worker_service["spec"]["ports"][0]["port"] == 8001
    # Without a token, no authorization is sent.
    plain = find(
        render_defaults(metrics={"serviceMonitor": {"enabled": True}}),
        "ServiceMonitor",
        "kotaemon-api",
    )
    assert "authorization" not in plain["spec"]["endpoints"][0]


def adapter_rule() -> dict:
    (rule,) = yaml.safe_load(ADAPTER.read_text(encoding="utf-8"))["rules"]["custom"]
    return rule


def adapter_query(matchers: str, group_by: str) -> str:
    query = adapter_rule()["metricsQuery"]
    return (
        query.replace("<<.Series>>", "http_requests_total")
        .replace("<<.LabelMatchers>>", matchers)
        .replace("<<.GroupBy>>", group_by)
    )


def test_the_adapter_serves_the_metric_the_hpa_reads_from_the_request_counter() -> None:
    rule = adapter_rule()
    hpa = find(render_defaults(), "HorizontalPodAutoscaler", "kotaemon-api")
    pods_metric = next(m for m in hpa["spec"]["metrics"] if m["type"] == "Pods")
    assert rule["name"]["as"] == pods_metric["pods"]["metric"]["name"] == "http_requests_per_second"
    assert re.fullmatch(rule["name"]["matches"], "http_requests_total")
    assert rule["resources"]["overrides"]["pod"] == {"resource": "pod"}
    # The same requests as the recording rule: probes and scrapes do not count.
    recorded = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"][0]["rules"][0]
    exclusion = re.search(r'route!~"[^"]+"', recorded["expr"]).group()
    assert exclusion in rule["metricsQuery"]


def test_the_adapters_query_is_a_per_pod_rate_of_real_requests(tmp_path: Path) -> None:
    # promtool evaluates the query the adapter would send, on series like the service's.
    rules = tmp_path / "adapter.yaml"
    rules.write_text(
        yaml.safe_dump(
            {
                "groups": [
                    {
                        "name": "adapter",
                        "rules": [
                            {
                                "record": "adapter:http_requests_per_second",
                                "expr": adapter_query(
                                    'namespace="kotaemon",pod=~"kotaemon-api-.*"', "pod"
                                ),
                            }
                        ],
                    }
                ]
            }
        )
    )

    def series(namespace: str, pod: str, route: str, per_minute: int) -> dict[str, str]:
        labels = f'namespace="{namespace}",pod="{pod}",route="{route}",status="200"'
        return {"series": f"http_requests_total{{{labels}}}", "values": f"0+{per_minute}x10"}

    def sample(pod: str, value: float) -> dict:
        return {"labels": f'adapter:http_requests_per_second{{pod="{pod}"}}', "value": value}

    case = {
        "interval": "1m",
        "input_series": [
            # 120 chat requests a minute on pod a, 60 on pod b; probes and another namespace's
            # pods do not count.
            series("kotaemon", "kotaemon-api-a", "/v1/chat", 120),
            series("kotaemon", "kotaemon-api-b", "/v1/chat", 60),
            series("kotaemon", "kotaemon-api-a", "/readyz", 600),
            series("other", "kotaemon-api-c", "/v1/chat", 600),
        ],
        "promql_expr_test": [
            {
                "expr": "adapter:http_requests_per_second",
                "eval_time": "10m",
                "exp_samples": [sample("kotaemon-api-a", 2), sample("kotaemon-api-b", 1)],
            }
        ],
    }
    cases = tmp_path / "adapter_test.yaml"
    cases.write_text(
        yaml.safe_dump({"rule_files": [str(rules)], "evaluation_interval": "1m", "tests": [case]})
    )
    result = subprocess.run(
        [promtool(), "test", "rules", str(cases)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_keda_trigger_counts_the_same_requests() -> None:
    docs = render_defaults(autoscaling={"mode": "keda"})
    prometheus, cpu = find(docs, "ScaledObject", "kotaemon-api")["spec"]["triggers"]
    assert prometheus["type"] == "prometheus" and prometheus["metricType"] == "AverageValue"
    assert prometheus["metadata"]["threshold"] == "100"
    assert 'route!~"/healthz|/readyz|/metrics"' in prometheus["metadata"]["query"]
    assert 'pod=~"kotaemon-api-.*"' in prometheus["metadata"]["query"]
    assert cpu == {"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}}


def test_the_keda_worker_trigger_reads_the_ingest_queue_depth() -> None:
    docs = render_defaults(autoscaling={"mode": "keda"})
    (trigger,) = find(docs, "ScaledObject", "kotaemon-worker")["spec"]["triggers"]
    assert trigger["type"] == "postgresql"
    query = trigger["metadata"]["query"]
    assert "FROM procrastinate_jobs" in query and "queue_name = 'ingest'" in query
    assert "status IN ('todo', 'doing')" in query
    auth = find(docs, "TriggerAuthentication", trigger["authenticationRef"]["name"])
    assert auth["spec"]["secretTargetRef"] == [
        {"parameter": "connection", "name": "kotaemon-secrets", "key": "KOTAEMON_DATABASE_URL"}
    ]


@pytest.mark.integration
def test_the_queue_depth_query_runs_on_the_migrated_schema(postgres_admin_url: str) -> None:
    docs = render_defaults(autoscaling={"mode": "keda"})
    (trigger,) = find(docs, "ScaledObject", "kotaemon-worker")["spec"]["triggers"]
    with fresh_database(postgres_admin_url) as url, psycopg.connect(url) as conn:
        # procrastinate's own table and status enum: a wrong column or status is an error here.
        assert conn.execute(trigger["metadata"]["query"]).fetchone() == (0,)
