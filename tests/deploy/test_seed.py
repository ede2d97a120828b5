"""The seed article's YAML snippets, name for name, in the chart's default render (release
`kotaemon`, ci/default-values.yaml: the least an install must say)."""

from __future__ import annotations

import pytest
import yaml

from .chart import find, pod_spec, render_defaults

#: The seed's snippets, as it gives them (its text flattens the indentation; restored here).
SEED_ANTI_AFFINITY = """
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        labelSelector:
          matchExpressions:
          - key: app
            operator: In
            values:
            - kotaemon
        topologyKey: "kubernetes.io/hostname"
"""
SEED_HPA_METRICS = """
metrics:
- type: Resource
  resource:
    name: cpu
    target:
      type: Utilization
      averageUtilization: 70
- type: Pods
  pods:
    metric:
      name: http_requests_per_second
    target:
      type: AverageValue
      averageValue: "100"
"""
SEED_ENV_FROM = """
envFrom:
- configMapRef:
    name: kotaemon-config
- secretRef:
    name: kotaemon-secrets
"""
SEED_INGRESS_SPEC = """
spec:
  tls:
  - hosts:
    - chat.example.com
    secretName: kotaemon-tls-cert
  rules:
  - host: chat.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: kotaemon-service
            port:
              number: 80
"""
SEED_POD_ANNOTATIONS = """
metadata:
  annotations:
    prometheus.io/scrape: "true"
    prometheus.io/port: "8000"
"""


@pytest.fixture(scope="module")
def docs():
    return render_defaults()


def api_pod(docs):
    return find(docs, "Deployment", "kotaemon-api")["spec"]["template"]


def test_pod_anti_affinity_is_the_seeds(docs) -> None:
    assert (
        pod_spec(find(docs, "Deployment", "kotaemon-api"))["affinity"]
        == yaml.safe_load(SEED_ANTI_AFFINITY)["affinity"]
    )
    # ...and it matches the api pods themselves.
    assert api_pod(docs)["metadata"]["labels"]["app"] == "kotaemon"


def test_the_hpa_scales_on_the_seeds_two_metrics(docs) -> None:
    hpa = find(docs, "HorizontalPodAutoscaler", "kotaemon-api")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["metrics"] == yaml.safe_load(SEED_HPA_METRICS)["metrics"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "kotaemon-api"


@pytest.mark.parametrize("deployment", ["kotaemon-api", "kotaemon-worker"])
def test_configuration_comes_by_the_seeds_env_from(docs, deployment) -> None:
    (container,) = pod_spec(find(docs, "Deployment", deployment))["containers"]
    assert container["envFrom"] == yaml.safe_load(SEED_ENV_FROM)["envFrom"]
    find(docs, "ConfigMap", "kotaemon-config")
    find(docs, "Secret", "kotaemon-secrets")


def test_the_ingress_is_the_seeds_with_tls_by_cert_manager(docs) -> None:
    ingress = find(docs, "Ingress", "kotaemon")
    seed = yaml.safe_load(SEED_INGRESS_SPEC)["spec"]
    assert ingress["spec"]["tls"] == seed["tls"]
    assert ingress["spec"]["rules"] == seed["rules"]
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]


def test_the_service_is_kotaemon_service_port_80_to_8000(docs) -> None:
    service = find(docs, "Service", "kotaemon-service")
    (port,) = service["spec"]["ports"]
    assert (port["port"], port["targetPort"]) == (80, 8000)
    (container,) = pod_spec(find(docs, "Deployment", "kotaemon-api"))["containers"]
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert service["spec"]["selector"].items() <= api_pod(docs)["metadata"]["labels"].items()


def test_the_pods_carry_the_seeds_prometheus_annotations(docs) -> None:
    seed = yaml.safe_load(SEED_POD_ANNOTATIONS)["metadata"]["annotations"]
    assert seed.items() <= api_pod(docs)["metadata"]["annotations"].items()


def test_the_api_runs_three_replicas_with_guaranteed_qos(docs) -> None:
    # The seed: several replicas, requests ≈ limits (Guaranteed QoS, no eviction first).
    assert find(docs, "HorizontalPodAutoscaler", "kotaemon-api")["spec"]["minReplicas"] == 3
    for name in ("kotaemon-api", "kotaemon-worker"):
        for container in pod_spec(find(docs, "Deployment", name))["containers"]:
            resources = container["resources"]
            assert resources["requests"] == resources["limits"], name


def test_the_zone_switch_spreads_replicas_across_zones() -> None:
    # The seed's zone variant, with the current label (failure-domain.beta… is long gone).
    docs = render_defaults(api={"zoneSpread": {"enabled": True}})
    (constraint,) = pod_spec(find(docs, "Deployment", "kotaemon-api"))["topologySpreadConstraints"]
    assert constraint["topologyKey"] == "topology.kubernetes.io/zone"
    assert constraint["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "api"
    assert "topologySpreadConstraints" not in pod_spec(
        find(render_defaults(), "Deployment", "kotaemon-api")
    )
