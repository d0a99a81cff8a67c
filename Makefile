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

.PHONY: run test test-sqlite test-postgres docs web browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

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

run: $(VENV)/.run-installed $(WEB_BUILT)
	$(BIN)/twinspace-rt serve --demo

test: test-sqlite test-postgres

test-sqlite: $(VENV)/.test-installed $(INTEROP)/node_modules/.installed $(WEB_BUILT) browser
	TWINSPACE_TEST_DATABASE=sqlite $(BIN)/python -m pytest -q

test-postgres: $(VENV)/.test-installed $(INTEROP)/node_modules/.installed $(WEB_BUILT) browser
	TWINSPACE_TEST_DATABASE=postgres $(BIN)/python -m pytest -q

docs: $(VENV)/.run-installed
	$(BIN)/twinspace-rt docs roles > docs/ROLES.md

.PHONY: test-stress soak

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
