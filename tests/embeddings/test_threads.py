"""The embedding engine's threads follow the CPUs the process may use, not the machine's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kotaemon.embeddings.threads import available_cpus, cgroup_cpu_quota


def _cgroup(tmp_path: Path, relative: str, files: dict[str, str]) -> tuple[Path, Path]:
    folder = tmp_path / "fs" / relative
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    proc = tmp_path / "cgroup"
    proc.write_text(f"0::/{relative}\n")
    return tmp_path / "fs", proc


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [("200000 100000\n", 2.0), ("150000 100000\n", 1.5), ("max 100000\n", None)],
)
def test_the_cgroup_v2_quota_is_read(tmp_path: Path, cpu_max: str, expected: float | None) -> None:
    root, proc = _cgroup(tmp_path, "kubepods/pod1/c1", {"cpu.max": cpu_max})
    assert cgroup_cpu_quota(root, proc) == expected


def test_a_parent_quota_counts_and_the_smallest_wins(tmp_path: Path) -> None:
    root, proc = _cgroup(tmp_path, "kubepods/pod1/c1", {"cpu.max": "max 100000\n"})
    (root / "kubepods" / "pod1" / "cpu.max").write_text("50000 100000\n")  # the pod: half a CPU
    assert cgroup_cpu_quota(root, proc) == 0.5
    assert available_cpus(root, proc) == 1  # rounded up: at least one thread


def test_the_cgroup_v1_quota_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "cpu"
    folder.mkdir()
    (folder / "cpu.cfs_quota_us").write_text("300000\n")
    (folder / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_cpu_quota(tmp_path, tmp_path / "missing") == 3.0


def test_without_a_quota_the_affinity_counts(tmp_path: Path) -> None:
    assert available_cpus(tmp_path, tmp_path / "missing") == len(os.sched_getaffinity(0))


def _engine_threads(env: dict[str, str]) -> str:
    """The OpenMP settings and threads of a fresh process that loaded the bundled model."""
    script = (
        "import os, anyio\n"
        "from kotaemon.embeddings.bundled import BundledE5Embedder\n"
        "async def main():\n"
        "    threads = int(os.environ['T']) if 'T' in os.environ else None\n"
        "    e = BundledE5Embedder(threads=threads)\n"
        "    await e.open()\n"
        "    await e.embed_documents(['a passage to embed, long enough to use the threads'] * 8)\n"
        "    print(os.environ['OMP_NUM_THREADS'], os.environ['OMP_WAIT_POLICY'],\n"
        "          len(os.listdir('/proc/self/task')))\n"
        "anyio.run(main)\n"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OMP_")}
    result = subprocess.run(
        [sys.executable, "-c", script], env=clean | env, capture_output=True, text=True, check=True
    )
    return result.stdout.split()


def test_a_set_thread_count_is_what_the_engine_runs_with() -> None:
    one = _engine_threads({"T": "1"})
    two = _engine_threads({"T": "2"})
    assert one[:2] == ["1", "PASSIVE"] and two[:2] == ["2", "PASSIVE"]
    # OpenMP starts one thread fewer than its team (the caller is the first): one more with two.
    assert int(two[2]) == int(one[2]) + 1
