#!/usr/bin/env bash
# Check everything under deploy/ plus the Dockerfile and compose.yaml (make test, a few
# seconds): hadolint, the compose file against Compose's schema, the Kubernetes overlays
# rendered with kustomize and validated against Kubernetes' schemas, Prometheus' config and
# rules (with their unit tests), and Alertmanager's config.
#
# promtool, amtool and docker-compose come from Debian's packages (prometheus,
# prometheus-alertmanager, docker-compose): installed with apt-get when absent and we are
# root, else we print what to install. hadolint and kubernetes-validate come from the dev
# extras in .venv (pyproject.toml). kustomize is the one inside kubectl (`kubectl kustomize`).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${BIN:-.venv/bin}"
K8S_VERSION="${TABLIUM_K8S_VERSION:-1.30.0}"  # the oldest Kubernetes we support
say() { echo "check-deploy: $*"; }

missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        say "installing ${missing[*]} with apt-get"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        # --no-install-recommends: the tools only; policy-rc.d keeps the daemons stopped.
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    else
        say "missing ${missing[*]}: install them (Debian: sudo apt-get install -y ${missing[*]})" >&2
        exit 1
    fi
fi
if ! command -v kubectl >/dev/null 2>&1; then
    say "kubectl (1.27 or newer, for 'kubectl kustomize') is not installed: install it" >&2
    exit 1
fi

say "hadolint Dockerfile"
"$BIN/hadolint" Dockerfile

say "compose.yaml against the Compose schema"
TABLIUM_JWT_SECRET=check-only docker-compose -f compose.yaml config --quiet

rendered=$(mktemp -d)
trap 'rm -rf "$rendered"' EXIT
for overlay in deploy/k8s/overlays/*/; do
    name=$(basename "$overlay")
    say "kustomize $overlay, validated against Kubernetes $K8S_VERSION"
    kubectl kustomize "$overlay" > "$rendered/$name.yaml"
    "$BIN/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$rendered/$name.yaml"
done

say "promtool check config and rules"
promtool check config --lint=all deploy/prometheus/prometheus.yml
say "promtool test rules"
promtool test rules deploy/prometheus/tests/tablium.test.yml
say "amtool check-config"
amtool check-config deploy/alertmanager/alertmanager.yml
say "all deployment files check out"
