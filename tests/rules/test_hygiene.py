"""notebook-hygiene rules: positives and near misses."""
import nbformat
import pytest

from readiness_magics.engine import check_file
from readiness_magics.findings import Edit
from tests.helpers import codes_for, findings_for

MD = {"cell_type": "markdown", "source": "# Title\nWhat this does."}


def md(text):
    return {"cell_type": "markdown", "source": text}


def write(path, cells):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(c["source"]) if isinstance(c, dict) else nbformat.v4.new_code_cell(c)
        for c in cells])
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def codes(path, select):
    return [f.code for f in check_file(path, use_ruff=False).findings if f.code.startswith(select)]


@pytest.mark.parametrize("name, flagged", [
    ("Untitled.ipynb", True), ("Untitled3.ipynb", True), ("churn-Copy1.ipynb", True),
    ("Copy of churn.ipynb", True), ("churn_model.ipynb", False), ("untitled_research_plan.ipynb", False),
])
def test_untitled_notebooks(tmp_path, name, flagged):
    path = write(tmp_path / name, [MD, "x = 1", md("Done.")])
    assert ("RP701" in codes(path, "RP701")) is flagged


@pytest.mark.parametrize("name, flagged", [
    ("my analysis.ipynb", True), ("résumé(1).ipynb", True), ("ab.ipynb", True),
    ("sales_2024-q1.ipynb", False), ("abc.ipynb", False),
    # a long name is descriptive, not broken (on the corpus: folder paths flattened into the name)
    ("learn__search__semantic-search__2311-embedding-examples__retrieval-perf-openai.ipynb", False),
])
def test_file_names(tmp_path, name, flagged):
    path = write(tmp_path / name, [MD, "x = 1", md("Done.")])
    assert ("RP702" in codes(path, "RP702")) is flagged


def test_opening_and_closing_markdown_and_title():
    assert codes_for(["x = 1", md("end")], select="RP703") == [("RP703", 0, 1)]
    assert codes_for(["", md("# T"), "x = 1"], select="RP703") == []  # empty cells do not count
    assert codes_for([MD, "x = 1"], select="RP704") == [("RP704", 1, 1)]
    assert codes_for([MD, "x = 1", md("Results"), ""], select="RP704") == []
    assert [c for c, *_ in codes_for(["x = 1", md("## Only a subsection"), "y = 2"], select="RP705")] == ["RP705"]
    assert [c for c, *_ in codes_for([md("Intro text.\n\n## Section"), "x = 1"], select="RP705")] == ["RP705"]
    assert [c for c, *_ in codes_for([md("Plain title line\n\nText."), "x = 1"], select="RP705")] == ["RP705"]
    assert codes_for([md("# Churn model"), "x = 1"], select="RP705") == []
    assert codes_for([md("<h1>Churn</h1>"), "x = 1"], select="RP705") == []
    assert codes_for([md("#hashtag-free title"), "x = 1"], select="RP705") == []


def test_markdown_ratio():
    code = [f"x{i} = {i}" for i in range(12)]
    assert [c for c, *_ in codes_for(code, select="RP706")] == ["RP706"]
    assert codes_for([MD] + code[:6] + [md("## Part 2")] + code[6:], select="RP706") == []
    assert codes_for(code[:9], select="RP706") == []  # short notebooks are fine


def test_lengths_use_the_configured_limits():
    from readiness_magics.config import Settings
    long_cell = "\n".join(f"x{i} = {i}" for i in range(61))
    assert codes_for([long_cell], select="RP708") == [("RP708", 0, 61)]
    assert codes_for(["\n".join(f"x{i} = {i}" for i in range(60))], select="RP708") == []
    strict = Settings(ruff=False, max_cells=2, max_cell_lines=1)
    assert [c for c, *_ in codes_for(["a = 1", "b = 2", "c = 3"], select="RP707", settings=strict)] == ["RP707"]
    assert codes_for(["a = 1", "b = 2"], select="RP707", settings=strict) == []


def test_empty_cells_in_the_middle_only():
    assert codes_for(["x = 1", "", "   \n", "y = 2", ""], select="RP709") == [("RP709", 1, 1), ("RP709", 2, 1)]
    assert codes_for(["", "x = 1", ""], select="RP709") == []


