"""Odd things beside and instead of a notebook on disk: symlink loops, dangling links, pipes.

Each one once crashed a rule, hung the CLI or turned a report into a traceback; now each is an
answer (findings, or "cannot read" for that one file) and the other notebooks are still checked.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from readiness_magics.engine import check_file
from readiness_magics.notebook import NotebookError, read_notebook
from readiness_magics.report import display_path

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="symlinks and FIFOs")

READINESS = Path(sys.executable).parent / "readiness"


@pytest.fixture
def odd_folder(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Odd folder"),
        nbformat.v4.new_code_cell("import pandas as pd\nimport helpers\nframe = pd.DataFrame()"),
    ])
    nbformat.write(notebook, tmp_path / "analysis.ipynb")
    os.symlink("loop.ipynb", tmp_path / "loop.ipynb")  # a link to itself
    os.symlink("looping", tmp_path / "looping")  # a folder-like name that loops (importable name)
    os.symlink("nowhere", tmp_path / "dangling.ipynb")
    os.symlink(tmp_path / "gone", tmp_path / "gone_module.py")
    os.mkfifo(tmp_path / "pipe.ipynb")  # reading it would wait forever for a writer
    return tmp_path


def test_every_rule_survives_a_folder_of_odd_entries(odd_folder):
    # READINESS_RAISE_RULE_ERRORS is on in the tests: a rule tripping over the folder fails here.
    report = check_file(odd_folder / "analysis.ipynb", use_ruff=False)
    assert report.error is None
    assert "RP203" in {f.code for f in report.findings}  # the dependency rules still ran


@pytest.mark.parametrize(("name", "kind"), [
    ("loop.ipynb", "unreadable"),
    ("dangling.ipynb", "not-found"),
    ("pipe.ipynb", "not-a-file"),
])
def test_odd_entries_as_the_notebook_are_clear_errors(odd_folder, name, kind):
    with pytest.raises(NotebookError) as caught:
        read_notebook(odd_folder / name)
    assert caught.value.kind == kind
    report = check_file(odd_folder / name, use_ruff=False)
    assert report.error is not None and report.error.kind == kind
    json.dumps(report.to_dict())


def test_display_path_of_a_symlink_loop(odd_folder, monkeypatch):
    monkeypatch.chdir(odd_folder)
    assert display_path(odd_folder / "loop.ipynb").endswith("loop.ipynb")


@pytest.mark.parametrize("ruff", [False, True], ids=["no-ruff", "ruff"])
def test_cli_on_the_folder_finishes_and_reports_each_file(odd_folder, ruff):
    command = [str(READINESS), "check", "--format", "json", str(odd_folder)] + ([] if ruff else ["--no-ruff"])
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=odd_folder, check=False)
    assert done.returncode == 2, done.stderr  # some files could not be read
    assert "Traceback" not in done.stderr
    entries = {Path(entry["path"]).name: entry for entry in json.loads(done.stdout)["notebooks"]}
    assert entries["analysis.ipynb"]["error"] is None and entries["analysis.ipynb"]["findings"]
    assert entries["pipe.ipynb"]["error"]["kind"] == "not-a-file"
    assert entries["loop.ipynb"]["error"]["kind"] == "unreadable"


def test_export_of_a_notebook_beside_odd_entries(odd_folder):
    from readiness_magics.exporter import export_notebook

    before = (odd_folder / "analysis.ipynb").read_bytes()
    result = export_notebook(odd_folder / "analysis.ipynb", odd_folder / "out", force=True)
    assert result.status == "written"
    assert (Path(result.output) / "pyproject.toml").is_file()
    assert (odd_folder / "analysis.ipynb").read_bytes() == before
