"""More hostile notebooks for the engine, beyond tests/test_fuzz_engine.py: every nbformat 4 minor
(4.0-4.5) and nbformat 3 as nbformat writes them, duplicate and missing cell ids, huge base64
outputs, tabs/CRLF/null bytes, 10,000-character lines, half-written magics; and a time bound that
grows with the size of the input, up to 1 MB.

The engine answers every input with findings or a NotebookError, never another exception, within
BOUND_BASE + BOUND_PER_MB seconds, and never writes the file it reads. `make fuzz` runs 10,000
examples per test (READINESS_FUZZ_EXAMPLES); the default run tries fewer. Slow or crashing inputs
that fuzzing found are kept below as regression cases.
"""
from __future__ import annotations

import json
import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from readiness_magics.engine import check_content, check_file
from readiness_magics.report import NotebookReport

EXAMPLES = int(os.environ.get("READINESS_FUZZ_EXAMPLES", "150"))
# No hypothesis deadline (a cold cache makes the first run of an input slower than its replay);
# the time bound below is asserted on every example instead, in proportion to its size.
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
BOUND_BASE, BOUND_PER_MB = 5.0, 60.0
MB = 1_000_000
# The big shapes are 1 MB in the long run and 100 kB by default (a quadratic path shows at both).
BIG = MB if EXAMPLES >= 1_000 else MB // 10

# --- sources ---------------------------------------------------------------------------------------

HALF_MAGICS = [
    "%", "%%", "%%%", "% pip", "%pi", "%pip", "%pip install", "%pip install -r", "!", "!!", "! ", "x = %", "x = !",
    "x = %time", "files = !ls", "out = !!cat", "%%time", "%%capture", "%%capture out --no-stderr", "%%bash",
    "%%writefile", "%%writefile x.py", "%%sql", "%%html", "%config InlineBackend.", "%load_ext", "%matplotlib",
    "?", "??", "x?", "x??", "?x", "??x", "%time?", "np.random.?", "a.b[0]?", "obj.method(", "get_ipython().",
    "%time \\", "!pip install \\", "%%time\n%%capture", "  %pip install x", "\t!ls", "if x:\n    %time y",
    "def f():\n    !ls\n    return 1", "In [1]: x = 1", ">>> x = 1", "...: y", "%env A=", "%cd", "%cd ~",
    "%run", "%store", "%%javascript", "%%time\n", "%%capture\n%%time\nx = 1",
]
PIECES = [
    "\t", "\r\n", "\r", "\n", "\x00", "\x0c", "\x1e", "\u2028", "\ufeff", "\u202e", "é", "🙂", "\\", "\\\n",
    "'", '"', "'''", '"""', "f'{", "#", "# readiness: ignore[RP101]", "# noqa", ":", "(", ")", "[", "{",
    "import os", "import pandas as pd", "df = pd.read_csv('/home/ana/x.csv')", "assert len(df) > 0",
    "def f(x):\n    return x + y", "model.fit(X, y)", "API_KEY = 'sk-" + "a" * 40 + "'", "np.random.rand(3)",
    "for i in range(3):\n\ttotal += i", "class A:\n  def m(self): return df", "print('ok')\r\n",
]
LONG_LINES = [
    "x" * 10_000,  # one name
    "s = '" + "a" * 10_000 + "'",
    "# " + "c" * 10_000,
    "y = " + "1 + " * 2_500 + "1",
    "p = '/home/" + "d/" * 3_000 + "f.csv'",
    "x" * 10_000 + "?",
    "%pip install " + "pkg " * 2_500,
]
text_bits = st.one_of(st.sampled_from(HALF_MAGICS), st.sampled_from(PIECES), st.sampled_from(LONG_LINES),
                      st.text(max_size=40))
sources = st.lists(text_bits, max_size=10).flatmap(
    lambda bits: st.sampled_from(["\n", "\r\n", "", "\t"]).map(lambda sep: sep.join(bits)))


def as_lines(source: str) -> list[str]:
    """nbformat's on-disk form: a list of lines that keep their line ends."""
    return source.splitlines(keepends=True)


sources_on_disk = st.one_of(sources, sources.map(as_lines))

# --- outputs -------------------------------------------------------------------------------------------

BASE64_SIZES = [0, 4, 1_000, 100_000, 400_000]


