"""The corpus: documents that Debian packages ship, picked by path (``corpus.json``).

The documents are third-party files, so they are not in the repository: the packages are installed
with apt-get when missing (``--install-packages``), and each file is copied (decompressed when it
is gzipped) into the benchmark's work folder under the name the questions refer to.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

CORPUS = Path(__file__).with_name("corpus.json")
DocType = Literal["html", "text", "pdf"]
DOC_TYPES: tuple[DocType, ...] = ("html", "text", "pdf")


@dataclass(frozen=True)
class CorpusFile:
    """One document: where its package installs it, and the name it is ingested under."""

    name: str
    package: str
    path: Path
    type: DocType
    language: Literal["en", "zh"]


def load_corpus(path: Path = CORPUS) -> list[CorpusFile]:
    """The corpus list. :raises ValueError: on a missing field, a bad value or a repeated name."""
    files = []
    for i, entry in enumerate(json.loads(path.read_text(encoding="utf-8"))["files"]):
        missing = {"name", "package", "path", "type", "language"} - entry.keys()
        if missing:
            raise ValueError(f"{path.name}: file {i} lacks {sorted(missing)}")
        if entry["type"] not in DOC_TYPES or entry["language"] not in ("en", "zh"):
            raise ValueError(f"{path.name}: {entry['name']}: bad type or language")
        if Path(entry["path"]).name.removesuffix(".gz") != entry["name"]:
            raise ValueError(f"{path.name}: {entry['name']} is not the name of {entry['path']}")
        files.append(CorpusFile(**{**entry, "path": Path(entry["path"])}))
    names = [f.name for f in files]
    if len(set(names)) != len(names):
        raise ValueError(f"{path.name}: file names must be unique")
    return files


def packages(files: Sequence[CorpusFile]) -> list[str]:
    return sorted({f.package for f in files})


def installed_versions(names: Sequence[str]) -> dict[str, str | None]:
    """Each package's installed version (None when it is not installed)."""
    result = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Status}\n", *names],
        capture_output=True,
        text=True,
        check=False,  # exit 1 when some package is unknown; the others are still listed
    )
    versions: dict[str, str | None] = dict.fromkeys(names)
    for line in result.stdout.splitlines():
        name, version, status = line.split("\t")
        if status == "installed":
            versions[name] = version
    return versions


def install(names: Sequence[str]) -> None:
    """``apt-get install`` the packages (after ``apt-get update`` if the first try fails).

    :raises RuntimeError: when not root, or when apt-get fails.
    """
    command = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *names]
    if os.geteuid() != 0:
        raise RuntimeError(f"installing the corpus needs root: sudo {' '.join(command)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(command, env=env, check=False).returncode == 0:
        return
    subprocess.run(["apt-get", "update", "-q"], env=env, check=False)
    if subprocess.run(command, env=env, check=False).returncode != 0:
        raise RuntimeError(f"apt-get could not install {' '.join(names)}")


def materialize(files: Sequence[CorpusFile], folder: Path) -> list[Path]:
    """Copy each document to ``folder/<package>/<name>``, decompressing ``.gz`` files.

    Unchanged copies are left alone. :raises FileNotFoundError: naming the package to install.
    """
    paths = []
    for file in files:
        if not file.path.exists():
            raise FileNotFoundError(
                f"{file.path} is missing: install the package {file.package} "
                "(run with --install-packages), and check that dpkg does not exclude "
                "/usr/share/doc (path-exclude in /etc/dpkg/dpkg.cfg.d/)"
            )
        data = file.path.read_bytes()
        if file.path.suffix == ".gz":
            data = gzip.decompress(data)
        target = folder / file.package / file.name
        if not target.exists() or target.read_bytes() != data:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        paths.append(target)
    return paths


def manifest(
    files: Sequence[CorpusFile],
    versions: dict[str, str | None],
    copies: Sequence[Path],
    chunk_counts: dict[str, int],
) -> dict:
    """What was ingested: packages and versions, and per file its origin, digest and chunks."""
    return {
        "packages": [{"name": name, "version": versions.get(name)} for name in packages(files)],
        "files": [
            {
                "name": f.name,
                "package": f.package,
                "path": str(f.path),
                "type": f.type,
                "language": f.language,
                "sha256": hashlib.sha256(copy.read_bytes()).hexdigest(),
                "chunks": chunk_counts.get(f.name),
            }
            for f, copy in zip(files, copies, strict=True)
        ],
        "chunks": sum(n for n in chunk_counts.values()),
    }
