"""The magics in real kernels: notebooks run by nbclient, a kernel started by a jupyter_server session,
and the extension loaded for every kernel from ipython_config.py."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 180


@pytest.fixture(autouse=True)
def kernel_can_import_the_package(monkeypatch):
    """Kernels are separate processes: make sure they import this checkout, installed or not."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)


def make_notebook(*sources: str) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    return notebook


def execute(notebook, folder: Path, **kwargs) -> nbformat.NotebookNode:
    client = NotebookClient(notebook, timeout=TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}}, **kwargs)
    client.execute()
    return notebook


def stream_text(cell) -> str:
    return "".join(out.get("text", "") for out in cell.outputs if out.output_type == "stream")


def result_text(cell) -> str:
    return "".join(out.data.get("text/plain", "") for out in cell.outputs if out.output_type == "execute_result")


def test_a_notebook_that_uses_the_magics(tmp_path):
    notebook = make_notebook(
        "%load_ext readiness_magics\n%load_ext readiness_magics",  # 0: twice is harmless
        "import os\npid = os.getpid()\nimport pandas as pd\nframe = pd.DataFrame({'a': [1, 2, 3]})",  # 1
        "%readiness --no-ruff",  # 2: the kernel's history, shown as HTML and text
        "%readiness on",  # 3
        "p = '/home/ana/data.csv'\nlen(p)",  # 4: a finding under the cell, and its result
        "from pathlib import Path\n"  # 5: break the linter for every later cell (a real fault)
        "_ = Path('pyproject.toml').write_text('[tool.readiness]\\nno-such-setting = 1\\n')",
        "40 + 2",  # 6: still runs, with its result intact
        "os.getpid() == pid",  # 7: the same kernel is alive
        "%readiness off\nPath('pyproject.toml').unlink()",  # 8
        "%%readiness --no-ruff\ndef first():\n    return int(frame['a'][0])\nfirst()",  # 9
        "%readiness datacheck frame --style asserts",  # 10
    )
    cells = execute(notebook, tmp_path).cells
    assert all(out.output_type != "error" for cell in cells for out in cell.outputs)
    assert stream_text(cells[0]).startswith("The readiness_magics extension is already loaded")  # IPython's own
    report = next(out for out in cells[2].outputs if out.output_type == "execute_result")
    assert "run in this kernel" in report.data["text/plain"]
    assert "<table" in report.data["text/html"] or "No findings" in report.data["text/html"]
    assert "watch mode on" in stream_text(cells[3])
    watched = stream_text(cells[4]).strip().splitlines()
    assert 1 <= len(watched) <= 2 and "RP101" in watched[0]
    assert result_text(cells[4]) == "18"
    failure = stream_text(cells[6]).strip().splitlines()
    assert len(failure) == 1 and failure[0].startswith("readiness: could not check this cell (ConfigError")
    assert result_text(cells[6]) == "42"
    assert result_text(cells[7]) == "True"
    # %%readiness: the findings (in context: `frame` comes from another cell), then the cell's value.
    shown = [out for out in cells[9].outputs if out.output_type == "display_data"]
    assert shown and "RP401" in shown[0].data["text/plain"] and "text/html" in shown[0].data
    assert result_text(cells[9]) == "1"
    assert "assert list(frame.columns) == " in result_text(cells[10])


def test_strict_stops_the_notebook(tmp_path):
    notebook = make_notebook(
        "%load_ext readiness_magics",
        "data = open('/home/ana/data.csv') if False else None",
        "%readiness --strict --no-ruff",
        "after = 'this cell must not run'",
    )
    with pytest.raises(CellExecutionError) as raised:
        execute(notebook, tmp_path)
    assert "ReadinessFailure" in str(raised.value)
    cells = notebook.cells
    error = next(out for out in cells[2].outputs if out.output_type == "error")
    assert error.ename == "ReadinessFailure" and "RP101" in error.evalue
    assert any(out.output_type == "display_data" for out in cells[2].outputs)  # the report, shown first
    assert cells[3].execution_count is None and cells[3].outputs == []