def base64_blob(size: int) -> str:
    return ("iVBORw0KGgoAAAANSUhEUgAA" * (size // 24 + 1))[:size]


rich_data = st.fixed_dictionaries({}, optional={
    "text/plain": st.one_of(st.text(max_size=30), st.lists(st.text(max_size=10), max_size=3)),
    "image/png": st.sampled_from(BASE64_SIZES).map(base64_blob),
    "image/jpeg": st.sampled_from(BASE64_SIZES).map(base64_blob).map(lambda b: [b[i:i + 76] + "\n" for i in range(0, len(b), 76)]),
    "image/svg+xml": st.just(["<svg>\n", "</svg>"]),
    "application/json": st.recursive(st.none() | st.integers() | st.text(max_size=5),
                                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                                      max_leaves=10),
    "text/html": st.text(max_size=30),
})
outputs = st.lists(st.one_of(
    st.fixed_dictionaries({"output_type": st.just("stream"), "name": st.sampled_from(["stdout", "stderr"]),
                           "text": st.one_of(sources, sources.map(as_lines))}),
    st.fixed_dictionaries({"output_type": st.just("execute_result"), "data": rich_data, "metadata": st.just({}),
                           "execution_count": st.one_of(st.none(), st.integers(-3, 10**6))}),
    st.fixed_dictionaries({"output_type": st.just("display_data"), "data": rich_data, "metadata": st.just({})}),
    st.fixed_dictionaries({"output_type": st.just("error"), "ename": st.sampled_from(["KeyError", "KeyboardInterrupt", ""]),
                           "evalue": st.text(max_size=30),
                           "traceback": st.lists(st.sampled_from(["\x1b[0;31m---\x1b[0m", "Traceback", ""]), max_size=3)}),
    st.fixed_dictionaries({"output_type": st.sampled_from(["pyout", "pyerr", "unknown", ""])}),  # v3 names in v4
), max_size=3)

# --- nbformat 4.0-4.5 -------------------------------------------------------------------------------

IDS = st.one_of(st.sampled_from(["same", "same", "a1", ""]), st.text(min_size=1, max_size=64), st.integers(), st.none())
cell_metadata = st.one_of(st.just({}), st.fixed_dictionaries({}, optional={
    "tags": st.lists(st.sampled_from(["parameters", "readiness-ignore", "export", "skip", ""]), max_size=3),
    "collapsed": st.booleans(), "scrolled": st.sampled_from([True, False, "auto"]),
    "jupyter": st.just({"source_hidden": True, "outputs_hidden": True}),
    "execution": st.just({"iopub.execute_input": "2024-01-01T00:00:00Z"}),
    "editable": st.booleans(), "deletable": st.booleans(),
}))


@st.composite
def v4_cells(draw, minor: int):
    kind = draw(st.sampled_from(["code", "code", "code", "markdown", "raw"]))
    cell = {"cell_type": kind, "metadata": draw(cell_metadata), "source": draw(sources_on_disk)}
    # 4.5 requires ids, earlier minors have none; both broken ways are drawn too.
    id_mode = draw(st.sampled_from(["spec", "spec", "missing", "present"]))
    if (id_mode == "spec" and minor >= 5) or id_mode == "present":
        cell["id"] = draw(IDS)
    if kind == "code":
        cell["execution_count"] = draw(st.one_of(st.none(), st.integers(-5, 10**9)))
        cell["outputs"] = draw(outputs)
    elif kind == "markdown" and minor >= 1 and draw(st.booleans()):
        cell["attachments"] = {"image.png": {"image/png": base64_blob(draw(st.sampled_from(BASE64_SIZES)))}}
    elif kind == "raw":
        cell["metadata"]["format"] = draw(st.sampled_from(["text/x-python", "text/restructuredtext"]))
    return cell


@st.composite
def v4_notebooks(draw):
    minor = draw(st.integers(0, 5))
    cells = draw(st.lists(v4_cells(minor), max_size=8))
    if cells and draw(st.booleans()):  # a copied cell: same id, same source
        cells.append(dict(cells[draw(st.integers(0, len(cells) - 1))]))
    metadata = draw(st.sampled_from([
        {},
        {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
         "language_info": {"name": "python", "version": "3.11.7", "codemirror_mode": {"name": "ipython", "version": 3}}},
        {"kernelspec": {"name": "ir", "language": "R"}, "language_info": {"name": "R"}},
        {"language_info": {"name": 7}},
        {"widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}}}},
    ]))
    return {"nbformat": 4, "nbformat_minor": minor, "metadata": metadata, "cells": cells}


# --- nbformat 3 -----------------------------------------------------------------------------------

v3_outputs = st.lists(st.one_of(
    st.fixed_dictionaries({"output_type": st.just("stream"), "stream": st.just("stdout"), "text": sources_on_disk}),
    st.fixed_dictionaries({"output_type": st.just("pyout"), "prompt_number": st.integers(0, 99),
                           "text": st.lists(st.text(max_size=10), max_size=2),
                           "png": st.sampled_from(BASE64_SIZES).map(base64_blob)}),
    st.fixed_dictionaries({"output_type": st.just("pyerr"), "ename": st.just("KeyError"), "evalue": st.text(max_size=9),
                           "traceback": st.just([])}),
), max_size=2)
v3_cells = st.one_of(
    st.fixed_dictionaries({"cell_type": st.just("code"), "input": sources_on_disk, "language": st.just("python"),
                           "collapsed": st.booleans(), "metadata": st.just({}), "outputs": v3_outputs},
                          optional={"prompt_number": st.one_of(st.integers(-1, 99), st.text(max_size=2))}),
    st.fixed_dictionaries({"cell_type": st.sampled_from(["markdown", "raw", "heading"]), "source": sources_on_disk,
                           "metadata": st.just({})}, optional={"level": st.integers(0, 7)}),
    st.fixed_dictionaries({"cell_type": st.just("code")}),  # nothing else: broken
)
v3_notebooks = st.fixed_dictionaries({
    "nbformat": st.just(3), "nbformat_minor": st.integers(0, 2),
    "metadata": st.one_of(st.just({"name": "old"}), st.just({})),
    "worksheets": st.one_of(st.lists(st.fixed_dictionaries({"cells": st.lists(v3_cells, max_size=6),
                                                            "metadata": st.just({})}), max_size=2),
                            st.just([]), st.just([{"cells": "nope"}]), st.just({})),
})

# --- checking ---------------------------------------------------------------------------------------


def bound_for(size: int) -> float:
    return BOUND_BASE + BOUND_PER_MB * size / MB


def answers(content, expected_ids: list | None = None) -> NotebookReport:
    """The engine's answer: findings or a NotebookError, sendable as JSON, in the time bound."""
    size = len(content) if isinstance(content, (str, bytes)) else len(json.dumps(content, default=str))
    started = time.perf_counter()
    report = check_content(content, use_ruff=False)
    elapsed = time.perf_counter() - started
    assert elapsed < bound_for(size), f"{elapsed:.1f} s for {size} bytes"
    assert isinstance(report, NotebookReport)
    entry = json.loads(json.dumps(report.to_dict()))
    if report.error is not None:
        assert entry["findings"] == [] and entry["error"]["kind"] and entry["error"]["message"]
        return report
    for finding in entry["findings"]:
        assert finding["line"] >= 1 and finding["column"] >= 1
        assert finding["end_line"] is None or finding["end_line"] >= finding["line"]
        if expected_ids is not None and finding["cell_index"] is not None:
            # Findings are placed by index; an id (duplicated, missing, not a string) only rides along.
            given = expected_ids[finding["cell_index"]]
            assert finding["cell_id"] == (given if isinstance(given, str) else None)
    return report


def ids_of(notebook: dict) -> list:
    return [cell.get("id") if isinstance(cell, dict) else None for cell in notebook["cells"]]


@FUZZ
@given(v4_notebooks(), st.sampled_from([None, 1, "\t"]), st.booleans(), st.booleans())
def test_nbformat4_minors_as_dict_text_and_bytes(notebook, indent, ensure_ascii, bom):
    answers(notebook, ids_of(notebook))
    text = json.dumps(notebook, indent=indent, ensure_ascii=ensure_ascii)
    answers(text, ids_of(notebook))
    answers((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8", "surrogatepass"), None)


@FUZZ
@given(v3_notebooks)
def test_nbformat3_notebooks(notebook):
    report = answers(json.dumps(notebook))
    # The same file, the same answer: upgrading once invented random cell ids.
    assert check_content(json.dumps(notebook), use_ruff=False).to_dict() == report.to_dict()
    if report.error is None:
        assert len({f.cell_index for f in report.findings if f.cell_index is not None}) <= sum(
            len(sheet.get("cells", [])) for sheet in notebook["worksheets"] if isinstance(sheet, dict))


@settings(FUZZ, max_examples=max(EXAMPLES // 50, 5))
@given(v4_notebooks())
def test_files_are_only_read(tmp_path_factory, notebook):
    path = tmp_path_factory.mktemp("fuzz") / "nb.ipynb"
    path.write_text(json.dumps(notebook))
    before = path.read_bytes(), path.stat().st_mtime_ns
    report = check_file(path, use_ruff=False)
    assert report.error is None or report.findings == []
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


@settings(FUZZ, max_examples=max(EXAMPLES // 100, 3))
@given(v4_notebooks())
def test_ruff_on_hostile_content(notebook):
    # ruff reads the same cells in a subprocess; its diagnostics must map back onto them.
    report = check_content(json.dumps(notebook), use_ruff=True)
    json.dumps(report.to_dict())


# Up to 1 MB: a fuzzed cell repeated, or many fuzzed cells, so sizes span the whole range.
@settings(FUZZ, max_examples=min(max(EXAMPLES // 100, 5), 100))
@given(sources, st.integers(1, 2_000), st.booleans())
def test_inputs_up_to_a_megabyte(source, repeat, one_cell):
    unit = max(len(source), 1)
    repeat = max(1, min(repeat, BIG // unit))
    cells = [source * repeat] if one_cell else [f"{source}\nv{i} = {i}" for i in range(min(repeat, 5_000))]
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                "cells": [{"cell_type": "code", "source": text, "metadata": {}, "outputs": [],
                           "execution_count": None, "id": f"c{i}"} for i, text in enumerate(cells)]}
    answers(json.dumps(notebook))


# --- found by fuzzing, and big shapes (1 MB in the long run) that once took minutes ---------------

def one_cell(source, **fields) -> dict:
    cell = {"cell_type": "code", "source": source, "metadata": {}, "outputs": [], "execution_count": None}
    cell.update(fields)
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}


# `make fuzz` (test_structured_notebooks): 7-30 s in IPython's `name?` pattern, which is quadratic in
# a run of name characters; the run here is 10,000 `x` inside a bracket that the `?` closes.
SLOW_HELP = {"nbformat": None, "nbformat_minor": 3, "metadata": {"language_info": {"name": "python"}}, "cells": [
    "\x1dN", None, None, None,
    {"id": 3, "cell_type": "code", "execution_count": "", "outputs": "À\U00105607?",
     "metadata": {"tags": ["readiness-ignore"]},
     "source": ["¯@cM¨\x95\x1f«\rDùCú`\U0009dbd4\U000f89ee0/0" + "x" * 10_000 + "ý¾Ý",
                "!model.fit(X, y)\nopen('data.csv').read()\n{x?\n" + "x" * 10_000
                + "\\\n\x1e\x8aøs\x16K𧻛\x13\x9fö\u202e\\\nÀ\U00105607?"]}]}

BIG_SHAPES = {
    "help-lines": lambda: one_cell("x?\n" * (BIG // 3)),  # IPython re-read the cell after each one
    "unique-help-lines": lambda: one_cell("".join(f"name_{i}?\n" for i in range(BIG // 12))),
    "magic-lines": lambda: one_cell("%time x\n" * (BIG // 8)),
    "shell-lines": lambda: one_cell("!ls\n" * (BIG // 4)),
    "half-magics": lambda: one_cell("%\n%%\n!\n%%%\n% pip\n" * (BIG // 20)),
    "cell-magic-body": lambda: one_cell("%%time\n" + "x?\n" * (BIG // 3)),
    "one-continuation": lambda: one_cell("x = 1\n" * (BIG // 6) + "!ls \\\n  -l\n"),  # difflib on the lines
    "many-continuations": lambda: one_cell("".join(f"x{i} = 1\n" if i % 50 else "!ls \\\n  -l\n"
                                                   for i in range(BIG // 8))),
    "long-name-then-help": lambda: one_cell("y" * BIG + "?"),
    "long-names-then-help": lambda: one_cell(("y" * 1_900 + "?\n") * (BIG // 1_902)),
    "a-few-help-lines-in-code": lambda: one_cell("x?\n" * 8 + "".join(f"a_{i}\n" for i in range(BIG // 8))),
    "tabs-and-crlf": lambda: one_cell("\tx = 1\r\n" * (BIG // 8)),
    "null-bytes": lambda: one_cell("\x00" * BIG),
    "one-long-line": lambda: one_cell("x = '" + "a" * BIG + "'"),
    "deep-brackets": lambda: one_cell("(" * (BIG // 10) + ")" * (BIG // 10)),
    "many-definitions": lambda: one_cell("\n".join(f"def f{i}(x):\n    return g{i} + x" for i in range(BIG // 33))),
    "many-paths": lambda: one_cell("\n".join(f"p{i} = '/home/ana/{i}.csv'" for i in range(BIG // 25))),
    "copied-cells": lambda: {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "id": "same", "source": "import pandas as pd\ndf = pd.read_csv('/data/x.csv')\ndf.mean()",
         "metadata": {}, "outputs": [], "execution_count": 1}] * (BIG // 100)},
    "huge-base64-output": lambda: one_cell("plot()", outputs=[{"output_type": "display_data", "metadata": {},
                                                               "data": {"image/png": base64_blob(BIG)}}]),
}


@pytest.mark.parametrize("shape", sorted(BIG_SHAPES))
def test_big_shapes_within_the_bound(shape):
    answers(json.dumps(BIG_SHAPES[shape]()))


def test_slow_help_request_found_by_fuzzing():
    report = answers(SLOW_HELP)
    assert report.error is None
