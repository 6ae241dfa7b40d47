"""Kubernetes: who may reach Redis and the workers, where workers may connect, and the
Redis password kept out of git (issue 10, item 5).

The NetworkPolicies of deploy/k8s are evaluated here as Kubernetes evaluates them
(label selectors with matchLabels and matchExpressions, peers, ports resolved
against the pods' container ports, ipBlock with except) against the pods of the
manifests themselves: each policy must select the pods it is written for, and
admit exactly the clients it names. Every manifest also passes the Kubernetes
schemas (strict), the seeding job included; where kubectl is installed,
``kubectl kustomize`` builds the whole kustomization with a password file.
"""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.37.0"


def _load(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


KUSTOMIZATION = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
APPLIED = [doc for name in KUSTOMIZATION["resources"] for doc in _load(K8S / name)]
JOBS = [doc for path in sorted((K8S / "jobs").glob("*.yaml")) for doc in _load(path)]
POLICIES = {doc["metadata"]["name"]: doc for doc in APPLIED if doc["kind"] == "NetworkPolicy"}


def _workload(kind: str, name: str) -> dict:
    """The manifest of that kind and name; a missing one is a pod template with no labels."""
    return next((d for d in APPLIED + JOBS if d["kind"] == kind and d["metadata"]["name"] == name),
                {"kind": kind, "metadata": {"name": name},
                 "spec": {"template": {"metadata": {"labels": {}}, "spec": {"containers": [{}]}}}})


WORKER = _workload("Deployment", "crawler-worker")
REDIS = _workload("StatefulSet", "redis")
SEED = _workload("Job", "crawler-seed")
# Every pod template of the crawl's namespace, by what it is.
PODS = {"worker": WORKER, "redis": REDIS, "seed": SEED}


def _labels(workload: dict) -> dict[str, str]:
    return workload["spec"]["template"]["metadata"]["labels"]


def _selects(selector: dict, labels: dict[str, str]) -> bool:
    """Kubernetes' LabelSelector: every matchLabels pair and every matchExpressions term."""
    assert set(selector) <= {"matchLabels", "matchExpressions"}, selector
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for term in selector.get("matchExpressions", []):
        key, operator, values = term["key"], term["operator"], term.get("values", [])
        ok = {"In": key in labels and labels[key] in values,
              "NotIn": key not in labels or labels[key] not in values,
              "Exists": key in labels, "DoesNotExist": key not in labels}[operator]
        if not ok:
            return False
    return True


def _selected(policy: dict) -> set[str]:
    return {what for what, workload in PODS.items() if _selects(policy["spec"]["podSelector"], _labels(workload))}


def _container_ports(workload: dict) -> dict[str, int]:
    return {p["name"]: p["containerPort"] for c in workload["spec"]["template"]["spec"]["containers"]
            for p in c.get("ports", [])}


def _port(port: int | str, workload: dict) -> int:
    """A NetworkPolicyPort's port, resolved against the destination pod's named ports."""
    return port if isinstance(port, int) else _container_ports(workload)[port]


def _local_peers(rule: dict) -> set[str]:
    """The pods of this namespace that a rule's peers admit (a peer with a namespaceSelector
    or an ipBlock names pods elsewhere)."""
    return {what for peer in rule.get("from", rule.get("to", []))
            if set(peer) == {"podSelector"}
            for what, workload in PODS.items() if _selects(peer["podSelector"], _labels(workload))}


def _egress_allows(policy: dict, address: str, port: int, protocol: str = "TCP") -> bool:
    """Whether an ipBlock rule of ``policy`` lets a connection to ``address:port`` out."""
    ip = ipaddress.ip_address(address)
    for rule in policy["spec"].get("egress", []):
        ports = rule.get("ports")
        if ports and not any(p.get("protocol", "TCP") == protocol and p.get("port") == port for p in ports):
            continue
        for peer in rule.get("to", []):
            block = peer.get("ipBlock")
            if block is None:
                continue
            network = ipaddress.ip_network(block["cidr"])
            if ip.version == network.version and ip in network and not any(
                    ip in ipaddress.ip_network(e) for e in block.get("except", [])):
                return True
    return False


# --- the manifests are valid ------------------------------------------------------------


@pytest.mark.parametrize("doc", [d for d in APPLIED + JOBS if d["kind"] in ("NetworkPolicy", "Job")],
                         ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_policies_and_jobs_match_the_kubernetes_schema(doc):
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


# --- Redis ------------------------------------------------------------------------------


def test_redis_accepts_only_the_workers_the_seeding_job_and_kedas_scaler():
    ingress = [p for p in POLICIES.values() if "Ingress" in p["spec"]["policyTypes"] and "redis" in _selected(p)]
    assert len(ingress) == 1
    policy = ingress[0]
    assert _selected(policy) == {"redis"}
    rules = policy["spec"]["ingress"]
    assert set().union(*(_local_peers(rule) for rule in rules)) == {"worker", "seed"}
    assert all(_port(p["port"], REDIS) == 6379 for rule in rules for p in rule["ports"])
    # The policy admits an exporter too (label app.kubernetes.io/component=export).
    export = {**_labels(WORKER), "app.kubernetes.io/component": "export"}
    assert any(_selects(peer["podSelector"], export) for rule in rules for peer in rule["from"]
               if set(peer) == {"podSelector"})
    # From other namespaces: KEDA's operator alone, selected by namespace and pod together.
    foreign = [peer for rule in rules for peer in rule["from"] if set(peer) != {"podSelector"}]
    assert foreign == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}},
                        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "keda-operator"}}}]


