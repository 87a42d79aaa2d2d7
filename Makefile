# `make test` and `make demo` are the two commands users run (README).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
# With DATABASE_URL unset, a private PostgreSQL server of the checkout's own (.postgres/NAME).
PRIVATE_PG := $(PY) scripts/private_postgres.py run

.PHONY: install test demo lint format bench clean browser lock screenshots mutation

# Every installed package is pinned, with its hashes, in requirements.lock (`make lock`).
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Pins every package pyproject.toml asks for at the newest release that fits.
# requirements-deploy.lock is the same pins without the dev extra: what the image installs.
lock: $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		--generate-hashes --upgrade -o requirements.lock
	$(VENV)/bin/uv pip compile pyproject.toml --python-version 3.11 \
		--generate-hashes -o requirements-deploy.lock

# The browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: $(STAMP) browser
	$(PRIVATE_PG) test -- $(PY) -m pytest $(PYTEST_ARGS)

# Mutation testing of the pure policy modules, then the named mutants: deliberate bugs each
# caught by a named test (docs/testing.md). Slow, so not part of `make test`.
mutation: $(STAMP)
	$(PRIVATE_PG) test -- $(VENV)/bin/mutmut run --max-children 2
	$(VENV)/bin/mutmut results
	$(PRIVATE_PG) test -- $(PY) -m tests.mutation.named

# Refreshes the README's screenshots from a run of the browser tests.
screenshots: $(STAMP) browser
	SCREENSHOTS=docs/screenshots $(PRIVATE_PG) test -- $(PY) -m pytest tests/browser $(PYTEST_ARGS)

# The webhook benchmark drives its servers with wrk, from Debian (docs/benchmarks.md).
bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { \
		echo "Installing Debian's wrk for the benchmarks"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(PRIVATE_PG) bench -- $(PY) bench/webhook_ingest.py

demo: $(STAMP)
	PORT=$(PORT) $(PRIVATE_PG) demo -- bash scripts/demo.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .celery .pytest_cache
