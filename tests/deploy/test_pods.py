"""The pods: hardened security contexts, probes on /healthz and /readyz, a drain longer than
the app's own, threads from the CPU limit, config checksums, and migrations in one Job."""

from __future__ import annotations

import pytest

from .chart import (
    DEFAULT_VALUES,
    VALUES_FILES,
    containers,
    env_of,
    find,
    load_values,
    pod_spec,
    render,
    render_defaults,
)

WORKLOADS = [
    ("Deployment", "kotaemon-api"),
    ("Deployment", "kotaemon-worker"),
    ("Job", "kotaemon-migrate-1"),
    ("Pod", "kotaemon-test"),
]


@pytest.fixture(scope="module")
def docs():
    return render_defaults()


@pytest.mark.parametrize("path", VALUES_FILES, ids=[p.name for p in VALUES_FILES])
def test_every_pod_is_non_root_read_only_and_unprivileged(path) -> None:
    docs = render(load_values(path))
    workloads = [d for d in docs if d["kind"] in ("Deployment", "StatefulSet", "Job", "Pod")]
    assert len(workloads) >= 4
    for doc in workloads:
        spec = pod_spec(doc)
        assert spec["automountServiceAccountToken"] is False, doc["metadata"]["name"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in containers(doc):
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["privileged"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}
            assert container["resources"]["limits"]["cpu"], container["name"]


def test_the_service_account_mounts_no_token(docs) -> None:
    account = find(docs, "ServiceAccount", "kotaemon")
    assert account["automountServiceAccountToken"] is False
    for kind, name in WORKLOADS:
        assert pod_spec(find(docs, kind, name))["serviceAccountName"] == "kotaemon"


def test_kotaemon_containers_get_a_writable_tmp_and_nothing_else(docs) -> None:
    for kind, name in WORKLOADS[:3]:
        spec = pod_spec(find(docs, kind, name))
        (volume,) = spec["volumes"]
        assert volume["name"] == "tmp" and "emptyDir" in volume
        (container,) = spec["containers"]
        assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]


@pytest.mark.parametrize(("name", "port"), [("kotaemon-api", "http"), ("kotaemon-worker", "http")])
def test_probes_ask_healthz_and_readyz(docs, name, port) -> None:
    (container,) = pod_spec(find(docs, "Deployment", name))["containers"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}
    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": port}
    # The start-up probe, not a long liveness delay, covers a slow start.
    assert "initialDelaySeconds" not in container["livenessProbe"]


def test_the_worker_serves_its_probes_on_its_own_port(docs) -> None:
    (container,) = pod_spec(find(docs, "Deployment", "kotaemon-worker"))["containers"]
    assert container["args"] == ["worker"]
    assert container["ports"][0]["containerPort"] == 8001
    assert find(docs, "ConfigMap", "kotaemon-config")["data"]["KOTAEMON_WORKER_PORT"] == "8001"
    annotations = find(docs, "Deployment", "kotaemon-worker")["spec"]["template"]["metadata"][
        "annotations"
    ]
    assert annotations["prometheus.io/port"] == "8001"


@pytest.mark.parametrize(
    ("kind", "name", "container"),
    [
        ("Deployment", "kotaemon-api", "api"),
        ("Deployment", "kotaemon-worker", "worker"),
        ("Job", "kotaemon-migrate-1", "migrate"),
    ],
)
def test_embedding_threads_follow_the_containers_cpu_limit(docs, kind, name, container) -> None:
    (spec,) = pod_spec(find(docs, kind, name))["containers"]
    threads = env_of(spec)["KOTAEMON_EMBEDDING_THREADS"]
    assert threads == {
        "name": "KOTAEMON_EMBEDDING_THREADS",
        "valueFrom": {
            "resourceFieldRef": {
                "containerName": container,
                "resource": "limits.cpu",
                "divisor": "1",
            }
        },
    }
    assert spec["name"] == container


