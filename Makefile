# Quick start: `make demo` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,serve,pin]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	@echo "== cslint examples/ (findings; exit 1 is expected) =="
	-$(BIN)/cslint examples/
	@echo
	@echo "== cslint --diff --unsafe-fixes examples/ (what --fix would change; nothing is written) =="
	-$(BIN)/cslint --diff --unsafe-fixes examples/

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -p no:cacheprovider

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,serve,pin,bench]'
	touch $(VENV)/.installed $(VENV)/.installed-test $@

bench: $(VENV)/.installed-bench
	$(BIN)/python bench/run.py
	$(BIN)/python bench/parsers.py

clean:
	rm -rf $(VENV) build *.egg-info
