"""The exporter without installing anything: gate, force, overwrite, names, atomic write, determinism, content."""
from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
from pathlib import Path

import pytest

from readiness_magics.exporter import ExportError, build_package, check_package_name, export_notebook
from readiness_magics.exporter import writer
from readiness_magics.exporter.cli import add_export_command, run_export
from readiness_magics.exporter.names import PackageNameError
from readiness_magics.notebook import read_notebook
from readiness_magics.ruff_bridge import ruff_binary

from .test_exporter_support import code, markdown, notebook_json, orders_cells, write_orders_notebook


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="readiness")
    add_export_command(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    assert args.handler is run_export
    return args.handler(args)


@pytest.fixture
def orders(tmp_path) -> Path:
    return write_orders_notebook(tmp_path / "project")


def _export(path: Path, out: Path, **kw):
    result = export_notebook(path, out, **kw)
    assert result.written, "\n".join(f"{f.code} cell {f.cell_index}: {f.message}" for f in result.blocking)
    return result


def test_clean_notebook_gives_the_package_layout(orders, tmp_path):
    before = orders.read_bytes()
    result = _export(orders, tmp_path / "out")
    assert orders.read_bytes() == before
    package = tmp_path / "out" / "order_totals"
    assert result.output == str(package)
    assert sorted(result.files) == [
        "README.md", "pyproject.toml", "src/order_totals/__init__.py", "src/order_totals/__main__.py",
        "src/order_totals/params.py", "src/order_totals/pipeline.py", "tests/conftest.py",
        "tests/data/orders.csv", "tests/test_pipeline.py",
    ]
    for name in result.files:
        assert (package / name).is_file()
        if name.endswith(".py"):
            ast.parse((package / name).read_text())
    assert result.to_dict()["status"] == "written"
    assert json.dumps(result.to_dict())


def test_params_pipeline_and_dependencies(orders, tmp_path):
    _export(orders, tmp_path / "out")
    src = tmp_path / "out" / "order_totals" / "src" / "order_totals"
    params = (src / "params.py").read_text()
    assert 'orders_path: str = "orders.csv"' in params
    assert "tax_rate: float = 0.2" in params
    assert "regions: list = field(default_factory=lambda: [" in params
    pipeline = (src / "pipeline.py").read_text()
    tree = ast.parse(pipeline)
    names = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    # the notebook's functions, one step per markdown section, then run()
    assert names == ["load_orders", "add_tax", "totals_by_region", "write_summary", "load", "totals_step", "write",
                     "run"]
    assert "orders.head()" not in pipeline  # display-only lines are dropped
    assert "get_ipython" not in pipeline and "%pip" not in pipeline
    assert "global " not in pipeline and "pickle" not in pipeline
    assert "def totals_step(params: Params, orders):" in pipeline
    assert "def write(params: Params, totals):" in pipeline
    assert 'return {"totals": totals, "written": written}' in pipeline
    pyproject = (tmp_path / "out" / "order_totals" / "pyproject.toml").read_text()
    from importlib.metadata import version

    assert f'"pandas=={version("pandas")}"' in pyproject
    readme = (tmp_path / "out" / "order_totals" / "README.md").read_text()
    assert "| `pandas==" in readme and "| notebook |" in readme


def test_generated_tests_characterise_literal_calls_and_sample_the_data(orders, tmp_path):
    _export(orders, tmp_path / "out")
    package = tmp_path / "out" / "order_totals"
    tests = (package / "tests" / "test_pipeline.py").read_text()
    assert "result = pipeline.add_tax(100.0, 0.2)" in tests
    assert "assert result == pytest.approx(120.0)" in tests
    assert 'assert str(result) == "15.0"' in tests
    assert "def test_run_end_to_end_on_data_sample(tmp_path):" in tests
    assert 'summary_path=str(tmp_path / "summary.json")' in tests
    # a function the notebook calls on its data gets a real test on the sample, not a skipped TODO
    assert "def test_load_orders_on_the_data_sample(calls_on_sample):" in tests
    assert "TODO: load_orders()" not in tests
    sample = (package / "tests" / "data" / "orders.csv").read_text().splitlines()
    assert len(sample) == 101 and sample[0] == "order_id,region,amount"


def test_export_is_deterministic(orders, tmp_path):
    first = build_package(read_notebook(orders), "order_totals").files
    second = build_package(read_notebook(orders), "order_totals").files
    assert first == second


def test_generated_code_passes_ruff_check_and_format(orders, tmp_path):
    _export(orders, tmp_path / "out")
    package = tmp_path / "out" / "order_totals"
    ruff = ruff_binary()
    check = subprocess.run([ruff, "check", "--isolated", "--no-cache", "."], cwd=package, capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    form = subprocess.run([ruff, "format", "--isolated", "--no-cache", "--check", "."], cwd=package,
                          capture_output=True, text=True)
    assert form.returncode == 0, form.stdout + form.stderr


def _gated_cells() -> list[dict]:
    cells = orders_cells()
    cells.append(code("print 'done'", 12))  # a syntax error: an error-level finding (RP001)
    return cells


def test_gate_refuses_with_exit_code_1_and_the_list(tmp_path, capsys):
    path = write_orders_notebook(tmp_path / "project", cells=_gated_cells())
    before = path.read_bytes()
    assert _cli(["export", str(path), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "refused" in err and "RP001" in err
    assert not (tmp_path / "out" / "order_totals").exists()
    assert path.read_bytes() == before
    result = export_notebook(path, tmp_path / "out")
    assert result.status == "refused" and result.exit_code == 1
    assert [f.code for f in result.blocking] == ["RP001"]
    assert result.to_dict()["blocking"][0]["code"] == "RP001"


def test_force_writes_with_known_issues_in_the_readme(tmp_path, capsys):
    path = write_orders_notebook(tmp_path / "project", cells=_gated_cells())
    assert _cli(["export", str(path), "-o", str(tmp_path / "out"), "--force"]) == 0
    readme = (tmp_path / "out" / "order_totals" / "README.md").read_text()
    assert "## Known issues" in readme and "RP001" in readme
    assert "known issue: RP001" in capsys.readouterr().out


def test_cli_json_output(orders, tmp_path, capsys):
    assert _cli(["export", str(orders), "-o", str(tmp_path / "out"), "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["status"] == "written" and payload["package"] == "order_totals"
    assert {d["name"] for d in payload["dependencies"]} >= {"pandas"}


def test_never_overwrites_without_force(orders, tmp_path, capsys):
    out = tmp_path / "out"
    _export(orders, out)
    marker = out / "order_totals" / "src" / "order_totals" / "pipeline.py"
    marker.write_text("# edited by hand\n")
    with pytest.raises(ExportError) as caught:
        export_notebook(orders, out)
    assert caught.value.kind == "exists" and caught.value.exit_code == 2
    assert marker.read_text() == "# edited by hand\n"
    assert _cli(["export", str(orders), "-o", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    _export(orders, out, force=True)
    assert marker.read_text() != "# edited by hand\n"
    assert sorted(p.name for p in out.iterdir()) == ["order_totals"]  # no temporary folders left


def test_force_never_replaces_a_folder_that_is_not_a_package(orders, tmp_path):
    target = tmp_path / "out" / "order_totals"
    target.mkdir(parents=True)
    (target / "thesis.tex").write_text("precious")
    with pytest.raises(ExportError):
        export_notebook(orders, tmp_path / "out", force=True)
    assert (target / "thesis.tex").read_text() == "precious"


def test_force_never_replaces_the_folder_holding_the_notebook(tmp_path):
    path = write_orders_notebook(tmp_path / "order_totals")
    (path.parent / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    with pytest.raises(ExportError):
        export_notebook(path, tmp_path, force=True)
    assert path.is_file()


@pytest.mark.parametrize("name", ["../x", "/abs", "a/b", "..", ".hidden", "class", "match", "", " ", "os", "json",
                                  "tests", "Churn", "1churn", "ch-urn", "сhurn", "churn\u0430", "a" * 80, "x\x00y"])
def test_hostile_package_names_are_refused(orders, tmp_path, name):
    with pytest.raises(PackageNameError):
        check_package_name(name)
    with pytest.raises(ExportError) as caught:
        export_notebook(orders, tmp_path / "out", name=name)
    assert caught.value.kind == "bad-name" and caught.value.message
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert not (tmp_path / "x").exists() and not Path("/abs").exists()


def test_hostile_name_from_the_cli_exits_2(orders, tmp_path, capsys):
    assert _cli(["export", str(orders), "-o", str(tmp_path / "out"), "--name", "../escape"]) == 2
    assert "path" in capsys.readouterr().err
    assert not (tmp_path / "escape").exists()


def test_a_name_is_derived_from_the_notebook_file(tmp_path):
    path = write_orders_notebook(tmp_path / "p", name="2024 Order Totals (v2).ipynb")
    result = _export(path, tmp_path / "out")
    assert result.package == "order_totals_v2"
    bad = write_orders_notebook(tmp_path / "q", name="для.ipynb")
    with pytest.raises(ExportError) as caught:
        export_notebook(bad, tmp_path / "out")
    assert "--name" in caught.value.message


def test_a_failure_mid_write_leaves_nothing_behind(orders, tmp_path, monkeypatch):
    out = tmp_path / "out"
    real = writer._write_file
    written = []

    def failing(root, relative, content):
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        written.append(relative)
        real(root, relative, content)

    monkeypatch.setattr(writer, "_write_file", failing)
    with pytest.raises(ExportError) as caught:
        export_notebook(orders, out)
    assert caught.value.kind == "write-failed"
    assert len(written) == 3
    assert not out.exists() or list(out.iterdir()) == []


def test_a_failure_while_replacing_keeps_the_old_package(orders, tmp_path, monkeypatch):
    out = tmp_path / "out"
    _export(orders, out)
    old = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def failing(root, relative, content):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(writer, "_write_file", failing)
    with pytest.raises(ExportError):
        export_notebook(orders, out, force=True)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == old
    assert sorted(p.name for p in out.iterdir()) == ["order_totals"]


def test_writer_refuses_paths_outside_the_package(tmp_path):
    for bad in ["../x.py", "/etc/x", "a/../../b", "C:/x", "a\\b"]:
        with pytest.raises(writer.WriteError):
            writer.write_package({bad: b""}, tmp_path / "pkg")
        assert not (tmp_path / "pkg").exists()
    assert sorted(os.listdir(tmp_path)) == []


def test_hardcoded_paths_are_lifted_into_params(tmp_path):
    cells = [
        code("import pandas as pd", 1),
        code('df = pd.read_csv("/home/ana/orders.csv")\ntotal = df["amount"].sum()', 2),
        code('df.to_csv("/home/ana/reports/clean.csv")', 3),
    ]
    path = tmp_path / "nb.ipynb"
    path.write_text(notebook_json(cells))
    result = _export(path, tmp_path / "out", force=True)
    src = tmp_path / "out" / "nb" / "src" / "nb"
    params = (src / "params.py").read_text()
    assert 'orders_path: str = "/home/ana/orders.csv"' in params
    assert 'clean_path: str = "/home/ana/reports/clean.csv"' in params
    pipeline = (src / "pipeline.py").read_text()
    assert "/home/ana" not in pipeline
    assert "pd.read_csv(params.orders_path)" in pipeline
    assert {p["name"] for p in result.parameters} == {"orders_path", "clean_path"}
    main = (src / "__main__.py").read_text()
    assert '"--orders-path"' in main


def test_magics_shell_lines_and_plots(tmp_path):
    cells = [
        markdown("# Plots and shell"),
        code("%matplotlib inline\nimport matplotlib.pyplot as plt\nimport pandas as pd", 1),
        code("!ls data\ndf = pd.DataFrame({'a': [1, 2, 3]})\ndf['b'] = df['a'] * 2\ndf.describe()", 2),
        code("fig, ax = plt.subplots()\nax.plot(df['a'], df['b'])\nplt.show()", 3),
        code("%%bash\necho hello", 4),
        code("doubled = df['b'].sum()", 5),
    ]
    path = tmp_path / "plots.ipynb"
    path.write_text(notebook_json(cells))
    result = _export(path, tmp_path / "out", force=True)
    pipeline = (tmp_path / "out" / "plots" / "src" / "plots" / "pipeline.py").read_text()
    assert "# shell command in the notebook, not run: !ls data" in pipeline
    assert "plt" not in pipeline and "matplotlib" not in pipeline and "describe" not in pipeline
    assert "# echo hello" in pipeline
    assert any("shell command" in w for w in result.warnings)
    pyproject = (tmp_path / "out" / "plots" / "pyproject.toml").read_text()
    assert "matplotlib" not in pyproject


def test_cell_selection_by_tags(tmp_path):
    cells = [
        code("import pandas as pd", 1, tags=["export"]),
        code("scratch = pd.DataFrame({'a': [1]})", 2),
        code("def double(x):\n    return x * 2", 3, tags=["export"]),
        code("# readiness: skip-export\nexperiment = double(21)", 4, tags=["export"]),
        code("answer = double(4)", 5, tags=["export", "skip-export"]),
        code("final = double(5)", 6, tags=["export"]),
    ]
    path = tmp_path / "tags.ipynb"
    path.write_text(notebook_json(cells))
    _export(path, tmp_path / "out", force=True)
    pipeline = (tmp_path / "out" / "tags" / "src" / "tags" / "pipeline.py").read_text()
    assert "final = double(5)" in pipeline
    for left_out in ("scratch", "experiment", "answer"):
        assert left_out not in pipeline


def test_multiline_strings_keep_their_value_inside_steps(tmp_path):
    cells = [
        code('query = """SELECT *\nFROM orders\n  WHERE x = 1"""\nsize = len(query)', 1),
    ]
    path = tmp_path / "sql.ipynb"
    path.write_text(notebook_json(cells))
    _export(path, tmp_path / "out", force=True)
    namespace: dict = {}
    source = (tmp_path / "out" / "sql" / "src" / "sql" / "pipeline.py").read_text()
    source = source.replace("from .params import Params", "class Params:\n    pass")
    exec(compile(source, "pipeline.py", "exec"), namespace)
    assert namespace["run"](namespace["Params"]())["size"] == len("SELECT *\nFROM orders\n  WHERE x = 1")


def test_unreadable_notebook_is_a_usage_error(tmp_path, capsys):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    assert _cli(["export", str(broken), "-o", str(tmp_path / "out")]) == 2
    assert "not valid JSON" in capsys.readouterr().err
