# Tawasul — build, run and test. GNU make. `make` alone lists the targets.
# Features add their own targets in mk/*.mk (included at the end; see mk/README.md).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# The app environment (Python >= 3.11). Override with `make VENV=/path ...`.
VENV ?= .venv
export VENV
PY := $(VENV)/bin/python

# Packages checked by mypy: those of this list that exist (have an __init__.py).
MYPY_CANDIDATES := ticket_service ticket_client bot channels actions nlu_components
MYPY_PACKAGES = $(patsubst %/__init__.py,%,$(wildcard $(addsuffix /__init__.py,$(MYPY_CANDIDATES))))

# Extra arguments for pytest, e.g. `make test PYTEST_ARGS='-k redis -x'`.
PYTEST_ARGS ?=

.PHONY: help venv packages run lint typecheck test bench-tickets bench-hub lock clean

help: ## List the targets
	@echo "Tawasul — make targets:"
	@grep -hE '^[a-zA-Z0-9_.-]+:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*## "}; {printf "  %-16s %s\n", $$1, $$2}'
	@echo "Variables: VENV=$(VENV)  PYTEST_ARGS=...  TAWASUL_REDIS_URL=..."

venv: ## Create/update the app virtualenv (.venv) from requirements*.txt + constraints.txt
	@scripts/setup_venv.sh

packages: ## Install missing Debian packages (redis-server, postgresql, ...); needs root
	@scripts/ensure_packages.sh

run: venv packages ## Start all processes (honcho; a local Redis if none is reachable); Ctrl-C stops
	@scripts/run.sh

lint: venv ## ruff check
	$(VENV)/bin/ruff check .

typecheck: venv ## mypy --strict on the Python packages that exist
	@if [ -z "$(strip $(MYPY_PACKAGES))" ]; then \
		echo "typecheck: none of $(MYPY_CANDIDATES) has an __init__.py yet; skipping mypy"; \
	else \
		echo "$(VENV)/bin/mypy $(addprefix -p ,$(MYPY_PACKAGES))"; \
		$(VENV)/bin/mypy $(addprefix -p ,$(MYPY_PACKAGES)); \
	fi

test: venv packages lint typecheck ## lint + typecheck + pytest (real Redis/PostgreSQL on free ports)
	@rc=0; $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) || rc=$$?; \
	if [ "$$rc" -eq 5 ]; then \
		echo "make test: pytest collected no tests (exit code 5); that is a failure" >&2; \
	fi; \
	exit "$$rc"

bench-tickets: venv ## Benchmark the ticket service (bench/tickets.py)
	$(PY) -m bench.tickets $(BENCH_ARGS)

bench-hub: venv packages bot-ready ## Benchmark the hub: webhook ingest and added turn latency (bench/hub.py)
	$(PY) -m bench.hub $(BENCH_ARGS)

lock: ## Regenerate constraints.txt from a fresh temporary venv (pip freeze)
	@scripts/lock.sh

clean: ## Remove .run/ (dev keys, local Redis data), var/ and caches (keeps .venv)
	rm -rf .run var .pytest_cache .mypy_cache .ruff_cache .hypothesis test-artifacts
	find . \( -path ./.venv -o -path ./.venv-rasa -o -path ./.git -o -path './$(VENV)' \) -prune \
		-o -type d -name __pycache__ -prune -exec rm -rf {} +

# Feature-specific targets (Rasa training, ...). Keep this last.
-include mk/*.mk
