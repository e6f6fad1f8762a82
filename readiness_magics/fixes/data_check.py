"""Check loaded data right under its load (RP301), from what the notebook goes on to use.

For a pandas reader the check asserts the frame is not empty, that the columns the notebook reads
(`df["col"]`, `df[["a", "b"]]`, `df.col`, `usecols=`) are there, and that key columns (`groupby`,
`set_index`, `merge(on=...)`) have no missing values; for other loaders it asserts the data is not
empty (`None` for image readers). The columns are those read before the name is bound again, and not
those the notebook makes itself (`df["new"] = ...`). The check is a new cell under the load (tagged
`readiness-fix`) when the load ends its cell, else lines right after the load. Unsafe: the notebook
now stops on data it used to run through. In a kernel, `%readiness datacheck df` writes a fuller
check from the live frame.
"""
from __future__ import annotations

import ast
import bisect
import json
import weakref

from ..analysis import CellModel, NotebookModel
from ..findings import Edit, Finding, Fix, NewCell
from .common import FIX_TAG, cell_lines, cell_of, node_at

CODES = ("RP301",)

# DataFrame attributes and accessors that are not columns (`df.shape`, `df.loc`, ...).
FRAME_ATTRIBUTES = frozenset({
    "T", "at", "axes", "columns", "dtypes", "empty", "flags", "iat", "iloc", "index", "loc", "ndim", "shape",
    "size", "style", "values", "attrs", "str", "dt", "cat", "plot", "sparse", "array", "name"})
IMAGE_READERS = frozenset({"cv2.imread", "PIL.Image.open", "imageio.imread", "skimage.io.imread"})
COMMENT = "# Check the data before it is used (added by `readiness check --fix`)\n"


def make_fix(model: NotebookModel, finding: Finding) -> Fix | None:
    cell = cell_of(model, finding)
    call = _call(cell, finding) if cell is not None else None
    if call is None or cell.facts.enclosing_function(call) is not None:
        return None
    assign = next((node for node in [call, *cell.facts.ancestors(call)]
                   if isinstance(node, ast.Assign)), None)
    if assign is None or len(assign.targets) != 1 or not isinstance(assign.targets[0], ast.Name) \
            or "in the same statement" in finding.message:
        return None  # `x = set(f.read().split())`: the data is used before it has a name
    name = assign.targets[0].id
    callee = model.resolve(call.func) or ""
    check = COMMENT + "".join(line + "\n" for line in check_lines(model, cell, assign, call, callee, name))
    description = f"Add asserts on {name!r} under its load (not empty, the columns the notebook uses)"
    statements = cell.facts.statements
    if assign is statements[-1]:
        new = NewCell("after", cell.index, "code", check.rstrip("\n"), (FIX_TAG,))
        return Fix(description, "unsafe", (Edit(cell.index, 1, 1, 1, 1, "", insert_cell=new),))
    # Right under the assignment, at its indentation (inside a `with` block too), before anything uses it.
    span = cell.facts.span(assign)
    lines = cell_lines(cell)
    indent = lines[span.line - 1][:span.column - 1]
    rest = lines[span.end_line - 1][span.end_column - 1:].strip()
    if indent.strip() or (rest and not rest.startswith("#")) or span.end_line in cell.facts.python.magic_lines:
        return None  # `df = load(); use(df)` on one line: no line of its own for the check
    check = "".join(indent + line if line.strip() else line for line in check.splitlines(keepends=True))
    return Fix(description, "unsafe", (Edit(cell.index, span.end_line + 1, 1, span.end_line + 1, 1, check),))


def _call(cell: CellModel, finding: Finding) -> ast.Call | None:
    node = node_at(cell, finding, "calls")
    return node if isinstance(node, ast.Call) else None


