# Two commands do all set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENDOR := src/autopilot/web/static/vendor
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint fmt typecheck bench install install-test assets chromium clean

run: install assets ## install, migrate, serve on SQLite with the in-process job engine
	$(BIN)/autopilot migrate
	$(BIN)/autopilot serve

test: install-test assets chromium ## lint, type-check and run the whole suite
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install -q -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $@

assets: $(VENDOR)/htmx.min.js
$(VENDOR)/htmx.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js

chromium: ## Debian's chromium for the browser tests (Playwright must not download its own)
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

fmt:
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: install-test
	$(BIN)/python -m bench.jobs

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .pytest_cache .mypy_cache
