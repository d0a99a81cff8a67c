# The two commands of the README: `make run` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INTEROP := tests/interop

.PHONY: run test test-sqlite test-postgres docs

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

run: $(VENV)/.run-installed
	$(BIN)/twinspace-rt serve --demo

test: test-sqlite test-postgres

test-sqlite: $(VENV)/.test-installed $(INTEROP)/node_modules/.installed
	TWINSPACE_TEST_DATABASE=sqlite $(BIN)/python -m pytest -q

test-postgres: $(VENV)/.test-installed $(INTEROP)/node_modules/.installed
	TWINSPACE_TEST_DATABASE=postgres $(BIN)/python -m pytest -q

docs: $(VENV)/.run-installed
	$(BIN)/twinspace-rt docs roles > docs/ROLES.md
