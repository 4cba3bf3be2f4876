# `make run` serves the dashboard; `make test` runs every test. Both create .venv and
# install the project into it first, and skip that step while pyproject.toml is unchanged.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8866
PYTEST_ARGS ?=

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed-run $@

run: $(VENV)/.installed-run
	$(BIN)/copilot-dashboard serve --port $(PORT)

# axe-core (npm) for the accessibility scan of the browser tests; without npm that test is
# skipped, or fails when COPILOT_REQUIRE_BROWSER=1.
AXE := node_modules/axe-core/axe.min.js

$(AXE):
	-command -v npm >/dev/null && npm install --no-save --no-audit --no-fund axe-core@4

test: $(VENV)/.installed-test $(AXE)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
