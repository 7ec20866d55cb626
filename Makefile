# The two commands: `make run` and `make test`. Everything else here serves them.
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.tablium-run
DEV_STAMP := $(VENV)/.tablium-dev

.PHONY: run test lint typecheck pytest services client-deps chain-node schema vendor contracts deploy-check image clean

# With four house bots at a play-money table, so there is someone to play against.
run: $(RUN_STAMP)
	TABLIUM_HOUSE_BOTS=$${TABLIUM_HOUSE_BOTS:-4} $(BIN)/tablium serve

test: $(DEV_STAMP) services client-deps chain-node lint typecheck deploy-check pytest

$(VENV)/bin/python:
	@test -n "$(PYTHON)" || { echo "Tablium needs Python 3.11 or newer on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# poker/'s compiled modules (setup.py, mypyc) sit next to their sources and shadow them:
# an edit to poker/ must rebuild them (~40 s), so the stamps depend on the sources.
POKER_SOURCES := setup.py $(wildcard poker/*.py)

$(RUN_STAMP): pyproject.toml $(POKER_SOURCES) | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(DEV_STAMP): pyproject.toml $(POKER_SOURCES) | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e '.[dev,loadtest,chain]'
	@touch $@ $(RUN_STAMP)

services:
	@scripts/ensure-services.sh

# The JavaScript side of the tests (tests/clients): clients/js/node_modules from the lock file
# (npm ci, once per lock-file change) and Debian's Chromium for the browser tests.
client-deps:
	@scripts/ensure-client-deps.sh

# Generated from protocol/: the JSON Schema and docs/errors.md, then the TypeScript types from
# the schema. tests/clients fails when a checked-in copy drifts from the code.
schema: $(DEV_STAMP) client-deps
	$(BIN)/python -m server.commands.schema write
	cd clients/js && node scripts/generate-types.mjs

# The browser client's copy of @msgpack/msgpack (clients/web/vendor), from node_modules.
vendor: client-deps
	cd clients/js && node scripts/vendor-msgpack.mjs

# The chain tests' local node: Anvil (Foundry), from the npm registry (its package carries the
# binary; it runs offline on loopback). Pinned: the tests rely on its RPC methods.
ANVIL_VERSION := 1.7.1
CHAIN_NODE_STAMP := $(VENV)/chain-node/.anvil-$(ANVIL_VERSION)

chain-node: $(CHAIN_NODE_STAMP)

$(CHAIN_NODE_STAMP): | $(VENV)/bin/python
	@command -v npm >/dev/null 2>&1 || { echo "the chain tests need npm (Node.js) to install Anvil"; exit 1; }
	npm install --silent --no-audit --no-fund --prefix $(VENV)/chain-node @foundry-rs/anvil@$(ANVIL_VERSION)
	@touch $@

# ABI and bytecode of contracts/*.vy for deployment tools (the server and tests compile from source).
contracts: $(DEV_STAMP)
	$(BIN)/python -m services.chain.contract contracts/build

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

# Dockerfile, compose.yaml and deploy/ (hadolint, compose schema, kustomize + Kubernetes
# schemas, promtool, amtool): a few seconds. Installs the Debian tools it lacks when root.
deploy-check: $(DEV_STAMP)
	@BIN=$(BIN) scripts/check-deploy.sh

# The container image (Dockerfile), where a Docker engine runs (none does on our CI machines).
# PYTHON_IMAGE: the base (Docker Hub's python:3.11-slim-bookworm by default; where Docker Hub
# is out of reach, scripts/base-image.sh builds one from Debian's packages).
IMAGE ?= tablium:dev
PYTHON_IMAGE ?= python:3.11-slim-bookworm
image:
	@docker info >/dev/null 2>&1 || { echo "make image needs a running Docker engine (docker info fails)"; exit 1; }
	docker build --build-arg PYTHON_IMAGE=$(PYTHON_IMAGE) -t $(IMAGE) .

# Each pytest process (each xdist worker) creates its own PostgreSQL database and Redis key
# prefix (tests/conftest.py), so workers never share state; tests that must not run beside
# each other share an xdist_group. PYTEST_WORKERS=0 runs the suite in one process.
PYTEST_WORKERS ?= 2
pytest: $(DEV_STAMP) services client-deps chain-node
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadgroup

clean:
	rm -rf $(VENV) var build contracts/build .mypy_cache .pytest_cache .ruff_cache .hypothesis
	rm -f poker/*.so
