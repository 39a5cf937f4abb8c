# Quick start: `make demo` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test fuzz bench docs clean

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

# the property tests with fresh random examples, CSLINT_FUZZ (default 10) times as many: `make test`
# checks the same examples every run; this is where new ones are found (tests/fuzzing.py)
fuzz: $(VENV)/.installed-test
	CSLINT_FUZZ=$${CSLINT_FUZZ:-10} $(BIN)/python -m pytest -q -p no:cacheprovider $$(grep -l "@given" tests/test_*.py)

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,serve,pin,bench]'
	touch $(VENV)/.installed $(VENV)/.installed-test $@

bench: $(VENV)/.installed-bench
	$(BIN)/python bench/run.py
	$(BIN)/python bench/parsers.py

clean:
	rm -rf $(VENV) build *.egg-info
