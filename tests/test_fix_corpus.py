"""`readiness check --fix` on copies of every real notebook: only what the fixes touch changes, once."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from readiness_magics.fixes.apply import validation_error

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("READINESS_CORPUS", ROOT.parent / "shared" / "corpus")) / "real"

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS} (set READINESS_CORPUS)")


def readiness(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "READINESS_RAISE_RULE_ERRORS": "1"}
    return subprocess.run([sys.executable, "-m", "readiness_magics", "check", "--no-progress", *args],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=1500, check=False)


def indentation(raw: bytes) -> str:
    match = re.match(rb"\{\r?\n([ \t]*)\"", raw)
    return match.group(1).decode() if match else ""


def without_source(cell: dict) -> dict:
    return {key: value for key, value in cell.items() if key != "source"}


@pytest.fixture(scope="module")
def fixed_copy(tmp_path_factory):
    """The corpus copied (with the files beside the notebooks, which are evidence), fixed with every fix."""
    copy = tmp_path_factory.mktemp("corpus") / "real"
    shutil.copytree(CORPUS, copy)
    originals = {path.relative_to(copy): path.read_bytes() for path in copy.rglob("*.ipynb")}
    before = readiness("--format", "json", "--unsafe-fixes", ".", cwd=copy)
    assert "Traceback" not in before.stderr, before.stderr[-2000:]
    fixable = {Path(entry["path"]) for entry in json.loads(before.stdout)["notebooks"]
               if any(f["fix"] and f["fix"].get("edits") for f in entry["findings"])}
    result = readiness("--fix", "--unsafe-fixes", "--format", "json", ".", cwd=copy)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    return copy, originals, fixable, result


def test_notebooks_without_fixable_findings_are_byte_identical(fixed_copy):
    copy, originals, fixable, _ = fixed_copy
    unchanged = [name for name in originals if name not in fixable]
    assert len(unchanged) > 10
    for name in unchanged:
        assert (copy / name).read_bytes() == originals[name], name


def test_fixed_notebooks_differ_only_in_edited_sources_and_added_or_deleted_cells(fixed_copy):
    copy, originals, fixable, _ = fixed_copy
    changed = 0
    for name, raw in originals.items():
        after = (copy / name).read_bytes()
        if after == raw:
            continue
        changed += 1
        assert name in fixable, name
        assert validation_error(after) is None, name
        assert indentation(after) == indentation(raw), name
        old, new = json.loads(raw), json.loads(after)
        assert list(old) == list(new), name  # key order of the notebook itself
        assert {k: v for k, v in old.items() if k != "cells"} == {k: v for k, v in new.items() if k != "cells"}
        kept = [cell for cell in new["cells"] if "readiness-fix" not in cell.get("metadata", {}).get("tags", ())]
        position = 0
        for cell in old["cells"]:
            if position < len(kept) and without_source(kept[position]) == without_source(cell) \
                    and list(kept[position]) == list(cell):
                position += 1
                continue
            # A cell no longer there was deleted by a fix: an empty one, or one a fix emptied (no outputs lost).
            assert not cell.get("outputs"), (name, cell.get("id"))
        assert position == len(kept), name
    assert changed > 100


def test_a_second_run_changes_nothing(fixed_copy):
    copy, originals, _, _ = fixed_copy
    snapshot = {name: (copy / name).read_bytes() for name in originals}
    again = readiness("--diff", "--unsafe-fixes", ".", cwd=copy)
    assert again.returncode == 0 and again.stdout == "", again.stdout[-3000:]
    assert {name: (copy / name).read_bytes() for name in originals} == snapshot


def test_after_fixing_the_report_still_covers_every_notebook(fixed_copy):
    _copy, originals, _, result = fixed_copy
    report = json.loads(result.stdout)
    assert len(report["notebooks"]) == len(originals)
    # What remains carries no fix that could still be applied (or the loop stopped early).
    leftover = [(entry["path"], f["code"]) for entry in report["notebooks"] for f in entry["findings"]
                if f["fix"] and f["fix"].get("edits")]
    assert len(leftover) < len(originals) // 10, leftover[:20]
