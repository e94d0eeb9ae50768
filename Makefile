# aurora-ops developer tasks.
#
#   make setup   .venv (tests, simulator), .venv-sam (SAM CLI), .venv-checkov (checkov), node_modules (ASL validator)
#   make demo    run the scale-up simulator on an example world
#   make test    pytest, then lint, then build (what CI runs: .ci/run)
#   make lint    sam validate --lint, asl-validator, DefinitionSubstitutions check, checkov
#   make build   sam build into .aws-sam/
#   make deploy  make build, then sam deploy with samconfig.toml's [default] (one cluster, observe mode);
#                SAM shows the change set and asks before it deploys (docs/deploy.md)
#   make deploy ENV=prod   the same with [prod] (also: make deploy-prod)
#   make bench   scripts/bench.py
#   make clean   remove build output and caches (make distclean: also the venvs and node_modules)
#
# The venvs and node_modules are only (re)built when their requirements change
# (stamp files), so every target can depend on `setup` cheaply.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# Python 3.13: python3.13 on PATH if it really runs (a pyenv shim may not),
# else the newest ~/.pyenv/versions/3.13*/bin/python3.13.
PYTHON313 ?= $(shell \
  if python3.13 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1; then \
    python3.13 -c 'import sys; print(sys.executable)'; \
  else \
    ls -d "$$HOME"/.pyenv/versions/3.13*/bin/python3.13 2>/dev/null | grep -v 't/bin/' | sort -V | tail -n 1; \
  fi)

VENV      := .venv
VENV_SAM  := .venv-sam
VENV_CHECKOV := .venv-checkov
PY        := $(VENV)/bin/python
SAM       := $(VENV_SAM)/bin/sam
CHECKOV   := $(VENV_CHECKOV)/bin/checkov
ASL_VALIDATOR := node_modules/.bin/asl-validator

TEMPLATE  := template.yaml
ASL_FILES := $(wildcard statemachines/*.asl.json)

# Every sam call: no telemetry, a fixed region, and python3.13 on PATH (sam
# build for runtime python3.13 looks for it; .venv has one).
SAM_ENV := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 \
           PATH="$(CURDIR)/$(VENV)/bin:$$PATH"

.PHONY: help setup demo test lint lint-sam lint-asl lint-substitutions lint-checkov build deploy deploy-prod check-deploy-env bench clean distclean check-python

help:
	@sed -n 's/^#   //p' $(MAKEFILE_LIST)

# ------------------------------------------------------------------ setup

setup: $(VENV)/.stamp $(VENV_SAM)/.stamp $(VENV_CHECKOV)/.stamp node_modules/.stamp

check-python:
	@if [ -z "$(PYTHON313)" ]; then \
	  echo "error: Python 3.13 not found: put python3.13 on PATH or install it with pyenv (pyenv install 3.13)" >&2; \
	  exit 1; \
	fi

$(VENV)/.stamp: requirements-dev.txt pyproject.toml | check-python
	test -x $(PY) || "$(PYTHON313)" -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt -e .
	touch $@

$(VENV_SAM)/.stamp: requirements-sam.txt | check-python
	test -x $(VENV_SAM)/bin/python || "$(PYTHON313)" -m venv $(VENV_SAM)
	$(VENV_SAM)/bin/python -m pip install --quiet -r requirements-sam.txt
	touch $@

$(VENV_CHECKOV)/.stamp: requirements-checkov.txt | check-python
	test -x $(VENV_CHECKOV)/bin/python || "$(PYTHON313)" -m venv $(VENV_CHECKOV)
	$(VENV_CHECKOV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

node_modules/.stamp: package.json $(wildcard package-lock.json)
	if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
	touch $@

# ------------------------------------------------------------------- demo

demo: setup
	$(VENV)/bin/aurora-ops simulate scale-up --world examples/capacity-crunch.yaml --input events/manual.json

# ------------------------------------------------------------------- test

test: setup
	$(PY) -m pytest -q -n auto --dist loadgroup
	$(MAKE) lint
	$(MAKE) build

# ------------------------------------------------------------------- lint

lint: setup lint-sam lint-asl lint-substitutions lint-checkov

lint-sam: $(VENV_SAM)/.stamp
	$(SAM_ENV) $(SAM) validate --lint --template-file $(TEMPLATE)

lint-asl: node_modules/.stamp
	@test -n "$(ASL_FILES)" || { echo "error: no statemachines/*.asl.json" >&2; exit 1; }
	$(ASL_VALIDATOR) $(foreach f,$(ASL_FILES),--json-path $(f))

lint-substitutions: $(VENV)/.stamp
	$(PY) scripts/check_substitutions.py --template $(TEMPLATE) --asl-glob 'statemachines/*.asl.json'

# checkov reads the SAM template as is (AWS::Serverless::* included; it does
# not expand a function's Policies into its role: tests/template/test_template_security.py
# checks those). Zero failed checks; every finding left is suppressed inline in
# template.yaml (Metadata: checkov: skip) with its reason. A scan that found
# nothing to check would also report zero failures, so require passed checks.
lint-checkov: $(VENV_CHECKOV)/.stamp
	@out=$$($(CHECKOV) -f $(TEMPLATE) --framework cloudformation --skip-download --quiet --compact) \
	  || { echo "$$out"; exit 1; }; \
	echo "$$out"; \
	passed=$$(echo "$$out" | sed -n 's/^Passed checks: \([0-9]*\),.*/\1/p'); \
	if [ -z "$$passed" ] || [ "$$passed" -eq 0 ]; then \
	  echo "error: checkov ran no check on $(TEMPLATE)" >&2; exit 1; \
	fi

# ------------------------------------------------------------------ build

build: $(VENV)/.stamp $(VENV_SAM)/.stamp
	$(SAM_ENV) $(SAM) build --template-file $(TEMPLATE) --build-dir .aws-sam/build

# ----------------------------------------------------------------- deploy

# sam deploy of the template `make build` just built, with a samconfig.toml
# profile: [default], or the one given as ENV=<profile> on the command line.
# Only a command-line ENV counts: ENV is also a shell variable (the startup
# file of an interactive sh), and one exported in your environment must never
# pick the stack. Every profile has confirm_changeset = true: SAM shows the
# change set and deploys only after a y. With no one to answer (no terminal),
# nothing is deployed.
DEPLOY_ENV := $(if $(filter command line,$(origin ENV)),$(ENV),default)

deploy: check-deploy-env build
	$(SAM_ENV) $(SAM) deploy --config-env $(DEPLOY_ENV) --template-file .aws-sam/build/template.yaml

deploy-prod:
	$(MAKE) deploy ENV=prod

# Before the build: SAM would take an unknown profile for an empty one.
check-deploy-env:
	@grep -q '^\[$(DEPLOY_ENV)\.deploy\.parameters\]' samconfig.toml \
	  || { echo "error: samconfig.toml has no profile [$(DEPLOY_ENV).deploy.parameters]" >&2; exit 1; }

# ------------------------------------------------------------------ bench

bench: setup
	$(PY) scripts/bench.py

# ------------------------------------------------------------------ clean

clean:
	rm -rf .aws-sam .pytest_cache build
	find . -path ./$(VENV) -prune -o -path ./$(VENV_SAM) -prune -o -path ./$(VENV_CHECKOV) -prune -o -path ./node_modules -prune -o \
	  -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(VENV_SAM) $(VENV_CHECKOV) node_modules
