"""How many threads the embedding engine may use: the CPUs this process may run on, never the
machine's core count.

A pod limited to 2 CPUs on a 64-core node that starts 64 OpenMP threads spends its quota
spinning and waiting; three replicas on one machine, each with a thread per core, starve each
other. So the count follows the process's CPU affinity and its cgroup's CPU quota (``cpu.max``
in cgroup v2, ``cpu.cfs_quota_us`` in v1), unless ``KOTAEMON_EMBEDDING_THREADS`` says; and idle
threads sleep instead of spinning (``OMP_WAIT_POLICY=PASSIVE``).
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

log = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")


def available_cpus(root: Path = CGROUP_ROOT, proc_cgroup: Path = Path("/proc/self/cgroup")) -> int:
    """CPUs this process may use: its affinity, capped by its cgroup's quota (rounded up)."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        count = os.cpu_count() or 1
    quota = cgroup_cpu_quota(root, proc_cgroup)
    if quota is not None:
        count = min(count, max(1, math.ceil(quota)))
    return count


def cgroup_cpu_quota(root: Path, proc_cgroup: Path) -> float | None:
    """The CPU quota (in CPUs) of this process's cgroup and its parents, the smallest one; None
    without a quota."""
    quotas = [q for q in (*_v2_quotas(root, proc_cgroup), _v1_quota(root)) if q is not None]
    return min(quotas) if quotas else None


def _v2_quotas(root: Path, proc_cgroup: Path) -> list[float | None]:
    """``cpu.max`` ("max 100000" or "200000 100000") of the cgroup and every parent."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        lines = []
    path = next((line.split("::", 1)[1] for line in lines if line.startswith("0::")), "/")
    folder = root / path.lstrip("/")
    quotas = []
    while True:
        quotas.append(_ratio((folder / "cpu.max").read_text().split()) if _exists(folder) else None)
        if folder == root or root not in folder.parents:
            return quotas
        folder = folder.parent


def _exists(folder: Path) -> bool:
    return (folder / "cpu.max").is_file()


def _v1_quota(root: Path) -> float | None:
    for name in ("cpu", "cpu,cpuacct"):
        folder = root / name
        try:
            quota = int((folder / "cpu.cfs_quota_us").read_text())
            period = int((folder / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        return quota / period if quota > 0 and period > 0 else None
    return None


def _ratio(fields: list[str]) -> float | None:
    if len(fields) != 2 or fields[0] == "max":
        return None
    try:
        quota, period = int(fields[0]), int(fields[1])
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def configure_openmp(threads: int | None) -> int:
    """Set the OpenMP environment for an engine about to load, and return its thread count.

    ``threads`` None: ``OMP_NUM_THREADS`` if the operator set it, else :func:`available_cpus`.
    Must run before the engine's library loads (OpenMP reads the environment once).
    """
    if threads is None:
        given = os.environ.get("OMP_NUM_THREADS", "")
        threads = int(given) if given.isdigit() and int(given) > 0 else available_cpus()
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # sleep, don't spin, between calls
    log.info(
        "embedding engine threads",
        extra={"threads": threads, "wait_policy": os.environ["OMP_WAIT_POLICY"]},
    )
    return threads
