"""Every command that touches a notebook leaves it byte-identical, with the same mtime and inode,
and leaves nothing beside it (but `readiness check`'s cache folder, which ignores itself in git): the CLI's check (each format) and export, nbconvert's `--to readiness`
and `--to readiness-report`, the pytest plugin, the pre-commit entry, the magics' check, pin and
export in a real kernel, and the server's check and export.

The notebooks are saved in a form nbformat would never write (CRLF line ends, four-space indents,
non-ASCII text, keys out of order, trailing blank lines), so a tool that reads and writes back
"the same" notebook shows up here as a changed byte.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TIMEOUT = 300

DIRTY_CELLS = [
    {"source": "# Ventes trimestrielles — données brutes\n\nChargement et résumé.", "metadata": {},
     "cell_type": "markdown", "id": "intro"},
    {"outputs": [], "execution_count": 1, "cell_type": "code", "metadata": {"tags": ["parameters"]}, "id": "params",
     "source": ["region = 'nord'\r\n", "threshold = 10"]},
    {"cell_type": "code", "id": "load", "execution_count": 2, "metadata": {},
     "source": "import pandas as pd\ndata = pd.read_csv('/home/ana/ventes.csv')\nAPI_KEY = 'sk-" + "z" * 40 + "'",
     "outputs": [{"output_type": "stream", "name": "stdout", "text": ["ok\r\n"]}]},
    {"cell_type": "code", "id": "sum", "execution_count": 3, "metadata": {},
     "source": "def total(frame):\n    return frame['amount'].sum()\n\ntotal(data)",
     "outputs": [{"output_type": "execute_result", "execution_count": 3, "metadata": {},
                  "data": {"text/plain": ["42"]}}]},
]
CLEAN_CELLS = [
    {"cell_type": "markdown", "id": "intro", "metadata": {}, "source": "# Doubling\n\nDoubles a number."},
    {"cell_type": "code", "id": "fn", "execution_count": 1, "metadata": {}, "outputs": [],
     "source": "def double(x: int) -> int:\n    return x * 2"},
    {"cell_type": "code", "id": "use", "execution_count": 2, "metadata": {},
     "outputs": [{"output_type": "execute_result", "execution_count": 2, "metadata": {}, "data": {"text/plain": ["4"]}}],
     "source": "double(2)"},
]


def write_odd(path: Path, cells: list) -> Path:
    notebook = {"cells": cells, "nbformat_minor": 5, "nbformat": 4,
                "metadata": {"language_info": {"name": "python"},
                             "kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}}
    text = json.dumps(notebook, indent=4, ensure_ascii=False).replace("\n", "\r\n") + "\r\n\r\n"
    path.write_bytes(text.encode("utf-8"))
    return path


class Untouched:
    """What must not change: the notebooks' bytes, mtimes and inodes, and the folder's listing."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.before = self.state()

    def state(self):
        files = {p.name: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino)
                 for p in sorted(self.folder.iterdir()) if p.suffix == ".ipynb"}
        # The one folder a check may add, as ruff adds .ruff_cache: its cache, which ignores itself in git.
        return files, sorted(p.name for p in self.folder.iterdir() if p.name != ".readiness_cache")

    def check(self):
        files, listing = self.state()
        assert listing == self.before[1], "files appeared or vanished beside the notebooks"
        for name, (data, mtime, inode) in self.before[0].items():
            assert files[name][0] == data, f"{name} was rewritten"
            assert files[name][1:] == (mtime, inode), f"{name} was replaced or touched"


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    write_odd(folder / "ventes.ipynb", DIRTY_CELLS)
    write_odd(folder / "doubling.ipynb", CLEAN_CELLS)
    (folder / "requirements.txt").write_text("pandas==2.2.2\n")
    return folder


