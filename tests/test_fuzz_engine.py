"""Hostile notebooks: the engine answers every one with findings or a NotebookError, never a crash.

The default run tries a few hundred examples; `make fuzz` (READINESS_FUZZ_EXAMPLES=10000) runs the long one.
"""
import json
import os

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from readiness_magics.engine import check_content
from readiness_magics.report import NotebookReport

EXAMPLES = int(os.environ.get("READINESS_FUZZ_EXAMPLES", "150"))
# No per-example deadline: CI machines are shared and noisy (the 1 MB time bound is its own test).
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=False)

FRAGMENTS = [
    "import pandas as pd\n", "df = pd.read_csv('/home/ana/x.csv')\n", "%pip install pandas\n", "!pip install numpy\n",
    "%%time\n", "%%bash\n", "def f(x):\n    return x + y\n", "x?\n", "??\n", "%", "!", "%%", "print 'py2'\n",
    "\t", "\r\n", "\x00", "é", "🙂", "\u202e", "'''", '"""', "f'{", "{", "(" * 50, "[" * 30, "lambda: " * 20,
    "API_KEY = 'sk-" + "a" * 40 + "'\n", "for i in range(3):\n    total += i\n", "model.fit(X, y)\n",
    "assert df.shape[0] > 0\n", "global state\n", "input()\n", "np.random.rand(3)\n", "x" * 10_000, "\\\n",
    "async def g():\n    await h()\n", "class A:\n    def m(self):\n        return df\n", "%cd /Users/ana\n",
    "open('data.csv').read()\n", "@decorator\ndef d(): pass\n", "try:\n    pass\nexcept:\n    raise\n",
]

sources = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=200)), max_size=12).map("".join)
execution_counts = st.one_of(st.none(), st.integers(min_value=-5, max_value=10**12), st.text(max_size=3),
                             st.booleans(), st.floats(allow_nan=True))
outputs = st.lists(st.one_of(
    st.fixed_dictionaries({"output_type": st.just("error"), "ename": st.text(max_size=20),
                           "evalue": st.text(max_size=50), "traceback": st.just([])}),
    st.fixed_dictionaries({"output_type": st.just("stream"), "name": st.just("stdout"),
                           "text": st.one_of(st.text(max_size=50), st.lists(st.text(max_size=10)))}),
    st.fixed_dictionaries({"output_type": st.just("display_data"),
                           "data": st.fixed_dictionaries({"image/png": st.just("iVBOR" * 2000)})}),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.integers(), st.none(),
), max_size=3)
cells = st.one_of(
    st.fixed_dictionaries({
        "cell_type": st.sampled_from(["code", "markdown", "raw", "kode", ""]),
        "source": st.one_of(sources, st.lists(sources, max_size=4), st.integers(), st.none()),
        "metadata": st.one_of(st.just({}), st.fixed_dictionaries({"tags": st.one_of(
            st.lists(st.sampled_from(["parameters", "readiness-ignore", "x"])), st.text(max_size=5))})),
        "execution_count": execution_counts,
        "outputs": st.one_of(outputs, st.text(max_size=5)),
        "id": st.one_of(st.just("same-id"), st.text(max_size=8), st.integers()),
    }),
    st.integers(), st.text(max_size=10), st.none(), st.lists(st.integers(), max_size=2),
)
notebooks = st.fixed_dictionaries({
    "nbformat": st.one_of(st.just(4), st.sampled_from([3, 4, 5, "4", None])),
    "nbformat_minor": st.one_of(st.integers(0, 5), st.text(max_size=2)),
    "metadata": st.one_of(st.just({}), st.none(), st.fixed_dictionaries({"language_info": st.dictionaries(
        st.just("name"), st.one_of(st.just("python"), st.text(max_size=4), st.integers()))})),
    "cells": st.one_of(st.lists(cells, max_size=8), st.text(max_size=5), st.none()),
})


def assert_answers(content) -> NotebookReport:
    report = check_content(content, use_ruff=False)
    assert isinstance(report, NotebookReport)
    assert (report.error is None) or report.findings == []
    entry = report.to_dict()
    json.dumps(entry)  # the server and CLI must be able to send it
    for finding in entry["findings"]:
        assert finding["line"] >= 1 and finding["column"] >= 1
    return report


@FUZZ
@given(notebooks)
@example({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
    {"cell_type": "code", "source": "(" * 200, "metadata": {}, "outputs": [], "execution_count": None}]})
def test_structured_notebooks(notebook):
    assert_answers(notebook)


@FUZZ
@given(notebooks, st.integers(min_value=0, max_value=400), st.binary(max_size=20))
def test_corrupted_json_text(notebook, cut, noise):
    try:
        text = json.dumps(notebook)
    except (TypeError, ValueError):
        return
    assert_answers(text[:cut].encode() + noise)
    assert_answers(text.encode())


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(data):
    assert_answers(data)


@pytest.mark.parametrize("source", [
    "x = " + "1 + " * 5000 + "1",  # deep expression nesting
    "(" * 1000 + ")" * 1000,
    "if x:\n" + "".join("    " * depth + "if x:\n" for depth in range(1, 100)) + "    " * 100 + "pass\n",
    "s = '" + "x" * 1_000_000 + "'",
    "\x00import os",
    "%%time\n" + "%%time\n" * 50 + "x = 1",
])
def test_extreme_cells_end_in_findings_not_crashes(source):
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                "cells": [{"cell_type": "code", "source": source, "metadata": {}, "outputs": [],
                           "execution_count": 1}]}
    assert_answers(notebook)
