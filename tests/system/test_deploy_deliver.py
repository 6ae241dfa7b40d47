"""The deployment of crawler deliver: compose's deliver service and optional PostgreSQL, the
Kubernetes Deployment and its database Secret, checked against the CLI that runs them."""

from __future__ import annotations

import json

import pytest
import yaml

from crawler.cli.deliver import resolve_sink
from crawler.store.postgres import database_identity
from crawler.store.sinks import default_group, validate_group
from tests.support.paths import ROOT
from tests.support.deploy import NO_COMPOSE, compose_config, docker_compose, one, pod_spec

DEPLOY = ROOT / "deploy"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_deliver_writes_files_on_its_volume_by_default(compose):
    deliver = compose["services"]["deliver"]
    assert deliver["entrypoint"] == ["crawler", "deliver"]
    assert deliver["image"] == compose["services"]["worker"]["image"]
    assert deliver["environment"]["REDIS_URL"] == compose["services"]["worker"]["environment"]["REDIS_URL"]
    (sink,) = deliver["command"]
    default = sink.split(":-", 1)[1].rstrip("}")
    volume, target = deliver["volumes"][0].split(":")[:2]
    assert volume in compose["volumes"] and default.startswith(f"file://{target}/")
    assert target == "/var/lib/crawler"  # the image user's home: a new volume is the user's
    assert default_group(default).startswith("file-")
    assert "profiles" not in deliver  # started by `up`
    assert deliver["read_only"] is True


def test_compose_postgres_is_optional_and_the_default_database_url(compose):
    postgres = compose["services"]["postgres"]
    assert postgres["profiles"] == ["postgres"]
    url = compose["services"]["deliver"]["environment"]["DATABASE_URL"]
    default = url.split(":-", 1)[1].replace("${POSTGRES_PASSWORD:-crawler}", "crawler")[:-1]
    assert resolve_sink("postgresql", default) == default
    name, identity = database_identity(default)
    assert (name, identity) == (postgres["environment"]["POSTGRES_DB"], "postgres:5432/news")
    assert all(port.startswith("127.0.0.1:") for port in postgres["ports"])


def test_docker_compose_accepts_the_postgres_profile():
    command = docker_compose()
    if command is None:
        pytest.skip(NO_COMPOSE)
    import subprocess

    result = subprocess.run([*command, "-f", str(DEPLOY / "compose.yaml"), "--profile", "postgres", "config",
                             "--format", "json"], capture_output=True, text=True, timeout=60, cwd=DEPLOY)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert {"deliver", "postgres"} <= set(services)
    assert compose_config(command, DEPLOY / "compose.yaml").returncode == 0


def test_k8s_deliver_reads_the_database_url_from_its_secret():
    deliver = one("Deployment", "crawler-deliver")
    worker = one("Deployment", "crawler-worker")
    container = pod_spec(deliver)["containers"][0]
    assert container["command"] == ["crawler", "deliver"]
    assert container["image"] == pod_spec(worker)["containers"][0]["image"]
    args = container["args"]
    assert not [arg for arg in args if "://" in arg]  # the URL only from the Secret
    validate_group(args[args.index("--group") + 1])
    env = {e["name"]: e for e in container["env"]}
    ref = env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "crawler-database", "key": "url"}
    # No Secret is committed: kustomize generates it from a git-ignored file, whose example
    # defines no URL (a commented one only).
    generators = {g["name"]: g for g in yaml.safe_load(
        (DEPLOY / "k8s" / "kustomization.yaml").read_text(encoding="utf-8"))["secretGenerator"]}
    assert generators["crawler-database"]["envs"] == ["database.env"]
    example = (DEPLOY / "k8s" / "database.env.example").read_text(encoding="utf-8")
    assert [line for line in example.splitlines() if line and not line.startswith("#")] == []
    url = next(line for line in example.splitlines() if line.startswith("# url=")).split("=", 1)[1]
    assert url.startswith("postgresql://") and "sslmode=verify-full" in url
    assert env["REDIS_URL"] == {e["name"]: e for e in pod_spec(worker)["containers"][0]["env"]}["REDIS_URL"]
    assert pod_spec(deliver)["terminationGracePeriodSeconds"] >= 30
