"""Chaos mode: steady load, then a replica killed, a worker killed mid-job, Redis restarted and
every replica rolled, while the load generator keeps sending; then the documents are checked
and the gates decide.

Schedule (each step is a phase of the report, and ends with ``settle_seconds`` of load):

1. ``steady``: the system as deployed;
2. ``replica_kill``: ``kill -9`` one replica, start it again, wait until it is ready;
3. ``worker_kill``: upload a large document, wait until a worker is embedding it, ``kill -9``
   that worker, start it again, wait until the job has ended;
4. ``redis_restart``: stop Redis, leave it down a moment, start it again;
5. ``rolling_restart``: for each replica in turn, as Kubernetes rolls a deployment: SIGTERM,
   wait until it exits, start it again, wait until it is ready.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import signal
import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from . import documents, report
from .caches import CacheTally
from .cluster import Cluster, ClusterSettings
from .haproxy import BalancerSettings
from .load import LoadGenerator, LoadSettings, Timeline
from .processes import HarnessError, Replica, Service

log = logging.getLogger("benchmarks.ha")

CLIENT_BEHAVIOUR = (
    "each request is sent once; it is sent a second time (once) only when the connection "
    "failed before any byte of a response arrived (refused, reset, closed without an answer), "
    "or, for chats and completions, which carry an Idempotency-Key, also when the response "
    "broke mid-body (a stream cut by a killed replica: the service records one answer per "
    "key) or a stopping replica answered 503 shutting_down; other error responses, timeouts, "
    "other cut responses and wrong answers count as failed"
)


@dataclass(frozen=True)
class ChaosSettings:
    """The schedule's durations (seconds) and the gates."""

    replicas: int = 3
    workers: int = 2
    steady_seconds: float = 20.0
    settle_seconds: float = 5.0
    redis_down_seconds: float = 2.0
    #: For the large job to be caught running, and then to end after the kill.
    worker_kill_timeout: float = 180.0
    large_document_paragraphs: int = 30
    #: For every upload's job to end once the load has stopped.
    jobs_timeout: float = 180.0
    min_success_pct: float = 99.95


