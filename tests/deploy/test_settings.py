"""The chart's environment is kotaemon's: every variable it sets is a setting, and the settings
the pods would build from it are valid."""

from __future__ import annotations

import pytest

from kotaemon.settings import Settings

from .chart import VALUES_FILES, env_of, find, load_values, pod_spec, render

#: Variables that are not kotaemon settings: OpenTelemetry's own, and Redis' password that
#: KOTAEMON_REDIS_URL is built from.
FOREIGN = {
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_SERVICE_NAME",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "REDIS_PASSWORD",
    "CRM_TOKEN",
}


def rendered_env(docs) -> dict[str, str]:
    """The api container's environment as the kubelet would give it (secret refs stubbed)."""
    env = dict(find(docs, "ConfigMap", "kotaemon-config")["data"])
    secret = [
        d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"] == "kotaemon-secrets"
    ]
    if secret:
        env.update(secret[0].get("stringData", {}))
    env.pop("agent.yaml", None)
    (container,) = pod_spec(find(docs, "Deployment", "kotaemon-api"))["containers"]
    for name, var in env_of(container).items():
        env[name] = var.get("value", "postgresql://app:pw@kotaemon-db-rw.kotaemon:5432/app")
    env["KOTAEMON_EMBEDDING_THREADS"] = "2"
    return env


@pytest.mark.parametrize("path", VALUES_FILES, ids=[p.name for p in VALUES_FILES])
def test_every_variable_the_chart_sets_is_a_setting(path) -> None:
    for name in rendered_env(render(load_values(path))):
        if name in FOREIGN:
            continue
        assert name.startswith("KOTAEMON_"), name
        field = name.removeprefix("KOTAEMON_").lower()
        assert field in Settings.model_fields, f"{name} is not a setting"


@pytest.mark.parametrize("path", VALUES_FILES, ids=[p.name for p in VALUES_FILES])
def test_the_pods_settings_are_valid(path, monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in [n for n in __import__("os").environ if n.startswith("KOTAEMON_")]:
        monkeypatch.delenv(name)
    for name, value in rendered_env(render(load_values(path))).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("KOTAEMON_AGENT_CONFIG", raising=False)  # a file in the pod only
    settings = Settings()
    assert settings.host == "0.0.0.0" and not settings.local_mode
    assert settings.redacts_rag_records
    assert settings.auto_migrate is False
