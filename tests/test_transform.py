"""IPython syntax becomes Python, and every position still points into the cell the user sees."""
import pytest

from readiness_magics.analysis import analyse_source, analyse_written_module
from readiness_magics.transform import to_python, written_module
from tests.helpers import findings_for


def test_plain_python_is_not_sent_through_ipython():
    python = to_python("x = 1\ny = x / 2  # 50% done\n")
    assert python.code == "x = 1\ny = x / 2  # 50% done\n"
    assert python.magics == ()


def test_line_magics_and_shell_lines_keep_their_line_numbers():
    source = "\n%matplotlib inline\nfiles = !ls data\n!pip install pandas==2.2.0\npath = '/home/ana/x.csv'\n"
    facts = analyse_source(source)
    assert facts.syntax_error is None
    [literal] = [s for s in facts.strings if s.value == "/home/ana/x.csv"]
    span = facts.span(literal)
    assert (span.line, span.column, span.end_column) == (5, 8, 25)
    kinds = [(m.kind, m.name, m.line) for m in facts.magics]
    assert kinds == [("line", "matplotlib", 2), ("shell", "ls", 3), ("shell", "pip", 4)]
    pip = facts.magics[2]
    assert source.splitlines()[pip.line - 1][pip.column - 1:] == "pip install pandas==2.2.0"
    assert pip.command == "pip install pandas==2.2.0"


def test_python_cell_magic_bodies_are_analysed_with_positions_in_the_cell():
    facts = analyse_source("%%time\nimport pandas as pd\ndf = pd.read_csv('/data/x.csv')\n")
    assert facts.python.cell_magic == "time"
    assert [i.module for i in facts.imports] == ["pandas"]
    [literal] = facts.strings
    assert facts.span(literal).line == 3 and facts.span(literal).column == 18


def test_a_timed_statement_is_analysed_as_the_statement_on_its_magic_line():
    facts = analyse_source("import pandas as pd\n%time df = pd.read_csv('x.csv')\nfor i in range(2):\n    %time f(i)\n")
    assert facts.syntax_error is None
    assert [b.name for b in facts.bindings] == ["pd", "df", "i"]
    assert facts.python.magic_lines == {2, 4}
    assert [(m.name, m.line, m.args) for m in facts.magics] == [("time", 2, "df = pd.read_csv('x.csv')"),
                                                                ("time", 4, "f(i)")]
    [literal] = facts.strings
    assert facts.span(literal).line == 2 and facts.span(literal).column == 1  # the magic line as a whole


def test_timed_lines_that_are_not_statements_stay_as_ipython_writes_them():
    in_a_string = analyse_source('x = """\n%time y = 1\n"""\n')
    assert [b.name for b in in_a_string.bindings] == ["x"]
    assert in_a_string.strings[0].value == "\n%time y = 1\n"
    python = to_python("a = 1\n%timeit b = 2\n%time\n")
    assert "run_line_magic('timeit', 'b = 2')" in python.code and "run_line_magic('time', '')" in python.code


def test_other_language_cell_magics_are_not_analysed_as_python():
    facts = analyse_source("%%bash\nfor f in *.csv; do echo $f; done\n")
    assert facts.python.code is None and facts.syntax_error is None
    assert facts.tree is None


def test_line_continuations_in_shell_lines_map_back():
    facts = analyse_source("!ls \\\n  -l\nx = 'C:\\\\data\\\\file.csv'\n")
    [literal] = [s for s in facts.strings if s.value.startswith("C:")]
    assert facts.span(literal).line == 3


def test_columns_count_characters_not_bytes():
    facts = analyse_source("título = 'é'; p = '/home/x'\n")
    literal = [s for s in facts.strings if s.value == "/home/x"][0]
    assert facts.span(literal).column == 19


def test_syntax_error_positions_are_in_the_cell():
    facts = analyse_source("%load_ext autoreload\nprint 'hello'\n")
    assert facts.syntax_error is not None
    assert facts.syntax_error.span.line == 2


# The fast path for simple IPython lines must write exactly what IPython's transformer writes, and
# leave everything it is not sure about to IPython.
_TRICKY_CELLS = [
    "%matplotlib inline\nimport pandas as pd\n",
    "!pip install -qU \\\n  pandas==2.2.0 \\\n  numpy==1.26.4\nimport numpy\n",
    "files = !ls data\nout = !!echo hi\nt = %timeit -o sum(range(9))\n",
    "files = !ls data\nt = %timeit -o sum(range(9))\nfiles\n",
    "x = !!echo hi\n",
    "!!date\n! ls -la  \n",
    "if True:\n    %time f()\n\tpass\n",
    "for i in range(3):\n    !echo {i}\n",
    'text = """\n%s\n!not a command\n"""\n',
    "total = (1 +\n%2)\n",
    "d = dict(\n  a = !ls\n)\n",
    "value = 1 + \\\n%time\n",
    "%timeit np.fromiter((x for x in y),\n    dtype=float)\n",
    "df?\n",
    "%time?\n",
    "x = 1  # why?\n",
    "?len\n",
    "  %pwd\n  x = 1\n",
    "   \n%pwd\n  \n",
    ">>> %pwd\n>>> x = 1\n",
    "In [1]: %pwd\n",
    "% matplotlib inline\n",
    "%%time\nx = 1\n",
    "x = 1\n%%time\n",
    "print('a')\r\n%pwd\r\n",
    "!echo 'unbalanced\nx = 1\n",
    "!pip install x \\\n",
    "a, b[0] = %who_ls\n",
    "x = y = %pwd\n",
    "café = %pwd\nprint(café)\n",
    "%load_ext autoreload\n%autoreload 2",
    "def f():\n    return 1\n%env A=1\n",
    "x = {'a': 1,\n%pwd\n}\n",
]


