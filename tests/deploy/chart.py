"""Render the Helm chart offline (Helm v4's Go SDK through helm-python-sdk) and validate what it
renders: core objects against the Kubernetes OpenAPI schemas (kubernetes-validate, strict: an
unknown field is an error), custom resources against the schemas in ``crds/``."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import kubernetes_validate
import yaml
from referencing import Registry, Resource

from ..conftest import ROOT

CHART = ROOT / "deploy" / "helm" / "kotaemon"
VALUES_FILES = sorted((CHART / "ci").glob("*-values.yaml"))
DEFAULT_VALUES = CHART / "ci" / "default-values.yaml"
CRD_SCHEMAS = Path(__file__).with_name("crds")
RELEASE = "kotaemon"
NAMESPACE = "kotaemon"
#: The Kubernetes versions every object is validated against: the oldest the chart supports
#: (Chart.yaml kubeVersion) and the newest kubernetes-validate bundles.
KUBE_VERSIONS = ("1.30", kubernetes_validate.utils.latest_version())

Doc = dict[str, Any]


def load_values(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def merged(*layers: dict[str, Any]) -> dict[str, Any]:
    """Values layered as `-f a.yaml -f b.yaml` would be (later maps win, key by key)."""
    result: dict[str, Any] = {}

    def merge(into: dict[str, Any], layer: dict[str, Any]) -> None:
        for key, value in layer.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                merge(into[key], value)
            else:
                into[key] = copy.deepcopy(value)

    for layer in layers:
        merge(result, layer)
    return result


@functools.cache
def _chart() -> helm.Chart:
    helm.disable_logging()
    return helm.Chart.load(CHART)


def render_files(
    values: dict[str, Any], *, revision: int = 1, release: str = RELEASE
) -> dict[str, str]:
    """Template path -> rendered text, as `helm template kotaemon` renders them.

    :raises helm.HelmError: if the values break the schema or validateValues stops the render.
    """
    return _chart().render(
        values=values, name=release, namespace=NAMESPACE, revision=revision, is_install=True
    )


def render(values: dict[str, Any], *, revision: int = 1, release: str = RELEASE) -> list[Doc]:
    """The rendered objects (NOTES.txt left out)."""
    docs = []
    for name, text in sorted(render_files(values, revision=revision, release=release).items()):
        if name.endswith(".yaml"):
            docs.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return docs


def render_defaults(**overrides: Any) -> list[Doc]:
    """The smallest valid install (ci/default-values.yaml), with overrides layered on top."""
    return render(merged(load_values(DEFAULT_VALUES), overrides))


def lint(values: dict[str, Any]) -> dict[str, Any]:
    return helm.lint(CHART, values, strict=True, namespace=NAMESPACE, kube_version="v1.30.0")


def find(docs: list[Doc], kind: str, name: str | None = None) -> Doc:
    matches = [d for d in docs if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    assert len(matches) == 1, f"{len(matches)} {kind} named {name}: {names(docs)}"
    return matches[0]


def kinds(docs: list[Doc]) -> list[str]:
    return sorted(d["kind"] for d in docs)


def names(docs: list[Doc]) -> list[str]:
    return sorted(f"{d['kind']}/{d['metadata']['name']}" for d in docs)


def containers(doc: Doc) -> Iterator[Doc]:
    spec = pod_spec(doc)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def pod_spec(doc: Doc) -> Doc:
    if doc["kind"] == "Pod":
        return doc["spec"]
    return doc["spec"]["template"]["spec"]


def env_of(container: Doc) -> dict[str, Doc]:
    return {e["name"]: e for e in container.get("env", [])}


# --- validation ------------------------------------------------------------------------------


@functools.cache
def _crd_schemas() -> dict[tuple[str, str], Doc]:
    """(apiVersion, kind) -> JSON schema of the custom resources the chart may render."""
    schemas = {}
    for path in sorted(CRD_SCHEMAS.glob("*.yaml")):
        schema = yaml.safe_load(path.read_text(encoding="utf-8"))
        schemas[(schema["x-api-version"], schema["x-kind"])] = schema
    return schemas


@functools.cache
def _object_meta_registry() -> Registry:
    """The custom-resource schemas refer to Kubernetes' own ObjectMeta, LabelSelector…"""
    version = KUBE_VERSIONS[0]
    definitions = kubernetes_validate.utils.schema_contents(
        f"kubernetes-json-schema/v{version}.0-local-strict/_definitions.json", version
    )
    return Resource.from_contents(definitions) @ Registry()


def validate(doc: Doc, kube_version: str) -> None:
    """Validate one object strictly.

    :raises jsonschema.ValidationError: if it does not fit its schema.
    :raises AssertionError: if no schema is known for its kind.
    """
    crd = _crd_schemas().get((doc["apiVersion"], doc["kind"]))
    if crd is not None:
        jsonschema.Draft202012Validator(crd, registry=_object_meta_registry()).validate(doc)
        return
    try:
        kubernetes_validate.validate(doc, kube_version, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        raise AssertionError(f"no schema for {doc['apiVersion']} {doc['kind']}") from None


def crd_kinds() -> set[tuple[str, str]]:
    return set(_crd_schemas())


def as_json(doc: Doc) -> str:
    return json.dumps(doc, sort_keys=True)
