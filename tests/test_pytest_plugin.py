"""`pytest --readiness`: one item per notebook, beside nbval, honouring [tool.readiness]; idle otherwise."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]


def notebook(*cells: tuple[str, str], executed: bool = True) -> str:
    """A notebook of (kind, source) cells; code cells numbered in order, as after "Run all"."""
    built, count = [], 0
    for number, (kind, source) in enumerate(cells):
        cell = {"cell_type": kind, "id": f"cell{number}", "metadata": {}, "source": source}
        if kind == "code":
            count += 1
            cell.update(execution_count=count if executed else None, outputs=[])
        built.append(cell)
    return json.dumps({
        "cells": built,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    })


CLEAN = notebook(
    ("markdown", "# Word counts\n\nCounts the words of a sentence."),
    ("code", "import json\n\n\ndef count_words(text):\n    return len(text.split())\n"),
    ("code", 'counts = {"words": count_words("one two three")}\nprint(json.dumps(counts))\n'),
    ("markdown", "The sentence has three words."),
)
# Runs fine (nbval passes it) but carries a secret: an error for readiness.
DIRTY = notebook(
    ("markdown", "# Weather\n\nCalls the weather service."),
    ("code", 'api_key = "sk-live-51HxQ2aB7cD9eF1gH3iJ5kL7mN9pQ1rSt"\nprint(len(api_key))\n'),
    ("markdown", "Done."),
)
# Only a warning: randomness without a seed.
WARNS = notebook(
    ("markdown", "# Summing\n\nAdds three numbers."),
    ("code", "values = [3, 1, 2]\ntotal = 0\nfor value in values:\n    total += value\nprint(total)\n"),
    ("markdown", "Always six."),
)


@pytest.fixture()
def notebooks(pytester: pytest.Pytester):
    pytester.makefile(".ipynb", clean=CLEAN, dirty=DIRTY)
    subprocess.run(["git", "init", "-q"], cwd=pytester.path, check=True)
    return pytester


def test_each_notebook_is_an_item_whose_failure_lists_its_findings(notebooks):
    result = notebooks.runpytest("--readiness", "-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*clean.ipynb::readiness PASSED*",
        "*dirty.ipynb::readiness FAILED*",
        "*readiness: dirty.ipynb*",
        "dirty.ipynb: * at or above fail-on=error (readiness score */100)",
        "  cell 1, line 1: RP601 [[]error[]] Hardcoded secret in `api_key`*",
        "FAILED dirty.ipynb::readiness*",
    ])


def test_beside_nbval_in_the_same_run(notebooks):
    result = notebooks.runpytest_subprocess("--nbval-lax", "--nbval-current-env", "--readiness", "-v",
                                            "-p", "no:cacheprovider")
    # nbval runs the code cells of both notebooks (2 + 1) and they pass; readiness fails the dirty one
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines_random([  # nbval names its items "clean::ipynb::Cell 0"
        "*clean*ipynb::Cell 0 PASSED*",
        "*clean*ipynb::Cell 1 PASSED*",
        "*dirty*ipynb::Cell 0 PASSED*",
        "*clean.ipynb::readiness PASSED*",
        "*dirty.ipynb::readiness FAILED*",
    ])


def test_tool_readiness_sets_the_fail_level_and_the_flag_overrides_it(pytester: pytest.Pytester):
    # three projects side by side, each with its own pyproject.toml: the nearest one applies
    for project, config in (("default", ""), ("strict", 'fail-on = "warning"\n'),
                            ("broken", 'fail-on = "sometimes"\n')):
        folder = pytester.mkdir(project)
        (folder / "pyproject.toml").write_text(f"[tool.readiness]\n{config}")
        (folder / "warns.ipynb").write_text(WARNS)
    subprocess.run(["git", "init", "-q"], cwd=pytester.path, check=True)
    result = pytester.runpytest("--readiness", "-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines_random([
        "default/warns.ipynb::readiness PASSED*",
        "strict/warns.ipynb::readiness FAILED*",
        "broken/warns.ipynb::readiness FAILED*",
        "*at or above fail-on=warning*",
        "  cell 1, line 3: RP404 [[]warning[]] *",
        "*fail-on must be one of error, warning, info*",
    ])
    flag = pytester.runpytest("--readiness", "--readiness-fail-on=error", "default", "strict",
                              "-p", "no:cacheprovider")
    flag.assert_outcomes(passed=2)


def test_idle_without_the_flag(notebooks):
    notebooks.makeconftest(
        "import sys\n"
        "def pytest_sessionfinish(session):\n"
        "    print('ENGINE-IMPORTED', 'readiness_magics.engine' in sys.modules)\n"
    )
    result = notebooks.runpytest_subprocess("-p", "no:cacheprovider", "-s")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(["*ENGINE-IMPORTED False*"])


def test_plugin_is_registered_and_imports_cheaply():
    from importlib.metadata import entry_points

    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("readiness") == "readiness_magics.pytest_plugin"
    loaded = subprocess.run(
        [sys.executable, "-c",
         ("import sys, readiness_magics.pytest_plugin\n"
          "print(sorted(m for m in sys.modules if m.split('.')[0] in "
          "('readiness_magics', 'nbformat', 'IPython', 'nbconvert', 'jupyter_core')))")],
        capture_output=True, text=True, check=True,
    )
    assert loaded.stdout.strip() == "['readiness_magics', 'readiness_magics.pytest_plugin']"
