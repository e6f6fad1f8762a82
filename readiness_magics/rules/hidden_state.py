"""hidden-state: what the saved execution counts and outputs say about how the notebook really ran."""
from __future__ import annotations

import ast
from collections.abc import Iterator
from itertools import pairwise

from ..analysis import NOTEBOOK_BUILTINS, CellFacts, CellModel, NotebookModel, Span, names_in
from ..findings import Fix, Severity
from .base import Rule

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_WHOLE_CELL = Span(1, 1, 1, 1)
_SYNTAX_ERRORS = {"SyntaxError", "IndentationError", "TabError"}


def _code_cells(model: NotebookModel) -> list[CellModel]:
    """Every code cell, also those that could not be parsed or are not valid (they ran, or did not, all
    the same): the dispatcher's code cells leave the invalid ones out. Kept with the model, for each rule here."""
    return model.per_notebook("hidden_state.code_cells",
                              lambda model: [cell for cell in model.cells if cell.cell.kind == "code"])


def _ran(cell: CellModel) -> bool:
    return cell.cell.execution_count is not None


class OutOfOrderExecution(Rule):
    """## What it does
    Reports the first code cell whose saved execution count is lower than that of a code cell above
    it: the cells were not run top to bottom. One finding per notebook.

    Gaps in the counts (`[1]`, `[2]`, `[7]`) are not reported: re-running a cell in place is fine.
    Cells without code (empty or only comments) are left out, and so is a count of 0, which no
    kernel gives (some front ends save it for a count they lost).

    ## Why is this bad?
    The saved outputs came from a kernel state that "Restart and run all" does not recreate: a
    value computed below may have been used above, so the notebook may not reproduce its own results.

    ## Example
    ```python
    # In [2]:
    df = load_sales()
    # %%
    # In [1]:  <- ran before the cell above
    summary = df.describe()
    ```

    ## Use instead
    ```python
    # In [1]:
    df = load_sales()
    # %%
    # In [2]:  (restart the kernel and run all cells before saving)
    summary = df.describe()
    ```
    """

    code = "RP501"
    name = "out-of-order-execution"
    category = "hidden-state"
    severity = Severity.ERROR
    docs_are_runnable = False  # needs saved execution counts
    reads = ("execution counts",)

    def check(self, model: NotebookModel) -> Iterator:
        # Counts that never go down (in any cell) do not go down among the code cells with code either:
        # most notebooks end here.
        counts = [cell.execution_count for cell in model.notebook.cells if cell.execution_count]
        if all(before <= after for before, after in pairwise(counts)):
            return
        highest: CellModel | None = None
        for cell in _code_cells(model):
            count = cell.cell.execution_count
            # A cell with no code cannot change state wherever it ran; a count of 0 is not one a kernel
            # gives (they start at 1): some front ends save it for cells whose count they lost.
            if not count or _is_empty(cell):
                continue
            if highest is not None and count < highest.cell.execution_count:
                yield self.finding(
                    cell, _WHOLE_CELL,
                    f"Cells ran out of order: this cell's execution count [{count}] is lower than "
                    f"[{highest.cell.execution_count}] of cell {highest.index} above it; restart the kernel and "
                    "run all cells in order before saving",
                    Fix("Restart the kernel and run all cells, then save", "unsafe"),
                )
                return
            if highest is None or count > highest.cell.execution_count:
                highest = cell


