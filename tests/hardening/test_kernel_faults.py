"""A linter that breaks inside a real kernel: the user's cells still run, their results are intact,
the kernel stays alive, and only `--strict` turns the failure into an error that stops Run All.

The fault is real code failing, not a mock of the magics: inside the kernel, the engine's notebook
model (every check goes through it) is patched to raise, as a bug in the engine would.
"""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 180

BREAK_THE_ENGINE = """\
import readiness_magics.analysis as _analysis
_healthy_init = _analysis.NotebookModel.__init__
def _broken_init(self, *args, **kwargs):
    raise RuntimeError("the linter broke")
_analysis.NotebookModel.__init__ = _broken_init
"""
MEND_THE_ENGINE = "_analysis.NotebookModel.__init__ = _healthy_init"


@pytest.fixture(autouse=True)
def kernel_environment(monkeypatch):
    """Kernels import this checkout; rule errors are handled as users get them, not raised as in tests."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.delenv("READINESS_RAISE_RULE_ERRORS", raising=False)


def run(folder: Path, *sources: str, allow_errors: bool = False) -> list:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    client = NotebookClient(notebook, timeout=TIMEOUT, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(folder)}})
    client.execute()
    return notebook.cells


def errors(cell) -> list:
    return [out for out in cell.outputs if out.output_type == "error"]


def result(cell) -> str:
    return "".join(out.data.get("text/plain", "") for out in cell.outputs if out.output_type == "execute_result")


def shown(cell) -> str:
    texts = [out.get("text", "") for out in cell.outputs if out.output_type == "stream"]
    texts += [out.data.get("text/plain", "") for out in cell.outputs if out.output_type in ("display_data", "execute_result")]
    return "".join(texts)


def test_a_broken_linter_never_breaks_the_users_cells(tmp_path):
    saved = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("p = '/home/ana/data.csv'")])
    nbformat.write(saved, tmp_path / "saved.ipynb")
    before = (tmp_path / "saved.ipynb").read_bytes()
    cells = run(
        tmp_path,
        "%load_ext readiness_magics\nimport os\npid = os.getpid()",  # 0
        BREAK_THE_ENGINE,  # 1
        "r = %readiness --no-ruff\nprint(r.error.kind, r.error.message)\n40 + 2",  # 2: the check of the history
        "%readiness saved.ipynb --no-ruff",  # 3: the check of a saved notebook
        "%readiness --format text --no-ruff",  # 4
        "%%readiness --no-ruff\nvalue = 6 * 7\nvalue",  # 5: the cell still runs, its value shown
        "%readiness on",  # 6
        "p = '/home/ana/data.csv'\nlen(p)",  # 7: watch mode fails on every cell; the cell runs
        "%readiness status",  # 8
        "%readiness export pkg --notebook saved.ipynb",  # 9
        "%readiness pin saved.ipynb",  # 10
        "os.getpid() == pid",  # 11: the same kernel, alive
        MEND_THE_ENGINE + "\n%readiness off",  # 12
        "r = %readiness saved.ipynb --no-ruff\nsorted({f.code for f in r.findings})",  # 13: it works again
    )
    for number, cell in enumerate(cells):
        assert not errors(cell), (number, cell.source, errors(cell))
    assert result(cells[2]) == "42"
    assert "internal-error" in shown(cells[2]) and "the linter broke" in shown(cells[2])
    assert "RuntimeError" in shown(cells[3]) or "the linter broke" in shown(cells[3])
    assert result(cells[5]) == "42"
    watched = [line for line in shown(cells[7]).splitlines() if line.startswith("readiness")]
    assert len(watched) == 1 and "could not check this cell" in watched[0]
    assert result(cells[7]) == "18"
    assert "the linter broke" in shown(cells[8])  # the traceback is kept for whoever asks
    assert result(cells[11]) == "True"
    assert "'RP101'" in result(cells[13])
    assert (tmp_path / "saved.ipynb").read_bytes() == before
    assert not (tmp_path / "pkg").exists() or not any((tmp_path / "pkg").rglob("*.py"))


def test_strict_turns_the_broken_linter_into_an_error_that_stops_run_all(tmp_path):
    with pytest.raises(CellExecutionError):
        run(tmp_path, "%load_ext readiness_magics", BREAK_THE_ENGINE, "%readiness --strict --no-ruff",
            "after = 'must not run'")
    cells = run(tmp_path, "%load_ext readiness_magics", BREAK_THE_ENGINE, "%readiness --strict --no-ruff",
                "%%readiness --strict --no-ruff\nvalue = 1", "after = 'runs with allow_errors'", allow_errors=True)
    for cell in cells[2:4]:
        [error] = errors(cell)
        assert error.ename == "ReadinessFailure", error
        assert "the linter broke" in error.evalue or "internal" in error.evalue
    assert not errors(cells[4])
