"""What a rule is: a code, a readable name, a category, a severity, docs, and a check over the model."""
from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..analysis import CellModel, NotebookModel, Span
from ..findings import CATEGORIES, Finding, Fix, Severity

_SECTION = re.compile(r"^## (.+)$", re.MULTILINE)
_SECTION_KEYS = {
    "What it does": "summary",
    "Why is this bad?": "why",
    "Why it matters": "why",
    "Example": "example",
    "Use instead": "use_instead",
}


@dataclass(frozen=True)
class RuleDocs:
    summary: str
    why: str
    example: str
    use_instead: str

    @classmethod
    def from_docstring(cls, doc: str) -> "RuleDocs":
        sections = {"summary": "", "why": "", "example": "", "use_instead": ""}
        parts = _SECTION.split(inspect.cleandoc(doc or ""))
        for title, body in zip(parts[1::2], parts[2::2]):
            key = _SECTION_KEYS.get(title.strip())
            if key:
                sections[key] = body.strip()
        return cls(**sections)

    def code_examples(self, section: str) -> list[str]:
        """The cells of a ```python block in a section; cells are separated by `# %%` lines."""
        text = getattr(self, section)
        blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
        cells: list[str] = []
        for block in blocks:
            cells.extend(part.strip("\n") + "\n" for part in re.split(r"^# %%.*$", block, flags=re.MULTILINE)
                         if part.strip())
        return cells


class Rule:
    """Subclass, set the class attributes, write the docstring in ruff's sections, and say what the rule
    looks at; the dispatcher (`rules/dispatch.py`) walks nothing itself and calls, cell by cell:

    - `visit(node, cell, model)` for each node of the types in `node_types`, in source order;
    - `visit_cell(cell, model)` once per parsed code cell, when `visits_cells` is set (a rule reading the
      facts the analysis derived: calls, strings, imports, bindings, magics); with `unparsed_cells_too`,
      also for the code cells that do not parse (a syntax error, another language: `facts.tree` is None);
    - `check(model)` once per notebook, after the cells, for what only the whole notebook shows (order
      of execution, names defined in one cell and used in another).

    Each returns (or yields) findings. Rules are shared by every notebook and thread: no state on `self`;
    what a rule derives from a cell alone goes in `model.per_cell`, from the notebook in `model.per_notebook`.
    """

    code: str = ""
    name: str = ""
    category: str = ""
    severity: Severity = Severity.ERROR
    # False for a rule that a strict reading found mostly wrong on real notebooks: it runs only when
    # `select` names it by code or name (a prefix or a category does not turn it on).
    enabled_by_default: bool = True
    node_types: tuple[type, ...] = ()
    visits_cells: bool = False
    unparsed_cells_too: bool = False
    # What the rule reads that the walk does not hand it, for the table of who looks at what
    # (`readiness rules --looks-at`): e.g. ("imports", "execution order", "project files").
    reads: tuple[str, ...] = ()

    def visit(self, node: ast.AST, cell: CellModel, model: NotebookModel) -> Iterable[Finding]:
        return ()

    def visit_cell(self, cell: CellModel, model: NotebookModel) -> Iterable[Finding]:
        return ()

    def check(self, model: NotebookModel) -> Iterable[Finding]:
        return ()

    @classmethod
    def checks_notebook(cls) -> bool:
        """Whether `check` is the rule's own (a notebook-wide pass), not the empty default."""
        return cls.check is not Rule.check

    @classmethod
    def docs(cls) -> RuleDocs:
        return RuleDocs.from_docstring(cls.__doc__ or "")

    def finding(
        self,
        cell: CellModel | None,
        span: Span | None,
        message: str,
        fix: Fix | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        span = span or Span(1, 1, 1, 1)
        return Finding(
            code=self.code,
            name=self.name,
            category=self.category,
            severity=severity or self.severity,
            message=message,
            cell_index=cell.index if cell is not None else None,
            cell_id=cell.cell.id if cell is not None else None,
            line=span.line,
            column=span.column,
            end_line=span.end_line,
            end_column=span.end_column,
            fix=fix,
        )

    def at_node(self, cell: CellModel, node: ast.AST, message: str, fix: Fix | None = None) -> Finding:
        return self.finding(cell, cell.facts.span(node), message, fix)

    def to_dict(self) -> dict:
        docs = self.docs()
        return {
            "code": self.code,
            "name": self.name,
            "category": self.category,
            "severity": self.severity.value,
            "summary": docs.summary,
            "why": docs.why,
            "example": docs.example,
            "use_instead": docs.use_instead,
        }

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.code:
            assert cls.category in CATEGORIES, f"{cls.code}: unknown category {cls.category}"
