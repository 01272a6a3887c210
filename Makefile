# One obvious command for everything a developer does.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Exact versions, with hashes: what `make install` (and so CI) installs. `make lock`
# refreshes it after a change to pyproject.toml's dependencies.
LOCK := requirements.lock
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) clients/python/pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

FUZZ_EXAMPLES ?= 500

.PHONY: install lock sdk sdk-tools browser screenshots run worker migrate migration test test-faults test-fuzz lint format openapi bench bench-tools profile mutate clean

install: $(STAMP)

# The browser tests' tools: Debian's Chromium (never a browser download) and axe-core from
# npm (package-lock.json), for `make test`, not `make run`. Installed only when missing;
# apt-get needs root, as on CI.
AXE := node_modules/axe-core/axe.min.js
browser: $(AXE)
	@command -v chromium >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

$(AXE): package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }
	npm ci --no-audit --no-fund --silent
	touch $(AXE)

# The TypeScript client's tools and dependencies (clients/typescript/package-lock.json):
# openapi-typescript for `make sdk`, tsc and the runtime for its tests; then its build
# (dist/), which `npm install ./clients/typescript` links to.
TS_CLIENT := clients/typescript/node_modules/.package-lock.json
sdk-tools: $(TS_CLIENT)
	cd clients/typescript && node_modules/.bin/tsc -p tsconfig.json

$(TS_CLIENT): clients/typescript/package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }
	cd clients/typescript && npm ci --no-audit --no-fund --silent --ignore-scripts
	touch $(TS_CLIENT)

# Both clients' generated parts from openapi.yaml (clients/sdk.py says what it writes);
# tests/clients/test_generated_current.py fails while they are stale.
sdk: install sdk-tools  ## regenerate clients/python and clients/typescript from openapi.yaml
	$(PY) clients/sdk.py

$(STAMP): pyproject.toml $(LOCK) clients/python/pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e . -e ./clients/python
	@$(PY) -m pip check >/dev/null || { $(PY) -m pip check; \
	  echo "$(LOCK) lacks what pyproject.toml asks for: run 'make lock'" >&2; exit 1; }
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Keeps the versions already locked where pyproject.toml still allows them; to move
# everything to the newest: make lock LOCK_FLAGS=--upgrade
lock:  ## refresh requirements.lock from pyproject.toml (run it after changing a dependency)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test -x $(VENV)/bin/uv || $(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --extra sdk --universal --python-version 3.11 \
	  --generate-hashes --quiet $(LOCK_FLAGS) -o $(LOCK)

# The log goes to var/run.log, so a walk-through in the same terminal (make run &) reads
# only the answers; a refusal to start is shown from it.
run: install  ## serve on http://127.0.0.1:8000 with SQLite, the sandbox Amazon and the worker
	@mkdir -p var
	@echo "serving http://$(HOST):$(PORT) (sandbox Amazon, SQLite); log: var/run.log" >&2
	@$(VENV)/bin/connections serve --host $(HOST) --port $(PORT) >>var/run.log 2>&1 || \
	  { status=$$?; tail -n 5 var/run.log >&2; exit $$status; }

worker: install
	$(VENV)/bin/connections worker

migrate: install  ## apply pending migrations to DATABASE_URL (default var/connections.db)
	$(VENV)/bin/connections migrate

migration: install  ## a new numbered migration file: make migration NAME="what it does"
	@test -n "$(NAME)" || (echo 'usage: make migration NAME="what it does"' >&2; exit 2)
	$(PY) -m adapters.migrations new "$(NAME)"

# The bounded contract fuzz runs first, on its own: schemathesis' pytest plugin reports
# its cases as subtests and leaves the terminal summary unprinted, so the suite's own
# closing line ("N passed") comes last.
FUZZ := tests/api/test_contract_fuzz.py
# The rest on three workers (pytest-xdist), each module whole on one of them (a module's
# shared server stays shared; each worker has its own PostgreSQL database, tests/conftest.py).
# Three on two cores: the suite waits on servers and peers as much as it computes (two
# workers kept about 1.1 cores busy; three took the rest from 330 s to 249 s here).
# TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 3

test: install browser sdk-tools  ## the whole suite, on SQLite and on PostgreSQL (TEST_DATABASE_URL)
	$(PY) -m pytest $(FUZZ)
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile \
	  --ignore=$(FUZZ)

screenshots: install browser  ## the README's screenshots, from the browser tests
	UPDATE_SCREENSHOTS=1 $(PY) -m pytest tests/browser -q

# Both write their figures to var/reliability.json (the short runs of `make test` too).
test-faults: install  ## longer, repeated faults; FAULTS_RESTART_POSTGRES=1 restarts PostgreSQL
	FAULTS_LONG=1 $(PY) -m pytest tests/faults

test-fuzz: install  ## contract fuzzing, FUZZ_EXAMPLES (500) cases per operation
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest $(FUZZ)
	@$(PY) -m tests.faults.figures

lint: install  ## ruff, and the layers contract (pyproject.toml [tool.importlinter])
	$(VENV)/bin/ruff check domain adapters service tests clients/sdk.py clients/python
	$(VENV)/bin/ruff format --check domain adapters service tests clients/sdk.py clients/python
	$(VENV)/bin/lint-imports --no-cache

format: install
	$(VENV)/bin/ruff format domain adapters service tests clients/sdk.py clients/python
	$(VENV)/bin/ruff check --fix domain adapters service tests clients/sdk.py clients/python

openapi: install  ## regenerate the committed contract from the app
	$(VENV)/bin/connections openapi --output openapi.yaml

# wrk (HTTP) and pgbench (PostgreSQL) generate the load in C, so it costs little of the
# cores the server needs; both from Debian's packages, installed when missing.
bench-tools:
	@command -v wrk >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	@command -v pgbench >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }

bench: install bench-tools  ## benchmarks (not part of make test); writes bench/http.json, bench/results.json, bench/pipelines.json, bench/credentials.json, bench/erasure_cost.json
	$(PY) -m bench.http
	$(PY) -m bench
	$(PY) -m bench.pipelines
	$(PY) -m bench.credentials
	$(PY) -m bench.erasure_cost

profile: install  ## py-spy flame graphs of a server under load: bench/profile-<kind>.svg
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) -m bench.profile

mutate: install  ## mutation testing of domain/ and the security modules, bounded per group
	$(PY) -m pip install --quiet -e '.[mutate]'
	$(PY) -m tests.mutate

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis node_modules
