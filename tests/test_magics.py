"""The magics driven through a real IPython shell, as a user types them: %load_ext, %readiness, %%readiness."""
from __future__ import annotations

import importlib.metadata
import json
import os
from pathlib import Path

import nbformat
import pytest
from IPython.core.error import UsageError
from IPython.lib.pretty import pretty

from readiness_magics.engine import check_file, check_notebook
from readiness_magics.magics import ReadinessFailure, ReadinessReport, magics_for
from readiness_magics.notebook import notebook_from_sources
from readiness_magics.rules import all_rules, get_rule


def run(shell, source: str):
    """Run a cell as a front end does: stored in the history, counted, hooks fired."""
    return shell.run_cell(source, store_history=True)


def write_notebook(path: Path, sources: list[str], counts: bool = True) -> Path:
    notebook = nbformat.v4.new_notebook()
    for number, source in enumerate(sources, start=1):
        cell = nbformat.v4.new_code_cell(source)
        cell.execution_count = number if counts else None
        notebook.cells.append(cell)
    nbformat.write(notebook, path)
    return path


# --- loading -------------------------------------------------------------------------------------

def test_loading_twice_registers_once(ip, capsys):
    run(ip, "%load_ext readiness_magics")
    assert "readiness" in ip.magics_manager.magics["line"]
    assert "readiness" in ip.magics_manager.magics["cell"]
    magics = magics_for(ip)
    assert ip.events.callbacks["post_run_cell"].count(magics.record_finish) == 1


def test_reload_and_unload(ip):
    run(ip, "%readiness on")
    run(ip, "%reload_ext readiness_magics")
    assert "readiness" in ip.magics_manager.magics["line"]
    assert magics_for(ip).watcher is None  # a reload starts with watch mode off, and no stale hook
    assert not any(getattr(cb, "__class__", None).__name__ == "Watcher" for cb in ip.events.callbacks["pre_run_cell"])
    run(ip, "%unload_ext readiness_magics")
    assert "readiness" not in ip.magics_manager.magics["line"]
    assert magics_for(ip) is None
    result = run(ip, "%readiness")
    assert result.error_in_exec is not None  # UsageError: Line magic function `%readiness` not found
    run(ip, "%load_ext readiness_magics")


# --- which notebook ------------------------------------------------------------------------------

def test_history_is_checked_when_no_notebook_is_known(ip):
    run(ip, "import json")
    run(ip, "rows = open('/home/ana/rows.json').read() if False else '[]'")
    report = ip.run_line_magic("readiness", "--no-ruff")
    assert isinstance(report, ReadinessReport)
    assert "run in this kernel" in report.checked and "pass a PATH" in report.checked
    assert report.path is None
    assert [(f.code, report.cells[f.cell_index].label) for f in report.findings if f.code == "RP101"] == [
        ("RP101", "In [3]")]


def test_a_path_is_checked_like_the_cli_does(ip, tmp_path):
    path = write_notebook(tmp_path / "churn.ipynb", ["import os", "df = open('/home/ana/churn.csv')"])
    report = ip.run_line_magic("readiness", f"{path} --no-ruff")
    assert report.checked == "churn.ipynb"
    expected = check_file(path, use_ruff=False).findings
    assert [f.to_dict() for f in report.findings] == [f.to_dict() for f in expected]
    assert report.cells[1].label == "cell 2 [2]"


def test_a_missing_path_is_reported_not_raised(ip, tmp_path):
    report = ip.run_line_magic("readiness", str(tmp_path / "nope.ipynb"))
    assert report.error is not None and report.error.kind == "not-found"
    assert "does not exist" in repr(report)
    with pytest.raises(ReadinessFailure):
        ip.run_line_magic("readiness", f"{tmp_path / 'nope.ipynb'} --strict")


