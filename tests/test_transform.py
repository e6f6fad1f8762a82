"""IPython syntax becomes Python, and every position still points into the cell the user sees."""
from readiness_magics.analysis import analyse_source
from readiness_magics.transform import to_python


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
