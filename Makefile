# Two commands on a fresh machine: `make check` (the CLI on the sample notebooks) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: install check test bench fuzz docs clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed

# Findings in the samples are expected (several carry problems on purpose), so exit 1 is fine here.
check: install
	$(BIN)/readiness check sample_notebooks/; test $$? -le 1

test: install
	$(BIN)/pytest

# The long fuzzing run of the engine (the default test run tries fewer examples).
fuzz: install
	READINESS_FUZZ_EXAMPLES=10000 $(BIN)/pytest -q tests/test_fuzz_engine.py

bench: install
	$(PY) benchmarks/bench_check.py

# The README's rule table, from the rules' docstrings.
docs: install
	$(PY) -m readiness_magics.cli.docs README.md

clean:
	rm -rf $(VENV) build dist *.egg-info
