# Two commands: `make report` (set up, then reports on MovieLens-100K) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup report test notebooks-sync benchmark clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,serve,spark,tracking]'
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps 'recbole==1.2.1'
	touch $(STAMP)

report: setup
	$(BIN)/workbench report --data ml-100k --out reports

test: setup
	$(BIN)/python -m pytest -q

notebooks-sync: setup
	$(BIN)/python -m workbench.notebooks sync

benchmark: setup
	$(BIN)/workbench benchmark

clean:
	rm -rf $(VENV) reports