def test_long_comment_blocks():
    block = "\n".join(f"# line {i}" for i in range(6))
    assert codes_for([block + "\nx = 1"], select="RP710") == [("RP710", 0, 1)]
    assert codes_for(["\n".join(f"# line {i}" for i in range(5)) + "\nx = 1"], select="RP710") == []
    assert codes_for(['"""\n' + "\n".join(f"line {i}" for i in range(8)) + '\n"""'], select="RP710") == []


def test_scattered_imports_one_finding_with_a_safe_fix():
    cells = ["import pandas as pd", "frame = pd.DataFrame()", "import numpy as np\ntotal = np.sum([1])",
             "from os import path"]
    [finding] = findings_for(cells, select="RP711")
    assert (finding.cell_index, finding.line) == (2, 1)
    assert "cell 2 line 1" in finding.message and "cell 3 line 1" in finding.message
    assert finding.fix.applicability == "safe"
    assert finding.fix.edits[0] == Edit(0, 2, 1, 2, 1, "import numpy as np\nfrom os import path\n")
    assert Edit(2, 1, 1, 2, 1, "") in finding.fix.edits


def test_scattered_import_fix_is_unsafe_when_moving_would_change_a_name_above():
    cells = ["import pandas as pd", "np = 'not numpy yet'\nprint(np)", "import numpy as np"]
    [finding] = findings_for(cells, select="RP711")
    assert finding.fix.applicability == "unsafe" and not finding.fix.edits


def test_imports_in_one_cell_or_in_functions_are_fine():
    assert codes_for(["import os\nimport sys", "def f():\n    import json\n    return json"], select="RP711") == []


def test_never_executed_and_count_gaps():
    assert [c for c, *_ in codes_for(["x = 1", "y = 2"], select="RP712")] == ["RP712"]
    ran = [{"source": "x = 1", "execution_count": 1}, {"source": "y = 2", "execution_count": 2}]
    assert codes_for(ran, select="RP71") == []
    gaps = [{"source": "x = 1", "execution_count": 1}, {"source": "y = 2", "execution_count": 4}]
    assert codes_for(gaps, select="RP713") == [("RP713", 1, 1)]
    repeated = [{"source": "x = 1", "execution_count": 2}, {"source": "y = 2", "execution_count": 2}]
    assert [c for c, *_ in codes_for(repeated, select="RP713")] == ["RP713"]


def test_project_level_dependency_file_and_version_control(tmp_path):
    path = write(tmp_path / "proj" / "analysis.ipynb", [MD, "import pandas as pd\nimport os", md("End")])
    assert codes(path, "RP72") == ["RP720", "RP721"]
    (tmp_path / "proj" / "requirements.txt").write_text("pandas==2.2.3\n")
    (tmp_path / "proj" / ".git").mkdir()
    from readiness_magics.rules import hygiene
    hygiene._project_root.cache_clear()
    assert codes(path, "RP72") == []
    stdlib_only = write(tmp_path / "other" / "stdlib.ipynb", [MD, "import os", md("End")])
    assert "RP720" not in codes(stdlib_only, "RP72")


def test_large_data_files_unless_dvc_or_lfs(tmp_path):
    project = tmp_path / "proj"
    path = write(project / "analysis.ipynb", [MD, "x = 1", md("End")])
    (project / ".git").mkdir()
    (project / "data").mkdir()
    with open(project / "data" / "events.csv", "wb") as stream:
        stream.truncate(11 * 1024 * 1024)
    (project / "data" / "small.csv").write_text("a\n1\n")
    from readiness_magics.rules import hygiene
    hygiene._large_files.cache_clear()
    [finding] = [f for f in check_file(path, use_ruff=False).findings if f.code == "RP722"]
    assert "data/events.csv" in finding.message and finding.cell_index is None
    (project / ".gitattributes").write_text("*.csv filter=lfs diff=lfs merge=lfs -text\n")
    hygiene._large_files.cache_clear()
    assert codes(path, "RP722") == []


def test_duplicate_notebook_names_in_one_repository(tmp_path):
    project = tmp_path / "proj"
    (project / ".git").mkdir(parents=True)
    first = write(project / "a" / "analysis.ipynb", [MD, "x = 1", md("End")])
    write(project / "b" / "analysis.ipynb", [MD, "x = 1", md("End")])
    unique = write(project / "b" / "report.ipynb", [MD, "x = 1", md("End")])
    [finding] = [f for f in check_file(first, use_ruff=False).findings if f.code == "RP723"]
    assert "b/analysis.ipynb" in finding.message
    assert codes(unique, "RP723") == []


