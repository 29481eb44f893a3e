# abusehub: the two promises are `make demo` and `make test`; both set everything up.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then echo $$p; break; fi; done)
VENV   := .venv
BIN    := $(VENV)/bin
DEPS   := $(VENV)/.deps-installed
HOME_DIR ?= ./var/hub

.PHONY: demo test test-fast bench bench-compare lint clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "abusehub needs Python 3.11 or newer on PATH (python3.11, python3.12, python3.13 or python3)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(DEPS): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@touch $@

## Run a demo hub on http://127.0.0.1:6100 with an embedded SQLite database under ./var/
demo: $(DEPS)
	$(BIN)/abusehub --home $(HOME_DIR) demo

## Run the whole test suite (PostgreSQL tier included when a server answers)
test: $(DEPS)
	$(BIN)/python -m pytest

## The benchmark of abusehub alone: 10k and 100k objects
bench: $(DEPS)
	$(BIN)/python -m bench.run --servers abusehub --sizes 10000,100000

## The side-by-side benchmark against medallion and OpenTAXII (installs them on first run)
bench-compare: $(DEPS)
	$(BIN)/python -m bench.run --install-peers --servers abusehub,medallion,opentaxii

clean:
	rm -rf $(VENV) var bench/results .pytest_cache
