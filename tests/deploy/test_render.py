"""Every values file of the chart renders, lints clean, fits the values schema, and renders only
objects that fit their Kubernetes (1.30 and newest) or custom-resource schemas, strictly."""

from __future__ import annotations

import helm_python as helm
import jsonschema
import pytest

from .chart import (
    CHART,
    KUBE_VERSIONS,
    VALUES_FILES,
    crd_kinds,
    find,
    kinds,
    lint,
    load_values,
    render,
    render_defaults,
    validate,
)

IDS = [path.name for path in VALUES_FILES]


def test_every_documented_scenario_has_a_values_file() -> None:
    assert {path.name for path in VALUES_FILES} >= {
        "default-values.yaml",
        "keda-values.yaml",
        "existing-secret-values.yaml",
        "zone-spread-values.yaml",
        "servicemonitor-values.yaml",
        "cnpg-values.yaml",
    }


@pytest.mark.parametrize("path", VALUES_FILES, ids=IDS)
def test_the_chart_lints_clean(path) -> None:
    report = lint(load_values(path))
    assert report["errors"] == []
    # Only the informational "icon is recommended" may remain.
    assert [m for m in report["messages"] if m["severity"] > 1] == []


@pytest.mark.parametrize("path", VALUES_FILES, ids=IDS)
def test_every_rendered_object_fits_its_schema_strictly(path) -> None:
    docs = render(load_values(path))
    assert docs
    for doc in docs:
        for version in KUBE_VERSIONS:
            try:
                validate(doc, version)
            except jsonschema.ValidationError as exc:
                where = "/".join(map(str, exc.absolute_path))
                pytest.fail(
                    f"{doc['kind']}/{doc['metadata']['name']} ({version}): {where}: {exc.message}"
                )


@pytest.mark.parametrize("path", VALUES_FILES, ids=IDS)
def test_every_object_carries_the_standard_labels(path) -> None:
    for doc in render(load_values(path)):
        labels = doc["metadata"].get("labels", {})
        for key in (
            "app.kubernetes.io/name",
            "app.kubernetes.io/instance",
            "app.kubernetes.io/version",
            "app.kubernetes.io/managed-by",
            "helm.sh/chart",
        ):
            assert key in labels, f"{doc['kind']}/{doc['metadata']['name']} lacks {key}"
        assert doc["metadata"]["namespace"] == "kotaemon"


def test_the_values_files_together_render_every_custom_resource_kind() -> None:
    rendered = {(d["apiVersion"], d["kind"]) for p in VALUES_FILES for d in render(load_values(p))}
    assert crd_kinds() <= rendered, f"never rendered: {sorted(crd_kinds() - rendered)}"


def test_a_misspelt_field_fails_the_strict_validation() -> None:
    deployment = find(render_defaults(), "Deployment", "kotaemon-api")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(jsonschema.ValidationError, match="readinesProbe"):
        validate(deployment, "1.30")
    scaled = find(render_defaults(autoscaling={"mode": "keda"}), "ScaledObject", "kotaemon-api")
    scaled["spec"]["minReplicaCont"] = 1
    with pytest.raises(jsonschema.ValidationError, match="minReplicaCont"):
        validate(scaled, "1.30")


def test_the_values_schema_refuses_unknown_and_mistyped_values() -> None:
    with pytest.raises(helm.HelmValuesError, match="replicaCont"):
        render_defaults(api={"replicaCont": 3})
    with pytest.raises(helm.HelmValuesError, match="auth"):
        render_defaults(config={"auth": "basic"})
    with pytest.raises(helm.HelmValuesError, match="mode"):
        render_defaults(autoscaling={"mode": "both"})
    with pytest.raises(helm.HelmValuesError, match="cpu"):
        render_defaults(api={"resources": {"limits": {"cpu": None}}})  # null deletes it


def test_the_chart_declares_its_kubernetes_versions() -> None:
    with helm.Chart.load(CHART) as chart:
        assert chart.metadata["kubeVersion"] == ">=1.30.0-0"
        assert chart.metadata["apiVersion"] == "v2"
        assert chart.schema is not None and chart.schema["additionalProperties"] is False


def test_autoscaling_modes_are_exclusive() -> None:
    hpa = kinds(render_defaults(autoscaling={"mode": "hpa"}))
    keda = kinds(render_defaults(autoscaling={"mode": "keda"}))
    none = kinds(render_defaults(autoscaling={"mode": "none"}))
    assert hpa.count("HorizontalPodAutoscaler") == 2 and "ScaledObject" not in hpa
    assert keda.count("ScaledObject") == 2 and "HorizontalPodAutoscaler" not in keda
    assert "TriggerAuthentication" in keda
    assert "HorizontalPodAutoscaler" not in none and "ScaledObject" not in none
    # An autoscaler owns the replica count: the Deployment leaves it unset, else every
    # upgrade would reset it.
    for mode in ("hpa", "keda"):
        docs = render_defaults(autoscaling={"mode": mode})
        assert "replicas" not in find(docs, "Deployment", "kotaemon-api")["spec"]
    docs = render_defaults(autoscaling={"mode": "none"})
    assert find(docs, "Deployment", "kotaemon-api")["spec"]["replicas"] == 3
