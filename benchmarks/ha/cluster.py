"""The whole system on loopback: one PostgreSQL, one Redis, the fake LLM, replicas and workers.

Each ``kotaemon`` process gets the same environment, as replicas of one deployment would: the
shared database and Redis, the fake LLM, no rate limits (one address sends everything), the
drain and grace periods of a graceful shutdown, and short worker heartbeats so that a killed
worker's jobs are delivered again within the run. The schema is migrated once, before any
replica starts, and the sample knowledge base is ingested into collection ``bank``.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from kotaemon.store.embedded import start_embedded_postgres

from .haproxy import BalancerSettings, HAProxy
from .processes import (
    ROOT,
    FakeLLM,
    HarnessError,
    Redis,
    Replica,
    Service,
    Worker,
    free_port,
)

log = logging.getLogger("benchmarks.ha")

KNOWLEDGE_BASE = ROOT / "examples" / "knowledge_base"
KB_COLLECTION = "bank"


@dataclass(frozen=True)
class ClusterSettings:
    """How the processes are configured (durations in seconds)."""

    drain_seconds: float = 2.0
    grace_seconds: float = 10.0
    worker_heartbeat_seconds: float = 1.0
    worker_stalled_after_seconds: float = 5.0
    start_timeout: float = 180.0
    log_level: str = "INFO"
    #: More variables for every kotaemon process, e.g. {"KOTAEMON_EMBEDDING_THREADS": "1"}.
    extra_env: dict[str, str] = field(default_factory=dict)


class Cluster:
    """The backing services, started on entry and stopped (with every replica, worker and
    balancer added since) on exit; PostgreSQL's data goes with the harness's process.

    Example::

        with Cluster(ClusterSettings()) as cluster:
            replicas = [cluster.add_replica() for _ in range(3)]
            cluster.add_worker()
            cluster.wait_ready()
            haproxy = cluster.add_haproxy(replicas)
    """

    def __init__(self, settings: ClusterSettings) -> None:
        self.settings = settings
        self.run_dir = Path(tempfile.mkdtemp(prefix="kotaemon-ha-"))
        self.run_dir.chmod(0o755)  # the embedded PostgreSQL runs as a user of its own
        self.log_dir = self.run_dir / "logs"
        self.log_dir.mkdir()
        self.database_url = ""
        self.redis = Redis(free_port(), self.log_dir)
        self.llm = FakeLLM(self.log_dir)
        self.replicas: list[Replica] = []
        self.workers: list[Worker] = []
        self.haproxy: HAProxy | None = None
        self._services: list[Service] = []
        self._ingest: _Command | None = None

    def __enter__(self) -> Cluster:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _start(self) -> None:
        log.info("starting the backing services", extra={"run_dir": str(self.run_dir)})
        self.database_url = start_embedded_postgres(self.run_dir / "data", delete_on_exit=True)
        for service in (self.redis, self.llm):
            service.start()
            self._services.append(service)
        self.redis.wait_ready(30)
        self.llm.wait_ready(30)
        self._kotaemon("migrate").wait_done()
        # Ingested while the replicas start (see wait_ready): both take a while.
        log.info("ingesting the sample knowledge base", extra={"collection": KB_COLLECTION})
        self._ingest = self._kotaemon("ingest", str(KNOWLEDGE_BASE), "--collection", KB_COLLECTION)

    def env(self, *, redis: bool = True) -> dict[str, str]:
        """The environment of every kotaemon process (``redis`` False: single-replica mode)."""
        s = self.settings
        env = {k: v for k, v in os.environ.items() if not k.startswith("KOTAEMON_")}
        env |= {
            "KOTAEMON_DATABASE_URL": self.database_url,
            "KOTAEMON_DATA_DIR": str(self.run_dir / "data"),
            "KOTAEMON_AUTO_MIGRATE": "false",  # `kotaemon migrate` ran once, before them
            "KOTAEMON_LLM_BASE_URL": self.llm.base_url,
            "KOTAEMON_LLM_MODEL": "fake-model",
            "KOTAEMON_RATE_LIMIT_PER_MINUTE": "0",
            "KOTAEMON_RATE_LIMIT_IP_PER_MINUTE": "0",
            "KOTAEMON_SHUTDOWN_DRAIN_SECONDS": f"{s.drain_seconds:g}",
            "KOTAEMON_SHUTDOWN_GRACE_SECONDS": f"{s.grace_seconds:g}",
            "KOTAEMON_WORKER_HEARTBEAT_SECONDS": f"{s.worker_heartbeat_seconds:g}",
            "KOTAEMON_WORKER_STALLED_AFTER_SECONDS": f"{s.worker_stalled_after_seconds:g}",
            "KOTAEMON_LOG_LEVEL": s.log_level,
        }
        if redis:
            env["KOTAEMON_REDIS_URL"] = self.redis.url
        return env | s.extra_env

    def _kotaemon(self, *args: str) -> _Command:
        command = _Command(
            f"kotaemon-{args[0]}", ["-m", "kotaemon", *args], self.env(), self.log_dir
        )
        command.start()
        return command

    def add_replica(self, *, redis: bool = True) -> Replica:
        """Start one more ``kotaemon serve`` (not waiting for it)."""
        replica = Replica(
            f"r{len(self.replicas) + 1}", free_port(), self.env(redis=redis), self.log_dir
        )
        replica.start()
        self.replicas.append(replica)
        self._services.append(replica)
        return replica

    def add_worker(self) -> Worker:
        """Start one more ``kotaemon worker``, with its probe port (not waiting for it)."""
        env = self.env() | {"KOTAEMON_WORKER_PORT": str(free_port())}
        worker = Worker(f"w{len(self.workers) + 1}", env, self.log_dir)
        worker.start()
        self.workers.append(worker)
        self._services.append(worker)
        return worker

    def wait_ready(self) -> dict[str, float]:
        """Wait for every replica and worker, and for the knowledge base; the seconds each
        process took from its start."""
        timeout = self.settings.start_timeout
        ready = {s.name: s.wait_ready(timeout) for s in [*self.replicas, *self.workers]}
        if self._ingest is not None:
            self._ingest.wait_done(600)
            self._ingest = None
        return ready

    def add_haproxy(
        self,
        replicas: list[Replica],
        settings: BalancerSettings | None = None,
        name: str = "haproxy",
    ) -> HAProxy:
        """HAProxy in front of ``replicas`` (replacing any earlier one), listening on return."""
        if self.haproxy is not None:
            self.stop(self.haproxy)
        servers = [(r.name, r.port) for r in replicas]
        self.haproxy = HAProxy(
            servers, free_port(), self.run_dir, settings or BalancerSettings(), name
        )
        self.haproxy.start()
        self._services.append(self.haproxy)
        self.haproxy.wait_ready(30)
        return self.haproxy

    def stop(self, service: Service) -> None:
        service.stop()
        if service in self._services:
            self._services.remove(service)
        if service in self.replicas:
            self.replicas.remove(service)

    def close(self) -> None:
        """Stop everything, last started first."""
        if self._ingest is not None:
            self._ingest.stop()
        for service in reversed(self._services):
            try:
                service.stop()
            except Exception:
                log.exception("could not stop", extra={"service": service.name})
        self._services.clear()
        log.info("stopped; logs kept", extra={"logs": str(self.log_dir)})


class _Command(Service):
    """A ``kotaemon`` command that runs to its end (``migrate``, ``ingest``)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        super().__init__(name, [sys.executable, *args], env, log_dir)

    def wait_done(self, timeout: float = 300.0) -> None:
        status = self.wait_exit(timeout)
        if status != 0:
            self.stop()
            raise HarnessError(
                f"`{' '.join(self.command[1:])}` "
                + ("did not end in time" if status is None else f"failed (status {status})")
                + f"; see {self.log_path}:\n{self.log_tail()}"
            )
        self.stop()