class SavedErrorOutput(Rule):
    """## What it does
    Reports a code cell saved with an error output (a traceback), `KeyboardInterrupt` included. The
    message names the exception.

    A saved `SyntaxError` in a cell that still does not parse is left to RP001.

    ## Why is this bad?
    The notebook did not run to the end the last time, or some of its outputs come from a run that
    failed midway: a batch run stops at this cell, and readers cannot trust what follows.

    ## Example
    ```python
    # saved with: KeyError: 'revenue'
    df["revenue"].sum()
    ```

    ## Use instead
    ```python
    # fixed, re-run, saved without an error output
    df["amount"].sum()
    ```
    """

    code = "RP502"
    name = "saved-error-output"
    category = "hidden-state"
    severity = Severity.ERROR
    docs_are_runnable = False  # needs saved outputs
    # Every code cell, those that are not valid too (the dispatcher's code cells leave them out).
    reads = ("saved outputs",)

    def check(self, model: NotebookModel) -> Iterator:
        for cell in model.cells:
            if not cell.cell.outputs:
                continue  # only code cells keep outputs (valid or not)
            errors = cell.cell.error_outputs
            if not errors:
                continue
            error = errors[0]
            if error.ename in _SYNTAX_ERRORS and cell.facts is not None and cell.facts.syntax_error:
                continue  # the cell still does not parse: RP001 reports it, once
            # No exception name: a front end's message, such as VS Code's after the kernel died.
            ename = error.ename or "an error without an exception name: did the kernel crash?"
            evalue = " ".join(error.evalue.split())
            if len(evalue) > 80:
                evalue = evalue[:77] + "..."
            what = f"{ename}: {evalue}" if evalue else ename
            if ename == "KeyboardInterrupt":
                advice = "it was interrupted; run it to the end (or make it faster) and save again"
            else:
                advice = "fix the error, re-run the notebook from the top and save again"
            yield self.finding(cell, _WHOLE_CELL, f"Saved error output ({what}); {advice}",
                               Fix("Fix the cell, restart the kernel, run all cells and save", "unsafe"))


class UnexecutedCell(Rule):
    """## What it does
    Reports a non-empty code cell that was never run (no execution count) although cells above and
    below it were.

    Consecutive unexecuted cells (a section skipped) are one finding, on the first.

    Not reported: unexecuted cells at the end (or the start) of the notebook, empty or comment-only
    cells, cells that still carry outputs, and a notebook that was never run at all.

    ## Why is this bad?
    The saved results were produced without this cell, so running the notebook top to bottom does
    something different from what the outputs show (or fails).

    ## Example
    ```python
    # In [1]:
    df = load_sales()
    # %%
    # In [ ]:  never run
    df = df[df["amount"] > 0]
    # %%
    # In [2]:
    df["amount"].sum()
    ```

    ## Use instead
    ```python
    # In [1]:
    df = load_sales()
    # %%
    # In [2]:
    df = df[df["amount"] > 0]
    # %%
    # In [3]:
    df["amount"].sum()
    ```
    """

    code = "RP503"
    name = "unexecuted-cell"
    category = "hidden-state"
    severity = Severity.WARNING
    docs_are_runnable = False  # needs saved execution counts
    reads = ("execution counts", "saved outputs")

    def check(self, model: NotebookModel) -> Iterator:
        cells = _code_cells(model)
        ran = [position for position, cell in enumerate(cells) if _ran(cell)]
        if len(ran) < 2 or ran[-1] - ran[0] + 1 == len(ran):
            return  # run less than twice, or no cell left out between the first and the last that ran
        # A run of unexecuted cells (a section skipped) is one problem: one finding, on its first cell.
        runs: list[list[CellModel]] = []
        previous_skipped = False
        for cell in cells[ran[0] + 1:ran[-1]]:
            if _is_empty(cell):
                continue  # an empty cell neither starts nor ends a run
            skipped = not _ran(cell) and not cell.cell.outputs
            if skipped:
                if previous_skipped:
                    runs[-1].append(cell)
                else:
                    runs.append([cell])
            previous_skipped = skipped
        for run in runs:
            if len(run) == 1:
                what = "This code cell was never run"
            else:
                what = (f"This code cell and the {len(run) - 1} after it (to cell {run[-1].index}) were never "
                        "run")
            yield self.finding(
                run[0], _WHOLE_CELL,
                f"{what}, but cells above and below were: the saved results do not include "
                f"{'it' if len(run) == 1 else 'them'}. Run the notebook from the top, or delete what is not needed",
                Fix("Restart the kernel and run all cells, or delete the cells", "unsafe"),
            )


def _is_empty(cell: CellModel) -> bool:
    if not cell.cell.source.strip():
        return True
    facts = cell.facts
    return facts is not None and facts.tree is not None and not facts.statements and not facts.magics


