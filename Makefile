# Every install step lives here, so a fresh clone needs only `make run` or `make test`.
# Both install from a lock file with hashes: requirements.lock (what the service
# runs on) for `make run` and the Dockerfile, requirements-test.lock (that plus
# the test tools) for `make test` and CI. `make lock` renews them from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
LOCK_PYTHON := 3.11

.PHONY: run test lint bench load lock test-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The locked packages (setuptools included: the project installs without fetching
# anything unlocked), then the project itself, editable.
$(VENV)/.runtime: requirements.lock pyproject.toml | $(BIN)/python
	@echo "installing the runtime packages from requirements.lock into $(VENV)"
	$(PIP) install --progress-bar on --require-hashes --no-deps -r requirements.lock
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.test: requirements-test.lock pyproject.toml | $(BIN)/python
	@echo "installing the runtime and test packages from requirements-test.lock into $(VENV)"
	$(PIP) install --progress-bar on --require-hashes --no-deps -r requirements-test.lock
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	touch $@ $(VENV)/.runtime

# Renew both lock files after a change to pyproject.toml: the pins they hold are
# kept where the ranges allow (`make lock UPGRADE=--upgrade` takes the newest).
lock: | $(BIN)/python
	$(PIP) install --quiet 'uv>=0.9,<1'
	printf 'setuptools>=69\nwheel\n' | $(BIN)/uv pip compile pyproject.toml - $(UPGRADE) \
	  --universal --python-version $(LOCK_PYTHON) --generate-hashes -q -o requirements.lock
	printf 'setuptools>=69\nwheel\n' | $(BIN)/uv pip compile pyproject.toml - $(UPGRADE) \
	  --extra test --universal --python-version $(LOCK_PYTHON) --generate-hashes -q \
	  -o requirements-test.lock

run: $(VENV)/.runtime
	$(BIN)/gateway serve

# Debian packages the tests drive: Chromium for the browser tests (a test tool's
# own browser download cannot work offline) and redis-server for the shared rate
# limits. Installed with apt when missing.
test-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing:$$missing (the tests that need them will be skipped)"; fi; \
	fi

test: $(VENV)/.test test-deps
	$(BIN)/python -m pytest -q

lint: $(VENV)/.test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(VENV)/.test
	$(BIN)/python -m benchmarks.run

load: $(VENV)/.test
	$(BIN)/python -m benchmarks.load

# The secrets docker-compose.yml reads, made once with fresh random values.
compose.env:
	umask 077 && $(PYTHON) scripts/compose_env.py > $@.tmp && mv $@.tmp $@
	@echo "wrote $@: keep it private; now: docker compose up --build -d"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
