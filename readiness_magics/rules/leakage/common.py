"""What the three leakage rules share: their base (a question over the flow), and reading the flow's
events as places and names for a message."""
from __future__ import annotations

import ast
from collections.abc import Iterable

from ...analysis import NotebookModel
from ...findings import Finding, Fix
from ..base import Rule
from .flow import Evaluation, Flow, Place, Split, Value, scored_flow

_MAX_TEXT = 40


class LeakageRule(Rule):
    """A leakage rule: a question over the notebook's flow, asked only when a model is scored in it."""

    category = "data-leakage"
    reads = ("the data flow of fits, splits and scores across cells",)

    def check(self, model: NotebookModel) -> Iterable[Finding]:
        flow = scored_flow(model)
        return () if flow is None else self.flow_findings(flow)

    def flow_findings(self, flow: Flow) -> Iterable[Finding]:
        raise NotImplementedError

    def at_place(self, place: Place, message: str, fix: Fix) -> Finding:
        return self.at_node(place.cell, place.node, message, fix)


def first_time(reported: set, key) -> bool:
    """True the first time a rule meets `key` in a notebook: one finding for one problem."""
    if key in reported:
        return False
    reported.add(key)
    return True


def text(node: ast.AST | None) -> str:
    """The code of a node for a message: `X_test`, `df[features]` (shortened when long)."""
    if node is None:
        return "the data"
    try:
        code = ast.unparse(node)
    except (ValueError, TypeError, RecursionError):
        return "the data"
    code = " ".join(code.split())
    return code if len(code) <= _MAX_TEXT else code[:_MAX_TEXT - 3] + "..."


def metric_words(evaluation: Evaluation) -> str:
    return evaluation.metric.removesuffix("_score").replace("_", " ")


def share_rows(a: Value, b: Value) -> bool:
    """True when two values may hold the same rows: they come from a common value, and no split put
    them on opposite sides."""
    if a.ancestry.isdisjoint(b.ancestry):
        return False
    for split, side in a.sides.items():
        other = b.sides.get(split)
        if side != "both" and other not in (None, "both", side):
            return False
    return True


def holds_rows_of(value: Value, split: Split) -> bool:
    """True when `value` holds rows of both parts of `split`: it comes from what was split (or the
    split data came from it) and is not one part of it."""
    return value.side(split) in (None, "both") and any(share_rows(value, part) for part in split.inputs)


def holdout_splits(flow: Flow, evaluation: Evaluation):
    """The splits whose test part `evaluation` scores a model trained on their training part."""
    if evaluation.fit is None or evaluation.cross_validation:
        return
    trained_on = evaluation.fit.data
    for split in flow.splits:
        if evaluation.data.side(split) == "test" and trained_on.side(split) == "train":
            yield split


def is_validation(flow: Flow, evaluation: Evaluation, split: Split) -> bool:
    """A part held out of an earlier split's training part, or a set named as one, is for choosing."""
    if split.folds:
        return True  # cross-validation folds are validation sets by design
    words = text(evaluation.data_node).lower()
    if ("val" in words or "dev" in words) and "test" not in words:
        return True
    return any(other is not split and evaluation.data.side(other) == "train" for other in flow.splits)
