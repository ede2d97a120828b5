"""Chat requests against real `kotaemon serve` processes, side by side: latency and the server's
CPU time per request, so two installations (this checkout and another one's virtualenv, e.g. the
code before a change) compare in one run on the same database and an instant fake LLM.

    python benchmarks/chat_latency.py [--requests 200] [--rounds 4] [--python OTHER/bin/python]

Each installation gets its own server process on the same database (the sample knowledge base,
ingested once); rounds alternate between them so that the machine's noise falls on both alike.
Prints a table; results go to results/chat_latency.json.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.fakes.openai_server import FakeOpenAIServer  # noqa: E402 - a test fake, on purpose

RESULTS = Path(__file__).parent / "results" / "chat_latency.json"
QUESTIONS = [
    "What is the late payment fee?",
    "信用卡还款的宽限期是几天？",
    "How do I report a lost card?",
    "年费可以减免吗？",
]
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Target:
    """One installation's `kotaemon serve`."""

    def __init__(self, name: str, python: str, env: dict[str, str]) -> None:
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [python, "-m", "kotaemon", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.latencies: list[float] = []
        self.cpu = 0.0

    def wait_ready(self, client: httpx.Client) -> None:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if client.get(f"{self.url}/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.name}: the server did not become ready")

    def round(self, client: httpx.Client, requests: int) -> None:
        before = cpu_seconds(self.process.pid)
        for i in range(requests):
            body = {"question": QUESTIONS[i % len(QUESTIONS)], "collections": ["bank"]}
            started = time.perf_counter()
            response = client.post(f"{self.url}/v1/chat", json=body)
            self.latencies.append(time.perf_counter() - started)
            response.raise_for_status()
        self.cpu += cpu_seconds(self.process.pid) - before

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.latencies)
        return {
            "requests": len(ordered),
            "p50_ms": statistics.median(ordered) * 1000,
            "p95_ms": ordered[int(len(ordered) * 0.95) - 1] * 1000,
            "mean_ms": statistics.fmean(ordered) * 1000,
            "server_cpu_ms_per_request": self.cpu / len(ordered) * 1000,
        }


def main(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="kotaemon-bench-"))
    data_dir.chmod(0o755)
    url = start_embedded_postgres(data_dir, delete_on_exit=True)
    fake = FakeOpenAIServer().start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOTAEMON_")} | {
        "KOTAEMON_DATABASE_URL": url,
        "KOTAEMON_DATA_DIR": str(data_dir),
        "KOTAEMON_LLM_BASE_URL": fake.base_url,
        "KOTAEMON_LLM_MODEL": "fake-model",
        "KOTAEMON_RATE_LIMIT_PER_MINUTE": "0",
        "KOTAEMON_RATE_LIMIT_IP_PER_MINUTE": "0",
        "KOTAEMON_LOG_LEVEL": "WARNING",
    }
    ingest = [sys.executable, "-m", "kotaemon", "ingest", str(ROOT / "examples/knowledge_base")]
    subprocess.run([*ingest, "-c", "bank"], env=env, check=True, capture_output=True)
    targets = [Target("this checkout", sys.executable, env)]
    if args.python:
        targets.append(Target(f"other ({args.python})", args.python, env))
    try:
        with httpx.Client(timeout=60) as client:
            for target in targets:
                target.wait_ready(client)
                target.round(client, 10)  # warm up: model loaded, pools filled
                target.latencies, target.cpu = [], 0.0
            for _ in range(args.rounds):
                for target in targets:
                    target.round(client, args.requests // args.rounds)
    finally:
        for target in targets:
            target.process.terminate()
            target.process.wait(timeout=60)
        fake.stop()
    results = {t.name: t.summary() for t in targets}
    table = Table("installation", "requests", "p50 ms", "p95 ms", "mean ms", "server CPU-ms/req")
    for name, r in results.items():
        table.add_row(
            name,
            str(r["requests"]),
            f"{r['p50_ms']:.1f}",
            f"{r['p95_ms']:.1f}",
            f"{r['mean_ms']:.1f}",
            f"{r['server_cpu_ms_per_request']:.1f}",
        )
    Console().print(table)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="per installation")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--python", help="another installation's interpreter, to compare")
    main(parser.parse_args())
