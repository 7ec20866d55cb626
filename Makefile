# The two commands: `make run` and `make test`. Everything else here serves them.
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.tablium-run
DEV_STAMP := $(VENV)/.tablium-dev

.PHONY: run test lint typecheck pytest services deploy-check image clean

run: $(RUN_STAMP)
	$(BIN)/tablium serve

test: $(DEV_STAMP) services lint typecheck deploy-check pytest

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
	$(BIN)/python -m pip install -q -e '.[dev,loadtest]'
	@touch $@ $(RUN_STAMP)

services:
	@scripts/ensure-services.sh

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
IMAGE ?= tablium:dev
image:
	@docker info >/dev/null 2>&1 || { echo "make image needs a running Docker engine (docker info fails)"; exit 1; }
	docker build -t $(IMAGE) .

# Each pytest run creates its own PostgreSQL database and Redis key prefix (tests/conftest.py).
pytest: $(DEV_STAMP) services
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) var build .mypy_cache .pytest_cache .ruff_cache .hypothesis
	rm -f poker/*.so
