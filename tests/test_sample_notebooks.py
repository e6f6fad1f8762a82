"""The sample notebooks run top to bottom in a fresh kernel, and running them never writes the file.

Each notebook is executed with a real ipykernel (kernel ``python3`` of the running interpreter)
whose working directory is ``sample_notebooks/``, as a user would run it from there.
``%pip``/``!pip`` lines in the samples are part of what they demonstrate; the kernel gets
``PIP_NO_INDEX=1`` so those lines can never download anything or change the test environment
(pip only reports what is installed, or prints an error the notebook ignores).
"""

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import ipykernel  # noqa: F401  (the kernel the notebooks run in must be importable here)
import nbformat
import pytest
from nbclient import NotebookClient

SAMPLES = Path(__file__).resolve().parent.parent / "sample_notebooks"
NOTEBOOKS = sorted(SAMPLES.glob("*.ipynb"))
CLEAN = [p for p in NOTEBOOKS if p.name.startswith("clean_")]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)$")


def _kernel_env():
    env = dict(os.environ)
    env.update(
        PIP_NO_INDEX="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        MPLBACKEND="Agg",
        # `!pip` resolves through PATH: make it the kernel interpreter's own pip
        PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
    )
    return env


def _requirements():
    pins = {}
    for line in (SAMPLES / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            m = PIN.match(line)
            assert m, f"requirements.txt: {line!r} is not pinned with =="
            pins[m.group(1).lower()] = m.group(2)
    return pins


def test_there_are_enough_samples():
    assert len(NOTEBOOKS) >= 7
    assert len(CLEAN) >= 2
    assert len(NOTEBOOKS) - len(CLEAN) >= 5


def test_sample_packages_are_installed():
    missing = []
    for name in _requirements():
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    assert not missing, f"sample_notebooks/requirements.txt needs {missing} in the test environment"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_well_formed(path):
    nb = nbformat.read(str(path), as_version=nbformat.NO_CONVERT)
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
    assert nb.metadata.kernelspec.name == "python3"
    assert nb.metadata.language_info.name == "python"
    ids = [cell.id for cell in nb.cells]
    assert all(ids) and len(set(ids)) == len(ids)


@pytest.mark.parametrize("path", CLEAN, ids=lambda p: p.stem)
def test_clean_notebook_is_saved_in_order_and_pinned(path):
    nb = nbformat.read(str(path), as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code" and cell.source.strip()]
    counts = [cell.execution_count for cell in code]
    assert counts[0] == 1 and all(a < b for a, b in zip(counts, counts[1:])), counts  # gaps are fine
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert any("parameters" in cell.metadata.get("tags", []) for cell in code)
    installs = [line for line in code[0].source.splitlines() if line.startswith("%pip install")]
    assert installs, "the first code cell pins what the notebook installs"
    pins = _requirements()
    for token in installs[0].split()[2:]:
        if token.startswith("-"):
            continue
        m = PIN.match(token)
        assert m, f"unpinned install {token!r}"
        assert pins.get(m.group(1).lower()) == m.group(2), f"{token} disagrees with requirements.txt"


def test_data_files_match_their_generator(tmp_path):
    subprocess.run([sys.executable, str(SAMPLES / "make_data.py"), str(tmp_path)], check=True)
    generated = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    committed = {p.name: p.read_bytes() for p in (SAMPLES / "data").iterdir()}
    assert generated.keys() == committed.keys()
    assert [name for name in generated if generated[name] != committed[name]] == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path):
    before = path.read_bytes()
    nb = nbformat.reads(before.decode("utf-8"), as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=120,
        allow_errors=False,
        record_timing=False,
        resources={"metadata": {"path": str(SAMPLES)}},
    )
    client.execute(env=_kernel_env())  # raises CellExecutionError on the first failing cell
    ran = [cell for cell in nb.cells if cell.cell_type == "code" and cell.source.strip()]
    assert all(cell.execution_count for cell in ran)
    assert not [o for cell in ran for o in cell.outputs if o.output_type == "error"]
    assert path.read_bytes() == before, "executing the notebook must not write it back"
