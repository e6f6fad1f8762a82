"""What several fixes share: finding a finding's node, a parameter in the `parameters` cell, `import os`."""
from __future__ import annotations

import ast
import re
import weakref

from ..analysis import CellModel, NotebookModel
from ..findings import Edit, Finding, NewCell

# The tag every cell a fix adds carries, so a reviewer (and the next run) sees where it came from.
FIX_TAG = "readiness-fix"


def cell_of(model: NotebookModel, finding: Finding) -> CellModel | None:
    """The finding's code cell when it parsed and holds Python as the user wrote it (no cell magic)."""
    if finding.cell_index is None or not 0 <= finding.cell_index < len(model.cells):
        return None
    cell = model.cells[finding.cell_index]
    if cell.facts is None or cell.facts.tree is None or cell.facts.python.cell_magic:
        return None
    return cell


def node_at(cell: CellModel, finding: Finding, kind: str) -> ast.AST | None:
    """The node of the cell's `kind` ("strings" or "calls") that starts where the finding does (and
    ends there too, when it says so). Indexed once per cell: a cell may hold thousands of findings."""
    index = cell.facts.memo.get(("fixes", kind))
    if index is None:
        index = {}
        for node in getattr(cell.facts, kind):
            span = cell.facts.span(node)
            if span.line not in cell.facts.python.magic_lines:  # transformed text: no place to edit
                index.setdefault((span.line, span.column), []).append((span, node))
        cell.facts.memo[("fixes", kind)] = index
    for span, node in index.get((finding.line, finding.column), ()):
        if finding.end_line is None or (span.end_line, span.end_column) == (finding.end_line, finding.end_column):
            return node
    return None


def plain_string_at(model: NotebookModel, finding: Finding) -> tuple[CellModel, ast.Constant, ast.AST | None] | None:
    """The finding's cell, the string literal it points at and that literal's parent; None when there is
    none, or when the literal is part of an f-string (no literal of its own to replace)."""
    cell = cell_of(model, finding)
    if cell is None:
        return None
    node = node_at(cell, finding, "strings")
    if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
        return None
    parent = cell.facts.parent(node)
    if isinstance(parent, (ast.JoinedStr, ast.FormattedValue)):
        return None
    return cell, node, parent


def cell_lines(cell: CellModel) -> list[str]:
    """The cell's source lines without their ends, split once per cell."""
    lines = cell.facts.memo.get(("fixes", "lines"))
    if lines is None:
        lines = cell.facts.memo[("fixes", "lines")] = cell.cell.source.splitlines()
    return lines


def line_starts(cell: CellModel) -> list[int]:
    """The offset in the source where each line starts, and the end of the text last."""
    starts = cell.facts.memo.get(("fixes", "starts"))
    if starts is None:
        starts, total = [0], 0
        for line in cell.cell.source.splitlines(keepends=True):
            total += len(line)
            starts.append(total)
        cell.facts.memo[("fixes", "starts")] = starts
    return starts


def source_text(cell: CellModel, node: ast.AST) -> str | None:
    """The node as written in the cell (one line only), or None."""
    span = cell.facts.span(node)
    if span.line != span.end_line:
        return None
    return cell_lines(cell)[span.line - 1][span.column - 1:span.end_column - 1]


def replace_node(cell: CellModel, node: ast.AST, content: str) -> Edit:
    span = cell.facts.span(node)
    return Edit(cell.index, span.line, span.column, span.end_line, span.end_column, content)


def identifier(text: str, suffix: str = "") -> str:
    """An UPPER_CASE name from free text: `review-sentiment` and `_DIR` give `REVIEW_SENTIMENT_DIR`."""
    words = re.findall(r"[A-Za-z0-9]+", text)
    name = "_".join(words).upper()
    if not name or not name[0].isalpha():
        name = "DATA" + ("_" + name if name else "")
    if suffix and not name.endswith(suffix):
        name += suffix
    return name


def bound_anywhere(model: NotebookModel, name: str) -> bool:
    return name in model.definitions or name in model.imported_names or name in model.functions


# Per notebook, what every fix asks again (a notebook of 10,000 findings must not rescan its cells
# for each one).
_PLACES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _places(model: NotebookModel) -> dict:
    places = _PLACES.get(model)
    if places is None:
        places = _PLACES[model] = {}
        places["parameters"] = next((cell for cell in model.code_cells if cell.is_parameters), None)
        places["home"] = next((cell for cell in model.parsed_cells if any(
            isinstance(s, (ast.Import, ast.ImportFrom)) for s in cell.facts.statements)), None)
        places["os"] = next((cell.index for cell in model.parsed_cells if any(
            fact.bound == "os" and fact.name == "os" for fact in cell.facts.imports)), None)
        named: dict = {}
        cell = places["parameters"]
        if cell is not None and cell.facts.tree is not None:
            for statement in cell.facts.statements:
                if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                        and isinstance(statement.targets[0], ast.Name)
                        and isinstance(statement.value, ast.Constant)):
                    named.setdefault((type(statement.value.value), statement.value.value), statement.targets[0].id)
        places["named"] = named
    return places


def parameters_cell(model: NotebookModel) -> CellModel | None:
    return _places(model)["parameters"]


def parameter_named(model: NotebookModel, value: object) -> str | None:
    """The name a `parameters` cell already gives this exact constant (so a second literal reuses it)."""
    try:
        return _places(model)["named"].get((type(value), value))
    except TypeError:  # an unhashable constant
        return None


def home_import_cell(model: NotebookModel) -> CellModel | None:
    """The first code cell that imports: where the notebook keeps its imports."""
    return _places(model)["home"]


def add_parameter(model: NotebookModel, used_in: int, assignment: str) -> tuple[Edit, ...] | None:
    """Edits that put `assignment` (`NAME = value`) in the `parameters` cell, making that cell (tagged
    `parameters` and `readiness-fix`) after the imports when there is none. None when the parameters
    cell sits below the cell that will use the name."""
    text = assignment.rstrip("\n") + "\n"
    existing = parameters_cell(model)
    if existing is not None:
        if existing.index > used_in:
            return None
        source = existing.cell.source
        line_count = len(source.splitlines(keepends=True))
        return (Edit(existing.index, line_count + 1, 1, line_count + 1, 1, text),)
    home = home_import_cell(model)
    if home is not None and home.index < used_in:
        where, anchor = "after", home.index
    else:
        # No import cell above the use: right before the first code cell, below the opening markdown.
        first_code = next((cell.index for cell in model.code_cells), used_in)
        where, anchor = "before", min(first_code, used_in)
    new = NewCell(where, anchor, "code", text, ("parameters", FIX_TAG))
    return (Edit(anchor, 1, 1, 1, 1, "", insert_cell=new),)


def import_os(model: NotebookModel, used_in: CellModel) -> tuple[Edit, ...]:
    """`import os` where the notebook keeps imports, unless `os` is already imported at or above the use."""
    first_os = _places(model)["os"]
    if first_os is not None and first_os <= used_in.index:
        return ()
    home = home_import_cell(model)
    target = home if home is not None and home.index <= used_in.index else used_in
    if target.facts.python.cell_magic:  # `%%time` must stay the cell's first line
        target = used_in
    first = target.facts.statements[0] if target.facts.statements else None
    line = target.facts.span(first).line if first is not None else 1
    if line in target.facts.python.magic_lines:
        line = 1
    return (Edit(target.index, line, 1, line, 1, "import os\n"),)


def top_statement(cell: CellModel, node: ast.AST) -> ast.stmt | None:
    return node if node in cell.facts.statements else cell.facts.top_statement(node)