def run(command: list[str], cwd: Path, **env) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **env}
    environment.pop("READINESS_RAISE_RULE_ERRORS", None)
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, env=environment,
                          check=False)


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "junit"])
def test_cli_check(project, tmp_path, fmt):
    untouched = Untouched(project)
    done = run([str(BIN / "readiness"), "check", "--format", fmt, "--no-progress", "."], project)
    assert done.returncode == 1, done.stderr
    untouched.check()
    report = tmp_path / f"report.{fmt}"
    done = run([str(BIN / "readiness"), "check", "--format", fmt, "-o", str(report), "--jobs", "2",
                "ventes.ipynb", "doubling.ipynb"], project)
    assert done.returncode == 1 and report.stat().st_size > 0
    untouched.check()
    assert (project / ".readiness_cache" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_pre_commit_entry(project):
    hook = next(h for h in __import__("yaml").safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
                if h["id"] == "readiness")
    untouched = Untouched(project)
    done = run([*hook["entry"].replace("readiness", str(BIN / "readiness"), 1).split(), "ventes.ipynb",
                "doubling.ipynb"], project)
    assert done.returncode == 1, done.stderr
    untouched.check()


@pytest.mark.parametrize("variant", ["refused", "forced", "clean"])
def test_cli_export(project, tmp_path, variant):
    notebook = "doubling.ipynb" if variant == "clean" else "ventes.ipynb"
    untouched = Untouched(project)
    out = tmp_path / "out"
    command = [str(BIN / "readiness"), "export", notebook, "-o", str(out)] + (["--force"] if variant == "forced" else [])
    done = run(command, project)
    assert done.returncode == (1 if variant == "refused" else 0), done.stdout + done.stderr
    untouched.check()
    if variant != "refused":
        again = run(command + ["--force"] if variant == "clean" else command, project)  # replacing the package
        assert again.returncode == 0, again.stderr
        untouched.check()


@pytest.mark.parametrize(("to", "notebook", "status"), [
    ("readiness", "doubling.ipynb", 0),
    ("readiness", "ventes.ipynb", 1),  # the gate refuses
    ("readiness-report", "ventes.ipynb", 1),
    ("readiness-report", "doubling.ipynb", 0),
    ("readiness-report-md", "ventes.ipynb", 1),
])
def test_nbconvert(project, tmp_path, to, notebook, status):
    untouched = Untouched(project)
    done = run([str(BIN / "jupyter"), "nbconvert", "--to", to, notebook, "--output-dir", str(tmp_path / "out")],
               project)
    assert done.returncode == status, done.stderr[-3000:]
    untouched.check()


def test_pytest_plugin(project):
    untouched = Untouched(project)
    done = run([sys.executable, "-m", "pytest", "--readiness", "-p", "no:cacheprovider", "-q",
                "ventes.ipynb", "doubling.ipynb"], project)
    assert done.returncode == 1, done.stdout[-3000:]
    assert "ventes.ipynb" in done.stdout
    untouched.check()


def test_magics_in_a_real_kernel(project, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    untouched = Untouched(project)
    runner = nbformat.v4.new_notebook()
    runner.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    out = tmp_path / "pkg"
    runner.cells = [nbformat.v4.new_code_cell(source) for source in (
        "%load_ext readiness_magics",
        "r = %readiness ventes.ipynb\nassert r.findings and r.error is None",
        "r = %readiness doubling.ipynb --format json\nassert r.error is None",
        "%readiness pin ventes.ipynb",
        f"%readiness export {out} --notebook doubling.ipynb",
        f"%readiness export {out} --notebook doubling.ipynb --force",
        "%readiness on\nx = 1",
        "%readiness off",
    )]
    NotebookClient(runner, timeout=TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(project)}}).execute()
    assert (out / "doubling" / "pyproject.toml").is_file()
    untouched.check()


@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": {"readiness_magics": True}}}


async def test_server_check_and_export(jp_fetch, jp_root_dir):
    folder = jp_root_dir / "project"
    folder.mkdir()
    write_odd(folder / "ventes.ipynb", DIRTY_CELLS)
    write_odd(folder / "doubling.ipynb", CLEAN_CELLS)
    untouched = Untouched(folder)
    for endpoint, payload in (
        ("check", {"path": "project/ventes.ipynb"}),
        ("check", {"path": "project/doubling.ipynb", "content": json.loads((folder / "doubling.ipynb").read_text())}),
        ("export", {"path": "project/ventes.ipynb", "output_dir": "out"}),
        ("export", {"path": "project/ventes.ipynb", "output_dir": "out", "force": True}),
        ("export", {"path": "project/doubling.ipynb", "output_dir": "out"}),
    ):
        response = await jp_fetch("readiness", endpoint, method="POST", body=json.dumps(payload), raise_error=False)
        assert response.code == 200, (endpoint, payload, response.body)
        untouched.check()
