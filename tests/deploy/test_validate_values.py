"""validateValues: a bad combination of values stops the render with one message that says
what to set."""

from __future__ import annotations

import helm_python as helm
import pytest

from .chart import find, render, render_defaults


def failure(**overrides) -> str:
    with pytest.raises(helm.HelmRenderError) as caught:
        render_defaults(**overrides)
    return str(caught.value)


def test_an_empty_install_lists_everything_it_needs_in_one_message() -> None:
    with pytest.raises(helm.HelmRenderError) as caught:
        render({})
    message = str(caught.value)
    assert message.count("VALUES VALIDATION") == 1
    for needed in (
        "config.oidc.issuer",
        "config.oidc.audience",
        "secrets.databaseUrl",
        "networkPolicy.egress.postgres.to",
        "networkPolicy.egress.oidc.to",
    ):
        assert needed in message


def test_oidc_is_the_default_and_needs_an_issuer_and_an_audience() -> None:
    message = failure(config={"oidc": {"issuer": "", "audience": ""}})
    assert "config.oidc.issuer" in message and "keycloak" in message
    assert "config.oidc.audience" in message
    # A client id is also an audience.
    docs = render_defaults(config={"oidc": {"audience": "", "clientId": "kotaemon"}})
    assert find(docs, "ConfigMap", "kotaemon-config")["data"]["KOTAEMON_AUTH"] == "oidc"


def test_no_authentication_needs_an_explicit_opt_in() -> None:
    message = failure(config={"auth": "none"})
    assert "config.allowPublicWithoutAuth=true" in message
    docs = render_defaults(config={"auth": "none", "allowPublicWithoutAuth": True})
    data = find(docs, "ConfigMap", "kotaemon-config")["data"]
    assert data["KOTAEMON_AUTH"] == "none"
    assert data["KOTAEMON_ALLOW_PUBLIC_WITHOUT_AUTH"] == "true"
    assert data["KOTAEMON_HOST"] == "0.0.0.0"
    assert "KOTAEMON_OIDC_ISSUER" in data  # given, harmless
    assert (
        "KOTAEMON_ALLOW_PUBLIC_WITHOUT_AUTH"
        not in find(render_defaults(), "ConfigMap", "kotaemon-config")["data"]
    )


def test_a_too_short_grace_period_is_refused_with_the_value_to_use() -> None:
    message = failure(api={"terminationGracePeriodSeconds": 30})
    assert "api.terminationGracePeriodSeconds: 30 is too short" in message
    assert "set it to 35 or more" in message
    message = failure(config={"shutdown": {"drainSeconds": 30}})
    assert "set it to 55 or more" in message


def test_a_database_is_required_one_way_only() -> None:
    assert "secrets.databaseUrl" in failure(secrets={"databaseUrl": ""})
    message = failure(
        cnpg={"enabled": True, "backup": {"enabled": False}},
    )
    assert "with cnpg.enabled the database URLs come from the CloudNativePG cluster" in message


def test_cnpg_backups_need_a_destination_and_credentials() -> None:
    message = failure(secrets={"databaseUrl": ""}, cnpg={"enabled": True})
    assert "cnpg.backup.destinationPath" in message and "cnpg.backup.s3CredentialsSecret" in message
    docs = render_defaults(
        secrets={"databaseUrl": ""}, cnpg={"enabled": True, "backup": {"enabled": False}}
    )
    assert not [d for d in docs if d["kind"] in ("ScheduledBackup", "ObjectStore")]


def test_the_charts_redis_needs_a_password_secret() -> None:
    message = failure(redis={"enabled": True})
    assert "redis.existingSecret" in message
    message = failure(
        redis={"enabled": True, "existingSecret": "r"}, secrets={"redisUrl": "redis://x"}
    )
    assert "leave secrets.redisUrl empty" in message


@pytest.mark.parametrize(
    ("overrides", "needed"),
    [
        (
            {"config": {"llm": {"baseUrl": "https://api.openai.com/v1"}}},
            "networkPolicy.egress.llm.to",
        ),
        (
            {"config": {"embedding": {"backend": "openai", "baseUrl": "http://tei:8080/v1"}}},
            "networkPolicy.egress.embedding.to",
        ),
        ({"config": {"otlp": {"endpoint": "http://otel:4318"}}}, "networkPolicy.egress.otlp.to"),
        ({"secrets": {"redisUrl": "redis://redis:6379/0"}}, "networkPolicy.egress.redis.to"),
    ],
)
def test_an_endpoint_without_a_way_out_is_refused(overrides, needed) -> None:
    assert needed in failure(**overrides)
    # Without network policies there is nothing to open.
    render_defaults(**overrides, networkPolicy={"enabled": False})


def test_autoscaler_bounds_and_gateway_parents_are_checked() -> None:
    assert "autoscaling.api.minReplicas (9) is above" in failure(
        autoscaling={"api": {"minReplicas": 9, "maxReplicas": 4}}
    )
    assert "gateway.parentRefs" in failure(gateway={"enabled": True})
    assert "cannot scale to 0" in failure(autoscaling={"worker": {"minReplicas": 0}})
    render_defaults(autoscaling={"mode": "keda", "worker": {"minReplicas": 0}})


def test_a_restored_cluster_must_archive_to_a_new_folder() -> None:
    message = failure(
        secrets={"databaseUrl": ""},
        cnpg={
            "enabled": True,
            "recovery": {"enabled": True},
            "backup": {"destinationPath": "s3://b/p", "s3CredentialsSecret": "s3"},
        },
    )
    assert "set a new one, e.g. kotaemon-db-restored-1" in message