def test_shutdown_drains_before_the_grace_period_ends(docs) -> None:
    data = find(docs, "ConfigMap", "kotaemon-config")["data"]
    drain, grace = (
        float(data["KOTAEMON_SHUTDOWN_DRAIN_SECONDS"]),
        float(data["KOTAEMON_SHUTDOWN_GRACE_SECONDS"]),
    )
    assert (drain, grace) == (10, 20)
    spec = pod_spec(find(docs, "Deployment", "kotaemon-api"))
    assert spec["terminationGracePeriodSeconds"] > drain + grace
    # The app drains itself (no shell needed in the image): no preStop by default...
    assert "lifecycle" not in spec["containers"][0]
    # ...and an extra pause uses the kubelet's own sleep action, counted in the budget.
    docs = render_defaults(api={"preStopSleepSeconds": 5, "terminationGracePeriodSeconds": 40})
    (container,) = pod_spec(find(docs, "Deployment", "kotaemon-api"))["containers"]
    assert container["lifecycle"] == {"preStop": {"sleep": {"seconds": 5}}}


def test_rolling_updates_never_go_below_the_desired_count(docs) -> None:
    for name in ("kotaemon-api", "kotaemon-worker"):
        strategy = find(docs, "Deployment", name)["spec"]["strategy"]
        assert strategy["type"] == "RollingUpdate"
        assert strategy["rollingUpdate"]["maxUnavailable"] == 0
    for name in ("kotaemon-api", "kotaemon-worker"):
        assert find(docs, "PodDisruptionBudget", name)["spec"]["maxUnavailable"] == 1


def checksums(docs) -> dict[str, str]:
    annotations = find(docs, "Deployment", "kotaemon-api")["spec"]["template"]["metadata"][
        "annotations"
    ]
    return {k: v for k, v in annotations.items() if k.startswith("checksum/")}


def test_a_config_or_secret_change_rolls_the_pods(docs) -> None:
    base = checksums(docs)
    assert set(base) == {"checksum/config", "checksum/secret"}
    assert checksums(render_defaults()) == base  # stable: same values, same pods
    config = checksums(render_defaults(config={"logLevel": "DEBUG"}))
    assert config["checksum/config"] != base["checksum/config"]
    assert config["checksum/secret"] == base["checksum/secret"]
    secret = checksums(render_defaults(secrets={"llmApiKey": "sk-new"}))
    assert secret["checksum/secret"] != base["checksum/secret"]
    assert secret["checksum/config"] == base["checksum/config"]
    # Worker pods roll on the same changes.
    worker = find(render_defaults(config={"logLevel": "DEBUG"}), "Deployment", "kotaemon-worker")
    assert (
        worker["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        == config["checksum/config"]
    )


def test_migrations_run_once_per_revision_and_pods_do_not_migrate(docs) -> None:
    job = find(docs, "Job", "kotaemon-migrate-1")
    (container,) = pod_spec(job)["containers"]
    assert container["args"] == ["migrate"]
    assert pod_spec(job)["restartPolicy"] == "OnFailure"
    assert "helm.sh/hook" not in job["metadata"].get("annotations", {})
    assert find(docs, "ConfigMap", "kotaemon-config")["data"]["KOTAEMON_AUTO_MIGRATE"] == "false"
    upgrade = render(load_values(DEFAULT_VALUES), revision=7)
    assert any(d["kind"] == "Job" and d["metadata"]["name"].endswith("-migrate-7") for d in upgrade)
    without = render_defaults(migrations={"enabled": False})
    assert not [d for d in without if d["kind"] == "Job"]
    assert find(without, "ConfigMap", "kotaemon-config")["data"]["KOTAEMON_AUTO_MIGRATE"] == "true"


def test_the_helm_test_pod_asks_readyz_through_the_service(docs) -> None:
    pod = find(docs, "Pod", "kotaemon-test")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    (container,) = pod_spec(pod)["containers"]
    assert "http://kotaemon-service:80/readyz" in container["command"][-1]
    compile(container["command"][-1], "helm-test", "exec")  # valid Python


def test_no_service_environment_variables_reach_kotaemon(docs) -> None:
    # Kubernetes would inject <SERVICE>_PORT for every Service: a Service named `kotaemon`
    # would set KOTAEMON_PORT=tcp://… and break the setting of that name.
    for kind, name in WORKLOADS:
        assert pod_spec(find(docs, kind, name))["enableServiceLinks"] is False
