# Two entry points: `make demo` (the panel in JupyterLab, demo mode, no key needed) and
# `make test` (lint, types, the whole suite including the browser tests). Both set themselves up.
# `make check` is the quick loop while editing: lint, types and every test that needs no kernel,
# browser or fresh venv, on all cores.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CHROMIUM ?= /usr/bin/chromium
PYTEST := $(BIN)/python -m pytest -q -n auto

.PHONY: demo test check setup browser lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed

# Debian's chromium for the browser tests (Playwright drives it; no browser download).
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium fonts-dejavu-core; \
		else echo "Installing chromium needs root: sudo apt-get install chromium"; sudo apt-get install -y chromium fonts-dejavu-core; fi; \
	fi

# JupyterLab refuses to run as root unless told to (containers and CI machines often are root).
demo: setup
	$(BIN)/jupyter lab notebooks/01-quickstart.ipynb $$([ "$$(id -u)" = 0 ] && echo --allow-root)

lint: setup
	$(BIN)/ruff check kling_notebook tests bench
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy kling_notebook bench

check: setup lint typecheck
	$(PYTEST) -m "not kernel and not browser and not venv"

test: setup browser lint typecheck
	$(PYTEST)

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