def test_the_fast_path_writes_what_ipython_writes():
    from readiness_magics.transform import _simple_transform, _transformer

    taken = 0
    for cell in _TRICKY_CELLS:
        fast = _simple_transform(cell)
        if fast is None:
            continue
        taken += 1
        assert fast == _transformer().transform_cell(cell), cell
    assert taken >= 10


# --- %%writefile x.py: the module a cell writes is Python that will run -----------------------------

TRAIN_SCRIPT = (
    "%%writefile src/train.py\n"
    "import pandas as pd\n"
    "from sklearn.ensemble import RandomForestClassifier\n"
    'API_KEY = "sk-abcdEFGH1234ijklMNOP5678qrst"\n'
    'df = pd.read_csv("/home/ana/data/train.csv")\n'
    'model = RandomForestClassifier().fit(df.drop(columns="y"), df.y)\n'
)


def test_a_written_python_module_is_analysed_as_code_with_lines_of_the_cell():
    python = written_module(TRAIN_SCRIPT)
    assert python is not None and python.cell_magic == "writefile" and python.magics == ()
    facts = analyse_written_module(TRAIN_SCRIPT)
    assert [i.module for i in facts.imports] == ["pandas", "sklearn.ensemble"]
    [path] = [s for s in facts.strings if s.value.startswith("/home")]
    span = facts.span(path)
    assert (span.line, span.column, span.end_column) == (5, 18, 44)  # line 1 is the %%writefile line


@pytest.mark.parametrize("header", ["%%writefile train.py", "%%writefile -a src/train.py", "%%file train.py",
                                    '%%writefile "my dir/train.py"', "%%writefile {src}/train.py"])
def test_every_way_of_writing_a_python_file_is_a_module(header):
    assert written_module(header + "\nx = 1\n").code == "\nx = 1\n"


@pytest.mark.parametrize("source", [
    "%%writefile config.yaml\npath: /home/ana/x\n",
    "%%writefile run.sh\npython train.py\n",
    "%%writefile Dockerfile\nFROM python:3.11\n",  # no extension: not necessarily Python
    "%%writefile train.py",  # nothing written
    "%%bash\npython train.py\n",
    "%%time\nx = 1\n",  # runs in the notebook: analysed as the notebook's code, not as a module
    "x = 1\n%%writefile train.py\n",
])
def test_other_cells_are_not_written_modules(source):
    assert written_module(source) is None and analyse_written_module(source) is None


def test_findings_in_a_written_script_sit_in_its_cell():
    found = findings_for(["import os", TRAIN_SCRIPT], select=("RP101", "RP301", "RP407", "RP601", "RP603"))
    assert [(f.code, f.cell_index, f.line, f.column) for f in found] == [
        ("RP601", 1, 4, 11), ("RP301", 1, 5, 6), ("RP101", 1, 5, 18), ("RP407", 1, 6, 9)]


@pytest.mark.parametrize("source", [
    "%%writefile config.yaml\ndata: /home/ana/train.csv\nseed: null\n",
    "%%writefile notes.txt\ndf = pd.read_csv('/home/ana/x.csv')\n",
    "%%bash\npython -c \"import pandas as pd; pd.read_csv('/home/ana/x.csv').mean()\"\n",
    "%%html\n<script>var data = fetch('/home/ana/x.csv').then(r => r.json());</script>\n",
])
def test_other_languages_and_files_get_no_python_findings(source):
    # (Secrets are found in any language: see tests/rules/test_secrets.py.)
    assert findings_for(["import pandas as pd", source], select=("RP101", "RP301", "RP407")) == []


def test_names_of_a_written_module_are_not_the_notebooks():
    cells = [
        ("%%writefile helpers.py\nimport pandas as pd\nrows = pd.read_csv('data/rows.csv')\n"
        "def total():\n    return rows.amount.sum()\n\nprint(total())\n"),
        "print(rows)",  # not bound by the notebook: nothing of the module leaks into its namespace
        "rows = 3\ntotal = rows * 2",
    ]
    found = findings_for(cells)
    assert not [f for f in found if f.category in ("hidden-state",) or f.code in ("RP401", "RP408")]
    assert [(f.code, f.cell_index) for f in found if f.code == "RP301"] == [("RP301", 0)]


def test_a_written_module_that_does_not_parse_is_left_alone():
    assert findings_for(["%%writefile broken.py\ndef f(:\n    pass\n"], select=("RP001", "RP301", "RP101")) == []


def test_a_written_training_script_gets_the_testability_rules_at_its_own_lines():
    script = ("%%writefile train.py\nimport pandas as pd\nfrom sklearn.linear_model import LogisticRegression\n"
              "df = pd.read_csv('data/train.csv')\nassert {'x', 'y'} <= set(df.columns)\n"
              "model = LogisticRegression()\nfor epoch in range(3):\n    model.fit(df[['x']], df.y)\n")
    found = findings_for(["import os", script], select=("RP403", "RP404", "RP301"))
    assert {(f.code, f.cell_index, f.line) for f in found} <= {("RP403", 1, 8), ("RP404", 1, 7)}
    assert found, "a script's loose training loop is still untestable code"
