"""`readiness export --force` on real notebooks by other people: never a traceback, and every package it writes
parses and defines every name it uses (ruff F821 and Python's own symbol tables agree).

A fixed subset of 60 corpus notebooks by default (a minute or two); `make export-sweep` (READINESS_EXPORT_SWEEP=all)
runs every notebook of the corpus.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
from pathlib import Path

import pytest

from readiness_magics.exporter import ExportError, export_notebook
from readiness_magics.exporter.undefined import undefined_names
from readiness_magics.ruff_bridge import ruff_binary

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("READINESS_CORPUS", ROOT.parent / "shared" / "corpus"))
SUBSET = 60

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS} (set READINESS_CORPUS)")


def _notebooks() -> list[Path]:
    notebooks = sorted(CORPUS.rglob("*.ipynb"))
    if os.environ.get("READINESS_EXPORT_SWEEP") == "all" or len(notebooks) <= SUBSET:
        return notebooks
    step = len(notebooks) / SUBSET  # spread over every project of the corpus, the same ones on every run
    return [notebooks[int(number * step)] for number in range(SUBSET)]


def test_export_force_over_real_notebooks(tmp_path):
    written: list[Path] = []
    refused: list[str] = []
    for number, notebook in enumerate(_notebooks()):
        try:
            result = export_notebook(notebook, tmp_path, name=f"pkg{number}", force=True)
        except ExportError as exc:  # a clear refusal (an unreadable file): allowed, with a message
            assert exc.message and "\n" not in exc.message.strip(), notebook
            refused.append(exc.message)
            continue
        assert result.written, notebook
        written.append(tmp_path / f"pkg{number}")
    assert written
    for package in written:
        for path in package.rglob("*.py"):
            ast.parse(path.read_text(encoding="utf-8"), str(path))
        pipeline = package / "src" / package.name / "pipeline.py"
        assert undefined_names(pipeline.read_text(encoding="utf-8")) == [], pipeline
    # ruff's F821 over what was written, the measure a user's linter would give
    done = subprocess.run([ruff_binary(), "check", "--no-cache", "--isolated", "--select", "F821,F823",
                           "--output-format", "json", *[str(p / "src" / p.name) for p in written]],
                          capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1), done.stderr
    undefined = sorted({Path(d["filename"]).relative_to(tmp_path).parts[0] for d in json.loads(done.stdout or "[]")})
    assert undefined == [], undefined
