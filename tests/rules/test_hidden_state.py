"""hidden-state: RP501-RP504, from saved execution counts and outputs."""
import pytest

from readiness_magics.findings import Severity
from tests.helpers import codes_for, findings_for


def ran(source, count, outputs=()):
    return {"source": source, "execution_count": count, "outputs": list(outputs)}


def error(ename="KeyError", evalue="'revenue'"):
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": ["Traceback ..."]}


MARKDOWN = {"cell_type": "markdown", "source": "## Notes"}


# --- RP501 out-of-order-execution --------------------------------------------------------------------


def test_first_cell_with_a_lower_count_than_one_above():
    cells = [ran("a = 1", 1), MARKDOWN, ran("b = 2", 5), ran("c = 3", 3), ran("d = 4", 2)]
    found = findings_for(cells, select="RP501")
    assert [(f.code, f.cell_index, f.line, f.column) for f in found] == [("RP501", 3, 1, 1)]
    assert "[3]" in found[0].message and "[5]" in found[0].message and "cell 2" in found[0].message
    assert found[0].severity is Severity.ERROR


def test_compares_with_the_highest_count_above_not_only_the_previous_cell():
    cells = [ran("a = 1", 7), ran("b = 2", 8), ran("c = 3", None), ran("d = 4", 7.0 and 6)]
    assert codes_for(cells, select="RP501") == [("RP501", 3, 1)]


@pytest.mark.parametrize("counts", [
    [1, 2, 3, 4],
    [1, 5, 9, 30],  # gaps are fine
    [None, None, None],  # never run
    [1, None, 2, None],  # unexecuted cells do not break the order
    [3, 3],  # equal is not lower
    [4],
])
def test_in_order(counts):
    cells = [ran(f"x{i} = {i}", count) for i, count in enumerate(counts)]
    assert codes_for(cells, select="RP501") == []


def test_cells_that_do_not_parse_still_count():
    cells = [ran("print 'hi'", 4), ran("x = 1", 2)]
    assert codes_for(cells, select="RP501") == [("RP501", 1, 1)]


@pytest.mark.parametrize("cells", [
    # an exercise notebook with the solution removed: an empty cell that ran late changes nothing
    [ran("a = 1", 1), ran("b = 2", 13), ran("", 9), ran("c = 3", 14)],
    [ran("a = 1", 1), ran("b = 2", 13), ran("# What is the shape of X?\n", 5), ran("c = 3", 14)],
    # count 0 is no kernel's: some front ends save it for cells whose count they lost
    [ran("import numpy as np", 0), ran("x = np.ones(2)", 2), ran("y = x * 2", 3), ran("import pandas", 0)],
])
def test_cells_without_code_or_without_a_real_count_are_not_out_of_order(cells):
    assert codes_for(cells, select="RP501") == []


def test_a_code_cell_after_an_empty_one_is_still_compared_with_the_highest_count_above():
    cells = [ran("a = 1", 1), ran("b = 2", 13), ran("", 9), ran("c = 3", 4)]
    assert codes_for(cells, select="RP501") == [("RP501", 3, 1)]


# --- RP502 saved-error-output ------------------------------------------------------------------------


def test_saved_error_names_the_exception():
    cells = [ran("x = 1", 1), ran("sales['revenue'].sum()", 2, [error()])]
    found = findings_for(cells, select="RP502")
    assert [(f.code, f.cell_index, f.line) for f in found] == [("RP502", 1, 1)]
    assert "KeyError: 'revenue'" in found[0].message
    assert found[0].severity is Severity.ERROR


def test_keyboard_interrupt_is_reported():
    found = findings_for([ran("while True:\n    pass", 3, [error("KeyboardInterrupt", "")])], select="RP502")
    assert [f.cell_index for f in found] == [0]
    assert "KeyboardInterrupt" in found[0].message and "interrupted" in found[0].message


def test_error_saved_on_an_unexecuted_or_unparsable_cell():
    cells = [ran("print 'x'", None, [error("NameError", "name 'x' is not defined")])]
    assert codes_for(cells, select="RP502") == [("RP502", 0, 1)]


