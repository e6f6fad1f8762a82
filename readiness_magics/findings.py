"""Findings, the values every rule yields and every adapter shows."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "error": 2}[self.value]


# The categories of the JSON contract (DESIGN.md); adding one is a contract change.
CATEGORIES = (
    "hardcoded-path",
    "unpinned-dependency",
    "missing-data-check",
    "untestable-code",
    "hidden-state",
    "hardcoded-secret",
    "code-quality",
    "notebook-format",
    "notebook-hygiene",
    "data-leakage",
)


@dataclass(frozen=True, slots=True)
class NewCell:
    """A cell a fix adds, `before` or `after` the cell at `anchor` (an index among the notebook's cells)."""

    where: str  # "before" or "after"
    anchor: int
    cell_type: str
    source: str
    tags: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {self.where: self.anchor, "cell_type": self.cell_type, "source": self.source,
                "tags": list(self.tags)}

    @classmethod
    def from_dict(cls, data: dict) -> NewCell:
        where = "before" if "before" in data else "after"
        return cls(where, data[where], data["cell_type"], data["source"], tuple(data.get("tags", ())))


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace a range of one cell's source (1-based lines, 1-based columns, end exclusive).

    Or change the cells themselves: with `insert_cell` the edit adds that cell (its range is 1:1-1:1 of
    the anchor cell, `content` is empty: the new cell's source is `insert_cell.source`); with
    `delete_cell` it removes the cell at `cell_index` (its range is the whole cell, `content` empty)."""

    cell_index: int
    line: int
    column: int
    end_line: int
    end_column: int
    content: str
    insert_cell: NewCell | None = None
    delete_cell: bool = False

    def to_dict(self) -> dict:
        out = {
            "cell_index": self.cell_index,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "content": self.content,
        }
        if self.insert_cell is not None:
            out["insert_cell"] = self.insert_cell.to_dict()
        if self.delete_cell:
            out["delete_cell"] = True
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Edit:
        insert = data.get("insert_cell")
        return cls(data["cell_index"], data["line"], data["column"], data["end_line"], data["end_column"],
                   data["content"], NewCell.from_dict(insert) if insert else None, bool(data.get("delete_cell")))


@dataclass(frozen=True)
class Fix:
    description: str
    applicability: str = "unsafe"  # "safe" means behaviour-preserving
    edits: tuple[Edit, ...] = ()

    def to_dict(self) -> dict:
        out = {"description": self.description, "applicability": self.applicability}
        if self.edits:
            out["edits"] = [edit.to_dict() for edit in self.edits]
        return out


@dataclass(frozen=True)
class Finding:
    code: str
    category: str
    severity: Severity
    message: str
    cell_index: int | None  # 0-based among all cells; None for notebook- or project-level findings
    cell_id: str | None = None
    line: int = 1
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None
    fix: Fix | None = None
    name: str = ""  # the rule's readable name
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "category": self.category,
            "severity": self.severity.value,
            "message": self.message,
            "cell_index": self.cell_index,
            "cell_id": self.cell_id,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line if self.end_line is not None else self.line,
            "end_column": self.end_column if self.end_column is not None else self.column,
            "fix": self.fix.to_dict() if self.fix else None,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Finding:
        """The inverse of `to_dict`, for results that crossed a process boundary or a cache file."""
        fix = data.get("fix")
        if fix is not None:
            edits = tuple(Edit.from_dict(edit) for edit in fix.get("edits", ()))
            fix = Fix(fix["description"], fix.get("applicability", "unsafe"), edits)
        return cls(data["code"], data["category"], _SEVERITIES[data["severity"]], data["message"],
                   data["cell_index"], data.get("cell_id"), data["line"], data["column"],
                   data.get("end_line"), data.get("end_column"), fix, data.get("name", ""))

    @property
    def sort_key(self) -> tuple:
        return (
            -1 if self.cell_index is None else self.cell_index,
            self.line,
            self.column,
            self.code,
            self.message,  # ties broken the same way in every process (a set's order is not)
        )


_SEVERITIES = {severity.value: severity for severity in Severity}
