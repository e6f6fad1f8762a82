"""The rule dispatcher: one walk per cell, each rule handed what it subscribed to, disabled rules never called."""
from __future__ import annotations

import ast
import json

import pytest

from readiness_magics import engine
from readiness_magics.analysis import NotebookModel, analyse_source, walk
from readiness_magics.config import Settings
from readiness_magics.findings import Severity
from readiness_magics.notebook import notebook_from_sources
from readiness_magics.rules import Rule, all_rules
from readiness_magics.rules.dispatch import Dispatcher, looks_at

from ..helpers import findings_for

CELLS = [
    "import pandas as pd\nframe = pd.read_csv(path)\n",
    "def load(p):\n    return open(p).read()\n\nclass Box:\n    size = len([1])\n",
    "x = (\n",  # does not parse
    "%time total = sum(f(v) for v in values)\n",
]


class CallSpotter(Rule):
    """## What it does
    Test rule."""

    code = "RP991"
    name = "call-spotter"
    category = "code-quality"
    severity = Severity.INFO
    node_types = (ast.Call,)
    visits_cells = True

    def __init__(self):
        self.visited: list[tuple[int, str]] = []
        self.cells: list[int] = []

    def visit(self, node, cell, model):
        self.visited.append((cell.index, ast.unparse(node.func)))
        return [self.at_node(cell, node, "a call")]

    def visit_cell(self, cell, model):
        self.cells.append(cell.index)
        return ()


class Breaks(Rule):
    """## What it does
    Test rule that fails."""

    code = "RP992"
    name = "breaks"
    category = "code-quality"
    node_types = (ast.Name,)

    def visit(self, node, cell, model):
        raise RuntimeError("boom")


def test_each_subscribed_node_at_any_depth_in_source_order_and_each_code_cell():
    spotter = CallSpotter()
    model = NotebookModel(notebook_from_sources(CELLS))
    found = Dispatcher((spotter,)).run(model)
    # Calls inside a function body and a class body too; the cell that does not parse has no nodes.
    assert spotter.visited == [(0, "pd.read_csv"), (1, "open(p).read"), (1, "open"), (1, "len"),
                               (3, "sum"), (3, "f")]
    assert spotter.cells == [0, 1, 3]  # parsed cells only, unless the rule asks for the others too
    assert len(found) == 6


def test_a_rule_that_asks_for_unparsed_cells_is_handed_them_too():
    class EveryCell(CallSpotter):
        unparsed_cells_too = True

    every = EveryCell()
    Dispatcher((every,)).run(NotebookModel(notebook_from_sources(CELLS)))
    assert every.cells == [0, 1, 2, 3]
    assert looks_at(every) == ["ast.Call", "each code cell"]


def test_the_cell_index_holds_every_node_the_tree_holds():
    """`facts.nodes` is the one walk: nothing a rule could look for is missing from it (bar import aliases,
    which are in `facts.imports`, and operator singletons, which are shared and carry no position)."""
    source = ("import os\nfrom a import b as c\n@dec(1)\ndef f(x=g(), *a, k: int = 2, **kw):\n"
              "    y = [i for i in x if i]\n    return lambda z: z + y\nclass C(Base):\n    v = {1: 'a'}\n"
              "with open(f'{p}.csv') as h, t:\n    del h[0]\nmatch q:\n    case [1, *r]: pass\n")
    facts = analyse_source(source)
    skipped = (ast.alias, ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop, ast.Module)
    expected = [node for node in ast.walk(facts.tree) if not isinstance(node, skipped)]
    assert sorted(map(id, facts.nodes)) == sorted(map(id, expected))
    assert facts.of(ast.Lambda) and facts.of(ast.ListComp) and facts.of(ast.MatchStar)
    names = [node.id for node in facts.of(ast.Name)]
    assert names == ["dec", "g", "int", "y", "i", "i", "x", "i", "z", "y", "Base", "v", "open", "p", "h", "t",
                     "h", "q"]
    assert facts.of(ast.Global) == []


def test_walk_of_a_part_matches_ast_walk():
    tree = ast.parse("result = f(a, [b for b in c], key=d.e)")
    value = tree.body[0].value
    assert {id(n) for n in walk(value)} == {id(n) for n in ast.walk(value) if not isinstance(n, ast.expr_context)}


def test_a_rule_left_out_by_the_settings_is_never_called(monkeypatch):
    spotter = CallSpotter()
    monkeypatch.setattr("readiness_magics.rules.all_rules", lambda: (spotter,))
    notebook = notebook_from_sources(CELLS)
    engine.rule_findings(notebook, Settings(ruff=False).with_overrides(ignore=("RP991",)))
    engine.rule_findings(notebook, Settings(ruff=False).with_overrides(select=("hardcoded-path",)))
    assert spotter.visited == [] and spotter.cells == []
    assert engine.rule_findings(notebook, Settings(ruff=False).with_overrides(select=("call-spotter",)))
    assert spotter.cells == [0, 1, 3]


def test_a_per_file_ignore_leaves_the_rule_out_for_that_notebook_only(tmp_path):
    settings = Settings(ruff=False).with_overrides(per_file_ignores=(("*legacy/*.ipynb", ("RP101",)),))
    legacy = engine.enabled_rules(settings, tmp_path / "legacy" / "old.ipynb")
    current = engine.enabled_rules(settings, tmp_path / "new.ipynb")
    assert "RP101" in {rule.code for rule in current} - {rule.code for rule in legacy}


def test_a_failing_rule_costs_only_its_own_findings(monkeypatch, capsys):
    monkeypatch.delenv("READINESS_RAISE_RULE_ERRORS", raising=False)
    spotter = CallSpotter()
    found = Dispatcher((Breaks(), spotter)).run(NotebookModel(notebook_from_sources(CELLS)))
    assert len(found) == 6
    assert capsys.readouterr().err.count("internal error in RP992") == 1  # said once, not once per node


def test_rule_findings_are_the_same_whichever_way_in():
    """Selecting one rule runs it alone; what it finds is what it finds among all the others."""
    cells = ["import pandas as pd\n", "df = pd.read_csv('/home/ana/data.csv')\n", "df.head()\n"]
    everything = findings_for(cells)
    for code in {finding.code for finding in everything}:
        assert findings_for(cells, select=code) == [f for f in everything if f.code == code]


@pytest.mark.parametrize("form", ["json", "text", "markdown"])
def test_rules_looks_at_lists_what_each_rule_is_handed(form, capsys):
    from readiness_magics.cli.main import main

    assert main(["rules", "--looks-at", "--format", form]) == 0
    out = capsys.readouterr().out
    if form == "json":
        table = json.loads(out)
        assert set(table) == {rule.code for rule in all_rules()}
        assert all(table.values())  # every rule is handed something
    else:
        assert all(rule.code in out for rule in all_rules())


def test_looks_at_names_node_types_cells_and_the_notebook():
    assert looks_at(CallSpotter()) == ["ast.Call", "each parsed code cell"]
    assert looks_at(Breaks()) == ["ast.Name"]