def check_lines(model: NotebookModel, cell: CellModel, statement: ast.stmt, call: ast.Call, callee: str,
                name: str) -> list[str]:
    if callee in IMAGE_READERS:
        return [f'assert {name} is not None, "{name} could not be read"']
    lines = [f'assert len({name}) > 0, "{name} is empty"']
    if not _is_frame_reader(call, callee):
        return lines
    columns, keys = used_columns(model, cell, statement, name)
    for keyword in call.keywords:
        if keyword.arg == "usecols":
            columns = _strings(keyword.value) + [c for c in columns if c not in _strings(keyword.value)]
    if columns:
        listed = ", ".join(json.dumps(column) for column in columns)
        lines.append(f'assert {{{listed}}} <= set({name}.columns), "{name} lacks columns the notebook uses"')
    for key in keys:
        lines.append(f'assert {name}[{json.dumps(key)}].notna().all(), "{name} has missing values in {key}"')
    return lines


def _is_frame_reader(call: ast.Call, callee: str) -> bool:
    if not callee.startswith(("pandas.read_", "polars.read_")):
        return False
    if callee.endswith(("read_html", "read_pickle")):
        return False
    return not any(k.arg in ("chunksize", "iterator", "sheet_name") for k in call.keywords)


def _strings(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [element.value for element in node.elts
                if isinstance(element, ast.Constant) and isinstance(element.value, str)]
    return []


def used_columns(model: NotebookModel, cell: CellModel, statement: ast.stmt, name: str) -> tuple[list, list]:
    """(columns read, key columns) of `name` after the load and before it is bound again."""
    start = (cell.index, statement.end_lineno)
    end = _next_binding(model, name, start)
    read: list[str] = []
    made: set[str] = set()
    keys: list[str] = []
    last = end[0] if end is not None else len(model.cells) - 1
    for other in model.cells[cell.index:last + 1]:
        if other.facts is None or other.facts.tree is None:
            continue
        # In the order of the text: a column the notebook makes before it reads it is not a column to check.
        for node in other.facts.nodes:
            if type(node) not in _USES:
                continue
            line = node.lineno
            if (other.index, line) <= start or (end is not None and (other.index, line) >= end):
                continue
            _collect(other, node, name, read, made, keys)
    return [c for c in read if c not in made], [k for k in keys if k not in made]


_USES = (ast.Subscript, ast.Attribute, ast.Call)


def _collect(cell: CellModel, node: ast.AST, name: str, read: list, made: set, keys: list) -> None:
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == name:
        found = _strings(node.slice)
        if isinstance(node.ctx, ast.Store):
            made.update(found)
        else:
            read.extend(c for c in found if c not in read and c not in made)
    elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == name:
        parent = cell.facts.parent(node)
        called = isinstance(parent, ast.Call) and parent.func is node
        if isinstance(node.ctx, ast.Store):
            made.add(node.attr)
        elif not called and node.attr not in FRAME_ATTRIBUTES and not node.attr.startswith("_") \
                and node.attr not in read and node.attr not in made:
            read.append(node.attr)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
            isinstance(node.func.value, ast.Name) and node.func.value.id == name:
        method = node.func.attr
        found: list[str] = []
        if method in ("groupby", "set_index") and node.args:
            found = _strings(node.args[0])
        for keyword in node.keywords:
            if (method in ("groupby", "set_index") and keyword.arg in ("by", "keys")) or \
                    (method == "merge" and keyword.arg in ("on", "left_on")):
                found = _strings(keyword.value)
        for key in found:
            if key not in keys and key not in made:
                keys.append(key)
            if key not in read and key not in made:
                read.append(key)


_BINDINGS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _next_binding(model: NotebookModel, name: str, after: tuple[int, int]) -> tuple[int, int] | None:
    """Where `name` is bound next after `after` (cell, line): a search in its sorted bindings."""
    by_name = _BINDINGS.get(model)
    if by_name is None:
        by_name = _BINDINGS[model] = {}
    places = by_name.get(name)
    if places is None:
        places = by_name[name] = sorted((d.cell.index, d.binding.statement.lineno)
                                        for d in model.definitions.get(name, ()))
    found = bisect.bisect_right(places, after)
    return places[found] if found < len(places) else None
