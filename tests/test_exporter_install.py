"""Generated packages really install with pip into a fresh venv, their generated tests pass, and
`python -m PKG` gives what the notebook gave; `jupyter nbconvert --to readiness` writes the same package."""
from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from readiness_magics.exporter import export_notebook

from .test_exporter_support import (code, make_venv, orders_cells, pip_install, run, run_generated_tests,
                                    write_orders_notebook)

SAMPLES = Path(__file__).resolve().parent.parent / "sample_notebooks"


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory) -> Path:
    return make_venv(tmp_path_factory.mktemp("venv") / "env")


def _sample(name: str) -> Path:
    path = SAMPLES / f"{name}.ipynb"
    if not path.is_file():
        pytest.skip(f"{path.name} is not in sample_notebooks/ yet")
    return path


def _assert_generated_tests_pass(python: Path, package: Path) -> str:
    done = run_generated_tests(python, package)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = done.stdout.strip().splitlines()[-1]
    assert " passed" in summary and not re.search(r"\d+ (failed|error)", summary), done.stdout
    return done.stdout


def test_clean_notebook_package_installs_and_its_tests_pass(venv_python, tmp_path):
    notebook = write_orders_notebook(tmp_path / "project")
    before = notebook.read_bytes()
    result = export_notebook(notebook, tmp_path / "out")
    assert result.written, [f.message for f in result.blocking]
    package = tmp_path / "out" / "order_totals"
    pip_install(venv_python, package)
    output = _assert_generated_tests_pass(venv_python, package)
    # imports, two characterisation tests, the end-to-end run and a test of each function on the sample; only the
    # comparison with the notebook's own outputs waits for its data
    assert "TODO" not in output and output.count("SKIPPED") == 1 and "NOTEBOOK_DATA_DIR" in output, output
    assert "7 passed" in output, output
    own_data = run([str(venv_python), "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(package / "tests")],
                   cwd=package, env={"NOTEBOOK_DATA_DIR": str(notebook.parent)})
    assert "8 passed" in own_data.stdout, own_data.stdout + own_data.stderr
    # python -m runs it with the parameters as options, from any folder
    summary = tmp_path / "run" / "summary.json"
    done = run([str(venv_python), "-m", "order_totals", "--orders-path", str(notebook.parent / "orders.csv"),
                "--summary-path", str(summary), "--tax-rate", "0.5"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert summary.is_file()
    import json

    import pandas as pd

    orders = pd.read_csv(notebook.parent / "orders.csv")
    expected = {region: round(float(orders[orders.region == region].amount.sum()) * 1.5, 2)
                for region in ("north", "south")}
    assert json.loads(summary.read_text()) == pytest.approx(expected)
    help_text = run([str(venv_python), "-m", "order_totals", "--help"]).stdout
    assert "--orders-path" in help_text and "--regions" in help_text
    assert notebook.read_bytes() == before


def test_forced_package_with_lifted_absolute_path_installs(venv_python, tmp_path):
    cells = orders_cells()
    cells[3] = code('summary_path = "out/summary.json"\ntax_rate = 0.2\nregions = ["north", "south"]', 2,
                    tags=["parameters"])
    cells[6] = code('orders = load_orders("/home/ana/projects/orders.csv")', 4)
    notebook = write_orders_notebook(tmp_path / "project", cells=cells)
    result = export_notebook(notebook, tmp_path / "out", force=True)
    assert result.written
    package = tmp_path / "out" / "order_totals"
    assert "orders_path: str = \"/home/ana/projects/orders.csv\"" in (
        package / "src" / "order_totals" / "params.py").read_text()
    pip_install(venv_python, package)
    _assert_generated_tests_pass(venv_python, package)
    summary = tmp_path / "summary.json"
    done = run([str(venv_python), "-m", "order_totals", "--orders-path", str(notebook.parent / "orders.csv"),
                "--summary-path", str(summary)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert summary.is_file()


def _execute_notebook_copy(notebook: Path, folder: Path) -> Path:
    """Run a copy of a sample notebook (with its data) top to bottom, as a person would."""
    import nbformat
    from nbclient import NotebookClient

    shutil.copytree(notebook.parent / "data", folder / "data")
    copy = folder / notebook.name
    shutil.copy(notebook, copy)
    document = nbformat.read(copy, as_version=4)
    NotebookClient(document, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
                   ).execute()
    return copy


def _export_install_and_test(name: str, venv_python: Path, tmp_path: Path) -> tuple[Path, Path]:
    notebook = _sample(name)
    before = notebook.read_bytes()
    result = export_notebook(notebook, tmp_path / "out")
    assert result.written, [f"{f.code} {f.message}" for f in result.blocking]
    assert notebook.read_bytes() == before
    package = tmp_path / "out" / name
    pip_install(venv_python, package)
    output = _assert_generated_tests_pass(venv_python, package)
    # every function of a clean sample has a test that runs on the data sample: no TODO left
    assert "TODO" not in output, output
    # on the notebook's own data, run() reproduces what the notebook showed, where it showed something
    own = run([str(venv_python), "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(package / "tests")],
              cwd=package, env={"NOTEBOOK_DATA_DIR": str(notebook.parent)})
    assert own.returncode == 0, own.stdout + own.stderr
    return notebook, package


def test_clean_churn_pipeline(venv_python, tmp_path):
    notebook, package = _export_install_and_test("clean_churn_pipeline", venv_python, tmp_path)
    done = run([str(venv_python), "-m", "clean_churn_pipeline", "--data-path", str(SAMPLES / "data" / "churn.csv")],
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    printed = dict(line.split(": ", 1) for line in done.stdout.splitlines() if line.startswith("metrics: "))
    import json

    saved = next(
        output["data"]["text/plain"]
        for cell in json.loads(notebook.read_text())["cells"]
        if cell["cell_type"] == "code" and "".join(cell["source"]).rstrip().endswith("\nmetrics")
        for output in cell["outputs"] if output["output_type"] == "execute_result"
    )
    assert ast.literal_eval(printed["metrics"]) == ast.literal_eval("".join(saved))


def test_clean_sales_report(venv_python, tmp_path):
    notebook, package = _export_install_and_test("clean_sales_report", venv_python, tmp_path)
    ran = tmp_path / "ran"
    ran.mkdir()
    _execute_notebook_copy(notebook, ran)
    report = tmp_path / "from_package" / "sales_report.csv"
    done = run([str(venv_python), "-m", "clean_sales_report", "--sales-path", str(SAMPLES / "data" / "sales.csv"),
                "--stores-path", str(SAMPLES / "data" / "stores.csv"), "--report-path", str(report)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert report.read_bytes() == (ran / "output" / "sales_report.csv").read_bytes()


def test_clean_web_funnel(venv_python, tmp_path):
    notebook, package = _export_install_and_test("clean_web_funnel", venv_python, tmp_path)
    ran = tmp_path / "ran"
    ran.mkdir()
    _execute_notebook_copy(notebook, ran)
    out = tmp_path / "from_package"
    done = run([str(venv_python), "-m", "clean_web_funnel", "--sessions-path",
                str(SAMPLES / "data" / "web_sessions.csv"), "--report-dir", str(out)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    written = sorted(p.relative_to(out) for p in out.rglob("*.csv"))
    expected = sorted(p.relative_to(ran / "output") for p in (ran / "output").rglob("*.csv"))
    assert written == expected and written
    for relative in written:
        assert (out / relative).read_bytes() == (ran / "output" / relative).read_bytes()


def _nbconvert(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    # the project's source tree, importable whether or not it is installed
    return run([sys.executable, "-m", "nbconvert", *args], cwd=cwd, pythonpath=str(SAMPLES.parent))


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_nbconvert_writes_the_same_package(tmp_path):
    notebook = write_orders_notebook(tmp_path / "project")
    export_notebook(notebook, tmp_path / "cli")
    exporter = "readiness_magics.exporter.nbconvert_exporter.ReadinessExporter"
    done = _nbconvert(["--to", exporter, str(notebook), "--output-dir", str(tmp_path / "nbc")], tmp_path)
    assert done.returncode == 0, done.stderr
    assert _files(tmp_path / "nbc" / "order_totals") == _files(tmp_path / "cli" / "order_totals")
    # never over an existing package without force
    again = _nbconvert(["--to", exporter, str(notebook), "--output-dir", str(tmp_path / "nbc")], tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_nbconvert_gate_refuses_with_status_1(tmp_path):
    cells = orders_cells() + [code("print 'done'", 12)]
    notebook = write_orders_notebook(tmp_path / "project", cells=cells)
    exporter = "readiness_magics.exporter.nbconvert_exporter.ReadinessExporter"
    done = _nbconvert(["--to", exporter, str(notebook), "--output-dir", str(tmp_path / "nbc")], tmp_path)
    assert done.returncode == 1
    assert "RP001" in done.stderr and "refused" in done.stderr
    assert not (tmp_path / "nbc" / "order_totals").exists()
    forced = _nbconvert(["--to", exporter, "--ReadinessExporter.force=True", str(notebook), "--output-dir",
                         str(tmp_path / "nbc")], tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert "## Known issues" in (tmp_path / "nbc" / "order_totals" / "README.md").read_text()


def _readiness_entry_point_usable() -> str:
    points = entry_points(group="nbconvert.exporters")
    if not any(point.name == "readiness" for point in points):
        return "the project is not installed, so the `readiness` entry point is not registered"
    for point in points:
        try:
            point.load()
        except Exception as exc:  # nbconvert loads every exporter of the group to list them
            return f"the nbconvert exporter entry point {point.name!r} does not load ({exc}); nbconvert cannot start"
    return ""


def test_nbconvert_to_readiness_by_entry_point(tmp_path):
    problem = _readiness_entry_point_usable()
    if problem:
        pytest.skip(problem)
    notebook = write_orders_notebook(tmp_path / "project")
    export_notebook(notebook, tmp_path / "cli")
    done = run([str(Path(sys.executable).parent / "jupyter"), "nbconvert", "--to", "readiness", str(notebook),
                "--output-dir", str(tmp_path / "nbc")], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert _files(tmp_path / "nbc" / "order_totals") == _files(tmp_path / "cli" / "order_totals")


def test_nbconvert_force_replaces_the_package_whole(tmp_path):
    notebook = write_orders_notebook(tmp_path / "project")
    export_notebook(notebook, tmp_path / "cli")
    exporter = "readiness_magics.exporter.nbconvert_exporter.ReadinessExporter"
    first = _nbconvert(["--to", exporter, str(notebook), "--output-dir", str(tmp_path / "nbc")], tmp_path)
    assert first.returncode == 0, first.stderr
    package = tmp_path / "nbc" / "order_totals"
    (package / "stale_module.py").write_text("left over from an older export\n")
    forced = _nbconvert(["--to", exporter, "--ReadinessExporter.force=True", str(notebook), "--output-dir",
                         str(tmp_path / "nbc")], tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert _files(package) == _files(tmp_path / "cli" / "order_totals")  # the stale file is gone
    assert sorted(p.name for p in (tmp_path / "nbc").iterdir()) == ["order_totals"]  # no staging left


def test_nbconvert_failure_mid_write_leaves_nothing(tmp_path, monkeypatch):
    from traitlets.config import Config

    from readiness_magics.exporter import writer
    from readiness_magics.exporter.nbconvert_exporter import ExportRefused, ReadinessExporter

    notebook = write_orders_notebook(tmp_path / "project")
    out = tmp_path / "nbc"
    real, written = writer._write_file, []

    def failing(root, relative, content):
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        written.append(relative)
        real(root, relative, content)

    monkeypatch.setattr(writer, "_write_file", failing)
    exporter = ReadinessExporter(config=Config({"FilesWriter": {"build_directory": str(out)}}))
    with pytest.raises(ExportRefused, match="No space left"):
        exporter.from_filename(str(notebook))
    assert len(written) == 3
    assert not out.exists() or list(out.iterdir()) == []
