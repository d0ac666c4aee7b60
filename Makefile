# Two commands for a fresh machine: `make run` and `make test`.
#
# Both install exactly what requirements.lock pins (every version and its hashes: what the suite was
# run with), then this checkout itself, editable and without dependencies. The ranges stay in
# pyproject.toml; `make lock` pins them again after a change there (`make lock UPGRADE=1` also takes
# newer releases within the ranges).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
HOST ?= 127.0.0.1
PORT ?= 8000
# The Python that ruff checks and formats.
PY_CODE := core persistence service realtime server video tests bench

.PHONY: run test bench lint audit lock services clean screenshots

# The checkout is built by the setuptools the lock pins (--no-build-isolation), not one fetched for it.
$(STAMP): $(LOCK) pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# `python -m server.cli` rather than the `companion` script: it runs this checkout's code even when
# VENV names an environment installed from another checkout of the same lock.
run: $(STAMP)
	$(BIN)/python -m server.cli serve --host $(HOST) --port $(PORT)

services:
	bash scripts/services.sh

test: $(STAMP) services
	$(BIN)/python -m pytest -q

lint: $(STAMP) audit
	$(BIN)/ruff check $(PY_CODE)
	$(BIN)/ruff format --check $(PY_CODE)
	$(BIN)/mypy
	$(BIN)/lint-imports  # the layers: [tool.importlinter] in pyproject.toml

# Known vulnerabilities of the pinned releases (PyPI's advisory data); fails when one has any.
# A release PyPI does not answer for is listed as skipped; AUDIT_FLAGS=--strict makes that a failure.
AUDIT_FLAGS ?=
audit: $(STAMP)
	$(BIN)/pip-audit --disable-pip --progress-spinner off $(AUDIT_FLAGS) -r $(LOCK)

lock: $(STAMP)
	CUSTOM_COMPILE_COMMAND='make lock' $(BIN)/pip-compile --quiet --extra test --generate-hashes \
	  --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
	  $(if $(UPGRADE),--upgrade) --output-file $(LOCK) pyproject.toml

bench: $(STAMP) services
	bash bench/run.sh

clean:
	rm -rf $(VENV) var .pytest_cache

# The four pages first: the dashboard's own shots (1280x800, 480x900) then replace its full-page one;
# then the schedule and the staff home's upcoming sessions (1280x800 and 360x800); then invitations.
screenshots: $(STAMP)
	COMPANION_SCREENSHOTS=docs $(BIN)/python -m pytest -q tests/test_browser_pages.py -k four_pages
	COMPANION_SCREENSHOTS=docs COMPANION_TEST_CONFIGS=sqlite $(BIN)/python -m pytest -q \
	  tests/test_browser_dashboard.py tests/test_browser_edges.py -k "first_screen or rough_edges or share or presence"
	COMPANION_SCREENSHOTS=docs COMPANION_TEST_CONFIGS=sqlite $(BIN)/python -m pytest -q \
	  tests/test_browser_schedule.py -k screenshots
	COMPANION_SCREENSHOTS=docs COMPANION_TEST_CONFIGS=sqlite $(BIN)/python -m pytest -q \
	  tests/test_browser_invitations.py -k "short_notice or answers_live or reminder"
