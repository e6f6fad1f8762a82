"""Exported code runs: every name the package uses is defined in it, whatever the notebook did with its globals,
dropped cells and IPython-only calls; what cannot be defined fails with a clear message, never a NameError;
generated tests run in a temporary folder and write nothing beside the package."""
from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

from readiness_magics.exporter import export_notebook
from readiness_magics.exporter.undefined import undefined_names

from .test_exporter_support import (
    code,
    make_venv,
    markdown,
    notebook_json,
    pip_install,
    result,
    run,
    run_generated_tests,
)
from .test_magics import run as run_cell

MESSY = [
    markdown("# Messy labels\n\nA notebook as people write them."),
    code("import json\n\nimport matplotlib.pyplot as plt", 1),
    code("scale = 2\nprefix = 'row'\nfactor = scale * 2", 2),
    # reads two notebook globals bound once to literals: they become module constants
    code("def label(values):\n    return [f'{prefix}-{v * scale}' for v in values]", 3),
    # reads a computed notebook variable: it becomes a parameter; the function is passed as a value below
    code("def weigh(values):\n    return [v * factor for v in values]", 4),
    # calls a function that needs notebook state, so it needs it too
    code("def label_all(groups):\n    return [label(group) + weigh(group) for group in groups]", 4),
    # writes into a folder that exists only beside the notebook
    code("def save_figure(values):\n    fig, ax = plt.subplots()\n    ax.plot(values)\n"
         "    fig.savefig('figures/plot.png')\n    plt.close(fig)\n    return 'figures/plot.png'", 5),
    code("labels = label([1, 2])\nlabels", 6, [result("['row-2', 'row-4']", 6)]),
    code("nested = list(map(weigh, [[3], [4]]))", 7),
    # a loop the exporter drops as a plot binds `total`, which a later cell reads
    code("for n in range(3):\n    total = n * scale\n    plt.plot([n, total])", 8),
    code("ip = get_ipython()\ndisplay(total)\nsummary = {'total': total, 'labels': labels, 'nested': nested}\n"
         "print(json.dumps(summary))", 9),
    code("save_figure([1, 2, 3])", 10, [result("'figures/plot.png'", 10)]),
    code("grouped = label_all([[5]])", 11),
]


def _write(folder: Path, cells: list[dict], name: str = "messy.ipynb") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "figures").mkdir(exist_ok=True)
    path = folder / name
    path.write_text(notebook_json([dict(cell) for cell in cells]))
    return path


def _export(tmp_path: Path, cells: list[dict], package: str):
    notebook = _write(tmp_path / "project", cells)
    export = export_notebook(notebook, tmp_path / "out", name=package, force=True)
    assert export.written
    return tmp_path / "out" / package


def _load(folder: Path, package: str):
    sys.path.insert(0, str(folder / "src"))
    try:
        return importlib.import_module(f"{package}.pipeline")
    finally:
        sys.path.remove(str(folder / "src"))


@pytest.fixture
def unload():
    names: list[str] = []
    yield names
    for name in list(sys.modules):
        if name.split(".")[0] in names:
            del sys.modules[name]


def _notebook_namespace(cells: list[dict], folder: Path, monkeypatch) -> dict:
    """Run the notebook's code cells in order, as a kernel would (display and get_ipython stand in)."""
    monkeypatch.chdir(folder)
    namespace = {"display": lambda *a, **k: None, "get_ipython": lambda: None}
    for cell in cells:
        if cell["cell_type"] == "code":
            exec(compile(cell["source"], "<cell>", "exec"), namespace)  # noqa: S102 - the test runs a notebook it wrote
    return namespace


