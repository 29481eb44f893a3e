# abusehub: the two promises are `make demo` and `make test`; both set everything up.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then echo $$p; break; fi; done)
VENV   := .venv
BIN    := $(VENV)/bin
HOME_DIR ?= ./var/hub
# Test files run on this many processes (pytest-xdist, whole files per process: a file's
# module-wide fixtures stay in one process); 1 runs them in this one.
PYTEST_WORKERS ?= 2
# One stamp per extra: the demo installs the hub alone; tests, lint and bench add their tools.
HUB_DEPS   := $(VENV)/.deps-hub
TEST_DEPS  := $(VENV)/.deps-test
LINT_DEPS  := $(VENV)/.deps-lint
BENCH_DEPS := $(VENV)/.deps-bench
# The hub's modules are compiled once into __pycache__ (as pip does for an installed package),
# not again in every process the tests, the demo and the benchmarks start.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo test test-fast fuzz bench bench-quick bench-pages bench-compare bench-before-after bench-markings bench-pseudonyms lint clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "abusehub needs Python 3.11 or newer on PATH (python3.11, python3.12, python3.13 or python3)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(HUB_DEPS): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(TEST_DEPS): $(HUB_DEPS)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

$(LINT_DEPS): $(HUB_DEPS)
	$(BIN)/python -m pip install --quiet -e '.[lint]'
	@touch $@

$(BENCH_DEPS): $(TEST_DEPS)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@touch $@

## Run a demo hub on http://127.0.0.1:6100 with an embedded SQLite database under ./var/
demo: $(HUB_DEPS)
	$(BIN)/abusehub --home $(HOME_DIR) demo

## Run the whole test suite (PostgreSQL tier included when a server answers)
test: $(TEST_DEPS)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

## The suite without the tests that start real server or client processes (a shorter fuzz run,
## a fifth of each property test's examples)
test-fast: $(TEST_DEPS)
	HUB_TEST_FUZZ_REQUESTS=$${HUB_TEST_FUZZ_REQUESTS:-500} HUB_TEST_PROPERTY_SCALE=$${HUB_TEST_PROPERTY_SCALE:-0.2} $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not slow"

## The HTTP fuzz tier alone, longer and with a fresh random seed: FUZZ_REQUESTS per store
FUZZ_REQUESTS ?= 100000
fuzz: $(TEST_DEPS)
	HUB_TEST_FUZZ_REQUESTS=$(FUZZ_REQUESTS) HUB_TEST_FUZZ_RANDOM=1 $(BIN)/python -m pytest tests/fuzz -p no:cacheprovider

## ruff (style and likely bugs), radon (no function in hub/ above cyclomatic complexity 25), mypy (types)
## and import-linter (the layers of docs/ARCHITECTURE.md)
lint: $(LINT_DEPS)
	$(BIN)/ruff check hub tests bench tools
	$(BIN)/python tools/check_complexity.py hub
	$(BIN)/mypy
	$(BIN)/lint-imports

## Every figure of the scale targets in one run (bench.suite: ingest on both stores, reads by
## worker count, memory, federation, page latency, per-request cost and disk) and the capacity
## model from them, into bench/results/suite-<timestamp>/ (about 20 minutes; QUICK=1: a smoke
## run of about 3)
QUICK ?=
bench: $(BENCH_DEPS)
	$(BIN)/python -m bench.suite $(if $(QUICK),--quick)

bench-quick: $(BENCH_DEPS)
	$(BIN)/python -m bench.suite --quick

## Page latency and full polls of abusehub alone at 10k and 100k objects (bench.run, as
## bench-before-after runs it)
bench-pages: $(BENCH_DEPS)
	$(BIN)/python -m bench.run --servers abusehub --sizes 10000,100000

## make bench against two versions of the hub by turns, RUNS of each, with medians and ratios:
## BEFORE and AFTER are commits or checkouts (make bench-before-after BEFORE=b7583f0 AFTER=HEAD)
BEFORE ?= HEAD~1
AFTER  ?= HEAD
RUNS   ?= 3
bench-before-after: $(BENCH_DEPS)
	$(BIN)/python -m bench.compare $(BEFORE) $(AFTER) --runs $(RUNS)

## What markings cost: a 100k poll by a reader of half against a reader of all, a page at 10k and
## at 1M objects, and the upgrade's back-fill over them (SQLite; STORES=sqlite,postgres for both)
STORES ?= sqlite
bench-markings: $(BENCH_DEPS)
	$(BIN)/python -m bench.markings --stores $(STORES)

## A provider's first bulk pseudonymisation: notice match over 100,000 accounts x 4 values against
## a served hub with the party's allowance raised, then all cached, then 1% changed
bench-pseudonyms: $(BENCH_DEPS)
	$(BIN)/python -m bench.pseudonyms_bulk

## The side-by-side benchmark against medallion and OpenTAXII (installs them on first run)
bench-compare: $(BENCH_DEPS)
	$(BIN)/python -m bench.run --install-peers --servers abusehub,medallion,opentaxii

clean:
	rm -rf $(VENV) var bench/results .pytest_cache
