"""What the deployment files promise, read from the files themselves.

Schemas (hadolint, Compose's schema, Kubernetes' schemas, promtool, amtool) run in
scripts/check-deploy.sh (make test); these tests check what a schema cannot: that the pieces
point at each other and keep the properties operations rely on.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from server.app import SHUTDOWN_GRACE_S
from server.cluster_drain import FORCED_PHASE_S
from server.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_SERVICES = {
    "tablium",
    "postgres",
    "redis",
    "rabbitmq",
    "prometheus",
    "alertmanager",
    "grafana",
}
DRAIN_TIMEOUT_S_DEFAULT = Settings().drain_timeout_s
OVERLAYS = sorted(p.name for p in (ROOT / "deploy" / "k8s" / "overlays").iterdir())


def test_committed_dashboards_are_what_the_generator_writes() -> None:
    path = ROOT / "deploy" / "grafana" / "build_dashboards.py"
    spec = importlib.util.spec_from_file_location("build_dashboards", path)
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    committed = {p.name: p.read_text() for p in generator.OUT_DIR.glob("*.json")}
    assert committed == generator.rendered(), f"run: python {path.relative_to(ROOT)}"


def test_dockerfile_compiles_the_engine_in_a_build_stage_and_runs_unprivileged() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\w+)", text, re.MULTILINE)
    assert stages == ["build", "runtime"]
    build, runtime = text.split("\nFROM ", 2)[1:]
    assert "pip install ." in build and "endswith('.so')" in build  # compiled, or no image
    assert "COPY --from=build /opt/tablium /opt/tablium" in runtime
    assert re.search(r"^USER 10001", runtime, re.MULTILINE)
    assert "/healthz" in runtime.split("HEALTHCHECK", 1)[1].split("\n\n", 1)[0]
    ignored = (ROOT / ".dockerignore").read_text()
    assert "**/*.so" in ignored  # a local mypyc build must never reach the image


def test_the_image_copies_every_package_the_project_installs() -> None:
    """A package added to pyproject.toml but not to the Dockerfile's COPY lines (and to the
    .dockerignore allow-list) builds an image that fails at its first import."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    included = re.search(r"include = \[([^\]]*)\]", pyproject)
    assert included is not None
    packages = {name.strip().strip('"').rstrip("*") for name in included.group(1).split(",")}
    text = (ROOT / "Dockerfile").read_text()
    build = text.split("\nFROM ", 2)[1]
    copied = set(re.findall(r"^COPY (?!--)(.+) \S+$", build, re.MULTILINE))
    sources = {src for line in copied for src in line.split()}
    allowed = set(re.findall(r"^!(\S+)$", (ROOT / ".dockerignore").read_text(), re.MULTILINE))
    for package in packages:
        assert any(s.split("/")[0] == package for s in sources), f"Dockerfile: COPY {package}/"
        assert any(a.split("/")[0] == package for a in allowed), f".dockerignore: !{package}/"
    for src in sources:
        assert src in allowed or any(src.startswith(a) for a in allowed), src


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_brings_up_the_whole_stack_with_every_mounted_file_present() -> None:
    services = _compose()["services"]
    assert set(services) == COMPOSE_SERVICES
    tablium = services["tablium"]
    assert tablium["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert tablium["depends_on"]["redis"]["condition"] == "service_healthy"
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./") and name != "tablium":
                assert (ROOT / source).exists(), (name, source)
        if name not in ("prometheus", "alertmanager", "grafana"):
            assert "healthcheck" in service or name == "tablium", name  # tablium: the image's


def _render(overlay: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        ["kubectl", "kustomize", str(ROOT / "deploy" / "k8s" / "overlays" / overlay)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


ROOMS = ("room",)  # overlays of several nodes sharing Redis (docs/operations.md)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_overlay_has_probes_limits_a_budget_and_one_room(overlay: str) -> None:
    docs = {(d["kind"], d["metadata"]["name"]): d for d in _render(overlay)}
    deployment = docs[("Deployment", "tablium")]
    spec = deployment["spec"]
    if overlay in ROOMS:
        # Several nodes: one room through Redis, one new pod before an old one drains.
        assert spec["replicas"] > 1 and spec["strategy"]["type"] == "RollingUpdate"
        assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    else:
        # One process alone: never two at once on the database (no lease without Redis).
        assert spec["replicas"] == 1 and spec["strategy"]["type"] == "Recreate"
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert set(container["resources"]) == {"requests", "limits"}
    # The drain (docs/scaling.md), its mid-hand phase, the server's own stop and preStop.
    grace = DRAIN_TIMEOUT_S_DEFAULT + FORCED_PHASE_S + SHUTDOWN_GRACE_S + 3
    assert pod["terminationGracePeriodSeconds"] >= grace
    assert pod["securityContext"]["runAsNonRoot"] is True
    secrets = {
        e["name"]: (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
        for e in container["env"]
        if "valueFrom" in e
    }
    assert secrets == {
        "TABLIUM_DATABASE_URL": ("tablium-secrets", "database-url"),
        "TABLIUM_JWT_SECRET": ("tablium-secrets", "jwt-secret"),
        "TABLIUM_JWT_KEYS": ("tablium-secrets", "jwt-keys"),
        "TABLIUM_DATA_KEYS": ("tablium-secrets", "data-keys"),
        "TABLIUM_LOG_ADDRESS_KEY": ("tablium-secrets", "log-address-key"),
        "TABLIUM_REDIS_URL": ("tablium-secrets", "redis-url"),
    }
    optional = {e["name"] for e in container["env"] if e.get("valueFrom", {})
                .get("secretKeyRef", {}).get("optional")}  # fmt: skip
    # Without Redis a replica of a room would be a room of one: there it is required.
    redis = set() if overlay in ROOMS else {"TABLIUM_REDIS_URL"}
    assert optional == {"TABLIUM_JWT_KEYS", "TABLIUM_DATA_KEYS", "TABLIUM_LOG_ADDRESS_KEY"} | redis
    assert container["envFrom"][0]["configMapRef"]["name"] == "tablium-config"
    assert ("ConfigMap", "tablium-config") in docs
    budget = docs[("PodDisruptionBudget", "tablium")]
    labels = spec["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    for service in ("tablium-ws", "tablium-api", "tablium-admin"):
        assert docs[("Service", service)]["spec"]["selector"].items() <= labels.items()
    assert docs[("CronJob", "tablium-backup")]["spec"]["concurrencyPolicy"] == "Forbid"
    assert "registry.example.com/tablium:" in container["image"]


def test_production_serves_tls_from_the_certificate_secret_and_probes_over_https() -> None:
    docs = {(d["kind"], d["metadata"]["name"]): d for d in _render("production")}
    template = docs[("Deployment", "tablium")]["spec"]["template"]
    pod = template["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert volumes["tls"]["secret"]["secretName"] == "tablium-tls"
    assert mounts["tls"]["readOnly"] is True
    directory = mounts["tls"]["mountPath"]
    assert env["TABLIUM_TLS_CERT_FILE"] == f"{directory}/tls.crt"  # a kubernetes.io/tls Secret
    assert env["TABLIUM_TLS_KEY_FILE"] == f"{directory}/tls.key"
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["scheme"] == "HTTPS", probe
    assert template["metadata"]["annotations"]["prometheus.io/scheme"] == "https"


def test_staging_stays_plain_http_unless_it_takes_the_tls_component() -> None:
    (deployment,) = [d for d in _render("staging") if d["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert "scheme" not in container["livenessProbe"]["httpGet"]
    assert "TABLIUM_TLS_CERT_FILE" not in {e["name"] for e in container["env"]}


def test_the_image_healthcheck_follows_tls() -> None:
    text = (ROOT / "Dockerfile").read_text()
    check = text.split("HEALTHCHECK", 1)[1].split("\n\n", 1)[0]
    assert "TABLIUM_TLS_CERT_FILE" in check and "https" in check


def test_the_public_api_port_is_exposed_everywhere_the_server_runs() -> None:
    """TABLIUM_API_PORT (8000, docs/api.md) beside the websocket: in the image, on the compose
    host, and through a Service in every Kubernetes overlay."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "TABLIUM_API_PORT=8000" in dockerfile
    exposed = re.search(r"^EXPOSE (.+)$", dockerfile, re.MULTILINE)
    assert exposed is not None and "8000" in exposed.group(1).split()
    assert "8000:8000" in _compose()["services"]["tablium"]["ports"]
    for overlay in OVERLAYS:
        docs = {(d["kind"], d["metadata"]["name"]): d for d in _render(overlay)}
        assert docs[("ConfigMap", "tablium-config")]["data"]["TABLIUM_API_PORT"] == "8000"
        (container,) = docs[("Deployment", "tablium")]["spec"]["template"]["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["api"] == 8000
        service = docs[("Service", "tablium-api")]["spec"]
        assert service["ports"] == [{"name": "api", "port": 8000, "targetPort": "api"}]
    production = {(d["kind"], d["metadata"]["name"]): d for d in _render("production")}
    assert production[("Service", "tablium-api")]["spec"]["type"] == "LoadBalancer"