def test_the_session_notebook_is_found_from_the_server_root(ip, tmp_path, monkeypatch):
    # jupyter_server names the notebook relative to its root; the kernel runs in the notebook's folder.
    folder = tmp_path / "project" / "analysis"
    folder.mkdir(parents=True)
    write_notebook(folder / "sales.ipynb", ["x = 1"])
    monkeypatch.chdir(folder)
    ip.user_ns["__session__"] = "project/analysis/sales.ipynb"
    report = ip.run_line_magic("readiness", "--no-ruff")
    assert report.checked == "sales.ipynb (the notebook of this Jupyter session)"


def test_vscode_names_the_notebook_too(ip, tmp_path):
    path = write_notebook(tmp_path / "vs.ipynb", ["x = 1"])
    ip.user_ns["__vsc_ipynb_file__"] = str(path)
    report = ip.run_line_magic("readiness", "--no-ruff")
    assert report.checked == "vs.ipynb (the notebook open in VS Code)"


def test_a_session_that_is_not_a_file_falls_back_to_the_history(ip):
    ip.user_ns["__session__"] = "console-1-0f3b"
    run(ip, "x = 1")
    report = ip.run_line_magic("readiness", "--no-ruff")
    assert "run in this kernel" in report.checked
    assert any("console-1-0f3b" in note for note in report.notes)