def test_a_saved_notebook_checks_itself_by_path(tmp_path):
    # Under nbclient (or papermill) no session names the notebook: pass its path.
    notebook = make_notebook(
        "%load_ext readiness_magics",
        "x = 1",
        "r = %readiness run_me.ipynb --no-ruff --format json\nr",
    )
    nbformat.write(notebook, tmp_path / "run_me.ipynb")
    cells = execute(notebook, tmp_path).cells
    data = json.loads(result_text(cells[2]))
    assert data["checked"] == "run_me.ipynb" and data["error"] is None
    assert data["notes"] == []  # what ran is what is saved: no unsaved-edits warning


def test_ipython_config_loads_it_for_every_kernel(tmp_path, monkeypatch):
    profile = tmp_path / "ipython" / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipython_config.py").write_text(
        'c.InteractiveShellApp.extensions = ["readiness_magics"]\n'
        'c.InteractiveShellApp.exec_lines = ["%readiness on"]\n'
    )
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    notebook = make_notebook("p = '/home/ana/data.csv'", "%readiness status")
    cells = execute(notebook, tmp_path).cells
    assert "RP101" in stream_text(cells[0])  # watch mode was on from the start, no %load_ext needed
    assert "watch mode: on" in stream_text(cells[1])


# --- a kernel started by a real jupyter_server session ---------------------------------------------

async def _run_in_kernel(kernel_manager, code: str) -> str:
    client = kernel_manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=TIMEOUT)
        texts: list[str] = []

        def keep(message):
            content = message["content"]
            if message["msg_type"] == "stream":
                texts.append(content["text"])
            elif message["msg_type"] == "error":
                texts.append("ERROR " + content["ename"] + ": " + content["evalue"])

        for cell in code.split("\n# --\n"):
            await client.execute_interactive(cell, output_hook=keep, timeout=TIMEOUT)
        return "".join(texts)
    finally:
        client.stop_channels()


@pytest.mark.parametrize("with_name", [True, False], ids=["absolute-session-path", "root-relative-path"])
async def test_the_session_notebook_is_found(jp_fetch, jp_root_dir, jp_serverapp, with_name):
    folder = jp_root_dir / "team" / "analysis"
    folder.mkdir(parents=True)
    saved = make_notebook("import os", "source = '/home/ana/sales.csv'")
    nbformat.write(saved, folder / "sales.ipynb")
    model = {"path": "team/analysis/sales.ipynb", "type": "notebook", "kernel": {"name": "python3"}}
    if with_name:
        model["name"] = "sales.ipynb"
    response = await jp_fetch("api", "sessions", method="POST", body=json.dumps(model))
    session = json.loads(response.body)
    kernel_manager = jp_serverapp.kernel_manager.get_kernel(session["kernel"]["id"])
    try:
        output = await _run_in_kernel(kernel_manager, "%load_ext readiness_magics\n# --\nimport os\n# --\nsource = '/home/ana/sales.csv'\n# --\nr = %readiness --no-ruff\nprint(r.checked)\nprint(sorted({f.code for f in r.findings}))\nprint('notes:', r.notes)\n# --\nx = 'not in the saved file'\n# --\nr = %readiness --no-ruff\nprint('notes:', r.notes)")
    finally:
        await jp_fetch("api", "sessions", session["id"], method="DELETE")
    assert "ERROR" not in output, output
    assert "sales.ipynb (the notebook of this Jupyter session)" in output
    assert "'RP101'" in output
    notes = [line for line in output.splitlines() if line.startswith("notes:")]
    assert notes[0] == "notes: []"
    assert "unsaved edits are not included" in notes[1]


def test_python_is_the_one_of_this_environment():
    # The kernels above run this interpreter (ipykernel's native spec), so they see its packages.
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.argv[0] in ("python", sys.executable, "python3") or Path(spec.argv[0]).exists()
