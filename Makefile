# Two commands matter: `make run` and `make test`. Each installs what it needs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint typecheck bench install dev browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $(DEV_STAMP)

install: $(STAMP)
dev: $(DEV_STAMP)

# The browser tests drive Debian's Chromium through Playwright; Playwright's own browser
# download does not work on a closed network, so it is never used.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium)

browser: $(CHROMIUM)

# Both environments: the sandbox (http :8000, https :8443) and production (TLS :9443, mutual
# TLS :9444), each on its own database (pesabox.db, pesabox.production.db).
RUN_ENV := PESABOX_ENVIRONMENTS=sandbox,production

run: $(STAMP)
	$(RUN_ENV) $(BIN)/pesabox migrate
	$(RUN_ENV) $(BIN)/pesabox seed --print-credentials
	$(RUN_ENV) $(BIN)/pesabox serve

test: $(DEV_STAMP) $(CHROMIUM)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

bench: $(DEV_STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) pesabox.db pesabox.db-wal pesabox.db-shm pesabox.db.inspector.db* pesabox.production.db*
