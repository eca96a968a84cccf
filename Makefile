# The two commands a new user needs: `make demo` and `make test`.
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: demo test lint lint-deploy format fake-av clean

# `make demo PORT=8001 HOST=0.0.0.0`: a PORT given to make reaches the script as it is;
# HOST only from make's command line, as some shells export HOST as the machine's name.
demo: export DEMO_HOST := $(if $(filter command line,$(origin HOST)),$(HOST),$(DEMO_HOST))
demo: ## Set up and run the product on SQLite with sample data (Ctrl-C stops it); PORT=8001 serves elsewhere
	@scripts/demo.sh check-port
	@scripts/system-deps.sh runtime
	@scripts/bootstrap.sh runtime
	@scripts/demo.sh

test: ## Install what the tests need, then lint and run the whole suite
	@scripts/system-deps.sh test
	@scripts/bootstrap.sh dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	.venv/bin/lint-imports --no-cache
	$(PY) -m mypy
	scripts/lint-deploy.sh
	PYTHONDONTWRITEBYTECODE=1 scripts/check-clean-tree.sh $(PY) -m pytest $(PYTEST_ARGS)

lint:
	@scripts/bootstrap.sh dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	.venv/bin/lint-imports --no-cache
	$(PY) -m mypy

lint-deploy: ## hadolint, actionlint and `docker compose config` on the deployment files
	@scripts/bootstrap.sh dev
	scripts/lint-deploy.sh

format:
	@scripts/bootstrap.sh dev
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

fake-av: ## Run the fake Alpha Vantage server by hand on port 8765
	@scripts/bootstrap.sh dev
	$(PY) -m tests.fakes.alphavantage --port 8765

clean:
	rm -rf .venv .ruff_cache staticfiles node_modules
