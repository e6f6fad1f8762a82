"""ruff's diagnostics: readiness's own rule selection, how a project widens it, and syntax errors once."""
from pathlib import Path

import nbformat
import pytest

from readiness_magics.config import ConfigError, Settings, settings_from_table
from readiness_magics.engine import check_content, check_file, check_paths
from readiness_magics.ruff_bridge import (DEFAULT_RUFF_RULES, DEFAULT_RUFF_SELECT, run_ruff_on_files,
                                          selection_arguments)

# ruff's own default set (0.17) reports I001 (unsorted imports) and UP032 (use an f-string) here;
# what breaks at run time is the unused import (F401), the mutable default (B006) and `np.float`.
UNTIDY = [
    "import sys\nimport os\nimport numpy as np\nimport pandas as pd",
    "label = 'rows: {}'.format(len(sys.argv))\nprint(label, pd.__version__)",
    "def add(item, items=[]):\n    items.append(item)\n    return items",
    "x = np.float(3)",
]


def write(path: Path, sources, pyproject: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cells = [nbformat.v4.new_markdown_cell("# Notebook")] + [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), str(path))
    if pyproject is not None:
        (path.parent / "pyproject.toml").write_text(pyproject)
    return path


def ruff_codes(report) -> list[str]:
    return sorted(f.code for f in report.findings if f.category == "code-quality")


def test_readiness_passes_its_own_selection_to_ruff(tmp_path):
    assert selection_arguments(Settings(), tmp_path / "a.ipynb") == ("--select", ",".join(DEFAULT_RUFF_SELECT))
    # every entry says why it is there
    assert all(code and len(why) > 10 for code, why in DEFAULT_RUFF_RULES)
    assert not {"I", "I001", "UP", "UP032", "E4", "E7", "F", "F5", "F405", "F541"} & set(DEFAULT_RUFF_SELECT)


def test_import_order_and_pyupgrade_are_not_reported_but_runtime_problems_are(tmp_path):
    path = write(tmp_path / "untidy.ipynb", UNTIDY)
    # ruff with its own default set (no --select) reports the style problems here
    [by_default] = run_ruff_on_files([path]).values()
    assert {"I001", "UP032"} <= {d.code for d in by_default}
    report = check_file(path)
    codes = ruff_codes(report)
    assert "I001" not in codes and "UP032" not in codes
    assert codes == ["B006", "F401", "NPY001"]  # `os` unused; the mutable default; np.float
    [unused] = [f for f in report.findings if f.code == "F401"]
    assert (unused.cell_index, unused.line) == (1, 2)


def test_unsaved_content_gets_the_same_selection(tmp_path):
    path = write(tmp_path / "untidy.ipynb", UNTIDY)
    assert ruff_codes(check_content(path.read_text(), path=path)) == ["B006", "F401", "NPY001"]


def test_readiness_ruff_select_replaces_the_selection(tmp_path):
    path = write(tmp_path / "untidy.ipynb", UNTIDY, '[tool.readiness]\nruff = { select = ["UP032", "I"] }\n')
    assert ruff_codes(check_file(path)) == ["I001", "UP032"]


def test_readiness_ruff_extend_select_adds_to_the_selection(tmp_path):
    path = write(tmp_path / "untidy.ipynb", UNTIDY, '[tool.readiness]\nruff = { extend-select = ["I001"] }\n')
    assert ruff_codes(check_file(path)) == ["B006", "F401", "I001", "NPY001"]


def test_the_projects_own_ruff_select_widens_it_and_its_ignores_hold(tmp_path):
    path = write(tmp_path / "untidy.ipynb", UNTIDY,
                 '[tool.ruff.lint]\nselect = ["I", "F"]\nignore = ["F401"]\n')
    # the project's rules (I001) plus readiness's (B006, NPY001); F401 is ignored by the project
    assert ruff_codes(check_file(path)) == ["B006", "I001", "NPY001"]


def test_the_projects_ruff_ignore_holds_without_a_select(tmp_path):
    path = write(tmp_path / "untidy.ipynb", UNTIDY, '[tool.ruff]\nline-length = 100\n[tool.ruff.lint]\nignore = ["F401"]\n')
    assert ruff_codes(check_file(path)) == ["B006", "NPY001"]


def test_a_ruff_toml_is_the_projects_ruff_config_too(tmp_path):
    path = write(tmp_path / "sub" / "untidy.ipynb", UNTIDY)
    (tmp_path / "ruff.toml").write_text('[lint]\nextend-select = ["UP032"]\n')
    assert "UP032" in ruff_codes(check_file(path))


def test_a_pyproject_without_tool_ruff_is_not_a_ruff_config(tmp_path):
    path = write(tmp_path / "untidy.ipynb", UNTIDY, '[project]\nname = "x"\nversion = "1"\n')
    assert ruff_codes(check_file(path)) == ["B006", "F401", "NPY001"]


def test_one_batch_runs_each_projects_selection(tmp_path):
    plain = write(tmp_path / "a" / "plain.ipynb", UNTIDY)
    sorted_ = write(tmp_path / "b" / "sorted.ipynb", UNTIDY, '[tool.readiness]\nruff = { select = ["I"] }\n')
    reports = {Path(r.path).name: r for r in check_paths([plain, sorted_], jobs=1)}
    assert ruff_codes(reports["plain.ipynb"]) == ["B006", "F401", "NPY001"]
    assert ruff_codes(reports["sorted.ipynb"]) == ["I001"]


def test_unknown_ruff_setting_is_a_config_error():
    with pytest.raises(ConfigError, match="extend_select"):
        settings_from_table({"ruff": {"extend_select": ["I"]}})