def test_unsaved_edits_are_flagged(ip, tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb", ["a = 1", "b = a + 1"])
    ip.user_ns["__session__"] = str(path)
    run(ip, "a = 1")
    run(ip, "b = a + 1")
    report = ip.run_line_magic("readiness", "--no-ruff")
    assert report.notes == []  # the runs are all in the saved file (as under nbclient or papermill)
    run(ip, "b = a + 2  # edited, not saved")
    report = ip.run_line_magic("readiness", "--no-ruff")
    assert len(report.notes) == 1
    assert "unsaved edits are not included" in report.notes[0] and "In [4]" in report.notes[0]
    assert "unsaved edits" in report._repr_html_()
    # Saving the notebook with the edit makes the note go away.
    write_notebook(path, ["a = 1", "b = a + 2  # edited, not saved"])
    assert ip.run_line_magic("readiness", "--no-ruff").notes == []


# --- options -------------------------------------------------------------------------------------

def test_select_ignore_and_fail_on(ip):
    run(ip, "import pandas as pd")
    run(ip, "path = '/home/ana/data.csv'\ndf = pd.read_csv(path)")
    everything = ip.run_line_magic("readiness", "--no-ruff")
    codes = {f.code for f in everything.findings}
    assert "RP101" in codes and len(codes) > 1
    only_paths = ip.run_line_magic("readiness", "--no-ruff --select RP1")
    assert {f.code for f in only_paths.findings} == {"RP101"}
    by_category = ip.run_line_magic("readiness", "--no-ruff --select hardcoded-path,unpinned-dependency")
    assert {f.category for f in by_category.findings} <= {"hardcoded-path", "unpinned-dependency"}
    ignored = ip.run_line_magic("readiness", "--no-ruff --ignore RP101 --ignore hardcoded-path")
    assert "RP101" not in {f.code for f in ignored.findings}
    assert ip.run_line_magic("readiness", "--no-ruff --fail-on warning").fail_on.value == "warning"


def test_a_selector_that_matches_nothing_is_said(ip):
    run(ip, "x = 1")
    report = ip.run_line_magic("readiness", "--no-ruff --select RP9999")
    assert any("RP9999 matches no rule" in note for note in report.notes)


@pytest.mark.parametrize("line", [
    "--bogus", "--format pdf", "--fail-on fatal", "'unclosed", "pin --write", "datacheck", "explain",
    "on --strict", "off now", "a.ipynb b.ipynb",
])
def test_bad_options_give_a_usage_message_not_a_traceback(ip, capsys, line):
    capsys.readouterr()
    result = run(ip, f"%readiness {line}")
    assert isinstance(result.error_in_exec, UsageError)
    out = capsys.readouterr()
    text = out.out + out.err
    assert "UsageError" in text and "Traceback" not in text


def test_strict_stops_run_all_with_the_report_on_screen(ip, capsys):
    run(ip, "data = open('/home/ana/x.csv')  if False else None")
    capsys.readouterr()
    result = run(ip, "%readiness --strict --no-ruff")
    assert isinstance(result.error_in_exec, ReadinessFailure)
    text = capsys.readouterr().out
    assert "RP101" in text  # the report was shown before the failure
    assert "ReadinessFailure: " in text and "Traceback" not in text
    # Below the fail level nothing is raised, and the report comes back.
    report = ip.run_line_magic("readiness", "--strict --no-ruff --select RP5")
    assert report.blocking() == []


def test_strict_passes_quietly_when_clean(ip):
    run(ip, "total = sum([1, 2, 3])")
    report = ip.run_line_magic("readiness", "--strict --no-ruff")
    assert report.findings == [] and "No findings" in report._repr_html_()


def test_the_report_can_be_kept(ip):
    run(ip, "x = '/Users/bob/file.txt'\nopen(x)  if False else None")
    run(ip, "r = %readiness --no-ruff")
    r = ip.user_ns["r"]
    assert isinstance(r, ReadinessReport)
    assert r.summary()["error"] >= 1 and r.summary()["score"] < 100
    assert r.to_dict()["checked"] == r.checked


# --- display -------------------------------------------------------------------------------------

def test_html_escapes_everything_from_the_notebook(ip):
    run(ip, "f = open('/home/ana/<script>alert(1)</script>.csv')  if False else None")
    report = ip.run_line_magic("readiness", "--no-ruff")
    page = report._repr_html_()
    assert "RP101" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "var(--jp-error-color1" in page  # JupyterLab's theme colour, light and dark


def test_text_and_json_formats(ip):
    run(ip, "p = '/home/ana/a.csv'\nopen(p) if False else None")
    text = ip.run_line_magic("readiness", "--no-ruff --format text")
    assert text._repr_html_() is None  # front ends fall back to text/plain
    assert pretty(text).startswith("readiness: the ")
    assert "RP101" in pretty(text)
    as_json = ip.run_line_magic("readiness", "--no-ruff --format json")
    data = json.loads(repr(as_json))
    assert data["checked"].startswith("the ") and data["findings"][0]["code"] == "RP101"
    assert as_json._repr_json_()["summary"]["error"] >= 1


def test_secrets_stay_out_of_the_cell_hint(ip):
    run(ip, 'API_KEY = "sk-live-1234567890abcdefghijklmnop"')
    report = ip.run_line_magic("readiness", "--no-ruff --select hardcoded-secret")
    assert report.findings
    assert "1234567890abcdefghij" not in report._repr_html_()
    # Even when the secret rules are not selected, the hint that names a cell masks long literals.
    run(ip, "TOKEN = 'ghp_notdetectedbecausedeselected'; rows = open('/home/ana/x.csv') if False else 1")
    report = ip.run_line_magic("readiness", "--no-ruff --select RP101")
    page = report._repr_html_()
    assert "RP101" in page and "notdetected" not in page and "TOKEN = &#x27;…&#x27;" in page


# --- %%readiness ---------------------------------------------------------------------------------

def test_cell_magic_checks_the_cell_in_context_then_runs_it(ip, capsys):
    run(ip, "import pandas as pd\nframe = pd.DataFrame({'a': [1, 2]})")
    capsys.readouterr()
    result = run(ip, "%%readiness --no-ruff\ndef total():\n    return frame['a'].sum()\n\ntotal()")
    assert result.error_in_exec is None
    assert result.result == 3  # the cell ran, and its last value is the cell's result
    out = capsys.readouterr().out
    assert "this cell" in out
    findings = [line for line in out.splitlines() if "RP401" in line]
    # `frame` comes from another cell; line numbers count the %%readiness line, as the user sees them.
    assert findings and findings[0].split()[0] == "3:12"


def test_cell_magic_no_run(ip):
    result = run(ip, "%%readiness --no-run --no-ruff\nran = True")
    assert result.error_in_exec is None
    assert "ran" not in ip.user_ns


def test_cell_magic_strict_does_not_run_a_failing_cell(ip):
    result = run(ip, "%%readiness --strict --no-ruff\nran = open('/home/ana/x.csv') if False else True")
    assert isinstance(result.error_in_exec, ReadinessFailure)
    assert "ran" not in ip.user_ns


def test_cell_magic_errors_fail_the_cell(ip, capsys):
    result = run(ip, "%%readiness --no-ruff\nx = 1\n1 / 0")
    assert isinstance(result.error_in_exec, ZeroDivisionError)  # so Run All stops here
    out = capsys.readouterr().out
    assert "----> 3 1 / 0" in out.replace("\x1b", "").replace("[", " ") or "1 / 0" in out


def test_cell_magic_body_magics_run(ip):
    result = run(ip, "%%readiness --no-ruff\nvalue = 6\n%time doubled = value * 2\ndoubled")
    assert result.result == 12


def test_later_checks_see_the_body_of_cell_magics(ip):
    run(ip, "%%readiness --no-ruff\nsource = '/home/ana/data.csv'")
    report = ip.run_line_magic("readiness", "--no-ruff --select RP101")
    assert [(f.code, f.line) for f in report.findings] == [("RP101", 2)]


# --- watch mode ------------------------------------------------------------------------------------

def test_watch_mode_shows_findings_under_the_cell(ip, capsys):
    run(ip, "%readiness on")
    capsys.readouterr()
    result = run(ip, "p = '/home/ana/data.csv'\nopen(p) if False else 41 + 1")
    assert result.result == 42
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith(("readiness:", "  "))]
    assert 1 <= len(lines) <= 2 and "RP101" in lines[0]
    result = run(ip, "clean = 1 + 1")
    assert capsys.readouterr().out == ""  # a clean cell says nothing
    run(ip, "%readiness off")
    capsys.readouterr()
    run(ip, "q = '/home/ana/other.csv'")
    assert "readiness" not in capsys.readouterr().out


