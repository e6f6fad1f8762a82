"""The exporter's rewrites are correct by construction: path literals that share a line, an f-string, a join or
a call are each replaced by their parameter, every other character stays, and the package parses and runs."""
from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

from readiness_magics.exporter import build_package
from readiness_magics.exporter.edits import (
    Edit,
    SourceIndex,
    apply_edits,
    replace_literal,
)
from readiness_magics.exporter.writer import write_package
from readiness_magics.notebook import notebook_from_sources


def _export(tmp_path: Path, cells: list[str], name: str):
    notebook = notebook_from_sources(cells, path=tmp_path / "nb.ipynb")
    build = build_package(notebook, name, format_code=False)
    pipeline = build.files[f"src/{name}/pipeline.py"].decode()
    ast.parse(pipeline)
    fields = {p.value: p.name for p in build.plan.parameters}
    return build, pipeline, fields


def _run(tmp_path: Path, build, name: str) -> dict:
    target = tmp_path / "out" / name
    write_package(build.files, target)
    sys.path.insert(0, str(target / "src"))
    try:
        module = importlib.import_module(f"{name}.pipeline")
        return module.run()
    finally:
        sys.path.remove(str(target / "src"))
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]


@pytest.fixture
def csvs(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    for stem in "abcdefg":
        (folder / f"{stem}.csv").write_text(f"id,{stem}\n1,2\n3,4\n", encoding="utf-8")
    return folder


def _expected(line: str, fields: dict, folder: Path) -> str:
    """The notebook's line with each path literal (either quote) replaced by its parameter, nothing else."""
    for value, field in sorted(fields.items(), key=lambda item: -len(str(item[0]))):
        for quote in "\"'":
            line = line.replace(f"{quote}{value}{quote}", f"params.{field}")
    return line


CASES = [
    # two literals on one line, two statements
    'a = pd.read_csv("{d}/a.csv"); b = pd.read_csv("{d}/b.csv")',
    # two in one call, with a comment after
    'c = pd.concat([pd.read_csv("{d}/c.csv"), pd.read_csv("{d}/d.csv")])  # both',
    # inside an f-string's expression
    "text = f\"{{len(pd.read_csv('{d}/e.csv'))}} rows in {{len(pd.read_csv('{d}/f.csv'))}}\"",
    # two joins on one line
    'p = os.path.join("{d}", "a.csv") + os.path.join("{d}", "b.csv")',
    # non-ASCII text before the literals on the line (byte columns, not characters)
    'é = "données"; g = pd.merge(pd.read_csv("{d}/g.csv"), pd.read_csv("{d}/a.csv"), on="id")',
]


@pytest.mark.parametrize("template", CASES)
def test_path_literals_sharing_a_line_each_become_their_parameter(tmp_path, csvs, template):
    line = template.format(d=csvs)
    name = f"rewrite{CASES.index(template)}"
    build, pipeline, fields = _export(tmp_path, ["import os\nimport pandas as pd", line], name)
    assert fields, "the paths are lifted"
    rewritten = _expected(line, fields, csvs)
    for statement in rewritten.split("; "):
        assert statement in pipeline  # every other character of the line kept, in order
    assert str(csvs) not in pipeline
    results = _run(tmp_path, build, name)
    assert results, "run() returns what the notebook ends with"


def test_the_same_literal_twice_on_a_line_is_one_parameter(tmp_path, csvs):
    line = f'x = pd.read_csv("{csvs}/a.csv").merge(pd.read_csv("{csvs}/a.csv"), on="id")'
    build, pipeline, fields = _export(tmp_path, ["import pandas as pd", line], "twice")
    assert list(fields.values()) == ["a_path"]
    assert 'x = pd.read_csv(params.a_path).merge(pd.read_csv(params.a_path), on="id")' in pipeline
    assert len(_run(tmp_path, build, "twice")["x"]) == 2


def test_edits_never_overlap_and_apply_right_to_left():
    text = 'f("/a/x.csv", "/a/y.csv")'
    tree = ast.parse(text)
    index = SourceIndex(text)
    call = tree.body[0].value
    edits = [replace_literal(index, argument, f"params.p{n}") for n, argument in enumerate(call.args)]
    assert apply_edits(text, edits) == "f(params.p0, params.p1)"
    # an edit overlapping one already taken is dropped, never spliced into it
    assert apply_edits(text, [*edits, Edit(4, 20, "BAD")]) == "f(params.p0, params.p1)"


def test_a_position_that_does_not_hold_the_literal_gives_no_edit():
    text = 'x = "/a/x.csv"\n'
    node = ast.parse(text).body[0].value
    moved = ast.Constant("/a/x.csv", lineno=1, col_offset=0, end_lineno=1, end_col_offset=5)
    assert replace_literal(SourceIndex(text), node, "p") == Edit(4, 14, "p")
    assert replace_literal(SourceIndex(text), moved, "p") is None


def test_lines_split_as_python_splits_them():
    # a form feed is not a line break for Python, but str.splitlines() breaks there
    text = 'a = 1\x0c; b = "/data/x.csv"\nc = 2\n'
    node = ast.parse(text).body[1].value
    assert apply_edits(text, [replace_literal(SourceIndex(text), node, "P")]) == "a = 1\x0c; b = P\nc = 2\n"
