"""The problem samples, fixed, still run top to bottom in a real kernel: with the safe fixes to the same
outputs, with the unsafe fixes too (given the environment variables a secret fix asks for)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from readiness_magics.config import settings_for
from readiness_magics.fixes.run import fix_file

from .test_sample_notebooks import NOTEBOOKS, _kernel_env

PROBLEMS = [path for path in NOTEBOOKS if "clean" not in path.stem]
# Global generators seeded before the notebook runs, so an unseeded notebook prints the same twice.
SEEDING = "import random, numpy\nrandom.seed(0)\nnumpy.random.seed(0)"


def execute(path: Path, env_extra: dict | None = None) -> nbformat.NotebookNode:
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(SEEDING))
    client = NotebookClient(notebook, kernel_name="python3", timeout=180, allow_errors=False,
                            record_timing=False, resources={"metadata": {"path": str(path.parent)}})
    client.execute(env={**_kernel_env(), **(env_extra or {})})
    notebook.cells.pop(0)
    return notebook


def text_outputs(cell) -> list[str]:
    """What a cell printed and returned, as text; object addresses (`at 0x7f...`) differ run to run."""
    found = []
    for output in cell.get("outputs", ()):
        if output.output_type == "stream":
            found.append(output.text)
        elif output.output_type in ("execute_result", "display_data") and "text/plain" in output.data:
            found.append(output.data["text/plain"])
    return [re.sub(r" at 0x[0-9a-f]+", " at 0x...", text) for text in found]


@pytest.fixture
def samples(tmp_path):
    copy = tmp_path / "sample_notebooks"
    shutil.copytree(PROBLEMS[0].parent, copy)
    return copy


@pytest.mark.parametrize("name", [path.name for path in PROBLEMS])
def test_safe_fixes_keep_the_outputs(samples, name):
    path = samples / name
    original = execute(path)
    outcome = fix_file(path, settings=settings_for(path))
    assert outcome.problem is None
    fixed = execute(path)
    old_by_id = {cell.get("id"): cell for cell in original.cells}
    compared = 0
    for cell in fixed.cells:
        old = old_by_id.get(cell.get("id"))
        if old is None or cell.cell_type != "code" or old.source != cell.source:
            continue  # a cell a fix made or changed (`%pip` prints a note that `!pip` did not)
        assert text_outputs(cell) == text_outputs(old), (name, cell.source[:80])
        compared += 1
    assert compared >= 5


@pytest.mark.parametrize("name", [path.name for path in PROBLEMS])
def test_unsafe_fixes_still_run(samples, name):
    path = samples / name
    outcome = fix_file(path, settings=settings_for(path), unsafe=True)
    assert outcome.problem is None
    # Every fix with edits was applied (what remains is advice, such as the leakage findings').
    assert not [f.code for f in outcome.report.findings if f.fix is not None and f.fix.edits]
    # What the secret fixes read from the environment, as the user would set it.
    execute(path, {"API_KEY": "test-key", "DB_URL": "postgresql://localhost/test"})
