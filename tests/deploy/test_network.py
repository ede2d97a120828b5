"""NetworkPolicies: everything the chart runs is denied by default; the api takes traffic from
the ingress controller, Prometheus and the chart's test only; the pods reach DNS, PostgreSQL,
Redis and the declared endpoints only."""

from __future__ import annotations

import pytest

from .chart import CHART, find, load_values, render, render_defaults

DEFAULT_DENY = "kotaemon-default-deny"


@pytest.fixture(scope="module")
def docs():
    return render_defaults()


def selects(policy, labels: dict[str, str]) -> bool:
    selector = policy["spec"]["podSelector"]
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In"
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def pod_labels(docs, kind, name):
    doc = find(docs, kind, name)
    return (
        doc["metadata"]["labels"]
        if kind == "Pod"
        else doc["spec"]["template"]["metadata"]["labels"]
    )


def test_every_pod_of_the_chart_is_denied_by_default(docs) -> None:
    deny = find(docs, "NetworkPolicy", DEFAULT_DENY)
    assert deny["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny["spec"] and "egress" not in deny["spec"]
    for kind, name in [
        ("Deployment", "kotaemon-api"),
        ("Deployment", "kotaemon-worker"),
        ("Job", "kotaemon-migrate-1"),
        ("Pod", "kotaemon-test"),
    ]:
        assert selects(deny, pod_labels(docs, kind, name)), name
        assert selects(find(docs, "NetworkPolicy", "kotaemon-egress"), pod_labels(docs, kind, name))


def test_the_api_takes_traffic_only_from_the_ingress_controller_prometheus_and_the_test(
    docs,
) -> None:
    policy = find(docs, "NetworkPolicy", "kotaemon-api")
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    (rule,) = policy["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8000}]
    controller, prometheus, test = rule["from"]
    assert controller["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}
    }
    assert controller["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}}
    assert prometheus["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}
    }
    assert prometheus["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}
    assert (
        test["podSelector"]["matchLabels"].items()
        <= pod_labels(docs, "Pod", "kotaemon-test").items()
    )
    worker = find(docs, "NetworkPolicy", "kotaemon-worker")
    (rule,) = worker["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8001}] and len(rule["from"]) == 1


def egress_rules(docs):
    return find(docs, "NetworkPolicy", "kotaemon-egress")["spec"]["egress"]


def test_egress_is_dns_postgres_and_the_issuer_by_default(docs) -> None:
    rules = egress_rules(docs)
    ports = [sorted((p["protocol"], p["port"]) for p in r["ports"]) for r in rules]
    assert ports == [[("TCP", 53), ("UDP", 53)], [("TCP", 8000)], [("TCP", 5432)], [("TCP", 443)]]
    dns, api, postgres, oidc = rules
    assert dns["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ]
    assert api["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "api"
    assert postgres["to"] == [{"ipBlock": {"cidr": "10.20.0.0/24"}}]
    assert oidc["to"][0]["ipBlock"]["cidr"] == "0.0.0.0/0"
    # An egress rule without `to` would allow every destination: there is none.
    assert all(rule["to"] for rule in rules)


def test_declared_endpoints_and_tools_open_exactly_their_ports() -> None:
    docs = render(load_values(CHART / "ci" / "cnpg-values.yaml"))
    rules = egress_rules(docs)
    by_port = {tuple(p["port"] for p in r["ports"]): r["to"] for r in rules}
    # PostgreSQL: the CloudNativePG pods; Redis: the chart's Redis pods.
    assert by_port[(5432,)] == [
        {"podSelector": {"matchLabels": {"cnpg.io/cluster": "kotaemon-db"}}}
    ]
    assert (
        by_port[(6379,)][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "redis"
    )
    assert by_port[(8000,)][-1] == {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "llm"}}
    }
    assert by_port[(80,)] == [{"ipBlock": {"cidr": "10.30.0.0/16"}}]  # the CRM tool
    redis = find(docs, "NetworkPolicy", "kotaemon-redis")
    assert redis["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 6379}]


def test_network_policies_can_be_turned_off() -> None:
    docs = render_defaults(networkPolicy={"enabled": False})
    assert not [d for d in docs if d["kind"] == "NetworkPolicy"]


def test_the_ingress_streams_server_sent_events(docs) -> None:
    annotations = find(docs, "Ingress", "kotaemon")["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    assert annotations["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "off"
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert annotations["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"
    # Another controller gets no nginx annotations.
    other = find(render_defaults(ingress={"className": "traefik"}), "Ingress", "kotaemon")
    assert not [a for a in other["metadata"]["annotations"] if a.startswith("nginx.")]


def test_the_gateway_route_sends_everything_to_kotaemon_service() -> None:
    docs = render_defaults(gateway={"enabled": True, "parentRefs": [{"name": "public"}]})
    route = find(docs, "HTTPRoute", "kotaemon")["spec"]
    assert route["parentRefs"] == [{"name": "public"}]
    assert route["hostnames"] == ["chat.example.com"]
    (rule,) = route["rules"]
    assert rule["backendRefs"] == [{"name": "kotaemon-service", "port": 80}]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
    assert rule["timeouts"] == {"request": "3600s"}
