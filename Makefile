# earlylink — common tasks. `make help` lists them.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help setup browser lint format typecheck test test-unit demo bench stack-up stack-down clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP) ## Create .venv and install earlylink with its dev tools

browser: ## Debian's chromium, for the status-page test (installed here when missing, as root)
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "== installing Debian's chromium for the status-page test"; \
	    apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "the status-page test needs Debian's chromium: run 'sudo apt-get install chromium'"; \
	    exit 1; \
	  fi; }

lint: setup ## ruff lint and format check, and the packages' import layers
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q -p no:cacheprovider tests/unit/test_layers.py

format: setup ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: setup ## mypy (strict) on the packages, the tests and the benches
	$(BIN)/mypy

test-unit: setup ## Unit tests only (no services)
	$(BIN)/pytest -m unit -q

test: setup lint typecheck browser ## Lint, type-check, then every test on the real local stack (brought up if needed)
	$(BIN)/earlylink stack up
	$(BIN)/pytest -q

demo: setup ## The main job: a synthetic borough streamed through the pipeline, with a summary
	$(BIN)/earlylink stack up
	$(BIN)/earlylink demo

bench: setup ## Benchmarks (print a markdown table)
	$(BIN)/earlylink stack up
	$(BIN)/python -m bench

stack-up: setup ## Start Kafka and PostgreSQL
	$(BIN)/earlylink stack up

stack-down: setup ## Stop them (data kept)
	$(BIN)/earlylink stack down

clean: ## Remove the virtualenv and caches (not the stack's data)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