def test_the_package_defines_every_name_and_returns_what_the_notebook_ends_with(tmp_path, monkeypatch, unload,
                                                                                   capsys):
    package = _export(tmp_path, MESSY, "messy")
    pipeline_text = (package / "src/messy/pipeline.py").read_text()
    assert undefined_names(pipeline_text) == []
    # globals read by functions became keyword-only parameters, and every use passes them
    assert '\nscale = 2\nprefix = "row"\n' in pipeline_text and "def label(values):" in pipeline_text
    assert "def weigh(values, *, factor):" in pipeline_text
    assert "def label_all(groups, *, factor):" in pipeline_text
    assert "label(group) + weigh(group, factor=factor)" in pipeline_text
    assert "functools.partial(weigh, factor=factor)" in pipeline_text
    # IPython-only: get_ipython() is gone, display() prints
    assert "get_ipython" not in pipeline_text
    unload.append("messy")
    monkeypatch.chdir(tmp_path / "project")
    results = _load(package, "messy").run()
    expected = _notebook_namespace(MESSY, tmp_path / "project", monkeypatch)
    assert {"summary", "grouped"} <= set(results)  # what it printed last, and what nothing read after
    for name, value in results.items():
        assert value == expected[name], name
    assert results["summary"] == {"total": 4, "labels": ["row-2", "row-4"], "nested": [[12], [16]]}
    assert "display" not in pipeline_text  # a top-level display() only showed something: dropped


def test_display_inside_a_function_prints(tmp_path, unload, capsys):
    cells = [code("def show(x):\n    display(x)\n    return x * 2", 1), code("shown = show(21)", 2)]
    package = _export(tmp_path, cells, "shows")
    unload.append("shows")
    assert _load(package, "shows").run() == {"shown": 42}
    assert capsys.readouterr().out == "21\n"


def test_generated_tests_pass_in_a_temporary_folder_and_write_nothing_beside_the_package(tmp_path):
    package = _export(tmp_path, MESSY, "messy_installed")
    python = make_venv(tmp_path / "venv")
    pip_install(python, package)
    before = sorted(p.relative_to(package) for p in package.rglob("*") if "__pycache__" not in p.parts)
    done = run_generated_tests(python, package)
    assert done.returncode == 0, done.stdout + done.stderr
    # the literal calls ran (with the notebook's values for the globals they read), not skipped
    verbose = run([str(python), "-m", "pytest", "-v", "-p", "no:cacheprovider", str(package / "tests")],
                  cwd=package).stdout
    assert "test_label_as_in_cell_7 PASSED" in verbose and "test_save_figure_as_in_cell_11 PASSED" in verbose
    tests = (package / "tests/test_pipeline.py").read_text()
    assert 'result = pipeline.label([1, 2])\n    assert result == ["row-2", "row-4"]' in tests
    assert 'result = pipeline.save_figure([1, 2, 3])\n    assert result == "figures/plot.png"' in tests
    after = sorted(p.relative_to(package) for p in package.rglob("*") if "__pycache__" not in p.parts)
    assert after == before, "the tests wrote beside the package"
    assert not (package / "figures").exists() and not (tmp_path / "project/figures/plot.png").exists()


def test_what_cannot_be_defined_fails_with_a_clear_message_not_a_name_error(tmp_path, unload):
    cells = [
        code("import math", 1),
        code("%run setup.py", 2),  # binds `radius` in the notebook's kernel, nothing the package can see
        code("area = math.pi * radius ** 2", 3),
        code("def grow(x):\n    return x * factor_from_elsewhere", 4),
        code("count = count + 1", 5),  # read before any cell binds it
    ]
    package = _export(tmp_path, cells, "unfinished")
    pipeline_text = (package / "src/unfinished/pipeline.py").read_text()
    assert undefined_names(pipeline_text) == []
    readme = (package / "README.md").read_text()
    known = readme.split("## Known issues", 1)[1]
    for name in ("radius", "factor_from_elsewhere", "count"):
        assert f"`{name}`" in known
    unload.append("unfinished")
    pipeline = _load(package, "unfinished")  # importing works
    with pytest.raises(NotImplementedError, match="radius is not defined in this package"):
        pipeline.run()
    with pytest.raises(NotImplementedError, match="factor_from_elsewhere"):
        pipeline.grow(2)
    tests = (package / "tests/test_pipeline.py").read_text()
    assert "radius" in tests  # the end-to-end test says why it cannot run, rather than failing


def test_a_deleted_name_is_not_returned(tmp_path, unload):
    cells = [code("model = [1, 2]\nscore = sum(model)\ndel model", 1), code("print(score)", 2)]
    package = _export(tmp_path, cells, "deleted")
    unload.append("deleted")
    assert _load(package, "deleted").run() == {"score": 3}


