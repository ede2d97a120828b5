"""The guides match the chart: their values files render and validate, their `--set` keys and
value names exist, the files they name exist, and their SQL runs on the real schema."""

from __future__ import annotations

import itertools
import re
import shlex

import helm_python as helm
import psycopg
import pytest
import yaml

from ..conftest import ROOT, fresh_database
from .chart import CHART, KUBE_VERSIONS, find, lint, load_values, merged, render, validate

GUIDE = ROOT / "docs" / "deploy-kubernetes.md"
BACKUPS = ROOT / "docs" / "backup-restore.md"
CHART_README = CHART / "README.md"
DOCS = [GUIDE, BACKUPS, CHART_README]
VALUES = load_values(CHART / "values.yaml")


def blocks(path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def prod_values() -> dict:
    (block,) = [b for b in blocks(GUIDE, "yaml") if b.startswith("image:")]
    return yaml.safe_load(block)


def commands(path) -> list[list[str]]:
    """The shell commands of a page's bash blocks, continuation lines joined."""
    found = []
    for block in blocks(path, "bash"):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("  # ")[0].strip()
            if line and not line.startswith("#"):
                found.append(shlex.split(line, comments=True))
    return found


def set_flags(argv: list[str]) -> list[tuple[str, str]]:
    flags = []
    for flag, value in itertools.pairwise(argv):
        if flag in ("--set", "--set-string"):
            flags.append((flag, value))
    return flags


def apply_sets(values: dict, argv: list[str]) -> dict:
    for flag, expression in set_flags(argv):
        parse = helm.parse_set_string if flag == "--set" else helm.parse_set_string_values
        values = merged(values, parse(expression))
    return values


def lookup(key: str):
    node = VALUES
    for part in key.split("."):
        node = node[part]
    return node


def test_the_guides_production_values_render_lint_and_validate() -> None:
    values = prod_values()
    report = lint(values)
    assert report["errors"] == [] and not [m for m in report["messages"] if m["severity"] > 1]
    docs = render(values)
    for doc in docs:
        for version in KUBE_VERSIONS:
            validate(doc, version)
    assert find(docs, "Cluster", "kotaemon-db")["spec"]["instances"] == 3
    assert find(docs, "Deployment", "kotaemon-api")["spec"]["template"]["spec"][
        "topologySpreadConstraints"
    ]


def test_the_guides_canary_is_a_weighted_second_release() -> None:
    (argv,) = [c for c in commands(GUIDE) if c[:3] == ["helm", "install", "kotaemon-canary"]]
    docs = render(apply_sets(prod_values(), argv), release="kotaemon-canary")
    ingress = find(docs, "Ingress", "kotaemon-canary")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/canary"] == "true"
    assert annotations["nginx.ingress.kubernetes.io/canary-weight"] == "10"
    assert "cert-manager.io/cluster-issuer" not in annotations  # the stable one's certificate
    assert ingress["spec"]["tls"][0]["secretName"] == "kotaemon-tls-cert"
    assert not [d for d in docs if d["kind"] in ("HorizontalPodAutoscaler", "ScaledObject")]
    assert not [d for d in docs if d["metadata"]["name"] == "kotaemon-canary-worker"]
    # Its own objects: nothing of the stable release is overwritten.
    assert all(d["metadata"]["name"].startswith("kotaemon-canary") for d in docs)


@pytest.mark.parametrize("path", [GUIDE, BACKUPS], ids=["guide", "backups"])
def test_every_helm_command_renders_with_the_production_values(path) -> None:
    helm_commands = [
        c
        for c in commands(path)
        if c[:2] in (["helm", "install"], ["helm", "upgrade"]) and "deploy/helm/kotaemon" in c
    ]
    assert helm_commands
    for argv in helm_commands:
        release = argv[2]
        assert release in ("kotaemon", "kotaemon-canary"), argv
        values = apply_sets(prod_values(), argv)
        render(values, release=release)  # raises if the values do not fit


def test_the_recovery_values_of_the_backup_guide_are_the_charts() -> None:
    (block,) = [b for b in blocks(BACKUPS, "yaml") if "recovery:" in b]
    documented = yaml.safe_load(block)["cnpg"]
    assert documented == load_values(CHART / "ci" / "cnpg-recovery-values.yaml")["cnpg"]


def documented_value_names(path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    tops = "|".join(VALUES)
    return set(re.findall(rf"`((?:{tops})\.[A-Za-z0-9_.]+)[`=: ]", text))


@pytest.mark.parametrize("path", DOCS, ids=[p.name for p in DOCS])
def test_every_value_the_docs_name_exists(path) -> None:
    names = documented_value_names(path)
    assert names, "the page names no values?"
    for name in names:
        lookup(name.rstrip("."))
    for argv in commands(path):
        if "deploy/helm/kotaemon" not in argv:
            continue  # another chart's values
        for _, expression in set_flags(argv):
            key = re.split(r"(?<!\\)=", expression, maxsplit=1)[0]
            if key.startswith("ingress.annotations."):
                continue  # a free map
            lookup(key)


@pytest.mark.parametrize("path", DOCS, ids=[p.name for p in DOCS])
def test_every_repository_file_the_docs_name_exists(path) -> None:
    text = path.read_text(encoding="utf-8")
    for name in set(re.findall(r"`((?:deploy|docs|src|tests)/[\w./-]+)`", text)):
        assert (ROOT / name).exists(), name
    for link in re.findall(r"\]\((?!https?:)([^)#]+)\)", text):
        assert (path.parent / link).exists(), link


@pytest.mark.integration
def test_the_sql_in_the_backup_guide_runs_on_the_migrated_schema(postgres_admin_url: str) -> None:
    queries = []
    for argv in commands(BACKUPS):
        if "psql" in argv and "-d" in argv:
            last = max(i for i, arg in enumerate(argv) if arg == "-c")  # not kubectl's -c
            queries.append(argv[last + 1])
    assert queries
    with fresh_database(postgres_admin_url) as url, psycopg.connect(url) as conn:
        for query in queries:
            conn.execute(query)
