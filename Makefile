# Two commands for a newcomer on a fresh machine:
#   make demo   installs the project and runs `journey demo`
#   make test   installs what the tests need and runs lint, types and the tests (on SQLite,
#               then the database tests again on Postgres)
# .ci/run calls `make test`.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1

.PHONY: demo test lint check clean test-prefect-newest

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/journey demo

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The suite on SQLite, then every test that touches the database again on Postgres
# (127.0.0.1:5432, database test; each test in a schema of its own).
DB_FREE := tests/mail tests/engine/test_engine.py tests/cohort/test_file.py tests/cli/test_demo.py \
	tests/test_ui_browser.py tests/test_funder_report_browser.py tests/reliability

test: lint
	$(BIN)/pytest
	JOURNEY_TEST_DATABASE=postgres $(BIN)/pytest $(addprefix --ignore=,$(DB_FREE))

# The Prefect-facing tests (marker `prefect`) against the newest Prefect 3.x on the package
# index, in a virtualenv of their own, before widening the pin in pyproject.toml. pip warns
# that the project asks for the tested range: that is the point of this run.
NEWEST := .venv-prefect-newest
test-prefect-newest:
	$(PYTHON) -m venv $(NEWEST)
	$(NEWEST)/bin/python -m pip install --quiet --upgrade pip
	$(NEWEST)/bin/python -m pip install --quiet -e '.[test]'
	$(NEWEST)/bin/python -m pip install --quiet --upgrade 'prefect>=3,<4'
	$(NEWEST)/bin/python -c 'import prefect; print("Prefect", prefect.__version__)'
	$(NEWEST)/bin/pytest -m prefect

clean:
	rm -rf $(VENV) $(NEWEST) journey-demo .pytest_cache .mypy_cache .ruff_cache