@pytest.mark.parametrize("source, missing", [
    ("def f():\n    global g\n    g = 1\nprint(g, h)", ["h"]),
    ("class K:\n    a = b\n    def m(self):\n        return K, c", ["b", "c"]),
    ("x = [y for y in range(3)]\nprint(y)", ["y"]),
    ("f = lambda v: v + w", ["w"]),
    ("from os import *\nprint(anything)", []),  # a star import binds what we cannot see
    ("try:\n    pass\nexcept Exception as e:\n    print(e, __name__)", []),
    ("def outer():\n    z = 1\n    def inner():\n        return z\n    return inner", []),
])
def test_undefined_names_follow_pythons_scopes(source, missing):
    assert undefined_names(source) == missing


def test_files_the_code_reads_beside_the_notebook_are_shipped_for_the_tests(tmp_path):
    project = tmp_path / "project"
    (project / "styles").mkdir(parents=True)
    (project / "styles/custom.css").write_text("body { color: red; }\n")
    cells = [
        code("def css_styling():\n    with open('styles/custom.css') as handle:\n        return handle.read()", 1),
        code("def lookup():\n    with open('tables/codes.txt') as handle:\n        return handle.read()", 2),
        code("css_styling()", 3, [result("'body { color: red; }\\n'", 3)]),
        code("lookup()", 4),
    ]
    package = _export(tmp_path, cells, "styled")
    assert (package / "tests/data/beside/styles/custom.css").read_text() == "body { color: red; }\n"
    done = run([sys.executable, "-m", "pytest", "-v", "-rs", "-p", "no:cacheprovider", "tests"], cwd=package,
               pythonpath=str(package / "src"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "test_css_styling_as_in_cell_2 PASSED" in done.stdout
    # a file that was not beside the notebook: the test says so instead of failing on FileNotFoundError
    assert "lookup() reads tables/codes.txt, which was not beside the notebook" in done.stdout
    assert not (package / "styles").exists()


def test_a_live_kernels_values_give_every_called_function_a_real_test(tmp_path, monkeypatch):
    from .test_exporter_support import write_orders_notebook

    notebook = write_orders_notebook(tmp_path / "project")
    import json as _json

    # what a kernel that ran the notebook holds (its %pip line is the kernel's business)
    cells = [c for c in _json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"]
    namespace = _notebook_namespace([dict(c, source="\n".join(line for line in "".join(c["source"]).splitlines()
                                                             if not line.startswith("%")))
                                     for c in cells], notebook.parent, monkeypatch)
    export = export_notebook(notebook, tmp_path / "out", name="live_orders", force=True, live=namespace)
    package = tmp_path / "out" / "live_orders"
    assert export.written and (package / "tests/data/live/totals_by_region.pkl").is_file()
    tests = (package / "tests/test_pipeline.py").read_text()
    assert 'assert result == {"north": 3060.0, "south": 2940.0}' not in tests  # computed on sampled rows
    assert "args, kwargs = pickle.loads((LIVE / \"totals_by_region.pkl\").read_bytes())" in tests
    assert "== \"builtins.dict\"" in tests  # the kind of what the notebook's call returned
    done = run([sys.executable, "-m", "pytest", "-v", "-rs", "-p", "no:cacheprovider", "tests"], cwd=package,
               pythonpath=str(package / "src"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "test_totals_by_region_on_the_notebooks_values PASSED" in done.stdout, done.stdout
    # given a file name the tests would not have: tested on the data sample instead, where the file is at hand
    for function in ("load_orders", "write_summary"):
        assert f"test_{function}_on_the_data_sample PASSED" in done.stdout, done.stdout
    assert "TODO" not in done.stdout


def test_a_caller_with_its_own_variable_of_that_name_leaves_the_global_to_a_stand_in(tmp_path, unload):
    # attractor(vals) calls trajectory(), which reads the notebook's global `vals`: passing attractor's own
    # `vals` on would change what trajectory() sees, so trajectory() keeps its global and gets a stand-in
    cells = [code("def trajectory():\n    return len(vals)", 1),
             code("def attractor(vals):\n    return trajectory() + len(vals)", 2),
             code("vals = list(range(3))\nsize = attractor([1])", 3)]
    package = _export(tmp_path, cells, "attractors")
    text = (package / "src/attractors/pipeline.py").read_text()
    compile(text, "pipeline.py", "exec")
    assert "def attractor(vals):" in text and undefined_names(text) == []
    unload.append("attractors")
    with pytest.raises(NotImplementedError, match="vals is not defined in this package"):
        _load(package, "attractors").run()


def test_readiness_export_in_a_kernel_writes_fixtures_from_its_values(ip, tmp_path):
    from .test_exporter_support import notebook_json as _json_of

    sources = ["import pandas as pd", "frame = pd.DataFrame({'x': range(300), 'y': [0.5] * 300})",
               "def add_ratio(df):\n    out = df.copy()\n    out['ratio'] = out['x'] / (out['y'] + 1)\n    return out",
               "with_ratio = add_ratio(frame)"]
    path = tmp_path / "ratios.ipynb"
    path.write_text(_json_of([code(source, number) for number, source in enumerate(sources, start=1)]))
    for source in sources:  # the kernel ran the notebook
        run_cell(ip, source)
    ip.run_line_magic("readiness", f"export {tmp_path / 'out'} --notebook {path} --force")
    package = tmp_path / "out" / "ratios"
    assert (package / "tests/data/live/add_ratio.pkl").is_file()
    tests = (package / "tests/test_pipeline.py").read_text()
    assert 'assert [str(c) for c in result.columns] == ["x", "y", "ratio"]' in tests
    assert "assert len(result) == len(args[0])" in tests  # a row-wise transform keeps the rows
    done = run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "tests"], cwd=package,
               pythonpath=str(package / "src"))
    assert "test_add_ratio_on_the_notebooks_values PASSED" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 0


def test_a_step_rebinding_an_imported_name_rebinds_the_global(tmp_path, unload):
    # `from string import digits` then `digits = digits[:3]`: in a function that assignment would make a local
    cells = [code("from string import digits", 1), code("digits = digits[:3]", 2), code("first = digits + '!'", 3)]
    package = _export(tmp_path, cells, "rebinding")
    text = (package / "src/rebinding/pipeline.py").read_text()
    assert "global digits" in text
    unload.append("rebinding")
    assert _load(package, "rebinding").run()["first"] == "012!"


def test_a_computed_parameter_reading_a_notebook_variable_has_no_default(tmp_path, unload):
    cells = [code("import os\nimport tempfile", 1), code("workdir = tempfile.mkdtemp()", 2),
             code("data_dir = os.path.join(workdir, 'data')\nmodel_file = os.path.join(data_dir, 'm.txt')", 3,
                  tags=["parameters"]),
             code("name = os.path.basename(model_file)", 4)]
    package = _export(tmp_path, cells, "computed")
    params_text = (package / "src/computed/params.py").read_text()
    assert undefined_names(params_text) == []
    assert "`Params.data_dir`" in (package / "README.md").read_text().split("## Known issues", 1)[1]
    unload.append("computed")
    pipeline = _load(package, "computed")
    params = importlib.import_module("computed.params")
    assert params.Params().data_dir is None  # constructing Params works; the option must be given
    given = params.Params(data_dir=str(tmp_path))
    assert given.model_file == os.path.join(str(tmp_path), "m.txt")
    assert pipeline.run(given)["name"] == "m.txt"


def test_a_cell_that_awaits_becomes_a_coroutine_step_run_runs(tmp_path, unload):
    cells = [code("import asyncio", 1),
             code("async def fetch(n):\n    await asyncio.sleep(0)\n    return n * 2", 2),
             code("answer = await fetch(21)", 3)]  # IPython runs top-level await
    package = _export(tmp_path, cells, "awaiting")
    text = (package / "src/awaiting/pipeline.py").read_text()
    assert "async def make_answer():" in text and "asyncio.run(make_answer())" in text
    unload.append("awaiting")
    assert _load(package, "awaiting").run() == {"answer": 42}


def test_a_literal_a_function_reads_moves_to_module_level_unless_it_can_change(tmp_path, unload):
    cells = [code("rate = 0.5\nseen = []", 1),
             code("def scaled(x):\n    seen.append(x)\n    return x * rate", 2),
             code("value = scaled(4)", 3)]
    package = _export(tmp_path, cells, "constants")
    text = (package / "src/constants/pipeline.py").read_text()
    assert "\nrate = 0.5\n" in text  # a number: a module constant
    assert "def scaled(x, *, seen):" in text  # a list: passed in, so each run() starts from the notebook's []
    unload.append("constants")
    pipeline = _load(package, "constants")
    assert pipeline.run() == pipeline.run() == {"value": 2.0}
    assert not hasattr(pipeline, "seen")  # no module-level list that a second run() would find filled