def test_a_title_is_a_setext_heading_or_the_heading_that_opens_the_notebook():
    # "Title\n=====" is a level-1 heading in markdown
    assert codes_for([md("Random Sampling\n==========\n\nCredits: ..."), "x = 1"], select="RP705") == []
    # the notebook opens with a level-2 heading, past a Colab badge: that heading is its title
    badge = md('<a href="https://colab.research.google.com/x"><img src="badge.svg" alt="Open In Colab"/></a>')
    assert codes_for([badge, md("## Image super-resolution\nText."), "x = 1", md("## Setup")],
                     select="RP705") == []
    assert codes_for([md("[![Open In Colab](b.svg)](https://colab)"), md("## PaliGemma fine-tuning"), "x = 1"],
                     select="RP705") == []
    # near miss: a badge, then prose, then code: no title
    assert [c for c, *_ in codes_for([badge, md("We start by loading."), "x = 1"], select="RP705")] == ["RP705"]


def test_long_cells_count_steps_not_definitions_or_data():
    body = "\n".join(f"    x{i} = {i}" for i in range(70))
    assert codes_for([f"def build():\n{body}\n    return x0"], select="RP708") == []
    method_body = body.replace("    ", "        ")
    assert codes_for([f"class Model:\n    def fit(self):\n{method_body}"], select="RP708") == []
    records = "records = [\n" + "\n".join(f'    {{"_id": "rec{i}", "text": "t{i}"}},' for i in range(70)) + "\n]"
    assert codes_for([records], select="RP708") == []
    sql = "%%sql\n" + "\n".join(f"SELECT {i};" for i in range(70))
    assert codes_for([sql], select="RP708") == []
    assert codes_for(["\n".join(f"SELECT {i};" for i in range(70))], select="RP708") == []  # RP001's
    params = "\n".join(f'p{i} = {{\n    "col": DEFAULT_USER_COL,\n    "dtype": np.float32,\n    "lr": -0.{i},\n}}'
                       for i in range(15))
    assert codes_for([params], select="RP708") == []
    imports = "\n".join(f"try:\n    import mod{i}\nexcept ImportError:\n    pass" for i in range(16))
    assert codes_for([imports], select="RP708") == []
    script = 'driver = """\n' + "\n".join(f"x{i} = {i}" for i in range(70)) + '\n""".format(name=NAME)'
    assert codes_for([script], select="RP708") == []
    # near misses: 61 lines of steps around a small function, and a %%time cell of steps
    steps = "\n".join(f"y{i} = f({i})" for i in range(61))
    calls = "\n".join(f"p{i} = dict(\n    col=read_col({i}),\n)" for i in range(21))
    assert [c for c, *_ in codes_for([calls], select="RP708")] == ["RP708"]
    assert [c for c, *_ in codes_for(["def f(v):\n    return v\n" + steps], select="RP708")] == ["RP708"]
    assert [c for c, *_ in codes_for(["%%time\n" + steps], select="RP708")] == ["RP708"]


def test_an_empty_cell_that_kept_its_output_says_the_code_was_deleted():
    cells = [{"source": "x = 1", "execution_count": 1},
             {"source": "", "execution_count": 2,
              "outputs": [{"output_type": "execute_result", "data": {"text/plain": "3"}, "metadata": {},
                           "execution_count": 2}]},
             {"source": "y = 2", "execution_count": 3}]
    [finding] = findings_for(cells, select="RP709")
    assert "code that made the output was deleted" in finding.message
    assert finding.fix.applicability == "unsafe"  # deleting loses what the output showed
    [plain] = findings_for(["x = 1", "", "y = 2"], select="RP709")
    assert plain.message == "Empty cell; delete it" and plain.fix.applicability == "safe"


def test_long_comment_blocks_one_finding_per_cell():
    block = "\n".join(f"#   line {i}" for i in range(6))
    [finding] = findings_for([block + "\n    ...\n" + block + "\nx = 1"], select="RP710")
    assert finding.line == 1 and "1 more block(s) from line 8" in finding.message
    # near miss: two cells, two findings
    assert len(findings_for([block + "\nx = 1", block + "\ny = 2"], select="RP710")) == 2


