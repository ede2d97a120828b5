"""The README tells the truth: its links lead to files of the repository, the files its
examples name exist, its HTTP examples call routes the service has, and its console sessions of
the ``kotaemon`` command print what it shows (``…`` stands for any text)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from kotaemon.server import create_app
from kotaemon.settings import Settings

from .conftest import ROOT
from .test_cli import run

README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_CONSOLE = re.compile(r"```console\n(.*?)```", re.S)


def _sessions() -> list[list[tuple[str, list[str]]]]:
    """Each console block as (command, shown output lines), commands joined across ``\\``."""
    sessions = []
    for block in _CONSOLE.findall(README):
        steps: list[tuple[str, list[str]]] = []
        continued = False
        for line in block.splitlines():
            if continued:
                command, shown = steps[-1]
                steps[-1] = (command + " " + line.strip().rstrip("\\").strip(), shown)
            elif line.startswith("$ "):
                steps.append((line[2:].rstrip("\\").strip(), []))
            elif steps:
                steps[-1][1].append(line)
            continued = line.rstrip().endswith("\\")
        sessions.append(steps)
    return sessions


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_relative_links_lead_to_files(doc: Path) -> None:
    for target in _LINK.findall(doc.read_text(encoding="utf-8")):
        if urlsplit(target).scheme or target.startswith("#"):
            continue
        path = (doc.parent / target.split("#")[0]).resolve()
        assert path.exists(), f"{doc.name} links {target}, which does not exist"
        assert path.is_relative_to(ROOT), f"{doc.name} links {target}, outside the repository"


def test_http_examples_call_existing_routes_with_existing_files() -> None:
    spec = create_app(Settings(_env_file=None)).openapi()  # type: ignore[call-arg]
    routes = [
        (method.upper(), re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"))
        for path, methods in spec["paths"].items()
        for method in methods
    ]
    curls = [cmd for steps in _sessions() for cmd, _ in steps if cmd.startswith("curl ")]
    assert curls
    for command in curls:
        words = shlex.split(command)
        url = next(w for w in words if w.startswith(("localhost", "http")))
        method = words[words.index("-X") + 1] if "-X" in words else "GET"
        if any(w in words for w in ("-d", "-F")) and "-X" not in words:
            method = "POST"
        path = urlsplit(url if "//" in url else f"http://{url}").path
        assert any(m == method and p.match(path) for m, p in routes), f"no route {method} {path}"
        for word in words:
            if word.startswith("files=@"):
                assert (ROOT / word.removeprefix("files=@")).is_file(), word


def _matches(shown: str, printed: list[str]) -> bool:
    pattern = re.compile(".*".join(re.escape(part.strip()) for part in shown.split("…")))
    return any(pattern.search(line) for line in printed)


@pytest.mark.integration
def test_console_sessions_print_what_the_readme_shows(database_url: str, tmp_path: Path) -> None:
    commands = [
        (command, shown)
        for steps in _sessions()
        for command, shown in steps
        if command.startswith(".venv/bin/kotaemon ")
    ]
    assert any(c.startswith(".venv/bin/kotaemon ingest") for c, _ in commands)
    for command, shown in commands:
        result = run(shlex.split(command)[1:], database_url, tmp_path)
        printed = (result.stdout + result.stderr).splitlines()
        assert result.returncode == 0, (command, result.stderr)
        for line in shown:
            if line.strip() and line.strip() != "…":
                assert _matches(line, printed), f"`{command}` did not print: {line}\n" + "\n".join(
                    printed
                )
