"""Fixes: edits applied to notebook files byte for byte, each fix on positives and near misses, the CLI."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from readiness_magics.analysis import NotebookModel
from readiness_magics.config import Settings
from readiness_magics.engine import check_content
from readiness_magics.findings import Edit, Fix, NewCell
from readiness_magics.fixes import apply as apply_module
from readiness_magics.fixes.apply import NotebookFile, NotWritable, apply, choose
from readiness_magics.fixes.common import plain_string_at
from readiness_magics.fixes.run import cell_diff, fix_content, fix_file
from readiness_magics.notebook import notebook_from_sources

from .helpers import findings_for

ROOT = Path(__file__).resolve().parent.parent


def notebook_bytes(cells, indent=1, ensure_ascii=False, as_list=True, ids=True, final_newline=True,
                   crlf=False) -> bytes:
    raw_cells = []
    for number, cell in enumerate(cells):
        cell = {"cell_type": "code", "source": cell} if isinstance(cell, str) else dict(cell)
        source = cell.pop("source")
        kind = cell.pop("cell_type", "code")
        made = {"cell_type": kind}
        if kind == "code":
            made["execution_count"] = cell.pop("execution_count", None)
        if ids:
            made["id"] = f"cell-{number}"
        made["metadata"] = cell.pop("metadata", {})
        if kind == "code":
            made["outputs"] = cell.pop("outputs", [])
        made["source"] = source.splitlines(keepends=True) if as_list else source
        raw_cells.append(made)
    data = {"cells": raw_cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                            "language": "python"},
                                             "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5 if ids else 4}
    text = json.dumps(data, indent=indent, ensure_ascii=ensure_ascii)
    if final_newline:
        text += "\n"
    if crlf:
        text = text.replace("\n", "\r\n")
    return text.encode()


def sources(raw: bytes) -> list[str]:
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in json.loads(raw)["cells"]]


def fixed(cells, select, unsafe=False, path="analysis.ipynb", tmp_path=None):
    """Fix a notebook of `cells` with only the rules of `select` (so other fixes do not mix in)."""
    raw = notebook_bytes(cells)
    where = (tmp_path / path) if tmp_path else Path(path)
    settings = Settings(ruff=False).with_overrides(select=tuple(select.split(",")))
    return fix_content(raw, where, settings=settings, unsafe=unsafe)


# --- the writer --------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", [
    {}, {"indent": 2}, {"indent": 4}, {"indent": None}, {"ensure_ascii": True}, {"as_list": False},
    {"ids": False}, {"final_newline": False}, {"crlf": True},
])
def test_only_the_edited_cell_changes_whatever_the_layout(layout):
    cells = ["import os\n", {"source": "x = 'café'\n", "outputs": [
        {"output_type": "stream", "name": "stdout", "text": ["é 1.0e-5\n"]}], "execution_count": 3},
             "!pip install numpy==1.26.4\n", "y = 2"]
    raw = notebook_bytes(cells, **layout)
    notebook = NotebookFile.from_bytes(raw)
    assert notebook.render(notebook.data) == raw
    shell = findings_for(cells, "RP202")[0]
    result = apply(notebook.data, choose([shell.fix], notebook.data))
    after = notebook.render(result)
    expected = json.loads(raw)
    edited = expected["cells"][2]["source"]
    expected["cells"][2]["source"] = (["%pip install numpy==1.26.4\n"] if isinstance(edited, list)
                                     else "%pip install numpy==1.26.4\n")
    assert json.loads(after) == expected
    # The same layout: rendering the expected JSON the file's way gives exactly these bytes.
    assert after == notebook.render(expected)
    assert after.endswith(b"\n") == raw.endswith(b"\n") and (b"\r\n" in after) == (b"\r\n" in raw)


def test_a_file_a_json_writer_would_not_write_is_left_alone():
    raw = notebook_bytes(["!pip install numpy\n"]).replace(b'"metadata": {}', b'"metadata":  {}', 1)
    with pytest.raises(NotWritable):
        NotebookFile.from_bytes(raw)
    outcome = fix_content(raw, Path("x.ipynb"), settings=Settings(ruff=False))
    assert not outcome.changed and "by hand" in outcome.problem
    assert [f.code for f in outcome.report.findings if f.code == "RP202"] == ["RP202"]


def test_old_nbformat_is_not_written():
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": []}]}
    with pytest.raises(NotWritable):
        NotebookFile.from_bytes(json.dumps(v3).encode())


def test_new_cells_take_the_notebooks_shape():
    raw = notebook_bytes(["import numpy as np\n", "x = np.random.rand(3)\nweights = x / x.sum()"])
    outcome = fix_content(raw, Path("draws.ipynb"), settings=Settings(ruff=False), unsafe=True)
    cells = json.loads(outcome.after)["cells"]
    assert [c["cell_type"] for c in cells] == ["markdown", "code", "code", "code"]  # a title, and SEED
    added = cells[2]
    assert list(added) == ["cell_type", "execution_count", "id", "metadata", "outputs", "source"]
    assert added["metadata"]["tags"] == ["parameters", "readiness-fix"] and added["source"] == ["SEED = 42\n"]
    assert len(added["id"]) == 8 and len({c["id"] for c in cells}) == 4
    assert nbformat.validate(nbformat.reads(outcome.after.decode(), as_version=4)) is None


def test_edits_that_overlap_wait_for_the_next_round():
    data = json.loads(notebook_bytes(["a = 1\n"]))
    first = Fix("one", "safe", (Edit(0, 1, 1, 1, 2, "b"),))
    second = Fix("two", "safe", (Edit(0, 1, 1, 1, 6, "c = 2"),))
    third = Fix("three", "safe", (Edit(0, 2, 1, 2, 1, "d = 4\n"),))
    assert choose([first, second, third], data) == [first, third]
    assert sources(json.dumps(apply(data, [first, third])).encode()) == ["b = 1\nd = 4\n"]


def test_insert_and_delete_cells_by_original_index():
    data = json.loads(notebook_bytes(["a = 1\n", "", "b = 2\n"]))
    title = NewCell("before", 0, "markdown", "# Title", ("readiness-fix",))
    fixes = [Fix("t", "safe", (Edit(0, 1, 1, 1, 1, "# Title", insert_cell=title),)),
             Fix("d", "safe", (Edit(1, 1, 1, 1, 1, "", delete_cell=True),)),
             Fix("e", "safe", (Edit(2, 1, 5, 1, 6, "3"),))]
    result = apply(data, choose(fixes, data))
    assert [(c["cell_type"], "".join(c["source"])) for c in result["cells"]] == [
        ("markdown", "# Title"), ("code", "a = 1\n"), ("code", "b = 3\n")]


def test_text_after_a_last_line_without_newline():
    data = json.loads(notebook_bytes(["import pandas as pd"]))
    result = apply(data, [Fix("x", "safe", (Edit(0, 2, 1, 2, 1, "import numpy as np\n"),))])
    assert "".join(result["cells"][0]["source"]) == "import pandas as pd\nimport numpy as np"


def test_fix_file_writes_atomically_and_a_fault_leaves_the_original(tmp_path, monkeypatch):
    path = tmp_path / "nb.ipynb"
    raw = notebook_bytes(["!pip install numpy==1.26.4\n"])
    path.write_bytes(raw)
    settings = Settings(ruff=False).with_overrides(select=("RP202",))
    real_replace = os.replace

    def failing_replace(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(apply_module.os, "replace", failing_replace)
    with pytest.raises(OSError):
        fix_file(path, settings=settings)
    assert path.read_bytes() == raw
    assert [p.name for p in tmp_path.iterdir()] == ["nb.ipynb"]  # no temporary file left behind
    monkeypatch.setattr(apply_module.os, "replace", real_replace)
    mode = 0o640
    path.chmod(mode)
    outcome = fix_file(path, settings=settings)
    assert outcome.changed and sources(path.read_bytes()) == ["%pip install numpy==1.26.4\n"]
    assert path.stat().st_mode & 0o777 == mode
    again = fix_file(path, settings=settings)
    assert not again.changed and not again.applied


def test_a_result_that_would_not_validate_is_not_written(tmp_path, monkeypatch):
    path = tmp_path / "nb.ipynb"
    raw = notebook_bytes(["!pip install numpy==1.26.4\n"])
    path.write_bytes(raw)
    monkeypatch.setattr("readiness_magics.fixes.run.validation_error", lambda raw: "'cells' is a required property")
    outcome = fix_file(path, settings=Settings(ruff=False))
    assert not outcome.changed and "not be valid nbformat" in outcome.problem
    assert path.read_bytes() == raw


# --- the fixes, each on positives and near misses ---------------------------------------------------


def test_shell_pip_becomes_the_magic_and_is_safe():
    outcome = fixed(["!pip install numpy==1.26.4\n", "x = !pip list\n"], "RP2")
    assert sources(outcome.after) == ["%pip install numpy==1.26.4\n", "x = !pip list\n"]
    assert [f.code for f in outcome.applied] == ["RP202"]


def test_pins_come_from_the_install_output_or_the_requirements_file(tmp_path):
    installed = {"source": "%pip install pandas scikit-learn\n", "outputs": [{
        "output_type": "stream", "name": "stdout",
        "text": "Requirement already satisfied: pandas in ./lib/python3.11/site-packages (2.2.2)\n"
                "Successfully installed scikit-learn-1.5.0 threadpoolctl-3.5.0\n"}]}
    assert sources(fixed([installed], "RP2").after) == ["%pip install pandas==2.2.2 scikit-learn==1.5.0\n"]
    # Without evidence: advice, never this machine's version.
    outcome = fixed(["%pip install pandas\n"], "RP2", unsafe=True)
    assert not outcome.changed
    [finding] = [f for f in outcome.report.findings if f.code == "RP201"]
    assert finding.fix.edits == () and "==" in finding.fix.description
    (tmp_path / "requirements.txt").write_text("pandas==2.1.4\n")
    assert sources(fixed(["%pip install pandas\n"], "RP2", tmp_path=tmp_path).after) == ["%pip install pandas==2.1.4\n"]
    # One package without evidence: the line is left for a person.
    assert not fixed(["%pip install pandas polars\n"], "RP2", tmp_path=tmp_path, unsafe=True).changed


def test_paths_are_lifted_into_a_parameters_cell_after_the_imports():
    cells = ["import pandas as pd\n", 'df = pd.read_csv("/home/ana/churn.csv")\ndf.shape\n',
             'extra = pd.read_csv("/home/ana/churn.csv")\n']
    assert not fixed(cells, "RP1").changed  # unsafe: not applied by --fix alone
    outcome = fixed(cells, "RP1", unsafe=True)
    assert sources(outcome.after) == [
        "import pandas as pd\n", 'CHURN_CSV = "/home/ana/churn.csv"\n',
        "df = pd.read_csv(CHURN_CSV)\ndf.shape\n", "extra = pd.read_csv(CHURN_CSV)\n"]
    tags = json.loads(outcome.after)["cells"][1]["metadata"]["tags"]
    assert tags == ["parameters", "readiness-fix"]
    # The default is still machine-specific: reported once, in the parameters cell (documented).
    remaining = [(f.code, f.cell_index) for f in outcome.report.findings if f.category == "hardcoded-path"]
    assert remaining == [("RP101", 1)]


def test_an_assignment_of_a_path_moves_whole_and_an_existing_parameters_cell_is_used():
    cells = ["import os\n", {"source": "THRESHOLD = 0.5\n", "metadata": {"tags": ["parameters"]}},
             'DATA_DIR = "/mnt/shared/data"\nfiles = os.listdir(DATA_DIR)\n']
    outcome = fixed(cells, "RP1", unsafe=True)
    assert sources(outcome.after) == ["import os\n", 'THRESHOLD = 0.5\nDATA_DIR = "/mnt/shared/data"\n',
                                      "files = os.listdir(DATA_DIR)\n"]


def test_paths_near_misses_are_left_alone():
    cells = ["import os\n", 'p = f"/home/{os.getlogin()}/x.csv"\nopen(p)\n', "%cd /home/ana/work\n"]
    outcome = fixed(cells, "RP1", unsafe=True)
    assert not outcome.changed
    assert all(f.fix is None or not f.fix.edits for f in outcome.report.findings if f.code == "RP101")


def test_the_literal_a_fix_replaces_is_a_whole_string_never_a_part_of_an_f_string():
    cells = ["import pandas as pd\n", 'df = pd.read_csv("/home/ana/x.csv")\n',
             'n = 1\nq = pd.read_csv(f"/home/ana/data/{n}.csv")\n']
    model = NotebookModel(notebook_from_sources(cells), Settings(ruff=False))
    plain, in_f_string = findings_for(cells, "RP101")
    cell, node, parent = plain_string_at(model, plain)
    assert (cell.index, node.value, type(parent)) == (1, "/home/ana/x.csv", ast.Call)
    assert plain_string_at(model, in_f_string) is None


def test_seeds_for_estimators_generators_and_global_state():
    cells = [("import numpy as np\nimport random\nfrom sklearn.model_selection import train_test_split\n"
             "from sklearn.ensemble import RandomForestClassifier\n"),
             ("X_train, X_test = train_test_split(X, test_size=0.2)\n"
             "model = RandomForestClassifier(\n    n_estimators=10,\n)\n"),
             "rng = np.random.default_rng()\nnoise = np.random.normal(0, 1, 5)\nX_noisy = X + noise\n",
             "pick = random.choice([1, 2])\nX_pick = X[pick]\n"]
    outcome = fixed(cells, "RP407", unsafe=True)
    after = sources(outcome.after)
    assert after[1] == "SEED = 42\n"
    assert after[2] == ("X_train, X_test = train_test_split(X, test_size=0.2, random_state=SEED)\n"
                        "model = RandomForestClassifier(\n    n_estimators=10, random_state=SEED,\n)\n")
    assert after[3] == ("rng = np.random.default_rng(SEED)\nnp.random.seed(SEED)\n"
                        "noise = np.random.normal(0, 1, 5)\nX_noisy = X + noise\n")
    assert after[4] == "random.seed(SEED)\npick = random.choice([1, 2])\nX_pick = X[pick]\n"
    assert not [f for f in outcome.report.findings if f.code == "RP407"]


def test_seed_near_misses():
    # Seeded already, random_state=None written on purpose, a SEED defined only below: no edits.
    cells = ["from sklearn.cluster import KMeans\n", "km = KMeans(4, random_state=0)\n",
             "km2 = KMeans(4, random_state=None)\n"]
    assert not fixed(cells, "RP407", unsafe=True).changed
    below = ["from sklearn.cluster import KMeans\n", "km = KMeans(4)\n", "SEED = 1\n"]
    assert not fixed(below, "RP407", unsafe=True).changed


def test_secrets_are_read_from_the_environment():
    cells = ["import requests\n", ('API_KEY = "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"\n'
             'requests.get("https://x.example", params={"key": API_KEY})\n')]
    outcome = fixed(cells, "RP6", unsafe=True)
    assert sources(outcome.after) == ["import os\nimport requests\n",
                                      ('API_KEY = os.environ["API_KEY"]\n'
                                      'requests.get("https://x.example", params={"key": API_KEY})\n')]
    [applied] = outcome.applied
    assert "rotate" in applied.fix.description
    assert not [f for f in outcome.report.findings if f.category == "hardcoded-secret"]


def test_secret_near_misses():
    cells = ["import os\n", 'key = os.getenv("API_KEY", "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c")\n',
             'headers = {"Authorization": "Bearer sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"}\n']
    outcome = fixed(cells, "RP6", unsafe=True)
    # The fallback of an environment lookup is left for a person; a header keeps its scheme.
    assert sources(outcome.after)[1:] == [cells[1], 'headers = {"Authorization": "Bearer " + os.environ["API_TOKEN"]}\n']


def test_data_check_under_the_load_from_the_columns_used():
    cells = ["import pandas as pd\n", 'sales = pd.read_csv("data/sales.csv")\n',
             'sales["margin"] = sales["revenue"] - sales.cost\nsales.groupby("region").margin.sum()\n']
    outcome = fixed(cells, "RP301", unsafe=True)
    after = sources(outcome.after)
    assert after[2] == ("# Check the data before it is used (added by `readiness check --fix`)\n"
                        'assert len(sales) > 0, "sales is empty"\n'
                        'assert {"revenue", "cost", "region"} <= set(sales.columns), '
                        '"sales lacks columns the notebook uses"\n'
                        'assert sales["region"].notna().all(), "sales has missing values in region"')
    assert json.loads(outcome.after)["cells"][2]["metadata"]["tags"] == ["readiness-fix"]
    assert not [f for f in outcome.report.findings if f.code == "RP301"]


def test_data_check_inside_the_cell_when_the_cell_goes_on_using_it():
    cells = ["import json\n", 'with open("data/c.json") as f:\n    conf = json.load(f)\n    use(conf["a"])\n']
    outcome = fixed(cells, "RP301", unsafe=True)
    assert sources(outcome.after)[1] == (
        'with open("data/c.json") as f:\n    conf = json.load(f)\n'
        "    # Check the data before it is used (added by `readiness check --fix`)\n"
        '    assert len(conf) > 0, "conf is empty"\n    use(conf["a"])\n')
    assert not [f for f in outcome.report.findings if f.code == "RP301"]


def test_data_check_near_misses():
    # Used in the statement that loads it: nowhere to put a check; checked already: no finding at all.
    cells = ["import pandas as pd\n", 'n = len(pd.read_csv("a.csv").dropna())\n',
             'df = pd.read_csv("b.csv")\nassert len(df) > 0\ndf.describe()\n']
    assert not fixed(cells, "RP301", unsafe=True).changed


def test_empty_cells_deleted_and_a_title_from_the_file_name_safe():
    outcome = fixed(["import os\n", "", "x = os.sep\n"], "RP705,RP709", path="churn_model-v2.ipynb")
    cells = json.loads(outcome.after)["cells"]
    assert [(c["cell_type"], "".join(c["source"])) for c in cells] == [
        ("markdown", "# Churn model v2"), ("code", "import os\n"), ("code", "x = os.sep\n")]
    assert not fixed(["import os\n"], "RP705", path="Untitled3.ipynb").changed  # a name that says nothing


def test_fix_json_contract_of_a_new_cell():
    [finding] = findings_for(["import numpy as np\n", "x = np.random.rand(3)\ny = x * 2\n"], "RP407")
    edits = finding.to_dict()["fix"]["edits"]
    assert edits[0]["insert_cell"] == {"after": 0, "cell_type": "code", "source": "SEED = 42\n",
                                       "tags": ["parameters", "readiness-fix"]}
    assert edits[0]["cell_index"] == 0 and edits[0]["content"] == ""  # the source is in insert_cell
    assert "insert_cell" not in edits[1] and edits[1]["content"] == "np.random.seed(SEED)\n"
    [empty] = findings_for(["a = 1\n", "", "b = 1\n"], "RP709")
    assert empty.to_dict()["fix"]["edits"] == [{"cell_index": 1, "line": 1, "column": 1, "end_line": 1,
                                                "end_column": 1, "content": "", "delete_cell": True}]


def test_ruff_fixes_come_through_ruff_and_keep_its_applicability(tmp_path):
    raw = notebook_bytes(["import os\nimport sys\nprint(sys.argv)\n", "x = 1\nif x == None:\n    print(f'x')\n"])
    settings = Settings(ruff_select=("F", "E7")).with_overrides(select=("F", "E"))
    report = check_content(raw, path=tmp_path / "r.ipynb", settings=settings)
    by_code = {f.code: f for f in report.findings}
    assert by_code["F401"].fix.applicability == "safe" and by_code["F401"].fix.edits
    assert by_code["E711"].fix.applicability == "unsafe" and by_code["E711"].fix.edits
    outcome = fix_content(raw, tmp_path / "r.ipynb", settings=settings)
    assert sorted(f.code for f in outcome.applied) == ["F401", "F541"]
    assert sources(outcome.after) == ["import sys\nprint(sys.argv)\n", "x = 1\nif x == None:\n    print('x')\n"]
    assert [f.code for f in outcome.report.findings] == ["E711"]
    unsafe = fix_content(outcome.after, tmp_path / "r.ipynb", settings=settings, unsafe=True)
    assert sources(unsafe.after)[1] == "x = 1\nif x is None:\n    print('x')\n" and not unsafe.report.findings


# --- the command line -------------------------------------------------------------------------------


def run_cli(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "readiness_magics", "check", "--no-progress", *args],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=300, check=False)


def test_cli_fix_diff_fix_only_and_unsafe(tmp_path):
    path = tmp_path / "analysis.ipynb"
    raw = notebook_bytes([{"cell_type": "markdown", "source": "# A\n"},
                          "!pip install numpy==1.26.4\nimport numpy as np\n", "x = np.random.rand(2)\ny = x * 2\n"])
    path.write_bytes(raw)
    diff = run_cli("--diff", "--no-ruff", "analysis.ipynb", cwd=tmp_path)
    assert diff.returncode == 1 and path.read_bytes() == raw
    assert "-!pip install numpy==1.26.4\n+%pip install numpy==1.26.4\n" in diff.stdout
    assert "--- analysis.ipynb:cell 1\n+++ analysis.ipynb:cell 1\n" in diff.stdout and "SEED" not in diff.stdout
    fix = run_cli("--fix", "--no-ruff", "analysis.ipynb", cwd=tmp_path)
    assert "fixed 1 finding(s) in 1 notebook(s)" in fix.stderr
    assert "RP202" not in fix.stdout and "RP407" in fix.stdout  # what remains is reported
    assert sources(path.read_bytes())[1].startswith("%pip install")
    unsafe = run_cli("--fix-only", "--unsafe-fixes", "--no-ruff", "analysis.ipynb", cwd=tmp_path)
    assert unsafe.returncode == 0 and unsafe.stdout == ""
    assert "SEED = 42\n" in sources(path.read_bytes())
    again = run_cli("--diff", "--no-ruff", "--unsafe-fixes", "analysis.ipynb", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == ""


def test_cli_fix_exit_code_counts_what_remains(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_bytes(notebook_bytes([{"cell_type": "markdown", "source": "# Shell\n"}, "!pip install numpy==1.26.4\n"]))
    result = run_cli("--fix", "--no-ruff", "--select", "RP202", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    path.write_bytes(notebook_bytes([{"cell_type": "markdown", "source": "# Shell\n"}, "!pip install numpy\n"]))
    result = run_cli("--fix", "--no-ruff", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 1 and "RP201" in result.stdout and "RP202" not in result.stdout
    assert cell_diff(b'{"cells": []}', b'{"cells": []}', "x") == ""


def test_import_os_never_goes_above_a_cell_magic():
    cells = ["%%capture\nimport requests\n", 'TOKEN = "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"\nrequests.get("x", TOKEN)\n']
    outcome = fixed(cells, "RP6", unsafe=True)
    assert sources(outcome.after) == [cells[0], 'import os\nTOKEN = os.environ["TOKEN"]\nrequests.get("x", TOKEN)\n']


SAMPLES = ROOT / "sample_notebooks"
# What a fix leaves on purpose (README "Fixing"): a lifted default is still machine-specific (now in the
# parameters cell), and a cell a fix adds was never run.
DOCUMENTED = {"RP101", "RP102", "RP503"}


@pytest.mark.parametrize("name", ["churn_model.ipynb", "customer_segments.ipynb", "sales_forecast.ipynb",
                                  "sensor_cleaning.ipynb", "text_classifier.ipynb"])
def test_after_fixing_the_fixed_findings_are_gone_and_nothing_new_but_what_is_documented(name):
    path = SAMPLES / name
    raw = path.read_bytes()
    before = check_content(raw, path=path).findings
    outcome = fix_content(raw, path, unsafe=True)
    assert outcome.applied and outcome.problem is None
    after = outcome.report.findings
    new_codes = {f.code for f in after} - {f.code for f in before}
    assert new_codes <= DOCUMENTED, new_codes
    for code in {f.code for f in before if f.fix and f.fix.edits and f.category != "code-quality"}:
        had = [f for f in before if f.code == code]
        fixable = [f for f in had if f.fix and f.fix.edits]
        remaining = [f for f in after if f.code == code]
        if code in DOCUMENTED:
            cells = json.loads(outcome.after)["cells"]
            elsewhere = [f for f in remaining if "parameters" not in cells[f.cell_index]["metadata"].get("tags", ())]
            assert len(elsewhere) == len(had) - len(fixable), (code, elsewhere)
        else:
            assert len(remaining) == len(had) - len(fixable), (code, remaining)
