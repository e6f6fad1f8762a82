"""`%readiness fix`: the diff of the saved notebook, written only when it is what this kernel's session has."""
from __future__ import annotations

import nbformat
import pytest
from IPython.core.error import UsageError

from .test_magics import run, write_notebook


def saved_sources(path):
    return [cell.source for cell in nbformat.read(path, as_version=4).cells]


def test_fix_shows_the_diff_and_writes_nothing(ip, tmp_path, capsys):
    path = write_notebook(tmp_path / "nb.ipynb", ["!pip install numpy==1.26.4", "import numpy as np"])
    ip.user_ns["__session__"] = str(path)
    before = path.read_bytes()
    diff = ip.run_line_magic("readiness", "fix RP202")
    assert "-!pip install numpy==1.26.4" in diff and "+%pip install numpy==1.26.4" in diff
    assert diff.language == "diff" and "```diff" in diff._repr_markdown_()
    assert "add --write" in capsys.readouterr().out
    assert path.read_bytes() == before


def test_fix_write_writes_the_session_notebook(ip, tmp_path, capsys):
    path = write_notebook(tmp_path / "nb.ipynb", ["!pip install numpy==1.26.4", "import numpy as np",
                                                  "x = np.random.rand(3)\ny = x * 2"])
    ip.user_ns["__session__"] = str(path)
    ip.run_line_magic("readiness", "fix RP202 RP407 --write")
    assert "wrote 1 fix(es)" in capsys.readouterr().out  # RP407 is unsafe: not without --unsafe
    assert saved_sources(path)[0] == "%pip install numpy==1.26.4"
    ip.run_line_magic("readiness", "fix RP407 --unsafe --write")
    assert "SEED = 42\n" in saved_sources(path)
    assert "nothing to fix" in (ip.run_line_magic("readiness", "fix RP2 RP407 --unsafe") or "") + capsys.readouterr().out


def test_fix_write_refuses_when_the_kernel_ran_unsaved_edits(ip, tmp_path, capsys):
    path = write_notebook(tmp_path / "nb.ipynb", ["!pip install numpy==1.26.4", "a = 1"])
    ip.user_ns["__session__"] = str(path)
    before = path.read_bytes()
    run(ip, "a = 2  # edited, not saved")
    diff = ip.run_line_magic("readiness", "fix --write")
    assert "+%pip install" in diff
    assert "not written" in capsys.readouterr().out and path.read_bytes() == before


def test_fix_write_refuses_a_notebook_that_is_not_this_sessions(ip, tmp_path, capsys):
    other = write_notebook(tmp_path / "other.ipynb", ["!pip install numpy==1.26.4"])
    before = other.read_bytes()
    ip.run_line_magic("readiness", f"fix --path {other} --write")
    assert "is not the notebook of this kernel's session" in capsys.readouterr().out
    assert other.read_bytes() == before


def test_fix_without_a_notebook_file_is_a_usage_error(ip):
    run(ip, "x = 1")
    with pytest.raises(UsageError, match="no saved notebook"):
        ip.run_line_magic("readiness", "fix")


def test_in_a_kernel_the_installed_version_is_evidence_for_a_pin(ip, tmp_path, capsys):
    from importlib.metadata import version

    path = write_notebook(tmp_path / "nb.ipynb", ["%pip install packaging", "import packaging"])
    ip.user_ns["__session__"] = str(path)
    diff = ip.run_line_magic("readiness", "fix RP201")
    assert f"+%pip install packaging=={version('packaging')}" in diff
    # Another notebook than this kernel's: the kernel is no evidence for it.
    other = write_notebook(tmp_path / "other.ipynb", ["%pip install packaging"])
    assert ip.run_line_magic("readiness", f"fix RP201 --path {other}") == ""