def test_watch_mode_sees_the_cells_run_before(ip, capsys):
    run(ip, "%readiness on")
    run(ip, "import pandas as pd\nframe = pd.DataFrame({'a': [1]})")
    capsys.readouterr()
    run(ip, "def first():\n    return frame['a'][0]")
    assert "RP401" in capsys.readouterr().out


def test_watch_mode_skips_its_own_magics_and_cell_magic_cells(ip, capsys):
    run(ip, "%readiness on")
    capsys.readouterr()
    run(ip, "%%readiness --no-ruff\np = '/home/ana/x.csv'")
    out = capsys.readouterr().out
    assert out.count("RP101") == 1  # once by %%readiness, not again by the watcher


def test_watch_mode_failure_prints_one_line_and_the_cell_runs(ip, tmp_path, capsys):
    run(ip, "%readiness on")
    # A broken project configuration makes every check fail: a real fault, not a mock.
    (tmp_path / "pyproject.toml").write_text("[tool.readiness]\nno-such-setting = 1\n")
    capsys.readouterr()
    result = run(ip, "value = 40 + 2\nvalue")
    assert result.error_in_exec is None and result.result == 42
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if "readiness" in line]
    assert len(lines) == 1 and lines[0].startswith("readiness: could not check this cell (ConfigError")
    assert "Traceback" not in out
    run(ip, "%readiness status")
    status = capsys.readouterr().out
    assert "Traceback" in status and "no-such-setting" in status


def test_watch_mode_options(ip, capsys):
    run(ip, "%readiness on --select RP6")
    capsys.readouterr()
    run(ip, "p = '/home/ana/x.csv'")
    assert "RP101" not in capsys.readouterr().out


def test_watch_mode_hook_cost_is_recorded(ip, capsys):
    run(ip, "%readiness on")
    run(ip, "x = 1")
    run(ip, "%readiness status")
    assert "watch mode: on (1 cell checked, last took" in capsys.readouterr().out


# --- pins ----------------------------------------------------------------------------------------