def test_saved_syntax_error_on_a_cell_that_still_does_not_parse_is_left_to_rp001():
    cells = [ran("x = 1", 1), ran("health.loc[(:, 1), (:, 'HR')]", 2, [error("SyntaxError", "invalid syntax")])]
    assert codes_for(cells, select=("RP502", "RP001")) == [("RP001", 1, 1)]


def test_saved_syntax_error_on_a_cell_fixed_since_is_still_reported():
    cells = [ran("x = 1", 1), ran("y = (x + 1)", 2, [error("SyntaxError", "invalid syntax")])]
    assert codes_for(cells, select=("RP502", "RP001")) == [("RP502", 1, 1)]


def test_error_without_a_name_says_so():
    found = findings_for([ran("load()", 3, [error("", "")])], select="RP502")
    assert "without an exception name" in found[0].message and "(an error)" not in found[0].message


def test_long_error_values_are_shortened():
    found = findings_for([ran("f()", 1, [error("ValueError", "bad " * 100)])], select="RP502")
    assert len(found[0].message) < 200


@pytest.mark.parametrize("outputs", [
    [],
    [{"output_type": "stream", "name": "stderr", "text": "Traceback (most recent call last): ... Warning"}],
    [{"output_type": "execute_result", "data": {"text/plain": "'KeyError'"}, "metadata": {}, "execution_count": 1}],
])
def test_no_error_output(outputs):
    assert codes_for([ran("x = 1", 1, outputs)], select="RP502") == []


# --- RP503 unexecuted-cell ---------------------------------------------------------------------------


def test_unexecuted_cell_between_executed_ones():
    cells = [ran("a = 1", 1), ran("b = a + 1", None), MARKDOWN, ran("c = 2", 2)]
    found = findings_for(cells, select="RP503")
    assert [(f.code, f.cell_index, f.line, f.column) for f in found] == [("RP503", 1, 1, 1)]
    assert found[0].severity is Severity.WARNING


def test_a_run_of_unexecuted_cells_is_one_finding_on_its_first_cell():
    cells = [ran("a = 1", 1), ran("b = 1", None), ran("", None), ran("%matplotlib inline", None), ran("c = 2", 2)]
    found = findings_for(cells, select="RP503")
    assert [(f.code, f.cell_index) for f in found] == [("RP503", 1)]
    assert "the 1 after it (to cell 3)" in found[0].message


def test_runs_separated_by_a_cell_that_ran_are_two_findings():
    cells = [ran("a = 1", 1), ran("b = 1", None), ran("c = 2", 2), ran("d = 1", None), MARKDOWN,
             ran("e = 1", None), ran("f = 2", 3)]
    assert codes_for(cells, select="RP503") == [("RP503", 1, 1), ("RP503", 3, 1)]


def test_count_zero_counts_as_run():
    cells = [ran("a = 1", 1), ran("b = 1", 0), ran("c = 2", 2)]
    assert codes_for(cells, select="RP503") == []


@pytest.mark.parametrize("cells", [
    [ran("a = 1", 1), ran("b = 2", 2), ran("c = 3", None), ran("d = 4", None)],  # trailing
    [ran("a = 1", None), ran("b = 2", 1), ran("c = 3", 2)],  # leading
    [ran("a = 1", 1), ran("", None), ran("   \n", None), ran("c = 3", 2)],  # empty
    [ran("a = 1", 1), ran("# just a note", None), ran("c = 3", 2)],  # comment only
    [ran("a = 1", None), ran("b = 2", None), ran("c = 3", None)],  # never run
    [ran("a = 1", 1), ran("b = 2", None, [{"output_type": "stream", "name": "stdout", "text": "x"}]),
     ran("c = 3", 2)],  # count cleared but it ran (it has outputs)
    [ran("a = 1", 1), MARKDOWN, ran("c = 3", 2)],  # markdown is not code
])
def test_not_unexecuted_between(cells):
    assert codes_for(cells, select="RP503") == []


