"""Real notebooks by other people: every one gets findings or a clear error, and nothing crashes or hangs."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("READINESS_CORPUS", ROOT.parent / "shared" / "corpus"))

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS} (set READINESS_CORPUS)")


def test_every_corpus_notebook_gets_findings_or_a_clear_error():
    notebooks = sorted(CORPUS.rglob("*.ipynb"))
    # A rule that raises fails this run (READINESS_RAISE_RULE_ERRORS), and the timeout catches a hang.
    result = subprocess.run(
        [sys.executable, "-m", "readiness_magics", "check", "--format", "json", "--no-progress", str(CORPUS)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "READINESS_RAISE_RULE_ERRORS": "1"},
    )
    assert result.returncode in (1, 2), result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert len(report["notebooks"]) == len(notebooks)
    for entry in report["notebooks"]:
        assert entry["error"] or entry["findings"], entry["path"]
        if entry["error"]:
            assert entry["error"]["message"]
    categories = {f["category"] for entry in report["notebooks"] for f in entry["findings"]}
    assert {"hardcoded-path", "unpinned-dependency", "missing-data-check", "untestable-code", "hidden-state",
            "code-quality", "notebook-format"} <= categories