def test_pin_lists_what_the_notebook_imports_at_the_installed_versions(ip, tmp_path):
    (tmp_path / "helpers.py").write_text("X = 1\n")
    path = write_notebook(tmp_path / "model.ipynb", [
        "import os\nimport numpy as np\nimport pandas as pd",
        "from sklearn.linear_model import LinearRegression\nimport helpers",
        "import no_such_package_here_xyz",
    ])
    text = ip.run_line_magic("readiness", f"pin {path}")
    lines = text.splitlines()
    assert f"numpy=={importlib.metadata.version('numpy')}" in lines
    assert f"pandas=={importlib.metadata.version('pandas')}" in lines
    assert f"scikit-learn=={importlib.metadata.version('scikit-learn')}" in lines
    assert not any(line.startswith(("os", "helpers")) for line in lines)
    assert "# no_such_package_here_xyz: imported by the notebook but not installed in this kernel" in lines
    assert text._repr_markdown_().startswith("```text")


def test_pin_write_and_force(ip, tmp_path, capsys):
    path = write_notebook(tmp_path / "nb.ipynb", ["import pandas"])
    ip.run_line_magic("readiness", f"pin {path} --write requirements.txt")
    written = (tmp_path / "requirements.txt").read_text()
    assert f"pandas=={importlib.metadata.version('pandas')}\n" in written
    assert "wrote 1 pin to requirements.txt" in capsys.readouterr().out
    ip.run_line_magic("readiness", f"pin {path} --write requirements.txt")  # same content: fine
    (tmp_path / "requirements.txt").write_text("flask==3.0\n")
    with pytest.raises(UsageError, match="--force"):
        ip.run_line_magic("readiness", f"pin {path} --write requirements.txt")
    ip.run_line_magic("readiness", f"pin {path} --write requirements.txt --force")
    assert (tmp_path / "requirements.txt").read_text() == written


def test_pinned_versions_show_next_to_unpinned_imports(ip):
    run(ip, "import pandas as pd")
    report = ip.run_line_magic("readiness", "--no-ruff")
    if not any(f.category == "unpinned-dependency" for f in report.findings):
        pytest.skip("no unpinned-import rule yet")
    assert any(f"pandas=={importlib.metadata.version('pandas')}" in note for note in report.notes)


# --- data checks ---------------------------------------------------------------------------------

CUSTOMERS = """customer_id,signup,plan,monthly_fee,churned,region
1,2023-01-04,basic,9.99,False,north
2,2023-01-09,pro,29.5,True,south
3,2023-02-11,basic,9.99,False,
4,2023-03-02,team,99.0,False,north
5,2023-03-15,pro,29.5,True,east
6,2023-04-01,basic,12.0,False,south
"""


@pytest.fixture
def customers(ip, tmp_path):
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    load = "import pandas as pd\ncustomers = pd.read_csv('customers.csv', parse_dates=['signup'])"
    run(ip, load)
    return load


def _check(ip, style="asserts") -> str:
    return str(ip.run_line_magic("readiness", f"datacheck customers --style {style}"))


def test_datacheck_asserts_hold_on_the_live_frame(ip, customers):
    code = _check(ip)
    assert "assert list(customers.columns) ==" in code
    assert 'customers["customer_id"].is_unique' in code
    assert 'customers["monthly_fee"].between(9.99, 99.0)' in code
    assert 'customers["region"].dropna()' in code  # nullable: no not-null assert, ranges skip the gaps
    assert 'customers["region"].notna()' not in code
    assert 'isin(["basic", "pro", "team"])' in code
    result = run(ip, code)
    assert result.error_in_exec is None


@pytest.mark.parametrize("corruption", [
    "bad['monthly_fee'] = bad['monthly_fee'] * 100",  # out of range
    "bad.loc[0, 'plan'] = None",  # a gap where there never was one
    "bad.loc[1, 'customer_id'] = 1",  # a duplicate key
    "bad = bad.drop(columns=['churned'])",  # a column gone
    "bad['customer_id'] = bad['customer_id'].astype(str)",  # a dtype changed
    "bad.loc[2, 'plan'] = 'enterprise'",  # a value never seen
    "bad = bad.iloc[0:0]",  # nothing loaded
])
def test_datacheck_asserts_fail_on_a_corrupted_copy(ip, customers, corruption):
    code = _check(ip)
    run(ip, "bad = customers.copy()\n" + corruption)
    result = run(ip, code.replace("customers", "bad"))
    assert isinstance(result.error_in_exec, AssertionError)


