# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint services clean screenshots

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/companion serve

services:
	bash scripts/services.sh

test: $(STAMP) services
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check server realtime persistence tests
	$(BIN)/mypy

bench: $(STAMP) services
	bash bench/run.sh

clean:
	rm -rf $(VENV) var .pytest_cache

screenshots: $(STAMP)
	COMPANION_SCREENSHOTS=docs $(BIN)/python -m pytest -q tests/test_browser_pages.py -k four_pages
