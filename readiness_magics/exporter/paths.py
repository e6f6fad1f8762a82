"""Hardcoded paths the exporter lifts into Params: those RP101/RP102 report, and data files read or written."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from ..analysis import CellModel, NotebookModel, Span
from ..rules.paths import is_reported, path_sightings
from .names import identifier

_DATA_FILE = re.compile(
    r"\.(?:csv|tsv|txt|json|jsonl|parquet|pq|feather|arrow|xlsx|xls|h5|hdf5|npy|npz|pkl|pickle|joblib|"
    r"yaml|yml|xml|db|sqlite|zip|gz|bz2|png|jpe?g|pdf|html|onnx|pt|pth|ckpt|tfrecord|avro|orc)$",
    re.IGNORECASE,
)
# Calls whose string arguments are pieces of a path or text, not a path on their own.
_PIECE_CALLS = ("os.path.join", "posixpath.join", "ntpath.join", "str.format", "re.compile", "re.match",
                "re.search", "re.sub", "re.findall", "strftime", "strptime")


@dataclass(frozen=True)
class PathLiteral:
    node: ast.Constant
    statement: ast.stmt  # the top-level statement that holds it
    value: str
    holder: str | None  # the name it is assigned to, when it is the whole value of `name = "..."`
    cell_index: int
    line: int  # in the cell as the user sees it
    in_function: str | None  # the function whose body holds it, if any
    machine_specific: bool  # RP101 (or RP102) reports it: it only exists on one machine or in one account

    @property
    def suggested_name(self) -> str:
        text = self.value.rstrip("/\\")
        windows = PureWindowsPath(text) if "\\" in text else None
        base = (windows.name if windows else PurePosixPath(text).name) or "data"
        if _DATA_FILE.search(base):
            return identifier(base.rsplit(".", 1)[0], "data") + "_path"
        return identifier(base, "data") + "_dir"


def _reported_spans(model: NotebookModel, cell: CellModel) -> set[Span]:
    """Where RP101/RP102 report a path literal in the cell's Python (not its magic lines)."""
    return {sighting.span for sighting in path_sightings(model)
            if sighting.cell is cell and sighting.magic is None and is_reported(sighting)}


def _is_relative_data_path(value: str) -> bool:
    if not value or "\n" in value or "://" in value or value.startswith(("/", "%", "{")):
        return False
    if any(ch in value for ch in "{}%*?<>|\"'") or value.strip() != value:
        return False
    return bool(_DATA_FILE.search(value)) and len(value) < 300


def find_path_literals(model: NotebookModel, cell: CellModel) -> list[PathLiteral]:
    """Path literals of a code cell that should become parameters, in source order: the ones RP101/RP102
    report, and relative data file paths passed to a call or assigned to a name."""
    facts = cell.facts
    if facts is None or facts.tree is None:
        return []
    reported = _reported_spans(model, cell)
    found = []
    for node in facts.strings:
        value = node.value
        parent = facts.parent(node)
        if isinstance(parent, (ast.JoinedStr, ast.FormattedValue)) or isinstance(parent, ast.Expr):
            continue  # f-string pieces keep their place; a bare string is a docstring or a note
        statement = facts.top_statement(node)
        if statement is None or _on_magic_line(cell, node):
            continue
        if isinstance(parent, ast.Dict) and any(key is node for key in parent.keys):
            continue
        machine = bool(reported) and facts.span(node) in reported
        if not machine:
            if not _is_relative_data_path(value):
                continue
            if not _is_argument_or_value(facts, node, parent, cell):
                continue
        function = facts.enclosing_function(node)
        holder = None
        if isinstance(parent, ast.Assign) and parent.value is node and len(parent.targets) == 1 \
                and isinstance(parent.targets[0], ast.Name):
            holder = parent.targets[0].id
        if not machine and (function is not None or (holder and holder.upper() == holder)):
            continue  # a relative path inside a function or in a module constant runs anywhere: leave it
        found.append(PathLiteral(node, statement, value, holder, cell.index, facts.span(node).line,
                                 function.name if function is not None else None, machine))
    found.sort(key=lambda literal: (literal.node.lineno, literal.node.col_offset))
    return found


def _is_argument_or_value(facts, node, parent, cell) -> bool:
    """A relative data path counts when it is a call's argument or a name's whole value (not a piece)."""
    if isinstance(parent, ast.keyword):
        parent = facts.parent(parent)
    if isinstance(parent, ast.Call):
        if node is parent.func:
            return False
        from ..analysis import qualified_name

        callee = qualified_name(parent.func, {}) or ""
        return not any(callee.endswith(piece) for piece in _PIECE_CALLS)
    if isinstance(parent, ast.Assign) and parent.value is node:
        return True
    return False


def _on_magic_line(cell: CellModel, node: ast.AST) -> bool:
    python = cell.facts.python
    return bool(python.magic_lines) and python.cell_line(getattr(node, "lineno", 1)) in python.magic_lines