def test_datacheck_makes_the_missing_data_check_finding_go_away(ip, customers):
    code = _check(ip)
    use = "monthly = customers.groupby('plan')['monthly_fee'].mean()"
    before = check_notebook(notebook_from_sources([customers, use]), use_ruff=False)
    assert any(f.code == "RP301" for f in before.findings), "RP301 should flag the unchecked load"
    for cells in ([customers, code, use], [customers + "\n" + code, use]):  # a cell under it, or the same cell
        after = check_notebook(notebook_from_sources(cells), use_ruff=False)
        assert not any(f.code == "RP301" for f in after.findings)


def test_datacheck_dotted_names_and_insert(ip, customers):
    run(ip, "class Data: pass\ndata = Data()\ndata.train = customers")
    code = str(ip.run_line_magic("readiness", "datacheck data.train --style asserts --insert"))
    assert "assert len(data.train) > 0" in code
    assert ip.rl_next_input == code
    assert run(ip, code).error_in_exec is None


@pytest.mark.parametrize("line, message", [
    ("datacheck nothing_here", "no variable 'nothing_here'"),
    ("datacheck 'df[0]'", "variable name"),
    ("datacheck numbers", "datacheck works on pandas DataFrames"),
])
def test_datacheck_usage_errors(ip, line, message):
    run(ip, "numbers = [1, 2, 3]")
    with pytest.raises(UsageError, match=message.replace("[", r"\[")):
        ip.run_line_magic("readiness", line)


def test_datacheck_pandera_schema_validates_and_rejects(ip, customers):
    pytest.importorskip("pandera")
    code = _check(ip, "pandera")
    assert "pa.DataFrameSchema(" in code and "customers_schema.validate(customers)" in code
    assert run(ip, code).error_in_exec is None
    run(ip, "bad = customers.copy()\nbad.loc[1, 'customer_id'] = 1")
    result = run(ip, code.replace("customers", "bad"))
    assert result.error_in_exec is not None and type(result.error_in_exec).__name__ == "SchemaError"
    use = "monthly = customers.groupby('plan')['monthly_fee'].mean()"
    after = check_notebook(notebook_from_sources([customers, code, use]), use_ruff=False)
    assert not any(f.code == "RP301" for f in after.findings)


# --- explain, rules, export --------------------------------------------------------------------------

def test_explain_a_rule(ip):
    rule = all_rules()[0]
    shown = ip.run_line_magic("readiness", f"explain {rule.code}")
    assert shown.code == rule.code and rule.docs().summary.split()[0] in repr(shown)
    assert shown._repr_markdown_().startswith(f"### {rule.code}")
    assert ip.run_line_magic("readiness", f"explain {rule.name}").code == rule.code


def test_explain_an_unknown_code_suggests(ip):
    with pytest.raises(UsageError, match="RP10 is a family of rules: RP101 hardcoded-local-path"):
        ip.run_line_magic("readiness", "explain RP10")
    with pytest.raises(UsageError, match="did you mean hardcoded-local-path"):
        ip.run_line_magic("readiness", "explain hardcoded-local-pth")


def test_explain_a_ruff_code(ip):
    shown = ip.run_line_magic("readiness", "explain F401")
    assert "unused-import" in str(shown)


def test_rules_table(ip):
    table = ip.run_line_magic("readiness", "rules")
    assert [row[0] for row in table.rows] == [rule.code for rule in all_rules()]
    assert "<table" in table._repr_html_() and "RP001" in repr(table)


def test_export_says_when_it_is_not_available(ip, tmp_path, monkeypatch):
    # An installation without the exporter: importing it fails, as it would if the module were absent.
    import sys

    monkeypatch.setitem(sys.modules, "readiness_magics.exporter", None)
    path = write_notebook(tmp_path / "nb.ipynb", ["x = 1"])
    with pytest.raises(UsageError, match="export is not available"):
        ip.run_line_magic("readiness", f"export out --notebook {path}")


