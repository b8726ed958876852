# Two entry points for people (`make demo`, `make test`) and one for the UI (`make ui`).
# Every target creates .venv itself and installs with the pinned constraints, so a fresh clone
# with only Python 3.11 and git is enough.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
CONSTRAINTS := constraints/constraints-3.11.txt
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(CONSTRAINTS) | cksum | cut -d" " -f1)

.PHONY: venv demo test lint typecheck unit ui ui-bundle ui-bundle-check screenshots benchmarks replay-plot matrix test-stress clean

venv: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -c $(CONSTRAINTS) -e ".[test]"
	@rm -f $(VENV)/.installed-* && touch $@

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

unit: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck unit

demo: venv
	$(BIN)/python scripts/demo.py

ui: venv
	./scripts/ui.sh

# The Carbon views (React, react_apps) ship prebuilt in the package; rebuild after editing plugins/www/src.
WWW := airflow_carbon_provider/plugins/www
ui-bundle: venv  ## rebuild $(WWW)/dist/carbon.js from its sources (Node 20, npm registry, the lockfile)
	cd $(WWW) && npm ci --no-audit --no-fund --loglevel=error && npm run build
	$(BIN)/python scripts/ui_bundle.py --write

ui-bundle-check: ui-bundle  ## CI: the committed bundle is exactly what its sources build
	git diff --exit-code -- $(WWW)/dist

screenshots: venv  ## regenerate the README's screenshots (docs/screenshots) with the browser tests (~4 min)
	CARBON_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/browser -q

benchmarks: venv  ## regenerate BENCHMARKS.md from ../shared/data (tens of minutes); SECTIONS=a,b for only those
	nice -n 10 $(BIN)/python benchmarks/run.py $(if $(SECTIONS),--sections $(SECTIONS))

replay-plot: venv  ## regenerate docs/replay.svg (the README's picture) from the bundled data
	$(BIN)/python -m airflow_carbon_provider.cli replay --data airflow_carbon_provider/carbon/data --duration 4h \
		--poll-interval 30m --plot docs/replay.svg

matrix: venv  ## regenerate tests/hardening/MATRIX.md (the fault matrix; a test checks it is current)
	$(BIN)/python -m tests.hardening.matrix

STRESS_RUNS ?= 20
STRESS_TESTS ?= tests
test-stress: venv  ## pytest $(STRESS_TESTS) $(STRESS_RUNS) times with every core busy; stops at the first failure
	$(BIN)/python scripts/stress.py --runs $(STRESS_RUNS) -- $(STRESS_TESTS) $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .airflow .mypy_cache .pytest_cache .ruff_cache