# --- a syntax error is reported once, by RP001 ---------------------------------------------------------


def test_syntax_error_is_rp001_only(tmp_path):
    path = write(tmp_path / "py2.ipynb", ["import os", "print 'rows', undefined_name\nx = os.sep"])
    # ruff itself reports the cell (several times: each place its parser stumbled)
    [diagnostics] = run_ruff_on_files([path], selection_arguments(Settings(), path)).values()
    assert {d.code for d in diagnostics if d.cell == 3} == {"invalid-syntax"}
    report = check_file(path)
    on_cell = [(f.code, f.cell_index) for f in report.findings
               if f.cell_index == 2 and f.category in ("code-quality", "notebook-format")]
    assert on_cell == [("RP001", 2)]


def test_ruff_reports_the_rest_once_the_syntax_error_is_fixed(tmp_path):
    # ruff reads a notebook as one module: while one cell does not parse, it reports nothing else
    broken = write(tmp_path / "py2.ipynb", ["import os", "print 'rows'", "y = undefined_name"])
    fixed = write(tmp_path / "py3.ipynb", ["import os", "print('rows')", "y = undefined_name"])
    kinds = ("code-quality", "notebook-format")
    assert [(f.code, f.cell_index) for f in check_file(broken).findings if f.category in kinds] == [("RP001", 2)]
    assert [(f.code, f.cell_index) for f in check_file(fixed).findings if f.category in kinds] \
        == [("F401", 1), ("F821", 3)]


# --- classes found reading the corpus ---------------------------------------------------------------


def test_a_name_bound_by_a_timed_statement_is_not_undefined(tmp_path):
    # ruff reads `%time x = ...` as opaque IPython; the kernel binds `tris` all the same
    path = write(tmp_path / "timed.ipynb", ["verts = [1, 2, 3]", "%time tris = sorted(verts)", "print(tris)"])
    assert ruff_codes(check_file(path)) == []


def test_a_name_bound_nowhere_is_still_undefined(tmp_path):
    path = write(tmp_path / "timed.ipynb", ["verts = [1, 2, 3]", "%time tri = sorted(verts)", "print(tris)"])
    assert ruff_codes(check_file(path)) == ["F821"]


def test_a_name_defined_in_a_later_cell_is_reported_once_by_rp504(tmp_path):
    path = tmp_path / "later.ipynb"
    cells = [nbformat.v4.new_code_cell("total = prices.sum()", execution_count=2),
             nbformat.v4.new_code_cell("import pandas as pd\nprices = pd.Series([1])", execution_count=1)]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), str(path))
    found = [(f.code, f.cell_index) for f in check_file(path).findings if f.cell_index == 0]
    assert ("RP504", 0) in found and ("F821", 0) not in found


def test_a_later_definition_in_a_never_run_notebook_is_still_ruffs_f821(tmp_path):
    # RP504 needs saved execution counts; without them ruff's F821 is the only finding, and it stays
    path = write(tmp_path / "later.ipynb", ["total = prices.sum()", "prices = [1]"])
    assert ruff_codes(check_file(path)) == ["F821"]


def test_re_imports_in_later_cells_are_not_reported(tmp_path):
    path = write(tmp_path / "sections.ipynb", ["import time", "import time\ntime.sleep(0)"])
    assert ruff_codes(check_file(path)) == []


def test_dot_ix_says_it_was_removed(tmp_path):
    path = write(tmp_path / "ix.ipynb", ["import pandas as pd\ndf = pd.DataFrame({'a': [1]})\ndf.ix[0, 'a']"])
    [finding] = [f for f in check_file(path).findings if f.code == "PD007"]
    assert "removed in pandas 1.0" in finding.message and "`.loc`" in finding.message


def test_a_timed_statement_continued_on_the_next_line_binds_too(tmp_path):
    path = write(tmp_path / "timed.ipynb", ["import pandas as pd",
                                            "%time df = pd.DataFrame({'a': [1]}, \\\n    columns=['a'])",
                                            "print(df)"])
    assert "F821" not in ruff_codes(check_file(path))


def test_lambdas_called_at_once_in_a_loop_are_not_reported(tmp_path):
    source = ("def show(df, features):\n    for column, typ in features.items():\n"
              "        df[column] = df[column].transform(lambda i: typ.names[i])\n    return df")
    assert ruff_codes(check_file(write(tmp_path / "show.ipynb", [source]))) == []


def test_a_cell_the_kernel_runs_does_not_silence_ruff_for_the_notebook(tmp_path):
    # ruff reads `pip install x` (automagic) itself but stops at a cell with an indented first line,
    # which the kernel runs (IPython removes the indentation): readiness has ruff read it so
    path = write(tmp_path / "automagic.ipynb", ["pip install pandas==2.2.2", "import os", "  y = undefined_name"])
    report = check_file(path)
    found = sorted((f.code, f.cell_index, f.column) for f in report.findings
                   if f.category in ("code-quality", "notebook-format"))
    assert found == [("F401", 2, 8), ("F821", 3, 7)]  # columns as the user sees the cells
    path2 = write(tmp_path / "batch" / "automagic.ipynb", ["pip install pandas==2.2.2", "import os"])
    [batched] = check_paths([path2], jobs=1)
    assert ruff_codes(batched) == ["F401"]


def test_a_python_2_cell_still_leaves_ruff_silent(tmp_path):
    path = write(tmp_path / "py2.ipynb", ["pip install pandas==2.2.2", "import os", "print 'x'"])
    assert ruff_codes(check_file(path)) == []