# --- the workers' metrics -----------------------------------------------------------------


def test_the_workers_metrics_port_accepts_prometheus_alone():
    ingress = [p for p in POLICIES.values() if "Ingress" in p["spec"]["policyTypes"] and "worker" in _selected(p)]
    assert len(ingress) == 1 and _selected(ingress[0]) == {"worker"}
    (rule,) = ingress[0]["spec"]["ingress"]
    assert [_port(p["port"], WORKER) for p in rule["ports"]] == [_container_ports(WORKER)["metrics"]]
    # One peer holding both selectors: Prometheus pods of the monitoring namespace (as two
    # peers it would admit every pod of that namespace, and every Prometheus anywhere).
    assert rule["from"] == [{
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}]
    assert _local_peers(rule) == set()


# --- the workers' way out -------------------------------------------------------------------


@pytest.fixture(scope="module")
def egress() -> dict:
    found = [p for p in POLICIES.values() if "Egress" in p["spec"]["policyTypes"]]
    assert len(found) == 1 and _selected(found[0]) == {"worker"}
    return found[0]


@pytest.mark.parametrize("address", [
    "10.0.0.1", "10.96.0.1", "172.16.0.10", "172.31.255.254", "192.168.1.1", "100.64.0.1",
    "100.127.255.254", "169.254.169.254", "169.254.20.10", "127.0.0.1", "0.0.0.0",
    "fd00:ec2::254", "fc00::1", "fe80::1", "::1", "::ffff:10.0.0.1",
])
def test_workers_cannot_reach_cluster_networks_or_the_metadata_service(egress, address):
    for port in (80, 443, 6379, 8080, 10250):
        assert not _egress_allows(egress, address, port), (address, port)


@pytest.mark.parametrize(("address", "port"), [
    ("93.184.215.14", 443), ("1.1.1.1", 80), ("8.8.8.8", 8080), ("2606:4700:4700::1111", 443)])
def test_workers_reach_the_public_internet_on_any_port(egress, address, port):
    assert _egress_allows(egress, address, port)


