"""One pass over each notebook serves every enabled rule, as ruff's checker does.

The analysis walks each cell's tree once (and caches it by source); the dispatcher hands each rule the
nodes of the types it subscribed to (`Rule.node_types`), calls the rules that read a cell's facts
(`Rule.visits_cells`) in the same loop over the cells, and then the notebook-wide passes (`Rule.check`).
A rule that is not enabled is not in the tables, so it costs nothing.
"""
from __future__ import annotations

import ast
import os
import sys
from functools import lru_cache

from ..analysis import NotebookModel
from ..failures import debug_detail
from ..findings import Finding
from .base import Rule


class Dispatcher:
    def __init__(self, rules: tuple[Rule, ...]):
        self.rules = rules
        by_type: dict[type, list[Rule]] = {}
        for rule in rules:
            for kind in rule.node_types:
                by_type.setdefault(kind, []).append(rule)
        self.by_type = {kind: tuple(subscribers) for kind, subscribers in by_type.items()}
        self.cell_rules = tuple(rule for rule in rules if rule.visits_cells)
        self.notebook_rules = tuple(rule for rule in rules if rule.checks_notebook())

    def run(self, model: NotebookModel) -> list[Finding]:
        found: list[Finding] = []
        broken: set[str] = set()  # a rule that failed once in this notebook is not asked again
        by_type = self.by_type
        parsed_visits = [(rule, rule.visit_cell) for rule in self.cell_rules]
        unparsed_visits = [(rule, visit) for rule, visit in parsed_visits if rule.unparsed_cells_too]
        extend = found.extend
        for cell in model.code_cells:
            parsed = cell.facts.tree is not None
            for rule, visit_cell in parsed_visits if parsed else unparsed_visits:
                try:  # inline, not through _collect: this runs for every rule on every cell
                    extend(visit_cell(cell, model))
                except Exception as exc:
                    _broke(broken, rule, model, exc)
            if broken:
                parsed_visits = [(rule, visit) for rule, visit in parsed_visits if rule.code not in broken]
                unparsed_visits = [(rule, visit) for rule, visit in unparsed_visits if rule.code not in broken]
            if not by_type or not parsed:
                continue
            of = cell.facts.of
            for kind, subscribers in by_type.items():
                nodes = of(kind)
                if not nodes:
                    continue
                for rule in subscribers:
                    if rule.code in broken:
                        continue
                    try:
                        visit = rule.visit
                        for node in nodes:
                            found.extend(visit(node, cell, model))
                    except Exception as exc:
                        _broke(broken, rule, model, exc)
        for rule in self.notebook_rules:
            if rule.code not in broken:
                _collect(found, broken, rule, model, rule.check, model)
        return found


def _collect(found: list[Finding], broken: set[str], rule: Rule, model: NotebookModel, method, *arguments) -> None:
    try:
        found.extend(method(*arguments))
    except Exception as exc:  # one broken rule must not hide what the others found
        _broke(broken, rule, model, exc)


def _broke(broken: set[str], rule: Rule, model: NotebookModel, exc: Exception) -> None:
    if os.environ.get("READINESS_RAISE_RULE_ERRORS"):
        raise exc  # the test suite wants to see them
    broken.add(rule.code)
    print(f"readiness: internal error in {rule.code} on {model.notebook.name}: {debug_detail(exc)}",
          file=sys.stderr)


@lru_cache(maxsize=64)
def dispatcher_for(rules: tuple[Rule, ...]) -> Dispatcher:
    """The tables for one set of enabled rules (a run usually has one set; a project's settings may differ)."""
    return Dispatcher(rules)


def looks_at(rule: Rule) -> list[str]:
    """What the rule is handed, in words: node types, each code cell, the whole notebook, and what else it reads."""
    parts = [f"ast.{kind.__name__}" if kind.__module__ == ast.__name__ else kind.__name__
             for kind in rule.node_types]
    if rule.visits_cells:
        parts.append("each code cell" if rule.unparsed_cells_too else "each parsed code cell")
    if rule.checks_notebook():
        parts.append("the whole notebook")
    parts.extend(rule.reads)
    return parts


def findings_of(rule: Rule, model: NotebookModel) -> list[Finding]:
    """One rule's findings on a model, as the dispatcher gives them (for a rule that builds on another's)."""
    return dispatcher_for((rule,)).run(model)
