"""Steady mode: requests per second with one replica and with three, side by side in one run.

Three configurations, each measured with the same mix and concurrency after a warm-up:

* one replica, direct: a single-replica install (in-process caches, no Redis, no balancer);
* one replica behind HAProxy, with Redis: the balancer's and the shared cache's cost alone;
* three replicas behind HAProxy, with Redis: what scaling out on this machine gives.

The ratio of the third to the first is what three co-located replicas keep of one replica's
throughput; the issue asks for at least 90%. No uploads by default (and so no workers): the
figure is the API's.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from . import report
from .chaos import wait_backend_up
from .cluster import Cluster, ClusterSettings
from .haproxy import BalancerSettings
from .load import LoadGenerator, LoadSettings, Timeline
from .processes import Service, cpu_seconds

log = logging.getLogger("benchmarks.ha")

STEADY_MIX = {
    "chat": 30,
    "chat_stream": 20,
    "search": 25,
    "completion": 12,
    "completion_stream": 13,
}


@dataclass(frozen=True)
class SteadySettings:
    duration_seconds: float = 20.0
    warmup_seconds: float = 5.0
    replicas: int = 3
    min_ratio: float = 0.90


def measure(
    url: str, load: LoadSettings, s: SteadySettings, servers: Sequence[Service]
) -> dict[str, Any]:
    """Load ``url`` for the warm-up and the measured window; figures of the requests that
    ended in the window, with the CPU time the ``servers`` spent in it (a figure that the
    machine's other work does not distort as much as requests per second)."""
    timeline = Timeline("warmup")
    generator = LoadGenerator(url, load, timeline)
    cpu: dict[str, float] = {}

    async def main() -> None:
        stop = asyncio.Event()
        sending = asyncio.create_task(generator.run(stop))
        await asyncio.sleep(s.warmup_seconds)
        timeline.enter("measured")
        before = {srv.name: cpu_seconds(srv) for srv in servers}
        await asyncio.sleep(s.duration_seconds)
        cpu.update({srv.name: cpu_seconds(srv) - before[srv.name] for srv in servers})
        timeline.enter("drain")  # requests still in flight end outside the window
        stop.set()
        await sending

    load_before = os.getloadavg()[0]
    asyncio.run(main())
    window = [r for r in generator.results if r.phase == "measured"]
    figures = report.figures(window)
    failures = report.summarize(window, [])["failures"]
    done = max(figures["succeeded"], 1)
    replicas = sum(v for name, v in cpu.items() if not name.startswith("haproxy"))
    balancer = sum(v for name, v in cpu.items() if name.startswith("haproxy"))
    return {
        "requests": figures,
        "req_per_s": round(figures["succeeded"] / s.duration_seconds, 2),
        "replica_cpu_ms_per_request": round(1000 * replicas / done, 1),
        "haproxy_cpu_ms_per_request": round(1000 * balancer / done, 2),
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "failures": {cause: f["count"] for cause, f in failures.items()},
    }


def run(
    cluster_settings: ClusterSettings,
    settings: SteadySettings,
    load_settings: LoadSettings,
    balancer: BalancerSettings,
) -> dict[str, Any]:
    load = load_settings
    started = datetime.datetime.now(datetime.UTC)
    results = []
    with Cluster(cluster_settings) as cluster:
        alone = cluster.add_replica(redis=False)
        ready = {"alone": cluster.wait_ready()}
        log.info("measuring", extra={"configuration": "1 replica, direct"})
        results.append({"name": "1 replica, direct", **measure(alone.url, load, settings, [alone])})

        cluster.stop(alone)
        first = cluster.add_replica()
        ready["one"] = cluster.wait_ready()
        haproxy = cluster.add_haproxy([first], balancer, name="haproxy-1")
        wait_backend_up(haproxy.url, cluster_settings.start_timeout)
        log.info("measuring", extra={"configuration": "1 replica, HAProxy + Redis"})
        measured = measure(haproxy.url, load, settings, [first, haproxy])
        results.append({"name": "1 replica, HAProxy + Redis", **measured})

        for _ in range(settings.replicas - 1):
            cluster.add_replica()
        ready["all"] = cluster.wait_ready()
        haproxy = cluster.add_haproxy(
            list(cluster.replicas), balancer, name=f"haproxy-{settings.replicas}"
        )
        wait_backend_up(haproxy.url, cluster_settings.start_timeout)
        name = f"{settings.replicas} replicas, HAProxy + Redis"
        log.info("measuring", extra={"configuration": name})
        measured = measure(haproxy.url, load, settings, [*cluster.replicas, haproxy])
        results.append({"name": name, **measured})
        per_server = haproxy.summary()["per_server"]
        logs = str(cluster.log_dir)

    base, scaled = results[0]["req_per_s"], results[-1]["req_per_s"]
    ratio = scaled / base if base else 0.0
    passed = ratio >= settings.min_ratio
    text = (
        f"{'PASS' if passed else 'FAIL'} {settings.replicas} replicas behind HAProxy served "
        f"{scaled:.1f} req/s, {100 * ratio:.0f}% of one replica alone ({base:.1f} req/s); "
        f"gate: >= {100 * settings.min_ratio:.0f}%. Replica CPU per request: "
        f"{results[0]['replica_cpu_ms_per_request']:.0f} ms alone, "
        f"{results[-1]['replica_cpu_ms_per_request']:.0f} ms with {settings.replicas}."
    )
    return {
        "mode": "steady",
        "started": started.isoformat(timespec="seconds"),
        "duration_s": settings.duration_seconds,
        "concurrency": load.concurrency,
        "settings": {
            "steady": asdict(settings),
            "cluster": asdict(cluster_settings),
            "balancer": asdict(balancer),
            "load": asdict(load) | {"mix": dict(load.mix)},
        },
        "configurations": results,
        "ratio": round(ratio, 3),
        "ratio_text": text,
        "passed": passed,
        "ready_s": {k: {n: round(v, 2) for n, v in r.items()} for k, r in ready.items()},
        "haproxy_per_server": per_server,
        "logs": logs,
    }
