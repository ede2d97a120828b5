"""How long a replica takes from its start to ready: ``kotaemon serve`` spawned against a
migrated database, timed to its first log line, to the end of the application's start-up and to
the first ``/readyz`` 200, several times in a row (the page cache warm, as on a node that
restarts a pod).

    python benchmarks/startup.py [--starts 5]

Prints a table; results go to results/startup.json. Compare with the load average it prints: on
a busy machine every step is slower.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from kotaemon.store.embedded import start_embedded_postgres

RESULTS = Path(__file__).parent / "results" / "startup.json"
STEPS = ("first log line", "startup complete", "ready")
MARKERS = {"first log line": "kotaemon will serve", "startup complete": "Application startup"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def one_start(env: dict[str, str]) -> dict[str, float]:
    """Seconds from spawning the process to each step."""
    port = free_port()
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "kotaemon", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: dict[str, float] = {}
    try:
        assert process.stdout is not None
        for line in process.stdout:  # the log is the event: no polling for these two steps
            for step, marker in MARKERS.items():
                if marker in line and step not in seen:
                    seen[step] = time.perf_counter() - began
            if len(seen) == len(MARKERS):
                break
        with httpx.Client(timeout=5) as client:
            while client.get(f"http://127.0.0.1:{port}/readyz").status_code != 200:
                time.sleep(0.01)
        seen["ready"] = time.perf_counter() - began
    finally:
        process.terminate()
        process.wait(30)
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kotaemon-startup-") as tmp:
        data_dir = Path(tmp)
        data_dir.chmod(0o755)
        url = start_embedded_postgres(data_dir, delete_on_exit=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KOTAEMON_")} | {
            "KOTAEMON_DATABASE_URL": url,
            "KOTAEMON_DATA_DIR": str(data_dir),
            "KOTAEMON_LOG_FORMAT": "text",
        }
        subprocess.run([sys.executable, "-m", "kotaemon", "migrate"], env=env, check=True)
        load_before = os.getloadavg()[0]
        starts = [one_start(env) for _ in range(args.starts)]
    table = Table("step", "median s", "min s", "max s", title=f"{args.starts} starts")
    summary = {}
    for step in STEPS:
        values = [s[step] for s in starts]
        summary[step] = {
            "median_s": round(statistics.median(values), 2),
            "min_s": round(min(values), 2),
            "max_s": round(max(values), 2),
        }
        table.add_row(step, *(f"{v:.2f}" for v in summary[step].values()))
    console = Console()
    console.print(table)
    console.print(f"load average: {load_before:.1f} → {os.getloadavg()[0]:.1f}")
    RESULTS.parent.mkdir(exist_ok=True)
    report = {"starts": starts, "summary": summary, "load_average": load_before}
    RESULTS.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