def test_export_writes_a_package(ip, tmp_path, capsys):
    pytest.importorskip("readiness_magics.exporter.api")
    path = write_notebook(tmp_path / "tiny.ipynb", ["def double(x):\n    return 2 * x", "double(2)"])
    before = path.read_bytes()
    assert ip.run_line_magic("readiness", f"export {tmp_path / 'out'} --notebook {path}") is None
    assert (tmp_path / "out" / "tiny" / "pyproject.toml").is_file()
    assert "wrote package tiny" in capsys.readouterr().out
    assert path.read_bytes() == before
    with pytest.raises(UsageError, match="already exists"):  # never over an existing folder without --force
        ip.run_line_magic("readiness", f"export {tmp_path / 'out'} --notebook {path}")


def test_export_refuses_a_notebook_with_blocking_findings(ip, tmp_path, capsys):
    pytest.importorskip("readiness_magics.exporter.api")
    path = write_notebook(tmp_path / "paths.ipynb", ["import os\nrows = os.listdir('/home/ana/data')"])
    with pytest.raises(UsageError, match="refused"):
        ip.run_line_magic("readiness", f"export {tmp_path / 'out'} --notebook {path}")
    assert "RP101" in capsys.readouterr().out  # what blocks it, shown as a report
    assert not (tmp_path / "out" / "paths").exists()
    ip.run_line_magic("readiness", f"export {tmp_path / 'out'} --notebook {path} --force")
    assert (tmp_path / "out" / "paths" / "pyproject.toml").is_file()


def test_export_needs_a_saved_notebook(ip):
    pytest.importorskip("readiness_magics.exporter")
    run(ip, "x = 1")
    with pytest.raises(UsageError, match="saved notebook"):
        ip.run_line_magic("readiness", "export out")


def test_help_lists_every_subcommand(ip):
    doc = ip.find_line_magic("readiness").__doc__
    for word in ("%readiness on", "pin", "datacheck", "explain", "export", "--strict", "--no-run", "--select"):
        assert word in doc


def test_rule_codes_the_tests_rely_on_exist():
    # The tests above use these codes; when a rule is renumbered they must change with it.
    for code in ("RP101", "RP401"):
        assert get_rule(code) is not None, code
    assert os.environ.get("JPY_SESSION_NAME") is None


# --- watch mode's short context ------------------------------------------------------------------------