class NameDefinedLater(Rule):
    """## What it does
    Reports a cell that ran (it has an execution count) and uses a name that no cell at or above it
    defines, only a cell below it. A function used like this is also reported by RP408.

    One finding per cell, at the first such name, listing them all.

    Not reported: a name defined above and redefined below, builtins, names that nothing in the
    notebook defines (a plain undefined name), and cells below a `from x import *` or `%run`.

    ## Why is this bad?
    The cell only worked because a cell further down ran first. "Restart and run all" fails here
    with a `NameError`, and the saved outputs hide the problem.

    ## Example
    ```python
    # In [2]:
    total = prices.sum()
    # %%
    # In [1]:
    prices = load_prices()
    ```

    ## Use instead
    ```python
    # In [1]:
    prices = load_prices()
    # %%
    # In [2]:
    total = prices.sum()
    ```
    """

    code = "RP504"
    name = "name-defined-later"
    category = "hidden-state"
    severity = Severity.ERROR
    docs_are_runnable = False  # needs saved execution counts
    reads = ("execution counts", "definitions across cells")

    def check(self, model: NotebookModel) -> Iterator:
        ran = [cell for cell in model.parsed_cells if _ran(cell)]
        if not ran:
            return
        opaque_from = _first_opaque_cell(model)
        first_cell = {name: definitions[0].cell.index for name, definitions in model.definitions.items()}
        for cell in ran:
            index = cell.index
            if opaque_from is not None and opaque_from <= index:
                return
            # The names read here that a cell below defines first: most cells read none.
            below = {name: first_cell[name] for name in cell.facts.read_names
                     if first_cell.get(name, -1) > index and name not in NOTEBOOK_BUILTINS}
            if not below:
                continue
            # One finding per cell, at the first such name, listing every one (one import cell moved
            # up usually fixes them all).
            later: dict[str, int] = {}
            first_read = None
            for read in cell.facts.reads:
                name = read.name
                if name in later or name not in below or _comprehension_bound(cell, read.node):
                    continue
                first = below[name]
                later[name] = first
                first_read = first_read or read
            if not later:
                continue
            if len(later) == 1:
                [(name, first)] = later.items()
                message = (f"'{name}' is used here but first defined in cell {first} below; this cell works only "
                           "when that cell has run first. Move the definition above this cell")
                fix = Fix(f"Move the definition of '{name}' above this cell", "unsafe")
            else:
                names = ", ".join(f"'{name}' (cell {first})" for name, first in later.items())
                message = (f"{names} are used here but first defined in cells below; this cell works only when "
                           "those cells have run first. Move the definitions above this cell")
                fix = Fix("Move the definitions above this cell", "unsafe")
            yield self.at_node(cell, first_read.node, message, fix)


def _first_opaque_cell(model: NotebookModel) -> int | None:
    """The first cell that may bring in names we cannot see (`from x import *`, `%run`, `%store -r`).
    Kept with the model: RP408 asks too."""
    found = model.__dict__.get("hidden_state.first_opaque_cell", _UNKNOWN)
    if found is _UNKNOWN:
        found = model.__dict__["hidden_state.first_opaque_cell"] = _find_first_opaque_cell(model)
    return found


_UNKNOWN = object()


def _find_first_opaque_cell(model: NotebookModel) -> int | None:
    for cell in model.code_cells:
        facts = cell.facts
        magics = facts.python.magics
        if magics and any(magic.kind == "line" and magic.name in ("run", "store") for magic in magics):
            return cell.index
        if facts.imports and any(fact.bound == "*" for fact in facts.imports):
            return cell.index
    return None


def comprehension_target_names(facts: CellFacts) -> frozenset[str]:
    """Every name in a comprehension's target anywhere in the cell (`x` of `[... for x in xs]`): a name
    outside this set is no comprehension's own, whatever its place (remembered with the cell's facts)."""
    entry = facts.memo.get("comprehension targets")
    if entry is None:
        entry = facts.memo["comprehension targets"] = (None, frozenset(
            name.id for generator in facts.of(ast.comprehension) for name in names_in(generator.target)))
    return entry[1]


def _comprehension_bound(cell: CellModel, node: ast.Name) -> bool:
    """A comprehension's own loop variable, which the cell-level facts do not count as a binding."""
    if node.id not in comprehension_target_names(cell.facts):
        return False
    for ancestor in cell.facts.ancestors(node):
        if isinstance(ancestor, _COMPREHENSIONS):
            for generator in ancestor.generators:
                if any(t.id == node.id for t in names_in(generator.target)):
                    return True
        elif isinstance(ancestor, ast.stmt):
            return False
    return False


RULES = (OutOfOrderExecution, SavedErrorOutput, UnexecutedCell, NameDefinedLater)
