# kotaemon — two commands: `make run` and `make test`. Both set everything up on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed
DEV := $(VENV)/.installed-dev

.PHONY: run test lint typecheck format install install-dev system-deps bench ha-test ha-bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

## The service and its command only (make run); the test and lint tools come with install-dev.
$(RUNTIME): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $(RUNTIME)

$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(RUNTIME) $(DEV)

install: $(RUNTIME)
install-dev: $(DEV)

## Debian packages the tests use: promtool (package prometheus) checks the alert rules; HAProxy
## balances the replicas of the high-availability test, which runs its own redis-server.
system-deps:
	@command -v promtool >/dev/null || { apt-get update -q && apt-get install -y -q --no-install-recommends prometheus; }
	@command -v haproxy >/dev/null || { apt-get update -q && apt-get install -y -q --no-install-recommends haproxy; }
	@command -v redis-server >/dev/null || { apt-get update -q && apt-get install -y -q --no-install-recommends redis-server; }

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

## make test: lint, type-check, the whole suite against a real embedded PostgreSQL + pgvector,
## then the high-availability test.
test: install-dev system-deps lint typecheck
	$(BIN)/python -m pytest -q
	@$(MAKE) --no-print-directory ha-test

lint: install-dev
	$(BIN)/ruff check src tests benchmarks deploy
	$(BIN)/ruff format --check src tests benchmarks deploy

## Strict type checking of the package (settings in pyproject.toml).
typecheck: install-dev
	$(BIN)/mypy

format: install-dev
	$(BIN)/ruff format src tests benchmarks deploy
	$(BIN)/ruff check --fix src tests benchmarks deploy
	$(BIN)/python deploy/helm/chart_readme.py

## make bench: retrieval quality table (slow the first time: it embeds every corpus).
bench: install-dev
	$(BIN)/python benchmarks/retrieval.py

## make ha-test: 3 replicas and 2 workers behind HAProxy, one PostgreSQL and one Redis, the fake
## LLM; a bounded load while one replica is killed, a worker is killed mid-job, Redis restarts
## and every replica is rolled. Fails below 99.95% success or when a document is lost or
## duplicated (report: benchmarks/results/ha.json). Options: HA_ARGS="--steady-seconds 60".
ha-test: install-dev system-deps
	$(BIN)/python -m benchmarks.ha chaos $(HA_ARGS)

## make ha-bench: requests per second with one replica and with three behind HAProxy, and the
## ratio (benchmarks/results/ha_bench.json).
ha-bench: install-dev system-deps
	$(BIN)/python -m benchmarks.ha steady $(HA_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

## make bench-documents: answers from real documents (Debian's manuals in HTML, text and PDF,
## English and Chinese; the packages are installed with apt-get if missing), extractive, with the
## fake LLM and with the demo agent. Slow the first time: it embeds the corpus.
.PHONY: bench-documents
bench-documents: install
	$(BIN)/python benchmarks/real_documents.py --install-packages
