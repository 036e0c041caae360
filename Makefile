# cellgate — the two commands of the Quick start are `make run` and `make test`.
# Both set up everything they need on a fresh machine (venv, package, test peers), idempotently.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
CONFIG ?= config/cellgate.yaml
PYTEST_ARGS ?=

.PHONY: run test setup peers lint typecheck test-only test-slow bench clean help

help:            ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(VENV)/.setup-stamp: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test]'
	touch $@

setup: $(VENV)/.setup-stamp   ## create the venv and install cellgate with its test tools

peers:           ## install the test peers (net-snmp, mbpoll, rsyslog, chromium, ...) if missing
	@for s in scripts/peers/*.sh; do [ -e "$$s" ] || continue; echo "peers: $$s"; bash "$$s"; done

run: setup       ## run the gateway on the simulated default site (Ctrl-C stops it)
	$(VENV)/bin/cellgate run -c $(CONFIG)

lint: setup      ## ruff (lint + format check)
	$(VENV)/bin/ruff check gateway plugins tests bench tools docs/examples
	$(VENV)/bin/ruff format --check gateway plugins tests bench tools docs/examples

typecheck: setup ## mypy, strict on gateway/
	$(VENV)/bin/mypy

test-only: setup ## the test suite alone (no lint, no peer install)
	CELLGATE_PLUGINS=builtin $(PY) -m pytest $(PYTEST_ARGS)

test: setup peers lint typecheck test-only  ## everything CI runs

test-slow: setup peers  ## the slow soak tests too
	CELLGATE_PLUGINS=builtin $(PY) -m pytest -m '' $(PYTEST_ARGS)

bench: setup     ## every benchmark (figures go to BENCHMARKS.md)
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b; done

clean:           ## remove the venv and local state
	rm -rf $(VENV) var build *.egg-info
