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

.PHONY: demo test lint check clean test-prefect-newest wheel-check

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

# The suite on SQLite, then every test that uses the chosen database again on Postgres
# (127.0.0.1:5432, database test; each test in a schema of its own): the marker `database`,
# which tests/conftest.py gives each test that takes the `db_url` fixture.
test: lint wheel-check
	$(BIN)/pytest
	JOURNEY_TEST_DATABASE=postgres $(BIN)/pytest -m database

# The wheel as a user gets it: built from a copy of the sources (nothing written here),
# installed with its dependencies in a fresh virtualenv (never --system-site-packages: a
# missing dependency must fail here), then run from outside the checkout, so that nothing
# is imported from it: `journey --help`, `journey demo --help`, the flows imported, the
# templates and the default programme read, the migrations run on a new SQLite file.
WHEEL_FILES := journey/templates/welcome.html journey/programmes/default.yaml \
	journey/migrations/env.py journey/flows/send_reminders.py journey/models/__init__.py
WHEEL_CHECK := import journey, journey.flows.send_reminders, sys; \
	from jinja2 import PackageLoader; from journey.programme import load_programme; \
	assert journey.__file__.startswith(sys.prefix), journey.__file__; \
	assert "welcome.html" in PackageLoader("journey", "templates").list_templates(); \
	load_programme("default")
wheel-check: $(BIN)/python
	@set -eu; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; start=$$(date +%s); \
	mkdir "$$tmp/project"; \
	tar --exclude='*.egg-info' --exclude=__pycache__ -cf - pyproject.toml README.md src \
		flows tasks models templates | tar -xf - -C "$$tmp/project"; \
	$(BIN)/python -m pip wheel --quiet --no-deps -w "$$tmp/dist" "$$tmp/project"; \
	wheel=$$(ls "$$tmp"/dist/*.whl); \
	$(BIN)/python -m zipfile -l "$$wheel" > "$$tmp/contents"; \
	for f in $(WHEEL_FILES); do grep -q "^$$f " "$$tmp/contents" \
		|| { echo "wheel-check: $$f is not in the wheel" >&2; exit 1; }; done; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install --quiet "$$wheel"; \
	cd "$$tmp"; \
	venv/bin/journey --help > /dev/null; \
	venv/bin/journey demo --help > /dev/null; \
	venv/bin/python -c '$(WHEEL_CHECK)'; \
	JOURNEY_DATABASE_URL="sqlite:///$$tmp/check.db" venv/bin/journey db upgrade > /dev/null; \
	echo "wheel-check: $$(basename "$$wheel") installs and runs outside the checkout" \
		"($$(( $$(date +%s) - start )) s)"

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