# --- RP504 name-defined-later ------------------------------------------------------------------------


def test_cell_that_ran_uses_a_name_only_a_later_cell_defines():
    cells = [ran("import pandas as pd", 1), ran("total = prices.sum()\nprint(prices)", 3),
             ran("prices = pd.Series([1, 2])", 2)]
    found = findings_for(cells, select="RP504")
    assert [(f.code, f.cell_index, f.line, f.column) for f in found] == [("RP504", 1, 1, 9)]
    assert "'prices'" in found[0].message and "cell 2" in found[0].message
    assert found[0].severity is Severity.ERROR


def test_an_import_further_down_is_a_later_definition():
    cells = [ran("x = np.zeros(3)", 2), ran("import numpy as np", 1)]
    assert codes_for(cells, select="RP504") == [("RP504", 0, 1)]


def test_one_finding_per_cell_listing_every_name():
    cells = [ran("a = later + later\nb = other * 2\nc = later", 5), ran("later = 1", 4), ran("other = 2", 6)]
    found = findings_for(cells, select="RP504")
    assert [(f.code, f.cell_index, f.line) for f in found] == [("RP504", 0, 1)]
    assert "'later' (cell 1), 'other' (cell 2)" in found[0].message


def test_each_cell_that_uses_a_later_name_is_its_own_finding():
    cells = [ran("x = np.zeros(3)", 2), ran("y = np.ones(3)", 3), ran("import numpy as np", 1)]
    assert codes_for(cells, select="RP504") == [("RP504", 0, 1), ("RP504", 1, 1)]


@pytest.mark.parametrize("cells", [
    [ran("total = prices.sum()", None), ran("prices = [1]", 1)],  # the cell never ran
    [ran("prices = [0]", 1), ran("total = sum(prices)", 2), ran("prices = [1]", 3)],  # defined above, redefined below
    [ran("total = sum(prices)\nprices = [1]", 1), ran("prices = [2]", 2)],  # defined in the same cell
    [ran("n = len(items)", 1)],  # builtins; `items` is defined nowhere: not this rule's business
    [ran("squares = [v * v for v in range(3)]", 1), ran("v = 10", 2)],  # comprehension variable
    [ran("def f():\n    return later", 1), ran("later = 1", 2)],  # inside a function body
    [ran("from helpers import *", 1), ran("x = later", 2), ran("later = 1", 3)],
    [ran("%run setup.py", 1), ran("x = later", 2), ran("later = 1", 3)],
])
def test_not_defined_later(cells):
    assert codes_for(cells, select="RP504") == []


def test_the_whole_family_is_quiet_on_a_notebook_run_in_order():
    cells = [ran("import pandas as pd", 1), MARKDOWN, ran("df = pd.DataFrame({'a': [1]})", 2),
             ran("df['b'] = df['a'] * 2", 5), ran("df.describe()", 6), ran("", None)]
    assert codes_for(cells, select="hidden-state") == []


def test_a_name_bound_by_one_comprehension_is_still_read_from_a_later_cell_elsewhere():
    cells = [ran("pairs = {k: v for k, v in items}\ntotal = sum(v)", 2), ran("items = []\nv = [1]", 1)]
    found = findings_for(cells, select="RP504")
    assert [(f.cell_index, f.line) for f in found] == [(0, 1)]
    assert "'items' (cell 1), 'v' (cell 1)" in found[0].message  # `v` of line 2 only; line 1's is the comprehension's


def test_comprehension_target_names_are_every_name_any_comprehension_of_the_cell_binds():
    from readiness_magics.analysis import analyse_source
    from readiness_magics.rules.hidden_state import comprehension_target_names

    facts = analyse_source("a = [x for x, (y, *z) in rows if x]\nb = {k for k in keys}\nc = x\n")
    assert comprehension_target_names(facts) == {"x", "y", "z", "k"}
    assert comprehension_target_names(analyse_source("c = x\n")) == frozenset()
