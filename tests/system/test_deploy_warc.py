"""The deployments give WARC_DIR a volume the worker can write (compose, Kubernetes, the image)."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from tests.support.paths import ROOT
from tests.system.test_deploy import DEPLOY, _compose_config, _docker_compose

_WORKER_UID = "10001"


def _k8s_worker() -> dict:
    return yaml.safe_load((DEPLOY / "k8s" / "worker.yaml").read_text(encoding="utf-8"))


def test_kubernetes_workers_write_warc_files_to_a_volume_of_their_own():
    pod = _k8s_worker()["spec"]["template"]["spec"]
    [container] = pod["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    warc_dir = env["WARC_DIR"]
    assert warc_dir == "/warc" and mounts[warc_dir] == "warc"
    assert "emptyDir" in volumes["warc"] and volumes["warc"]["emptyDir"]["sizeLimit"]
    # The root file system is read-only: the archive must be on the volume.
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_compose_workers_write_warc_files_to_a_named_volume():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    worker = compose["services"]["worker"]
    assert worker["environment"]["WARC_DIR"] == "${CRAWLER_WARC_DIR-/warc}"
    assert "warc-data:/warc" in worker["volumes"] and "warc-data" in compose["volumes"]
    # The worker keeps what the shared anchor gives every service.
    assert worker["environment"]["REDIS_URL"] == compose["x-crawler"]["environment"]["REDIS_URL"]
    command = _docker_compose()
    if command is None:
        pytest.skip("no Docker Compose v2 here to resolve compose.yaml")
    model = json.loads(_compose_config(command, DEPLOY / "compose.yaml").stdout)
    resolved = model["services"]["worker"]
    assert resolved["environment"]["WARC_DIR"] == "/warc"
    assert [(v["source"], v["target"]) for v in resolved["volumes"]] == [("warc-data", "/warc")]


def test_the_image_has_the_archive_folder_owned_by_the_worker_user():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(rf"install -d -o {_WORKER_UID} -g {_WORKER_UID} /warc\b", dockerfile)
    assert f"USER {_WORKER_UID}:{_WORKER_UID}" in dockerfile
