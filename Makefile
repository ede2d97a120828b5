# kotaemon — two commands: `make run` and `make test`. Both set everything up on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format install system-deps bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Debian packages the tests use: promtool (package prometheus) checks the alert rules.
system-deps:
	@command -v promtool >/dev/null || { apt-get update -q && apt-get install -y -q --no-install-recommends prometheus; }

## make run: ingest the sample knowledge base, start the demo CRM, then serve both on
## http://127.0.0.1:8000 with an ingestion worker in the same process, signed in as the demo
## customer C-1001 (embedded PostgreSQL; Ctrl-C stops everything).
DEMO_ENV := CRM_TOKEN=demo-crm-token KOTAEMON_AGENT_CONFIG=examples/agent.yaml \
	KOTAEMON_LOCAL_ATTRIBUTES='{"customer_id": "C-1001"}'

run: install
	$(BIN)/kotaemon ingest examples/knowledge_base --collection bank
	@$(DEMO_ENV) $(BIN)/python examples/crm/server.py --port 8100 & crm=$$!; \
	trap 'kill $$crm 2>/dev/null' EXIT INT TERM; \
	$(DEMO_ENV) $(BIN)/kotaemon serve --worker

## make test: lint and the whole suite against a real embedded PostgreSQL + pgvector.
test: install system-deps lint
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check src tests benchmarks deploy
	$(BIN)/ruff format --check src tests benchmarks deploy

format: install
	$(BIN)/ruff format src tests benchmarks deploy
	$(BIN)/ruff check --fix src tests benchmarks deploy
	$(BIN)/python deploy/helm/chart_readme.py

## make bench: retrieval quality table (slow the first time: it embeds every corpus).
bench: install
	$(BIN)/python benchmarks/retrieval.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