SAMPLES = sorted((Path(__file__).resolve().parents[1] / "sample_notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", SAMPLES, ids=[path.stem for path in SAMPLES])
def test_watch_mode_finds_what_a_full_check_of_the_history_finds(path):
    """Watch mode gives the rules a summary of the cells before (see context_summary), not the cells
    themselves; cell by cell, through real notebooks, the findings must be the same."""
    from readiness_magics.config import Settings
    from readiness_magics.magics.sources import HistoryCell, history_settings
    from readiness_magics.magics.watch import ContextIndex, check_cell
    from readiness_magics.notebook import read_notebook

    settings = history_settings(Settings(ruff=False))
    cells = [HistoryCell(number, cell.source) for number, cell in enumerate(read_notebook(path).code_cells, 1)
             if cell.source.strip()]
    summaries = ContextIndex()  # grows cell by cell, as in a session
    for index, cell in enumerate(cells):
        full = check_cell(cell.source, cells[:index], settings).findings
        short = check_cell(cell.source, cells[:index], settings, summarise=True, index=summaries).findings
        # Messages may name a cell by its place in the checked notebook, which differs; what and where must not.
        assert [(f.code, f.line, f.column) for f in short] == [(f.code, f.line, f.column) for f in full], (
            f"cell {index + 1}:\n{cell.source}")


def test_watch_mode_knows_the_imports_of_earlier_cells(ip, capsys):
    run(ip, "%readiness on")
    run(ip, "import pandas as pd")
    capsys.readouterr()
    run(ip, "frame = pd.read_csv('data.csv') if False else pd.DataFrame({'a': [1]})\nframe.groupby('a').size()")
    assert "RP301" in capsys.readouterr().out  # `pd` resolved through the earlier cell's import


SESSIONS = {
    "import-inside-try": (["try:\n    from tqdm.auto import tqdm\nexcept ImportError:\n    tqdm = list"],
                          "def batches(rows):\n    return [row for row in tqdm(rows)]"),
    "module-written-by-a-cell": (["%%writefile mprun_demo.py\ndef double(x):\n    return 2 * x"],
                                 "from mprun_demo import double"),
    "requirements-written-by-a-cell": (["%%writefile requirements.txt\nrequests==2.32.3"], "import requests"),
    "pinned-by-pip": (["%pip install requests==2.32.3"], "import requests"),
    "install-over-lines": (["%pip install -qU \\\n    requests==2.32.3 \\\n    pinecone~=7.0"], "import requests\nimport pinecone"),
    "sys-path": (["import sys\nfolder = 'vendor'\nsys.path.insert(0, folder)"], "import vendored_thing"),
    "cloned-package": (["!git clone https://github.com/facebookresearch/inversecooking.git"],
                       "from inversecooking.src.args import get_parser"),
    "module-written-by-code": (["import requests\nwith open('chains.py', 'w') as out:\n    out.write('x = 1')"],
                               "from chains import x"),
    "import-inside-a-function": (["def plot(values):\n    import statsmodels.api as sm\n    return sm"],
                                 "import statsmodels.api as sm"),
    "seeded": (["import numpy as np\nnp.random.seed(0)"], "import numpy as np\nnoise = np.random.normal(size=10)"),
    "loop-bound-data": (["import pandas as pd\nfor name in ['a', 'b']:\n    frame = pd.read_csv(name + '.csv')"],
                        "def first(column):\n    return frame[column][0]"),
    "setting-not-data": (["N_ROWS = 10\nthreshold = 0.5"], "def keep(x):\n    return x > threshold"),
}


# Sessions where the cell alone gets a different answer; in the others the summary must simply not
# invent a finding (an import inside try/except taken for data, a requirements file ignored).
CONTEXT_CHANGES_THE_ANSWER = {
    "module-written-by-a-cell", "pinned-by-pip", "install-over-lines", "sys-path", "seeded", "loop-bound-data",
    "setting-not-data", "cloned-package", "module-written-by-code", "import-inside-a-function",
}


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_watch_mode_summary_keeps_what_the_rules_need(name, tmp_path, monkeypatch):
    from readiness_magics.config import Settings
    from readiness_magics.magics.sources import HistoryCell, history_settings
    from readiness_magics.magics.watch import check_cell

    monkeypatch.chdir(tmp_path)
    before, current = SESSIONS[name]
    context = [HistoryCell(number, source) for number, source in enumerate(before, start=1)]
    settings = history_settings(Settings(ruff=False))
    full = check_cell(current, context, settings).findings
    short = check_cell(current, context, settings, summarise=True).findings
    assert [(f.code, f.line, f.column) for f in short] == [(f.code, f.line, f.column) for f in full]
    if name in CONTEXT_CHANGES_THE_ANSWER:  # so the summary is shown to carry what matters
        alone = check_cell(current, [], settings).findings
        assert [f.code for f in alone] != [f.code for f in full]


def test_the_context_index_starts_again_when_the_history_does():
    from readiness_magics.magics.sources import HistoryCell
    from readiness_magics.magics.watch import ContextIndex

    index = ContextIndex()
    first = [HistoryCell(1, "import pandas as pd"), HistoryCell(2, "frame = pd.DataFrame()")]
    assert index.update(first).lines_for(frozenset({"frame"})) == ["import pandas as pd", "frame = pd.DataFrame()"]
    assert index.update(first + [HistoryCell(3, "frame = 1")]).lines_for(frozenset({"frame"}))[-1] == "frame = 1"
    after_reset = [HistoryCell(1, "import numpy as np")]  # %reset, or a restarted kernel's new session
    assert index.update(after_reset).lines_for(frozenset({"frame"})) == ["import numpy as np"]
