"""A service with ``auth=oidc`` against our own OIDC provider, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from ...conftest import KNOWLEDGE_BASE, fresh_database, make_settings
from ...fakes.oidc_provider import AUDIENCE, CLIENT_ID, CLIENT_SECRET, FakeOIDCProvider
from ...fakes.openai_server import FakeOpenAIServer
from ..conftest import LiveServer, ingest, live_server, server_settings

PUBLIC_URL = "https://chat.example.com"
USER_SCOPES = "chat documents:read documents:write"


@pytest.fixture(scope="package")
def idp() -> Iterator[FakeOIDCProvider]:
    with FakeOIDCProvider() as provider:
        provider.user = {
            "sub": "alice",
            "name": "Alice",
            "groups": ["staff"],
            "roles": ["chat", "documents:read", "documents:write"],
            "customer_id": "C-1001",
        }
        yield provider


def oidc_settings(url: str, data_dir: Any, llm: FakeOpenAIServer, idp: FakeOIDCProvider, **extra):
    return server_settings(
        url,
        data_dir,
        llm,
        auth="oidc",
        oidc_issuer=idp.issuer,
        oidc_audience=AUDIENCE,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_attribute_claims={"customer_id": "customer_id"},
        oidc_jwks_min_refresh_seconds=2,
        public_url=PUBLIC_URL,
        **extra,
    )


@pytest.fixture(scope="package")
def secure_database(postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory):
    """The sample knowledge base in ``bank``, readable by the group ``staff``."""
    with fresh_database(postgres_admin_url) as url:
        ingest(make_settings(url, tmp_path_factory.mktemp("secure")), KNOWLEDGE_BASE / "en", "bank")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO collection_access (collection_id, grantee_kind, grantee, permission) "
                "SELECT id, 'group', 'staff', 'read' FROM collections WHERE name = 'bank'"
            )
        yield url


@pytest.fixture(scope="package")
def secure_server(
    secure_database: str,
    fake_llm: FakeOpenAIServer,
    idp: FakeOIDCProvider,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    settings = oidc_settings(secure_database, tmp_path_factory.mktemp("srv"), fake_llm, idp)
    with live_server(settings) as live:
        yield live


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
