"""Rate limits per principal and per address: in-process, and in Redis shared by two replicas;
Redis down fails open or closed as configured."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from ...fakes.oidc_provider import FakeOIDCProvider
from ...fakes.openai_server import FakeOpenAIServer
from ..conftest import error_of, live_server
from .conftest import bearer, oidc_settings

pytestmark = pytest.mark.integration

REDIS_URL = "redis://127.0.0.1:6379/0"  # the Redis every machine of this project runs


def _token(idp: FakeOIDCProvider) -> dict[str, str]:
    return bearer(idp.token(sub=f"user-{uuid.uuid4().hex[:8]}"))


def test_a_principal_over_its_limit_gets_429_with_retry_after(
    secure_database: str, fake_llm: FakeOpenAIServer, idp: FakeOIDCProvider, tmp_path: Path
) -> None:
    settings = oidc_settings(secure_database, tmp_path, fake_llm, idp, rate_limit_per_minute=3)
    with live_server(settings) as live, live.client() as http:
        user, other = _token(idp), _token(idp)
        assert [http.get("/v1/collections", headers=user).status_code for _ in range(3)] == [
            200
        ] * 3
        refused = http.get("/v1/collections", headers=user)
        assert refused.status_code == 429 and error_of(refused)["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1
        assert http.get("/v1/collections", headers=other).status_code == 200


def test_an_address_is_limited_before_authentication(
    secure_database: str, fake_llm: FakeOpenAIServer, idp: FakeOIDCProvider, tmp_path: Path
) -> None:
    settings = oidc_settings(secure_database, tmp_path, fake_llm, idp, rate_limit_ip_per_minute=3)
    with live_server(settings) as live, live.client() as http:
        spoofed = [{"X-Forwarded-For": f"10.0.0.{n}"} for n in range(4)]  # not a trusted proxy
        statuses = [http.get("/v1/collections", headers=h).status_code for h in spoofed]
        assert statuses == [401, 401, 401, 429]  # guesses without a token count too


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(
    secure_database: str, fake_llm: FakeOpenAIServer, idp: FakeOIDCProvider, tmp_path: Path
) -> None:
    settings = oidc_settings(
        secure_database,
        tmp_path,
        fake_llm,
        idp,
        rate_limit_ip_per_minute=2,
        trusted_proxies=["127.0.0.0/8"],
    )
    with live_server(settings) as live, live.client() as http:
        user = _token(idp)
        for client in ("203.0.113.7", "203.0.113.8"):
            forwarded = user | {"X-Forwarded-For": f"198.51.100.1, {client}"}
            codes = [http.get("/v1/collections", headers=forwarded).status_code for _ in range(3)]
            assert codes == [200, 200, 429], client


def test_limits_in_redis_hold_across_replicas(
    secure_database: str, fake_llm: FakeOpenAIServer, idp: FakeOIDCProvider, tmp_path: Path
) -> None:
    def replica(n: int):
        return live_server(
            oidc_settings(
                secure_database,
                tmp_path / str(n),
                fake_llm,
                idp,
                rate_limit_per_minute=4,
                redis_url=REDIS_URL,
                redis_timeout_seconds=5,  # a busy machine's slow answer is no outage here
            )
        )

    with replica(1) as one, replica(2) as two, one.client() as a, two.client() as b:
        user = _token(idp)
        codes = [(a, b)[n % 2].get("/v1/collections", headers=user).status_code for n in range(6)]
        assert codes == [200, 200, 200, 200, 429, 429]


@pytest.mark.parametrize(("fail_open", "status"), [(True, 200), (False, 503)])
def test_redis_down_fails_open_or_closed(
    secure_database: str,
    fake_llm: FakeOpenAIServer,
    idp: FakeOIDCProvider,
    tmp_path: Path,
    fail_open: bool,
    status: int,
) -> None:
    settings = oidc_settings(
        secure_database,
        tmp_path,
        fake_llm,
        idp,
        rate_limit_per_minute=10,
        redis_url="redis://127.0.0.1:1/0",
        rate_limit_fail_open=fail_open,
    )
    with live_server(settings) as live, live.client() as http:
        response = http.get("/v1/collections", headers=_token(idp))
        assert response.status_code == status, response.text
        if status == 503:
            assert error_of(response)["code"] == "rate_limit_unavailable"
