# testament: `make demo` runs the main job on the embedded default; `make test` runs all tests.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: setup system-packages demo test lint bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

setup: $(VENV)/.installed

system-packages:
	bash scripts/system-packages.sh

demo: setup
	$(BIN)/testament demo --serve

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

test: system-packages setup lint
	$(BIN)/pytest -n 2 --durations=15

bench: setup
	$(BIN)/python benchmarks/ingest.py