def test_workers_reach_the_cluster_dns_and_redis_and_nothing_else_inside(egress):
    rules = egress["spec"]["egress"]
    dns = [rule for rule in rules if any(
        peer.get("podSelector", {}).get("matchLabels") == {"k8s-app": "kube-dns"}
        and peer.get("namespaceSelector", {}).get("matchLabels") == {"kubernetes.io/metadata.name": "kube-system"}
        for peer in rule.get("to", []))]
    assert len(dns) == 1
    assert sorted((p["protocol"], p["port"]) for p in dns[0]["ports"]) == [("TCP", 53), ("UDP", 53)]
    local = [rule for rule in rules if _local_peers(rule)]
    assert len(local) == 1 and _local_peers(local[0]) == {"redis"}
    assert [_port(p["port"], REDIS) for p in local[0]["ports"]] == [6379]
    # The worker's REDIS_URL names that Redis and that port.
    env = {e["name"]: e.get("value") for e in WORKER["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["REDIS_URL"].endswith("@redis:6379/0")


# --- the seeding job --------------------------------------------------------------------------


def test_the_seeding_job_is_a_redis_client_like_the_workers():
    assert _labels(SEED)["app.kubernetes.io/component"] == "seed"
    seed = SEED["spec"]["template"]["spec"]["containers"][0]
    worker = WORKER["spec"]["template"]["spec"]["containers"][0]
    assert seed["command"][:2] == ["crawler", "seed"]
    by_name = {e["name"]: e for e in worker["env"]}
    assert seed["env"] == [by_name["REDIS_PASSWORD"], by_name["REDIS_URL"]]
    assert seed["image"] == worker["image"]
    assert SEED["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert seed["securityContext"]["readOnlyRootFilesystem"] is True


# --- the Redis password ---------------------------------------------------------------------


def test_no_placeholder_secret_is_applied():
    assert [d for d in APPLIED if d["kind"] == "Secret"] == []
    assert not (K8S / "redis-secret.yaml").exists()
    for path in (ROOT / "deploy").rglob("*"):
        if path.is_file() and path.suffix in (".yaml", ".yml", ".md", ".example", ".sh"):
            assert "change-me" not in path.read_text(encoding="utf-8"), path


def test_the_secret_is_generated_from_a_git_ignored_file():
    (generator,) = KUSTOMIZATION["secretGenerator"]
    assert generator["name"] == "redis-auth" and generator["envs"] == ["redis-auth.env"]
    # KEDA's TriggerAuthentication names the Secret, and kustomize does not rewrite CRDs.
    assert KUSTOMIZATION["generatorOptions"]["disableNameSuffixHash"] is True
    ignored = subprocess.run(["git", "check-ignore", "-q", "deploy/k8s/redis-auth.env"], cwd=ROOT)
    assert ignored.returncode == 0, "deploy/k8s/redis-auth.env must be git-ignored"
    example = K8S / "redis-auth.env.example"
    shown = subprocess.run(["git", "check-ignore", "-q", str(example.relative_to(ROOT))], cwd=ROOT)
    assert shown.returncode == 1, "the example is not ignored: it is committed"
    # Copied as it is, the example defines no password at all (Redis would not start),
    # never a known one.
    defined = [line for line in example.read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")]
    assert defined == []


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_kustomize_builds_the_secret_from_the_file(tmp_path):
    build = tmp_path / "k8s"
    shutil.copytree(K8S, build)
    missing = subprocess.run(["kubectl", "kustomize", str(build)], capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0 and "redis-auth.env" in missing.stderr
    (build / "redis-auth.env").write_text("password=0123abcd\n")
    built = subprocess.run(["kubectl", "kustomize", str(build)], capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    docs = [d for d in yaml.safe_load_all(built.stdout) if d]
    (secret,) = [d for d in docs if d["kind"] == "Secret"]
    assert secret["metadata"] == {"name": "redis-auth", "namespace": "news-crawler",
                                  "labels": {"app.kubernetes.io/part-of": "news-crawler"}}
    assert secret["data"] == {"password": "MDEyM2FiY2Q="}
    assert sorted(d["metadata"]["name"] for d in docs if d["kind"] == "NetworkPolicy") == sorted(POLICIES)
