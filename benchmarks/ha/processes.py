"""The processes the harness runs, each a real child it can start, signal, wait for and restart.

Every child gets its own session (so a Ctrl-C at the terminal reaches the harness only, which
stops them in order) and one log file under the run's folder; signals go to the child's own pid.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import httpx
import redis

log = logging.getLogger("benchmarks.ha")

ROOT = Path(__file__).resolve().parents[2]
#: How often a wait polls (a readiness probe, a log file).
POLL_SECONDS = 0.05


class HarnessError(Exception):
    """The harness could not run as planned (a tool missing, a service that did not start);
    the message says what to do. Not a failed gate: the run proves nothing either way."""


def require(binary: str, package: str) -> str:
    """The path of ``binary``, or an error that says how to install it."""
    found = shutil.which(binary)
    if found is None:
        raise HarnessError(
            f"{binary} is not installed: run `make system-deps` (as root), or "
            f"`apt-get update && apt-get install -y {package}`"
        )
    return found


def cpu_seconds(service: Service) -> float:
    """User plus system CPU time of a running child, all its threads, from /proc."""
    if service.pid is None:
        return 0.0
    fields = Path(f"/proc/{service.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Service:
    """One child process and its log file.

    Example::

        redis = Service("redis", ["redis-server", "--port", "6390"], os.environ, logs)
        redis.start()
        redis.signal(signal.SIGKILL)
        redis.wait_exit(10)
        redis.start()                     # the same command again, logging to the same file
    """

    def __init__(
        self, name: str, command: Sequence[str], env: Mapping[str, str], log_dir: Path
    ) -> None:
        self.name = name
        self.command = list(command)
        self.env = dict(env)
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        if self.running:
            raise HarnessError(f"{self.name} is already running (pid {self.pid})")
        self._close_log()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._log.write(f"--- harness: starting {self.name}\n".encode())
        self._log.flush()
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.debug("started", extra={"service": self.name, "pid": self.process.pid})

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, sig: signal.Signals) -> None:
        """Send ``sig`` to this child (by its pid, nothing else)."""
        if self.process is None or not self.running:
            raise HarnessError(f"{self.name} is not running; cannot send {sig.name}")
        self.process.send_signal(sig)

    def wait_exit(self, timeout: float) -> int | None:
        """The exit status once the child has exited, or None if it is still running."""
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def wait_ready(self, timeout: float) -> float:
        """Wait until the service serves; the seconds since it started.

        :raises HarnessError: if it exits first or is not ready within ``timeout``.
        """
        raise NotImplementedError

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout``; closes the log."""
        if self.running:
            self.signal(signal.SIGTERM)
            if self.wait_exit(timeout) is None:
                log.warning("did not stop; killing", extra={"service": self.name})
                self.signal(signal.SIGKILL)
                self.wait_exit(10)
        self._close_log()

    def log_tail(self, lines: int = 20) -> str:
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def _check_alive(self, waiting_for: str) -> None:
        if not self.running:
            status = self.process.returncode if self.process else None
            raise HarnessError(
                f"{self.name} exited (status {status}) while waiting for {waiting_for}; "
                f"see {self.log_path}:\n{self.log_tail()}"
            )

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


class Replica(Service):
    """``kotaemon serve`` on a port of its own."""

    def __init__(self, name: str, port: int, env: Mapping[str, str], log_dir: Path) -> None:
        command = [sys.executable, "-m", "kotaemon", "serve", "--port", str(port)]
        super().__init__(name, command, env, log_dir)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def wait_ready(self, timeout: float) -> float:
        """Wait until ``/readyz`` answers 200; the seconds since the process started."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                self._check_alive("readiness")
                try:
                    if client.get(f"{self.url}/readyz").status_code == 200:
                        return time.monotonic() - self.started_at
                except httpx.TransportError:
                    pass
                time.sleep(POLL_SECONDS)
        raise HarnessError(
            f"{self.name} was not ready within {timeout:g} s; see {self.log_path}:\n"
            + self.log_tail()
        )


class Worker(Service):
    """``kotaemon worker``; ready once it logs that it started."""

    def __init__(self, name: str, env: Mapping[str, str], log_dir: Path) -> None:
        super().__init__(name, [sys.executable, "-m", "kotaemon", "worker"], env, log_dir)

    def wait_ready(self, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        offset = self._start_offset()
        while time.monotonic() < deadline:
            self._check_alive("its start")
            if '"worker started"' in self._log_since(offset):
                return time.monotonic() - self.started_at
            time.sleep(POLL_SECONDS)
        raise HarnessError(f"{self.name} did not start within {timeout:g} s; see {self.log_path}")

    def is_running_job(self, job_id: str) -> bool:
        """Whether this process (its current run) logged that it is ingesting ``job_id``."""
        return any(
            '"ingesting"' in line and job_id in line
            for line in self._log_since(self._start_offset()).splitlines()
        )

    def _start_offset(self) -> int:
        text = self.log_path.read_bytes() if self.log_path.exists() else b""
        return text.rfind(b"--- harness: starting")

    def _log_since(self, offset: int) -> str:
        return self.log_path.read_bytes()[max(offset, 0) :].decode("utf-8", errors="replace")


class Redis(Service):
    """A ``redis-server`` of the harness's own on loopback, with no persistence, so that it can
    be restarted (another Redis may well be running on 6379)."""

    def __init__(self, port: int, log_dir: Path) -> None:
        binary = require("redis-server", "redis-server")
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--daemonize", "no", "--logfile", ""]
        super().__init__("redis", command, os.environ, log_dir)
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"

    def wait_ready(self, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        client = redis.Redis(port=self.port, socket_timeout=1.0, socket_connect_timeout=1.0)
        try:
            while time.monotonic() < deadline:
                self._check_alive("PING")
                try:
                    if client.ping():
                        return time.monotonic() - self.started_at
                except redis.RedisError:
                    pass
                time.sleep(POLL_SECONDS)
        finally:
            client.close()
        raise HarnessError(f"redis did not answer PING within {timeout:g} s; see {self.log_path}")


class FakeLLM(Service):
    """The fake OpenAI-compatible server (``tests/fakes``) in a process of its own, so that its
    threads do not compete with the load generator for the harness's interpreter."""

    def __init__(self, log_dir: Path) -> None:
        self.port_file = log_dir / "fake-llm.port"
        command = [sys.executable, "-m", "benchmarks.ha.fake_llm", str(self.port_file)]
        super().__init__("fake-llm", command, os.environ, log_dir)
        self.base_url = ""

    def start(self) -> None:
        self.port_file.unlink(missing_ok=True)
        super().start()

    def wait_ready(self, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive("its port")
            text = self.port_file.read_text() if self.port_file.exists() else ""
            if text.endswith("\n"):
                self.base_url = f"http://127.0.0.1:{int(text)}/v1"
                return time.monotonic() - self.started_at
            time.sleep(POLL_SECONDS)
        raise HarnessError(f"the fake LLM did not start within {timeout:g} s; see {self.log_path}")
