# Two entry points for a fresh machine: `make demo` runs the main job, `make test` the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: venv demo test lint typecheck

$(BIN)/gitreg: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(BIN)/gitreg

demo: venv
	$(BIN)/python demo/run_demo.py

lint: venv
	$(BIN)/ruff check gitreg tests
	$(BIN)/ruff format --check gitreg

typecheck: venv
	$(BIN)/mypy

test: venv
	$(BIN)/python -m pytest
