# Two commands on a fresh machine: `make check` (the CLI on the sample notebooks) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: install check lab test test-js test-ui labextension-dev bench fuzz docs clean export-sweep

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
	$(MAKE) test-js test-ui

# jlpm (JupyterLab's yarn) and `jupyter lab` come from the venv.
NODE_ENV_PATH = PATH="$(abspath $(BIN)):$$PATH"

# JupyterLab itself, for jlpm and for the browser tests' server (pip install builds the sidebar in an
# isolated environment that has its own).
$(VENV)/.jupyterlab: $(VENV)/.installed
	$(BIN)/jlpm --version >/dev/null 2>&1 || $(PY) -m pip install -q "jupyterlab>=4.0,<5"
	touch $@

# The sidebar's model (grouping, filters, stale answers) under node's test runner.
test-js: install $(VENV)/.jupyterlab
	cd labextension && $(NODE_ENV_PATH) jlpm install --immutable && $(NODE_ENV_PATH) jlpm test

# Rebuild the sidebar from labextension/src and point the venv's JupyterLab at the build.
labextension-dev: install $(VENV)/.jupyterlab
	cd labextension && $(NODE_ENV_PATH) jlpm build
	$(NODE_ENV_PATH) $(BIN)/jupyter labextension develop --overwrite .

ui-tests/node_modules/.installed: ui-tests/package.json ui-tests/yarn.lock
	cd ui-tests && $(NODE_ENV_PATH) PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 jlpm install --immutable
	touch $@

# The panel in headless chromium against a real `jupyter lab` on 127.0.0.1 (galata + Playwright).
# READINESS_UPDATE_SCREENSHOTS=1 refreshes the README's screenshots in docs/screenshots/.
# Debian's chromium for the browser tests (Playwright's own browser download is not reachable here).
/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

test-ui: labextension-dev ui-tests/node_modules/.installed /usr/bin/chromium
	cd ui-tests && JUPYTER_RUNTIME_DIR="$$(mktemp -d)" $(NODE_ENV_PATH) jlpm playwright test

# JupyterLab with the Readiness sidebar on the sample notebooks.
lab: install
	$(BIN)/jupyter lab --notebook-dir=sample_notebooks

# The long fuzzing run of the engine (the default test run tries fewer examples and 100 kB shapes).
fuzz: install
	READINESS_FUZZ_EXAMPLES=10000 $(BIN)/pytest -q -p no:cacheprovider --hypothesis-seed=20261126 tests/test_fuzz_engine.py tests/hardening/test_fuzz_formats.py

# `readiness export --force` over every corpus notebook (the test run takes a fixed 60): no traceback, no
# undefined name in any package written. READINESS_CORPUS names the corpus folder.
export-sweep: install
	READINESS_EXPORT_SWEEP=all $(BIN)/pytest -q -p no:cacheprovider tests/test_exporter_sweep.py

bench: install
	$(PY) benchmarks/bench_check.py
	$(PY) benchmarks/bench_cache.py
	$(PY) benchmarks/bench_sidebar.py
	$(PY) benchmarks/bench_growth.py
	$(PY) benchmarks/bench_memory.py
	$(PY) benchmarks/bench_watch.py

# The README's rule table, from the rules' docstrings.
docs: install
	$(PY) -m readiness_magics.cli.docs README.md

clean:
	rm -rf $(VENV) build dist *.egg-info
