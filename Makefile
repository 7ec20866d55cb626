# The two commands: `make run` and `make test`. Everything else here serves them.
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.tablium-run
DEV_STAMP := $(VENV)/.tablium-dev

.PHONY: run test lint typecheck pytest services clean

run: $(RUN_STAMP)
	$(BIN)/tablium serve

test: $(DEV_STAMP) services lint typecheck pytest

$(VENV)/bin/python:
	@test -n "$(PYTHON)" || { echo "Tablium needs Python 3.11 or newer on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e '.[dev,loadtest]'
	@touch $@ $(RUN_STAMP)

services:
	@scripts/ensure-services.sh

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

# Each pytest run creates its own PostgreSQL database and Redis key prefix (tests/conftest.py).
pytest: $(DEV_STAMP) services
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache .hypothesis
