"""The CloudNativePG option: three instances with pgvector, backups, searches on the replicas,
and point-in-time recovery from the backups."""

from __future__ import annotations

from .chart import CHART, env_of, find, load_values, pod_spec, render


def test_the_cluster_has_three_instances_pgvector_and_scheduled_backups() -> None:
    docs = render(load_values(CHART / "ci" / "cnpg-values.yaml"))
    cluster = find(docs, "Cluster", "kotaemon-db")["spec"]
    assert cluster["instances"] == 3
    assert "standard" in cluster["imageName"]  # CloudNativePG's images that carry pgvector
    assert cluster["bootstrap"]["initdb"]["postInitApplicationSQL"] == [
        "CREATE EXTENSION IF NOT EXISTS vector"
    ]
    assert cluster["resources"]["requests"] == cluster["resources"]["limits"]
    (plugin,) = cluster["plugins"]
    assert plugin["isWALArchiver"] is True
    store = find(docs, "ObjectStore", plugin["parameters"]["barmanObjectName"])
    assert store["spec"]["configuration"]["destinationPath"] == "s3://kotaemon-backups/prod"
    backup = find(docs, "ScheduledBackup", "kotaemon-db-daily")["spec"]
    assert backup["cluster"] == {"name": "kotaemon-db"} and backup["method"] == "plugin"
    assert len(backup["schedule"].split()) == 6


def test_pods_write_to_the_primary_and_search_on_the_replicas() -> None:
    docs = render(load_values(CHART / "ci" / "cnpg-values.yaml"))
    for name in ("kotaemon-api", "kotaemon-worker"):
        (container,) = pod_spec(find(docs, "Deployment", name))["containers"]
        env = env_of(container)
        assert env["KOTAEMON_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
            "name": "kotaemon-db-app",
            "key": "uri",
        }
        # libpq: a host parameter overrides the URL's host, so the read URL is the same
        # credentials on the -ro service (the replicas).
        read = env["KOTAEMON_DATABASE_READ_URL"]["value"]
        assert read == "$(KOTAEMON_DATABASE_URL)?host=kotaemon-db-ro.kotaemon"
        names = list(env)
        assert names.index("KOTAEMON_DATABASE_URL") < names.index("KOTAEMON_DATABASE_READ_URL")
        assert (
            env["KOTAEMON_REDIS_URL"]["value"] == "redis://:$(REDIS_PASSWORD)@kotaemon-redis:6379/0"
        )
    secret = find(docs, "Secret", "kotaemon-secrets")
    assert "KOTAEMON_DATABASE_URL" not in secret.get("stringData", {})


def test_the_read_url_override_is_what_libpq_understands() -> None:
    from psycopg.conninfo import conninfo_to_dict

    uri = "postgresql://app:s3cret@kotaemon-db-rw.kotaemon:5432/app"  # the -app Secret's uri
    params = conninfo_to_dict(f"{uri}?host=kotaemon-db-ro.kotaemon")
    assert params["host"] == "kotaemon-db-ro.kotaemon"
    assert (params["user"], params["password"], params["dbname"]) == ("app", "s3cret", "app")


def test_recovery_restores_from_the_backups_and_archives_elsewhere() -> None:
    docs = render(load_values(CHART / "ci" / "cnpg-recovery-values.yaml"))
    cluster = find(docs, "Cluster", "kotaemon-db")["spec"]
    recovery = cluster["bootstrap"]["recovery"]
    assert "initdb" not in cluster["bootstrap"]
    assert recovery["recoveryTarget"] == {"targetTime": "2026-12-01T09:55:00Z"}
    (origin,) = cluster["externalClusters"]
    assert origin["name"] == recovery["source"]
    assert origin["plugin"]["parameters"] == {
        "barmanObjectName": "kotaemon-db-backups",
        "serverName": "kotaemon-db",
    }
    assert cluster["plugins"][0]["parameters"]["serverName"] == "kotaemon-db-restored-1"


def test_the_redis_option_is_a_password_protected_primary_with_replicas() -> None:
    docs = render(load_values(CHART / "ci" / "cnpg-values.yaml"))
    statefulset = find(docs, "StatefulSet", "kotaemon-redis")
    assert statefulset["spec"]["replicas"] == 3
    (container,) = pod_spec(statefulset)["containers"]
    script = container["args"][0]
    assert "--replicaof kotaemon-redis-0.kotaemon-redis-headless" in script
    assert "requirepass" in script and "$REDIS_PASSWORD" in script
    assert "--requirepass" not in script  # the password never goes on the command line
    service = find(docs, "Service", "kotaemon-redis")
    assert service["spec"]["selector"]["statefulset.kubernetes.io/pod-name"] == "kotaemon-redis-0"
    assert find(docs, "PodDisruptionBudget", "kotaemon-redis")["spec"]["maxUnavailable"] == 1
