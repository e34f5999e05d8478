# The two commands: `make run` (set up and serve) and `make test` (set up and test).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
HOST   ?= 127.0.0.1
# gunicorn worker processes, each serving one request at a time (gunicorn's sync worker:
# see README, "Workers, not threads")
WORKERS ?= 2
DEMO_LETTERS ?= 300
# `make test TEST_DATABASE=postgres`: every test's app on PostgreSQL (the server at
# TRACKER_TEST_POSTGRES_URL, else a throwaway cluster of the installed PostgreSQL).
TEST_DATABASE ?= sqlite
# pytest-xdist processes, one per core; an idle one takes tests queued for another
TEST_WORKERS ?= auto
# Python keeps compiled modules (__pycache__, pytest's rewritten tests) even where the
# environment says not to write them: the workers, the servers and the commands the tests
# start then compile the code once, not once each (PYTHONDONTWRITEBYTECODE= unsets it).
PYTEST = PYTHONDONTWRITEBYTECODE= TRACKER_TEST_DATABASE=$(TEST_DATABASE) $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

.PHONY: run test test-fast lint venv clean bench loadtest

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps: reinstall when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

venv: $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/tracker init-db
	$(BIN)/tracker demo-data --if-empty --synthetic $(DEMO_LETTERS)
	@echo
	@echo "  The tracker is at http://$(HOST):$(PORT)/"
	@$(BIN)/tracker demo-logins
	@echo
	$(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) \
		--access-logfile - --timeout 120 wsgi:app

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(PYTEST)

# The suite without the tests marked slow (processes, lock waits, LibreOffice): for the
# edit-test loop; `make test` and CI run everything.
test-fast: lint
	$(PYTEST) -m "not slow"

$(VENV)/.installed-postgres: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[postgres]'
	@touch $@ $(VENV)/.installed

# Import, index and search speed; BENCH_LETTERS, BENCH_CORPUS, BENCH_QUERIES override.
# BENCH_ENGINE=postgres measures the PostgreSQL engine: on BENCH_POSTGRES_URL (a server the
# bench creates and drops a database on), else on a throwaway cluster of the installed
# PostgreSQL (see tracker/bench.py).
bench: $(VENV)/.installed $(if $(filter postgres,$(BENCH_ENGINE)),$(VENV)/.installed-postgres)
	$(BIN)/python -m tracker.bench

# Pages under load at 100,000 letters (wrk); LOADTEST_LETTERS, WORKERS, TRACKER_DATABASE_URL
# override (see tracker/loadtest.py). The database is built once in var/loadtest and reused.
loadtest: $(VENV)/.installed
	@command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 1; }
	$(BIN)/python -m tracker.loadtest

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