class Chaos:
    """One chaos run over a started cluster behind HAProxy."""

    def __init__(self, cluster: Cluster, settings: ChaosSettings, load: LoadSettings) -> None:
        if cluster.haproxy is None:
            raise HarnessError("the chaos run needs HAProxy in front of the replicas")
        self.cluster = cluster
        self.settings = settings
        self.load_settings = load
        self.url = cluster.haproxy.url
        self.timeline = Timeline()
        self.restarts: list[dict[str, Any]] = []
        self.caches = CacheTally()
        self.large = documents.Upload(
            *documents.large_document(load.seed, settings.large_document_paragraphs)
        )

    async def run(self) -> tuple[LoadGenerator, dict[str, Any]]:
        """Load and chaos; the load generator (its results and uploads) and the big job."""
        load = LoadGenerator(self.url, self.load_settings, self.timeline)
        stop = asyncio.Event()
        self.timeline.enter("steady")
        sending = asyncio.create_task(load.run(stop))
        try:
            async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
                await asyncio.sleep(self.settings.steady_seconds)
                await self._kill_replica()
                large_job = await self._kill_worker(client, load)
                await self._restart_redis()
                await self._roll()
        finally:
            self.timeline.note("load stopping")
            stop.set()
            await sending
            for replica in self.cluster.replicas:
                await self.caches.read(replica.name, replica.url)
        return load, large_job

    async def _settle(self) -> None:
        await asyncio.sleep(self.settings.settle_seconds)

    async def _start_again(self, service: Service, action: str, **fields: Any) -> None:
        service.start()
        ready = await asyncio.to_thread(service.wait_ready, self.cluster.settings.start_timeout)
        self.timeline.note("ready again", service=service.name, ready_seconds=round(ready, 2))
        self.restarts.append(
            {
                "phase": self.timeline.phase,
                "service": service.name,
                "action": action,
                "ready_seconds": round(ready, 2),
                **fields,
            }
        )

    async def _kill(self, service: Service) -> int | None:
        service.signal(signal.SIGKILL)
        status = await asyncio.to_thread(service.wait_exit, 10)
        self.timeline.note("killed", service=service.name, signal="SIGKILL", exit_status=status)
        return status

    async def _kill_replica(self) -> None:
        """``kill -9`` a replica in the middle of serving: the busiest of those that have had
        requests in flight for a second (a kill of an idle replica, or of one that has just
        been handed its requests, would test nothing), waiting up to 10 s for one."""
        self.timeline.enter("replica_kill")
        haproxy = self.cluster.haproxy
        assert haproxy is not None
        polls: list[dict[str, int]] = []
        for _ in range(50):
            polls.append(await asyncio.to_thread(haproxy.in_flight))
            busy = {
                name: n
                for name, n in polls[-1].items()
                if n and all(p.get(name) for p in polls[-6:])
            }
            if len(polls) > 5 and busy:
                break
            await asyncio.sleep(0.2)
        in_flight = polls[-1]
        busiest = max(busy or in_flight, key=lambda name: in_flight[name])
        replica = next(r for r in self.cluster.replicas if r.name == busiest)
        await self.caches.read(replica.name, replica.url)
        status = await self._kill(replica)
        self.timeline.note("in flight at the kill", **in_flight)
        await self._start_again(
            replica, "kill -9", exit_status=status, in_flight=in_flight.get(busiest, 0)
        )
        await self._settle()

    async def _kill_worker(self, client: httpx.AsyncClient, load: LoadGenerator) -> dict[str, Any]:
        self.timeline.enter("worker_kill")
        load.uploads.append(self.large)  # checked with the others at the end
        url = f"/v1/collections/{self.load_settings.upload_collection}/documents"
        response = await client.post(
            url, files={"files": (self.large.source, self.large.data, "text/plain")}
        )
        if response.status_code != 202:
            raise HarnessError(
                f"the large upload was refused: {response.status_code} {response.text[:300]}"
            )
        job_id = response.json()["jobs"][0]["id"]
        self.large.job_ids.append(job_id)
        timeout = self.settings.worker_kill_timeout
        deadline = time.monotonic() + timeout
        worker, job = None, {}
        while worker is None:
            if time.monotonic() > deadline:
                raise HarnessError(f"no worker picked up job {job_id} within {timeout:g} s")
            job = (await client.get(f"/v1/jobs/{job_id}")).json()
            if job["state"] in documents.TERMINAL_JOB_STATES:
                raise HarnessError(
                    f"job {job_id} ended ({job['state']}) before a worker could be killed under "
                    "it; make the large document longer (--large-document-paragraphs)"
                )
            if job["state"] == "running" and job["progress"]["stage"] == "embedding":
                worker = next((w for w in self.cluster.workers if w.is_running_job(job_id)), None)
            await asyncio.sleep(0.1)
        status = await self._kill(worker)
        self.timeline.note("worker killed mid-job", job_id=job_id, progress=job["progress"])
        await self._start_again(
            worker, "kill -9 mid-job", exit_status=status, job_progress=job["progress"]
        )
        states = await documents.job_states(client, [job_id], max(1.0, deadline - time.monotonic()))
        final = states.get(job_id, {})
        self.timeline.note(
            "large job ended", state=final.get("state"), attempts=final.get("attempts")
        )
        await self._settle()
        return final

    async def _restart_redis(self) -> None:
        self.timeline.enter("redis_restart")
        redis = self.cluster.redis
        redis.signal(signal.SIGTERM)
        status = await asyncio.to_thread(redis.wait_exit, 10)
        self.timeline.note("redis stopped", exit_status=status)
        await asyncio.sleep(self.settings.redis_down_seconds)
        await self._start_again(redis, "restart", exit_status=status)
        await self._settle()

    async def _roll(self) -> None:
        self.timeline.enter("rolling_restart")
        c = self.cluster.settings
        exit_timeout = c.drain_seconds + c.grace_seconds + 15
        for replica in list(self.cluster.replicas):
            await self._terminate(replica, exit_timeout)
        await self._settle()

    async def _terminate(self, replica: Replica, exit_timeout: float) -> None:
        await self.caches.read(replica.name, replica.url)
        began = time.monotonic()
        replica.signal(signal.SIGTERM)
        self.timeline.note("SIGTERM", service=replica.name)
        status = await asyncio.to_thread(replica.wait_exit, exit_timeout)
        if status is None:
            self.timeline.note("did not exit in time; killing", service=replica.name)
            replica.signal(signal.SIGKILL)
            status = await asyncio.to_thread(replica.wait_exit, 10)
        exited = round(time.monotonic() - began, 2)
        self.timeline.note("exited", service=replica.name, exit_status=status, exit_seconds=exited)
        await self._start_again(
            replica, "SIGTERM (rolling)", exit_status=status, exit_seconds=exited
        )


