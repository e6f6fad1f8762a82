"""notebook-format: cells that are not valid, and code that does not parse."""
from __future__ import annotations

from ..analysis import CellModel, NotebookModel, Span
from ..findings import Severity
from .base import Rule


class CellSyntaxError(Rule):
    """## What it does
    Reports a code cell that is not valid Python (after IPython's `%magic` and `!shell` syntax is
    turned into Python), such as Python 2 `print x` or a half-written line.

    ## Why is this bad?
    The notebook cannot run top to bottom, and nothing else in the cell can be checked or exported.

    ## Example
    ```python
    print "accuracy", score
    ```

    ## Use instead
    ```python
    score = 0.9
    print("accuracy", score)
    ```
    """

    code = "RP001"
    name = "syntax-error"
    category = "notebook-format"
    severity = Severity.ERROR
    visits_cells = True  # a cell that does not parse has no tree: its facts say why
    unparsed_cells_too = True  # its findings can sit in a cell that does not parse

    def visit_cell(self, cell: CellModel, model: NotebookModel):
        problem = cell.facts.syntax_error
        if problem:
            return (self.finding(cell, problem.span, f"Syntax error: {problem.message}; the cell cannot run"),)
        return ()


class InvalidCell(Rule):
    """## What it does
    Reports a cell whose JSON is malformed: an unknown `cell_type`, or a `source` that is neither a
    string nor a list of strings.

    ## Why is this bad?
    Jupyter may refuse to open the notebook or drop the cell, and tools that read it disagree about
    what it contains.

    ## Example
    ```python
    x = 1  # in a cell saved as {"cell_type": "kode", ...}
    ```

    ## Use instead
    ```python
    x = 1  # in a cell saved as {"cell_type": "code", ...}
    ```
    """

    code = "RP002"
    name = "invalid-cell"
    category = "notebook-format"
    severity = Severity.ERROR
    docs_are_runnable = False  # the problem lives in the JSON, not in a cell's source
    # Invalid cells have no facts, so the dispatcher's code cells leave them out: the notebook's own list.
    reads = ("every cell's JSON",)

    def check(self, model: NotebookModel):
        for cell in model.cells:
            if cell.cell.problem:
                yield self.finding(cell, Span(1, 1, 1, 1), f"Invalid cell: {cell.cell.problem}; fix it in the JSON")


RULES = (CellSyntaxError, InvalidCell)
