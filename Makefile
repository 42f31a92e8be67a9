# Two entry points: `make demo` (the panel in JupyterLab, demo mode, no key needed) and
# `make test` (lint, types, the whole suite including the browser tests). Both set themselves up.
# `make check` is the quick loop while editing: lint, types and every test that needs no kernel,
# browser or fresh venv, with a quarter of the property tests' examples (`--quick`).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CHROMIUM ?= /usr/bin/chromium
# Two test workers per core: many tests spend their time waiting on sockets and sped-up clocks.
WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 2) * 2 )))
PYTEST := $(BIN)/python -m pytest -q -n $(WORKERS)
# Bytecode is written even where the shell asks not to: every test worker, kernel and CLI run
# imports the same modules, and pytest's assertion rewriting of hundreds of them is cached there.
export PYTHONDONTWRITEBYTECODE :=
NOTEBOOK := notebooks/01-quickstart.ipynb
# JupyterLab's first-run "get Jupyter news?" prompt, off in this venv (binder/postBuild does the same).
LAB_PAGE_CONFIG := $(VENV)/etc/jupyter/labconfig/page_config.json

.PHONY: demo test check setup browser lint typecheck bench clean

# A current pip resolves this dependency tree in half the time of the one venv ships with.
$(BIN)/python:
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --quiet --upgrade pip

# Everything: the package with its demo extra, JupyterLab and every test tool. It includes all
# that the demo needs, so a venv set up for the tests serves `make demo` too.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.demo

# Only what the demo needs: the package, its demo extra (the emulator's video stack) and
# JupyterLab. Quiet (errors still show); bytecode is compiled on first import instead.
$(VENV)/.demo: pyproject.toml | $(BIN)/python
	@echo "Setting up $(VENV) for the demo: the package and JupyterLab (once, under a minute)."
	@$(BIN)/pip install --quiet --quiet --no-compile -e '.[demo]' 'jupyterlab>=4.4,<5'
	@touch $@

setup: $(VENV)/.installed

# Debian's chromium for the browser tests (Playwright drives it; no browser download).
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium fonts-dejavu-core; \
		else echo "Installing chromium needs root: sudo apt-get install chromium"; sudo apt-get install -y chromium fonts-dejavu-core; fi; \
	fi

# JupyterLab opens the quickstart itself, and the link it prints goes straight to it. JupyterLab
# refuses to run as root unless told to (containers and CI machines often are root).
demo: $(VENV)/.demo
	@[ -f $(LAB_PAGE_CONFIG) ] || { mkdir -p $(dir $(LAB_PAGE_CONFIG)) && \
		echo '{"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": true}}' > $(LAB_PAGE_CONFIG); }
	@echo ""
	@echo "Starting JupyterLab on $(NOTEBOOK): demo mode, simulated videos, no key needed, nothing charged."
	@echo "Open the http://127.0.0.1 link it prints below. To stop the server, press Ctrl+C twice."
	@$(BIN)/jupyter lab $(NOTEBOOK) --log-level=WARN --LabApp.log_level=WARN \
		--LabApp.default_url=/lab/tree/$(NOTEBOOK) $$([ "$$(id -u)" = 0 ] && echo --allow-root)

lint: setup
	$(BIN)/ruff check kling_notebook tests bench
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy kling_notebook bench

check: setup lint typecheck
	$(PYTEST) --quick -m "not kernel and not browser and not venv"

test: setup browser lint typecheck
	$(PYTEST)

# Runs the benchmarks against the emulator and rewrites BENCHMARKS.md with the new figures.
bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
