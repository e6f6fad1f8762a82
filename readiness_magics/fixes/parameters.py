"""Lift a hardcoded path or cloud URI (RP101, RP102) into the `parameters` cell as a named parameter.

`df = pd.read_csv("/home/ana/churn.csv")` becomes `df = pd.read_csv(CHURN_CSV)` with
`CHURN_CSV = "/home/ana/churn.csv"` in the `parameters` cell (made after the imports when the notebook
has none, tagged `parameters` and `readiness-fix`). An assignment of the literal to a top-level name
(`DATA_DIR = "/home/ana/data"`) moves whole into the parameters cell, keeping its name. Unsafe: the
value is the same, but the notebook now depends on the cell order, and papermill or the exporter can
change it. The default is still machine-specific, so the finding moves with it to the parameters cell,
one place to give it a value that runs anywhere (a relative path or an environment variable).

Left as advice: literals inside f-strings or `os.path.join(...)` roots written as parts, `%cd` and
`!shell` lines, literals already in the parameters cell, and cells whose parameters cell is below them.
"""
from __future__ import annotations

import ast
import re

from ..analysis import NotebookModel
from ..findings import Edit, Finding, Fix
from .common import (
    add_parameter,
    bound_anywhere,
    cell_lines,
    identifier,
    parameter_named,
    plain_string_at,
    source_text,
)

CODES = ("RP101", "RP102")


def parameter_name(value: str, cloud: bool) -> str:
    """`/home/ana/churn.csv` -> `CHURN_CSV`, `/data/raw` -> `RAW_DIR`, `s3://bucket/x/` -> `X_URI`."""
    text = re.sub(r"^[a-z0-9+]+:/+", "", value) if cloud else value
    parts = [part for part in re.split(r"[\\/]+", text.rstrip("\\/")) if part not in ("", "~", ".")]
    last = parts[-1] if parts else "data"
    if not re.match(r"[A-Za-z]", last) and len(parts) > 1:
        last = parts[-2] + "_" + last
    if cloud:
        return identifier(last, "_URI")
    return identifier(last) if "." in last.strip(".") else identifier(last, "_DIR")


def make_fix(model: NotebookModel, finding: Finding) -> Fix | None:
    found = plain_string_at(model, finding)
    if found is None or found[0].is_parameters:
        return None
    cell, node, parent = found
    written = source_text(cell, node)
    if written is None:
        return None
    statement = parent if isinstance(parent, ast.Assign) and parent in cell.facts.statements else None
    if (statement is not None and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name)
            and statement.value is node and len(model.definitions.get(statement.targets[0].id, ())) == 1):
        return _move_assignment(model, cell, statement, written, finding)
    name = parameter_named(model, node.value)
    edits: tuple[Edit, ...] = ()
    if name is None:
        name = parameter_name(node.value, finding.code == "RP102")
        if statement is not None and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            name = "DEFAULT_" + identifier(statement.targets[0].id)  # `X = "/a"` then `X = "b"` below
        base, number = name, 2
        while bound_anywhere(model, name):
            name, number = f"{base}_{number}", number + 1
        edits = add_parameter(model, cell.index, f"{name} = {written}")
        if edits is None:
            return None
    span = cell.facts.span(node)
    replace = Edit(cell.index, span.line, span.column, span.end_line, span.end_column, name)
    return Fix(_description(finding), "unsafe", (*edits, replace))


def _move_assignment(model, cell, statement: ast.Assign, written: str, finding: Finding) -> Fix | None:
    name = statement.targets[0].id
    span = cell.facts.span(statement)
    lines = cell_lines(cell)
    line_text = lines[span.line - 1]
    if line_text[:span.column - 1].strip() or line_text[span.end_column - 1:].strip():
        return None  # `a = "/x"; b = 1` or a trailing comment: not a line of its own
    edits = add_parameter(model, cell.index, f"{name} = {written}")
    if edits is None:
        return None
    remove = Edit(cell.index, span.line, 1, span.line + 1, 1, "")
    return Fix(_description(finding), "unsafe", (*edits, remove))


def _description(finding: Finding) -> str:
    """The rule's words (its edits show the name the parameter gets)."""
    return finding.fix.description if finding.fix else "Move the path to the parameters cell"
