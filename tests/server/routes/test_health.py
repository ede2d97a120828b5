"""The probes: liveness always answers; readiness follows the database and shutdown."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from ...fakes.openai_server import FakeOpenAIServer
from ..conftest import LiveServer, error_of, fresh_database, live_server, server_settings

pytestmark = pytest.mark.integration


def test_live_and_ready(kb_server: LiveServer) -> None:
    with kb_server.client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ok"}


def test_not_ready_once_draining(kb_server: LiveServer) -> None:
    lifecycle = kb_server.app.state.lifecycle
    lifecycle.start_draining()  # what the SIGTERM handler does (see test_runner)
    try:
        with kb_server.client() as client:
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert error_of(ready) == {"code": "not_ready", "message": "shutting down"}
            assert client.get("/healthz").status_code == 200
    finally:
        lifecycle.draining = False


def test_not_ready_without_database(
    postgres_admin_url: str, fake_llm: FakeOpenAIServer, tmp_path: Path
) -> None:
    with (
        fresh_database(postgres_admin_url) as url,
        live_server(server_settings(url, tmp_path, fake_llm)) as live,
        live.client() as client,
    ):
        assert client.get("/readyz").status_code == 200
        _drop_database(postgres_admin_url, url)
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert error_of(ready)["code"] == "not_ready"
        assert client.get("/healthz").status_code == 200  # liveness ignores the database


def _drop_database(admin_url: str, url: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(str(name))))
