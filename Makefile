# citygrowth — two commands do everything on a fresh machine:
#   make run    create .venv, install, migrate, load the demo district, serve on 127.0.0.1:8000
#   make test   install what the tests need and run them all

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --disable-pip-version-check -q -c constraints.txt
export CITYGROWTH_DATA_DIR ?= var

.PHONY: run test install install-test lint typecheck bench docs clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(BIN)/citygrowth init
	$(BIN)/citygrowth demo
	$(BIN)/citygrowth users demo-logins
	$(BIN)/citygrowth serve --host 127.0.0.1 --port 8000

test: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not browser" $(PYTEST_ARGS)
	# browser tests in a process of their own: Playwright's sync API keeps an event loop
	# and greenlets running in its process, which other tests must not inherit
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: install-test
	$(BIN)/python -m bench $(BENCH_ARGS)

docs: install
	$(BIN)/citygrowth settings docs > docs/settings.md
	$(BIN)/citygrowth deploy examples deploy
	$(BIN)/python -c 'import sys; from citygrowth.cli.index import render_index; sys.stdout.write(render_index())' > src/citygrowth/cli/commands.json

clean:
	rm -rf $(VENV) var .pytest_cache
