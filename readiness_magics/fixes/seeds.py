"""Seed unseeded randomness (RP407) with a `SEED` parameter.

Estimators, splitters and `DataFrame.sample` get `random_state=SEED`; `np.random.default_rng()` and
`RandomState()` get `SEED` as their argument; draws from a global generator (`np.random.*`, `random.*`,
`torch.rand*`, `tf.random.*`) get the seeding call (`np.random.seed(SEED)`, `random.seed(SEED)`,
`torch.manual_seed(SEED)`, `tf.random.set_seed(SEED)`) on the line before the statement. `SEED = 42`
goes to the `parameters` cell unless the notebook already defines `SEED` above. Unsafe: the numbers
the notebook computes change (to ones that stay the same on every run).
"""
from __future__ import annotations

import ast

from ..analysis import NotebookModel
from ..findings import Edit, Finding, Fix
from .common import (
    add_parameter,
    cell_of,
    line_starts,
    node_at,
    source_text,
    top_statement,
)

CODES = ("RP407",)
SEED = "SEED"
DEFAULT_SEED = 42


def make_fix(model: NotebookModel, finding: Finding) -> Fix | None:
    cell = cell_of(model, finding)
    if cell is None:
        return None
    call = node_at(cell, finding, "calls")
    if not isinstance(call, ast.Call):
        return None
    seed_edits = _seed_parameter(model, cell.index)
    if seed_edits is None:
        return None
    name = model.resolve(call.func) or ""
    last = name.rsplit(".", 1)[-1]
    if last in ("default_rng", "RandomState", "Generator") and not call.args and not call.keywords:
        edit = _insert_in_call(cell, call, SEED)
        what = f"Seed `{source_text(cell, call.func)}({SEED})`"
    elif "random_state" in finding.message:
        if any(keyword.arg == "random_state" for keyword in call.keywords):
            return None  # random_state=None written out: the user chose it
        edit = _insert_in_call(cell, call, f"random_state={SEED}")
        what = f"Pass `random_state={SEED}`"
    else:
        seeding = _global_seed_call(cell, call, name)
        if seeding is None:
            return None
        statement = top_statement(cell, call)
        if statement is None:
            return None
        span = cell.facts.span(statement)
        if span.line in cell.facts.python.magic_lines or span.column != 1:
            return None
        edit = Edit(cell.index, span.line, 1, span.line, 1, seeding + "\n")
        what = f"Call `{seeding}` first"
    if edit is None:
        return None
    return Fix(f"{what} ({SEED} in the parameters cell)", "unsafe", (*seed_edits, edit))


def _seed_parameter(model: NotebookModel, used_in: int) -> tuple[Edit, ...] | None:
    """Nothing when `SEED` is defined at or above the cell, the parameter's edits otherwise."""
    definitions = model.definitions.get(SEED)
    if definitions:
        return () if definitions[0].cell.index <= used_in else None
    return add_parameter(model, used_in, f"{SEED} = {DEFAULT_SEED}")


def _insert_in_call(cell, call: ast.Call, argument: str) -> Edit | None:
    """`argument` as the call's last argument, before its closing parenthesis."""
    span = cell.facts.span(call)
    if span.end_line in cell.facts.python.magic_lines:
        return None
    starts = line_starts(cell)
    start = starts[span.line - 1] + span.column - 1
    end = starts[span.end_line - 1] + span.end_column - 1
    text = cell.cell.source[start:end]
    if not text.endswith(")") or "#" in text:
        return None  # a comment before the `)` would swallow the new argument
    inner = text[:-1].rstrip()
    at = start + len(text) - 1  # the `)`
    if (call.args or call.keywords) and inner.endswith(","):
        at, argument = start + len(inner), f" {argument},"  # after the trailing comma, keeping it last
    elif call.args or call.keywords:
        argument = ", " + argument
    line = cell.cell.source.count("\n", 0, at) + 1
    column = at - (cell.cell.source.rfind("\n", 0, at) + 1) + 1
    return Edit(cell.index, line, column, line, column, argument)


def _global_seed_call(cell, call: ast.Call, name: str) -> str | None:
    """The seeding statement for the global generator `call` draws from, written with the cell's names."""
    func = call.func
    written = source_text(cell, func)
    if written is None or not isinstance(func, ast.Attribute):
        return None
    prefix = written.rsplit(".", 1)[0]  # `np.random` of `np.random.choice`
    if name.startswith("numpy.random.") and prefix.endswith("random"):
        return f"{prefix}.seed({SEED})"
    if name.startswith("random.") and "." not in prefix:
        return f"{prefix}.seed({SEED})"
    if name.startswith("torch.") and "." not in prefix:
        return f"{prefix}.manual_seed({SEED})"
    if name.startswith("tensorflow.random.") and prefix.endswith("random"):
        return f"{prefix}.set_seed({SEED})"
    return None
