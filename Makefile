# Cascade developer commands. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BIN ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LAYER_DIR := .build/lambda-dependencies
PYTEST_FLAGS ?=

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install lint format typecheck test test-unit test-integration test-infra test-e2e bench openapi package synth clean

help: ## List the targets
	@grep -hE '^[a-z][a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v $(PYTHON_BIN) >/dev/null || { echo "Python 3.11 is required: $(PYTHON_BIN) was not found on PATH"; exit 1; }
	@test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=25.1"
	$(PY) -m pip install --quiet --no-compile -e . --group dev
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with every dependency group

lint: $(STAMP) ## Run ruff check and ruff format --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP) ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: $(STAMP) ## Run mypy (strict) on functions/ and infra/
	$(VENV)/bin/mypy

test: lint typecheck ## Lint, type-check and run every test tier except e2e
	$(PY) -m pytest -m "not e2e" $(PYTEST_FLAGS)

test-unit: $(STAMP) ## Run the unit tier only (network blocked)
	$(PY) -m pytest -m unit $(PYTEST_FLAGS)

test-integration: $(STAMP) ## Run the integration tier only
	$(PY) -m pytest -m integration $(PYTEST_FLAGS)

test-infra: $(STAMP) ## Run the infrastructure tier only (CDK synth, cdk-nag, cfn-lint)
	$(PY) -m pytest -m infra $(PYTEST_FLAGS)

test-e2e: $(STAMP) ## Run the e2e tier against a deployed stack (needs CASCADE_E2E_API_URL)
	$(PY) -m pytest -m e2e $(PYTEST_FLAGS)

bench: $(STAMP) ## Run the benchmark scripts under tests/benchmarks/ and print their figures
	@set -e; for script in tests/benchmarks/bench_*.py; do \
		echo "== $$script"; $(PY) $$script; done

openapi: $(STAMP) ## Regenerate docs/openapi.json from the API routes (a test compares the two)
	$(PY) -m cascade.api.app docs/openapi.json

.PHONY: demo
demo: $(STAMP) ## Start the local stack, enrich sample people over HTTP, print results and usage
	$(PY) -m infra.local.demo

package: $(STAMP) ## Build the Lambda dependencies layer for arm64 into .build/
	rm -rf $(LAYER_DIR) && mkdir -p $(LAYER_DIR)/python
	$(PY) -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > .build/requirements.txt
	$(PY) -m pip install --quiet --no-compile --target $(LAYER_DIR)/python --platform manylinux2014_aarch64 \
		--implementation cp --python-version 3.11 --only-binary=:all: -r .build/requirements.txt

synth: package ## Synthesize the CloudFormation template into cdk.out/
	$(PY) -m infra.app

clean: ## Remove build output and caches (keeps .venv)
	rm -rf .build cdk.out .mypy_cache .ruff_cache .pytest_cache .hypothesis
