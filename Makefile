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
	$(BIN)/lint-imports
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

# htmx for the pages, Swagger UI for /docs (served from here: no CDN, and the CSP allows only 'self').
# --ignore-scripts: the packages are plain files to copy; no install script of theirs runs.
assets: $(VENDOR)/htmx.min.js $(VENDOR)/swagger-ui-bundle.js $(VENDOR)/swagger-ui.css
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@
$(VENDOR)/htmx.min.js: node_modules/.installed
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $@
$(VENDOR)/swagger-ui-bundle.js $(VENDOR)/swagger-ui.css: node_modules/.installed
	mkdir -p $(VENDOR)
	cp node_modules/swagger-ui-dist/$(notdir $@) $@

chromium: ## Debian's chromium for the browser tests (Playwright must not download its own)
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt:
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: install-test
	$(BIN)/python -m bench.jobs
	$(BIN)/python -m bench.auth
	$(BIN)/python -m bench.api

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .pytest_cache .mypy_cache