def test_count_gaps_leave_out_of_order_cells_to_rp501_and_ignore_a_late_start():
    out_of_order = [{"source": "x = 1", "execution_count": 3}, {"source": "y = 2", "execution_count": 1}]
    assert codes_for(out_of_order, select="RP713") == []
    assert [c for c, *_ in codes_for(out_of_order, select="RP501")] == ["RP501"]
    late_start = [{"source": "x = 1", "execution_count": 4}, {"source": "y = 2", "execution_count": 5}]
    assert codes_for(late_start, select="RP713") == []
    zero = [{"source": "x = 1", "execution_count": 0}, {"source": "y = 2", "execution_count": 1},
            {"source": "z = 3", "execution_count": 2}]
    assert codes_for(zero, select="RP713") == []
    # a comment-only cell that ran in turn keeps its count: no gap around it
    comment = [{"source": "x = 1", "execution_count": 1}, {"source": "# note", "execution_count": 2},
               {"source": "y = 2", "execution_count": 3}]
    assert codes_for(comment, select="RP713") == []
    # a gap of one count is most often one cell run twice
    rerun = [{"source": "x = 1", "execution_count": 1}, {"source": "y = 2", "execution_count": 3}]
    assert codes_for(rerun, select="RP713") == []
    # the missing counts sit where a cell has none (run, then cleared): RP503's finding
    cleared = [{"source": "x = 1", "execution_count": 4}, {"source": "z = 0"},
               {"source": "y = 2", "execution_count": 9}]
    assert codes_for(cleared, select="RP713") == []
    gap = [{"source": "x = 1", "execution_count": 4}, {"source": "y = 2", "execution_count": 9}]
    [finding] = findings_for(gap, select="RP713")
    assert "4 to 9" in finding.message and finding.cell_index == 1


def test_prose_comments_inside_a_function_are_not_a_comment_block():
    prose = ("def rotate(path):\n    # Rotate log based on when parameter:\n    # second (s)\n    # minute (m)\n"
             "    # hour (h)\n    # day (d)\n    # w0-w6 (weekday, 0=Monday)\n    return path")
    assert codes_for([prose], select="RP710") == []
    # near misses: commented-out code inside a function, and prose at the top level of a cell
    dead = ('def plot(x):\n    #plt.figure()\n    #plt.title("RMSE: {}".format(r))\n    #plt.xlabel("x")\n'
            '    #plt.ylabel("y")\n    #plt.scatter(x, y)\n    #plt.show()\n    return x')
    assert codes_for([dead], select="RP710") == [("RP710", 0, 2)]
    top = "\n".join(f"# The file comes from export number {i}, with one row per customer." for i in range(6))
    assert codes_for([top + "\nx = 1"], select="RP710") == [("RP710", 0, 1)]


def test_a_worksheets_answer_slots_are_not_empty_cells():
    worksheet = [md("# Exercises"), "import pandas as pd", md("### Step 1. Load the data"), "",
                 md("### Step 2. Show the first rows"), "", md("### Step 3. Count the rows"), "", md("Done.")]
    assert codes_for(worksheet, select="RP709") == []
    # near misses: two slots are not a worksheet; an empty cell between code cells is a leftover
    two = [md("# Exercises"), "x = 1", md("### Step 1"), "", md("### Step 2"), "", md("Done.")]
    assert [c for c, *_ in codes_for(two, select="RP709")] == ["RP709", "RP709"]
    assert codes_for(worksheet[:-1] + ["y = 1", "", "z = 2"], select="RP709") == [("RP709", 9, 1)]


def test_a_rule_off_by_default_runs_only_when_named():
    # RP704 was right 1 time in 15 on real notebooks: a prefix or a category does not turn it on, its code does.
    cells = [MD, "x = 1"]
    assert [c for c in codes_for(cells) if c[0] == "RP704"] == []
    assert [c for c in codes_for(cells, select="RP7") if c[0] == "RP704"] == []
    assert codes_for(cells, select="RP704") == [("RP704", 1, 1)]
    assert codes_for(cells, select="no-closing-markdown") == [("RP704", 1, 1)]


@pytest.mark.parametrize("source", [
    "", "x = 1", "a\nb\nc", "a\nb\nc\n", "a\r\nb\r\nc", "a\rb\rc", "a\x0bb\x0cc\x1cd\x1de\x1ef", "a\n\n\n\n",
    "é\nb\u2028c\x85d\ne", "\n" * 5, "x\n" * 4 + "y",
])
def test_at_most_lines_agrees_with_splitlines(source):
    from readiness_magics.rules.hygiene import _at_most_lines

    for limit in range(8):
        if _at_most_lines(source, limit):
            assert len(source.splitlines()) <= limit