async def _check_documents(
    cluster: Cluster, load: LoadGenerator, s: ChaosSettings
) -> dict[str, Any]:
    """Wait for every upload's jobs, then compare the collection with a single-ingest baseline."""
    direct = cluster.replicas[0].url  # the load is over: no need for the balancer
    collection = load.settings.upload_collection
    async with httpx.AsyncClient(base_url=direct, timeout=60) as client:
        job_ids = [j for u in load.uploads for j in u.job_ids]
        states = await documents.job_states(client, job_ids, s.jobs_timeout)
        listed = await documents.listing(client, collection)
        accepted = [u for u in load.uploads if u.job_ids]
        expected = await documents.baseline(
            client, accepted, f"{collection}-baseline", s.jobs_timeout
        )
    rows = await asyncio.to_thread(documents.chunk_rows, cluster.database_url, collection)
    checked = documents.check(load.uploads, listed, expected, rows)
    checked["jobs"] = dict(
        sorted(
            {
                st: sum(1 for j in states.values() if j.get("state") == st)
                for st in ("queued", "running", "succeeded", "failed")
            }.items()
        )
    )
    checked["jobs_unknown"] = len(job_ids) - len(states)
    return checked


def run(
    cluster_settings: ClusterSettings,
    settings: ChaosSettings,
    load_settings: LoadSettings,
    balancer: BalancerSettings,
) -> dict[str, Any]:
    """Start everything, run the schedule, check, and return the report (gates included)."""
    if cluster_settings.drain_seconds <= balancer.mark_down_seconds:
        log.warning(
            "the drain is shorter than HAProxy's time to mark a replica down: new "
            "requests will reach stopping replicas",
            extra={
                "drain_seconds": cluster_settings.drain_seconds,
                "mark_down_seconds": balancer.mark_down_seconds,
            },
        )
    started = datetime.datetime.now(datetime.UTC)
    with Cluster(cluster_settings) as cluster:
        for _ in range(settings.replicas):
            cluster.add_replica()
        for _ in range(settings.workers):
            cluster.add_worker()
        first_start = cluster.wait_ready()
        haproxy = cluster.add_haproxy(list(cluster.replicas), balancer)
        wait_backend_up(haproxy.url, cluster.settings.start_timeout)
        _create_collection(haproxy.url, load_settings.upload_collection)
        chaos = Chaos(cluster, settings, load_settings)
        load, large_job = asyncio.run(chaos.run())
        checked = asyncio.run(_check_documents(cluster, load, settings))
        summary = report.summarize(load.results, chaos.timeline.events)
        results = report.gates(summary["requests"], checked, settings.min_success_pct)
        return {
            "mode": "chaos",
            "started": started.isoformat(timespec="seconds"),
            "duration_s": round(chaos.timeline.now(), 1),
            "settings": {
                "chaos": asdict(settings),
                "cluster": asdict(cluster_settings),
                "balancer": asdict(balancer),
                "load": _load_dict(load_settings),
            },
            "client": {
                "retries": CLIENT_BEHAVIOUR,
                "concurrency": load_settings.concurrency,
                "timeout_s": load_settings.timeout_seconds,
            },
            **summary,
            "documents": checked | {"large_job": _job_summary(large_job)},
            "first_start_ready_s": {k: round(v, 2) for k, v in first_start.items()},
            "restarts": chaos.restarts,
            "events": chaos.timeline.events,
            "haproxy": haproxy.summary(),
            "caches": chaos.caches.summary(),
            "gates": report.gate_dicts(results),
            "passed": all(g.passed for g in results),
            "logs": str(cluster.log_dir),
        }


def _job_summary(job: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "state", "attempts", "result", "chunk_count", "error")
    return {k: job.get(k) for k in keys}


def _load_dict(load: LoadSettings) -> dict[str, Any]:
    return asdict(load) | {"mix": dict(load.mix)}


def wait_backend_up(url: str, timeout: float) -> None:
    """Wait until a request through HAProxy reaches a ready replica (HAProxy takes servers as
    up when it starts; the replicas were ready before it)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, timeout=5) as client:
        while time.monotonic() < deadline:
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    raise HarnessError(f"HAProxy found no replica ready within {timeout:g} s")


def _create_collection(url: str, name: str) -> None:
    response = httpx.post(f"{url}/v1/collections", json={"name": name}, timeout=30)
    if response.status_code != 201:
        raise HarnessError(
            f"could not create collection {name!r}: {response.status_code} {response.text[:300]}"
        )
