"""notebook-hygiene: names, structure, markdown, lengths, execution habits and project-level checks.

The cosmetic ones are `info` by default so that they never bury the findings that block production.
"""
from __future__ import annotations

import ast
import os
import re
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from ..analysis import CellModel, NotebookModel, Span
from ..findings import Edit, Fix, Severity
from .base import Rule
from .dispatch import findings_of
from .hidden_state import OutOfOrderExecution

_UNTITLED = re.compile(r"^untitled\d*$|[-_ ]copy\d*$|^copy of ", re.IGNORECASE)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_\-.]+$")
_H1 = re.compile(r"^\s{0,3}#(?!#)\s*\S|<h1[\s>]|^\s{0,3}\S.*\n\s{0,3}=+\s*$", re.IGNORECASE | re.MULTILINE)
# Any heading (ATX of any level, setext, or HTML): at the top of the notebook it is the title.
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*\S|<h[1-6][\s>]|^\s{0,3}\S.*\n\s{0,3}(=+|-+)\s*$",
                      re.IGNORECASE | re.MULTILINE)
_COMMENT_BLOCK_LINES = 6
_MIN_MARKDOWN_RATIO = 0.1
_MIN_NAME = 3
LARGE_FILE_BYTES = 10 * 1024 * 1024
_DATA_SUFFIXES = {".csv", ".tsv", ".parquet", ".json", ".jsonl", ".xlsx", ".xls", ".h5", ".hdf5", ".pkl",
                  ".pickle", ".npy", ".npz", ".feather", ".arrow", ".zip", ".gz", ".tar", ".db", ".sqlite",
                  ".avro", ".orc", ".txt", ".bin", ".pt", ".pth", ".onnx", ".joblib", ".tif", ".tiff"}


def _stem(model: NotebookModel) -> str | None:
    return model.path.stem if model.path is not None else None


def _span_of_cell(cell: CellModel) -> Span:
    lines = cell.cell.source.splitlines() or [""]
    return Span(1, 1, 1, len(lines[0]) + 1)


class UntitledNotebook(Rule):
    """## What it does
    Reports a notebook still called `Untitled`, `Untitled3` or a `-Copy1` of another one.

    ## Why is this bad?
    Nobody can tell what the notebook does or which copy is the real one; reviews, imports and
    scheduled runs end up pointing at the wrong file.

    ## Example
    ```python
    # Untitled1.ipynb
    total = 1
    ```

    ## Use instead
    ```python
    # churn_model.ipynb
    total = 1
    ```
    """

    code = "RP701"
    name = "untitled-notebook"
    category = "notebook-hygiene"
    severity = Severity.WARNING
    docs_are_runnable = False  # about the file name
    reads = ("file name",)

    def check(self, model: NotebookModel):
        stem = _stem(model)
        if stem and _UNTITLED.search(stem):
            yield self.finding(None, None, f"Notebook name '{model.path.name}' says nothing about what it does; "
                                           "rename it after its purpose (e.g. churn_model.ipynb)")


class NotebookFileName(Rule):
    """## What it does
    Reports a notebook file name with spaces or characters that break imports and shells, or one
    that is too short (under 3 characters) to say what the notebook does.

    A long name is not reported: shells and imports take it, and on the corpus the long names were
    descriptive ones (or folder paths flattened into a name). The rule stays `info`: a name is a
    convention, and a reviewer reads past it.

    ## Why is this bad?
    Such names need quoting in every shell command, cannot become a module name when the notebook
    is exported, and are hard to refer to in CI configuration.

    ## Example
    ```python
    # My Analysis (final).ipynb
    total = 1
    ```

    ## Use instead
    ```python
    # my_analysis.ipynb
    total = 1
    ```
    """

    code = "RP702"
    name = "notebook-file-name"
    category = "notebook-hygiene"
    severity = Severity.INFO
    docs_are_runnable = False
    reads = ("file name",)

    def check(self, model: NotebookModel):
        stem = _stem(model)
        if not stem:
            return
        if not _SAFE_NAME.match(stem):
            bad = sorted({ch for ch in stem if not re.match(r"[A-Za-z0-9_\-.]", ch)})
            shown = ", ".join("space" if ch == " " else repr(ch) for ch in bad)
            yield self.finding(None, None, f"Notebook name '{model.path.name}' contains {shown}; use letters, "
                                           "digits, '_' and '-' so it works in shells and as a module name")
        elif len(stem) < _MIN_NAME:
            yield self.finding(None, None, f"Notebook name '{model.path.name}' is {len(stem)} characters long; "
                                           f"use a descriptive name of at least {_MIN_NAME} characters")


class NoOpeningMarkdown(Rule):
    """## What it does
    Reports a notebook whose first cell is not a markdown cell.

    ## Why is this bad?
    A reader (or a reviewer in CI) should learn what the notebook is for, what it reads and what it
    produces before the first line of code.

    ## Example
    ```python
    import pandas as pd
    ```

    ## Use instead
    ```python
    # (a markdown cell first: "# Churn model\\nTrains ... from data/churn.csv")
    import pandas as pd
    ```
    """

    code = "RP703"
    name = "no-opening-markdown"
    category = "notebook-hygiene"
    severity = Severity.INFO
    docs_are_runnable = False  # needs a markdown cell
    reads = ("markdown cells",)

    def check(self, model: NotebookModel):
        first = next((cell for cell in model.cells if cell.cell.source.strip()), None)
        if first is not None and first.cell.kind == "code":
            yield self.finding(first, _span_of_cell(first),
                               "The notebook starts with code; open it with a markdown cell that says what it "
                               "does, what it reads and what it produces")


class NoClosingMarkdown(Rule):
    """## What it does
    Reports a notebook whose last non-empty cell is code, with no closing markdown.

    ## Why is this bad?
    The conclusion of an analysis (what was found, what to do next) is what readers look for; a
    notebook that stops on code leaves it to guess.

    Off by default (turn it on with `select = ["RP704"]`): on the corpus (docs/precision/hygiene.md) a
    strict reviewer agreed with 1 finding of 15. Tutorials, exercises, demos and notebooks that end on a
    cleanup step (delete the index) have nothing to conclude; it is a writing convention, not a
    production problem.

    ## Example
    ```python
    print("accuracy", 0.91)
    ```

    ## Use instead
    ```python
    print("accuracy", 0.91)
    # (then a markdown cell: "## Conclusion ...")
    ```
    """

    code = "RP704"
    name = "no-closing-markdown"
    category = "notebook-hygiene"
    severity = Severity.INFO
    enabled_by_default = False
    docs_are_runnable = False
    reads = ("markdown cells",)

    def check(self, model: NotebookModel):
        last = next((cell for cell in reversed(model.cells) if cell.cell.source.strip()), None)
        if last is not None and last.cell.kind == "code" and any(
                cell.cell.kind == "markdown" and cell.cell.source.strip() for cell in model.cells):
            yield self.finding(last, _span_of_cell(last),
                               "The notebook ends with code; close it with a markdown cell that states the "
                               "results and what to do next")


class MissingTitle(Rule):
    """## What it does
    Reports a notebook without a level-1 markdown heading (`# Title`).

    ## Why is this bad?
    JupyterLab's table of contents, exported HTML and the package README generated from the notebook
    all use the title; without one the notebook is known only by its file name.

    ## Example
    ```python
    x = 1
    ```

    ## Use instead
    ```python
    x = 1  # in a notebook whose first markdown cell starts with "# Sales forecast"
    ```
    """

    code = "RP705"
    name = "missing-title"
    category = "notebook-hygiene"
    severity = Severity.INFO
    docs_are_runnable = False
    reads = ("markdown cells",)

    def check(self, model: NotebookModel):
        if not model.code_cells:
            return
        if not any(cell.cell.kind == "markdown" and _H1.search(cell.cell.source) for cell in model.cells) and \
                not _opens_with_heading(model):
            yield self.finding(None, None, "No '# Title' heading in any markdown cell; add one at the top")


_TAGS_AND_IMAGES = re.compile(r"<[^>]+>|!\[[^\]]*\]\([^)]*\)")
_LINKS = re.compile(r"\[[^\]]*\]\([^)]*\)")


def _opens_with_heading(model: NotebookModel) -> bool:
    """The first markdown with words (past "Open in Colab" badges), before any code, starts with a heading
    of any level: that is the notebook's title, whatever its level (`## Protein folding with ESMFold`)."""
    for cell in model.cells:
        text = cell.cell.source.strip()
        if not text:
            continue
        if cell.cell.kind != "markdown":
            return False
        if not _LINKS.sub("", _TAGS_AND_IMAGES.sub("", text)).strip():
            continue  # a badge or an image only
        return bool(_HEADING.match(text))
    return False


class TooLittleMarkdown(Rule):
    """## What it does
    Reports a notebook of ten or more code cells with fewer than one markdown cell for every ten of
    them.

    ## Why is this bad?
    Without prose between the steps a reader cannot tell the exploration from the pipeline, nor why
    each step is there; the exporter also uses markdown sections to name the pipeline's steps.

    ## Example
    ```python
    a = 1
    # %%
    b = 2
    # %%
    c = 3
    # %%
    d = 4
    # %%
    e = 5
    # %%
    f = 6
    # %%
    g = 7
    # %%
    h = 8
    # %%
    i = 9
    # %%
    j = 10
    ```

    ## Use instead
    ```python
    a = 1  # with a markdown cell before each section of steps
    ```
    """

    code = "RP706"
    name = "too-little-markdown"
    category = "notebook-hygiene"
    severity = Severity.INFO
    reads = ("markdown cells",)

    def check(self, model: NotebookModel):
        if len(model.code_cells) < 10:
            return
        code = sum(1 for cell in model.code_cells if cell.cell.source.strip())
        if code < 10:
            return
        markdown = 0
        for cell in model.cells:
            if cell.cell.kind == "markdown" and cell.cell.source.strip():
                markdown += 1
                if markdown >= code * _MIN_MARKDOWN_RATIO:
                    return  # enough: no need to count the rest
        yield self.finding(None, None, f"{markdown} markdown cell(s) for {code} code cells; explain "
                                       "the steps in markdown (at least one markdown cell per ten code cells)")


class NotebookTooLong(Rule):
    """## What it does
    Reports a notebook with more code cells than `max-cells` (100 by default, in `[tool.readiness]`).

    ## Why is this bad?
    Long notebooks mix several jobs, take long to re-run from the top (so they are not) and are hard
    to review; split them into notebooks or modules with one purpose each.

    ## Example
    ```python
    x = 1  # ... in a notebook of 150 code cells
    ```

    ## Use instead
    ```python
    x = 1  # in one of three notebooks of 50 cells, each with one purpose
    ```
    """

    code = "RP707"
    name = "notebook-too-long"
    category = "notebook-hygiene"
    severity = Severity.INFO
    docs_are_runnable = False
    reads = ("settings",)

    def check(self, model: NotebookModel):
        limit = model.settings.max_cells if model.settings else 100
        count = len(model.code_cells)
        if count > limit:
            yield self.finding(None, None, f"{count} code cells (limit {limit}); split the notebook by purpose "
                                           "or move stable code into a module")


class CellTooLong(Rule):
    """## What it does
    Reports a code cell with more lines than `max-cell-lines` (60 by default, in `[tool.readiness]`).

    Only the lines that are steps count: not the body of a `def` or `class` (already a function),
    imports (with their `try`/`except ImportError`), a
    data literal (a list of records, a prompt, a dict of parameters), a `%%writefile` or non-Python cell,
    or a cell that does not parse (RP001's).

    ## Why is this bad?
    A long cell does several things at once: its output cannot be tied to one step, and it cannot be
    re-run in part. Split it, or move the code into functions.

    On the corpus (docs/precision/hygiene.md) the cells it still doubts are whole Gradio demo apps,
    long without being several steps.

    ## Example
    ```python
    x = 1
    ```

    ## Use instead
    ```python
    x = 1
    ```
    """

    code = "RP708"
    name = "cell-too-long"
    category = "notebook-hygiene"
    severity = Severity.INFO
    docs_are_runnable = False  # the example would be 61 lines long
    visits_cells = True
    unparsed_cells_too = True  # its findings can sit in a cell that does not parse
    reads = ("settings",)

    def visit_cell(self, cell: CellModel, model: NotebookModel):
        limit = model.settings.max_cell_lines if model.settings else 60
        source = cell.cell.source
        if _at_most_lines(source, limit):
            return ()
        lines = source.splitlines()
        if len(lines) > limit and _step_lines(cell) > limit:
            return [self.finding(cell, Span(limit + 1, 1, len(lines), len(lines[-1]) + 1),
                                 f"This cell has {len(lines)} lines (limit {limit}); split it into steps or "
                                 "move the code into functions")]
        return ()


def _at_most_lines(source: str, limit: int) -> bool:
    """True when `source.splitlines()` surely has at most `limit` lines, told without splitting: each line
    but the last ends with a line break, and an ASCII text breaks lines only at these characters."""
    if len(source) <= limit:
        return True
    if source.count("\n") >= limit or not source.isascii():
        return False
    return "\r" not in source and "\x0b" not in source and "\x0c" not in source and "\x1c" not in source and \
        "\x1d" not in source and "\x1e" not in source


def _literal(node) -> bool:
    """Data, or configuration: constants, and names of constants (`DEFAULT_USER_COL`, `np.float32`)."""
    if isinstance(node, (ast.Constant, ast.Name)):
        return True
    if isinstance(node, ast.Attribute):
        return _literal(node.value)
    if isinstance(node, ast.UnaryOp):
        return _literal(node.operand)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Constant):
        return True  # a template filled in: a script written to a file, a prompt
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return all(_literal(element) for element in node.elts)
    if isinstance(node, ast.Dict):
        return all(key is None or _literal(key) for key in node.keys) and all(map(_literal, node.values))
    return False


def _imports(statement) -> bool:
    """An import, or `try: import x` with its fallback: the notebook's manifest, not a step."""
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return True
    return isinstance(statement, ast.Try) and all(
        isinstance(s, (ast.Import, ast.ImportFrom)) for s in statement.body)


def _step_lines(cell: CellModel) -> int:
    """Lines that are steps: not a cell magic's body (SQL, a written file), not the body of one `def` or
    `class` (already a function), not imports, not a data literal (a list of records, a prompt string, a dict of
    parameters)."""
    facts = cell.facts
    lines = len(cell.cell.source.splitlines())
    if facts is None or facts.syntax_error is not None:
        return 0  # a cell that does not parse (SQL pasted in, a syntax error) is RP001's, not a long step
    if not facts.is_python or facts.python.cell_magic in ("writefile", "file"):
        return 0
    for statement in facts.statements:
        value = getattr(statement, "value", None)
        definition = isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        data = isinstance(statement, (ast.Assign, ast.AnnAssign, ast.Expr)) and value is not None and _literal(value)
        if definition or data or _imports(statement):
            span = facts.span(statement)
            lines -= span.end_line - span.line  # the statement still counts as one line
    return lines


class EmptyCell(Rule):
    """## What it does
    Reports an empty cell between other cells.

    An empty code cell that kept a saved output is reported as such: its code was deleted after it ran.

    ## Why is this bad?
    Empty cells are leftovers: they add noise to reviews and diffs, and in a run they show up as
    steps that do nothing.

    A worksheet's answer slots (three or more empty, never-run code cells, each under a markdown
    question) are not reported.

    ## Example
    ```python
    x = 1
    # %%

    # %%
    y = 2
    ```

    ## Use instead
    ```python
    x = 1
    # %%
    y = 2
    ```
    """

    code = "RP709"
    name = "empty-cell"
    category = "notebook-hygiene"
    severity = Severity.INFO
    docs_are_runnable = False  # the docs' cell splitter drops empty cells
    reads = ("markdown cells", "saved outputs", "execution counts")

    def check(self, model: NotebookModel):
        empty = [i for i, cell in enumerate(model.cells) if not cell.cell.source.strip()]
        if not empty or len(empty) == len(model.cells):
            return
        non_empty = [i for i, cell in enumerate(model.cells) if cell.cell.source.strip()]
        first, last = non_empty[0], non_empty[-1]
        slots = None
        for cell in (model.cells[i] for i in empty if first < i < last):
            if slots is None:
                slots = _answer_slots(model)
            if cell.index in slots:
                continue
            if cell.cell.kind in ("code", "markdown"):
                if cell.cell.kind == "code" and cell.cell.outputs:
                    # Its code was deleted after it ran: the saved output comes from no code in the notebook.
                    yield self.finding(cell, None, "Empty cell with a saved output: the code that made the output "
                                                   "was deleted; restore the code or delete the cell",
                                       Fix("Delete the cell and its output", "unsafe"))
                    continue
                yield self.finding(cell, None, "Empty cell; delete it",
                                   Fix("Delete the empty cell", "safe"))


def _answer_slots(model: NotebookModel) -> frozenset[int]:
    """A worksheet: three or more empty code cells, never run, each right under a markdown cell (the
    question). They are where the reader writes the answer, not leftovers."""
    slots = frozenset(
        cell.index for previous, cell in pairwise(model.cells)
        if cell.cell.kind == "code" and not cell.cell.source.strip() and cell.cell.execution_count is None
        and not cell.cell.outputs and previous.cell.kind == "markdown" and previous.cell.source.strip())
    return slots if len(slots) >= 3 else frozenset()


class LongCommentBlock(Rule):
    """## What it does
    Reports six or more consecutive comment lines in a code cell.

    One finding per cell. Prose inside a function or a loop is not reported (markdown cannot go
    there); commented-out code there is.

    ## Why is this bad?
    Long explanations belong in markdown, where they are rendered, searchable and shown in the table
    of contents; commented-out code blocks are dead code that hides what really runs.

    It stays `info`, under 90% right on the corpus (docs/precision/hygiene.md): a comment that
    documents the parameters of the dict below it is where a reader wants it.

    ## Example
    ```python
    # Load the data.
    # The file comes from the billing export.
    # It has one row per customer.
    # Columns are described in the wiki.
    # We drop test accounts later.
    # Dates are in UTC.
    import os
    ```

    ## Use instead
    ```python
    import os  # and the explanation in a markdown cell above
    ```
    """

    code = "RP710"
    name = "long-comment-block"
    category = "notebook-hygiene"
    severity = Severity.INFO
    visits_cells = True
    unparsed_cells_too = True  # its findings can sit in a cell that does not parse

    def visit_cell(self, cell: CellModel, model: NotebookModel):
        source = cell.cell.source
        if source.count("#") < _COMMENT_BLOCK_LINES:
            return ()  # each comment line has its '#'
        blocks = _comment_blocks(source.splitlines())
        if not blocks:
            return ()
        # One finding per cell: a commented example split by a `...` line is one block, not two.
        start, length = blocks[0]
        more = (f" (and {len(blocks) - 1} more block(s) from line "
                f"{', '.join(str(line) for line, _ in blocks[1:])})" if len(blocks) > 1 else "")
        return [self.finding(cell, Span(start, 1, start + length - 1, 1),
                             f"{length} comment lines in a row{more}; move the explanation into a markdown "
                             "cell (or delete commented-out code)")]


def _comment_blocks(lines: list[str]) -> list[tuple[int, int]]:
    """(first line, length) of each run of six or more comment lines, less prose that explains indented code."""
    run_start, run_length = 0, 0
    blocks = []
    for number, text in enumerate(lines + [""], start=1):
        stripped = text.strip()
        if stripped.startswith("#") and not stripped.startswith(("#!", "# %%", "# readiness:", "# noqa")):
            if run_length == 0:
                run_start = number
            run_length += 1
            continue
        if run_length >= _COMMENT_BLOCK_LINES and not _explains_indented_code(
                lines[run_start - 1:run_start - 1 + run_length]):
            blocks.append((run_start, run_length))
        run_length = 0
    return blocks


def _commented_code(text: str) -> bool:
    text = text.strip().lstrip("#").strip()
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    # `second (s)` parses too: words before a bracket, or two words in a row, are prose
    bare = re.sub(r"(['\"]).*?\1", "", text)
    return not re.search(r"\w \(|[A-Za-z_]\w* [A-Za-z_]\w*", bare) or bare.split(" ")[0] in (
        "import", "from", "for", "if", "while", "return", "def", "class", "with", "print", "assert", "del")


def _explains_indented_code(block: list[str]) -> bool:
    """Prose inside a function or a loop: markdown cannot go there, so it is where the explanation belongs.
    Commented-out code there is still dead code."""
    if not block[0][:1].isspace():
        return False
    return sum(map(_commented_code, block)) * 2 < len(block)


class ScatteredImports(Rule):
    """## What it does
    Reports imports in code cells after the first cell that imports, once per notebook, listing them.
    The fix moves them up to the first import cell when nothing above would change by it.

    ## Why is this bad?
    Dependencies spread through the notebook are missed when someone sets up an environment, and a
    cell run on its own fails for a missing import; one import cell at the top is the notebook's
    manifest.

    ## Example
    ```python
    import pandas as pd
    # %%
    frame = pd.DataFrame({"a": [1]})
    # %%
    import numpy as np
    total = np.sum(frame["a"])
    ```

    ## Use instead
    ```python
    import numpy as np
    import pandas as pd
    # %%
    frame = pd.DataFrame({"a": [1]})
    total = np.sum(frame["a"])
    ```
    """

    code = "RP711"
    name = "scattered-imports"
    category = "notebook-hygiene"
    severity = Severity.INFO
    reads = ("imports across cells", "definitions across cells")

    def check(self, model: NotebookModel):
        importing = []
        for cell in model.parsed_cells:
            if cell.facts.imports:  # any import, at any depth: most cells have none
                found = _import_statements(cell.facts)
                if found:
                    importing.append((cell, found))
        if len(importing) < 2:
            return
        (home, home_statements), later = importing[0], importing[1:]
        statements = [(cell, statement, cell.facts.span(statement)) for cell, found in later for statement in found]
        listed = ", ".join(f"cell {cell.index} line {span.line}" for cell, _, span in statements[:6])
        more = f" and {len(statements) - 6} more" if len(statements) > 6 else ""
        first_cell, _, first_span = statements[0]
        yield self.finding(first_cell, first_span,
                           f"Imports after the first import cell (cell {home.index}): {listed}{more}; "
                           "gather them at the top of the notebook",
                           self._fix(model, home, home_statements, statements))

    def _fix(self, model: NotebookModel, home: CellModel, home_statements: list[ast.stmt], statements) -> Fix:
        description = f"Move the imports to cell {home.index}"
        if not all(self._movable(model, cell, statement, span) for cell, statement, span in statements):
            return Fix(description, "unsafe")
        last_line = max(home.facts.span(s).end_line for s in home_statements)
        moved_text = []
        edits = []
        for cell, statement, span in statements:
            lines = cell.cell.source.splitlines(keepends=True)
            moved_text.append("".join(lines[span.line - 1:span.end_line]).rstrip("\n") + "\n")
            edits.append(Edit(cell.index, span.line, 1, span.end_line + 1, 1, ""))
        edits.insert(0, Edit(home.index, last_line + 1, 1, last_line + 1, 1, "".join(moved_text)))
        return Fix(description, "safe", tuple(edits))

    @staticmethod
    def _movable(model: NotebookModel, cell: CellModel, statement, span: Span) -> bool:
        """Whole-line, top-level, and no name it binds is bound or used between home and here."""
        definitions = model.definitions
        for definition_name in {a.asname or a.name.split(".")[0] for a in statement.names}:
            for definition in definitions.get(definition_name, ()):
                # Cells with the same source share their parsed statements: compare cells first.
                if definition.cell.index < cell.index or (
                        definition.cell.index == cell.index and definition.binding.statement is not statement):
                    return False
        if span.line in cell.facts.python.magic_lines:
            return False
        if span.column > 1:  # something before it on its line?
            line_text = cell.cell.source.splitlines()[span.line - 1]
            if line_text[:span.column - 1].strip():
                return False
        return True


def _import_statements(facts) -> list[ast.stmt]:
    """The cell's imports that are statements of their own at its top level, in source order."""
    module = facts.tree
    found = [node for node in facts.of(ast.Import) if facts.parents.get(node) is module]
    from_imports = [node for node in facts.of(ast.ImportFrom) if facts.parents.get(node) is module]
    if from_imports:
        found = sorted(found + from_imports, key=lambda node: (node.lineno, node.col_offset))
    return found


class NeverExecutedNotebook(Rule):
    """## What it does
    Reports a notebook with code whose cells were never run, so it carries no outputs.

    ## Why is this bad?
    Nobody has seen it work: reviewers cannot check results against the code, and the exporter has
    no saved outputs to turn into characterisation tests.

    ## Example
    ```python
    x = 1
    ```

    ## Use instead
    ```python
    x = 1  # run top to bottom (Restart Kernel and Run All) before saving
    ```
    """

    code = "RP712"
    name = "never-executed-notebook"
    category = "notebook-hygiene"
    severity = Severity.INFO
    docs_are_runnable = False  # needs execution counts
    reads = ("execution counts", "saved outputs")

    def check(self, model: NotebookModel):
        code = False
        for cell in model.code_cells:
            if cell.cell.source.strip():
                if cell.cell.execution_count is not None or cell.cell.outputs:
                    return
                code = True
        if code:
            yield self.finding(None, None, "No code cell of this notebook has been run; run it from the top and "
                                           "save it with its outputs")


class ExecutionCountGaps(Rule):
    """## What it does
    Reports, for information, execution counts that skip numbers or repeat: cells were run, re-run or
    deleted between runs.

    Cells run out of order are RP501's finding and not reported again; counts that start above 1, a
    count of 0, a gap of one count (most often one cell run twice) and a gap around cells that have no
    count (RP503 reports those) are left out.

    ## Why is this bad?
    Gaps mean cells ran that are not in the notebook any more (or were run several times); the saved
    outputs may depend on them. It is not an error, but a run from the top is the only proof.

    ## Example
    ```python
    x = 1
    ```

    ## Use instead
    ```python
    x = 1
    ```
    """

    code = "RP713"
    name = "execution-count-gaps"
    category = "notebook-hygiene"
    severity = Severity.INFO
    docs_are_runnable = False
    reads = ("execution counts", "RP501's findings")

    def check(self, model: NotebookModel):
        # A count of 0 is no kernel's (RP501 leaves it out too). Cells without code keep theirs: they ran.
        counts = [(cell, cell.cell.execution_count) for cell in model.code_cells if cell.cell.execution_count]
        if len(counts) < 2:
            return
        values = sorted(count for _, count in counts)
        repeated = len(values) != len(set(values))
        # Only gaps between saved cells, of two runs or more: counts starting above 1 (a cell run, or a
        # restart, before the run that was saved) and a gap of one (most often one cell run twice) are too
        # common to say anything.
        gaps = [(a, b) for a, b in pairwise(values) if b - a > 2]
        if gaps:
            where = {count: cell.index for cell, count in counts}
            gaps = [(a, b) for a, b in gaps if not _unexecuted_between(model, where[a], where[b])]
        if not gaps and not repeated:
            return
        # Cells run out of order are RP501's finding, with the same remedy: one problem, one finding.
        if findings_of(_OUT_OF_ORDER, model):
            return
        parts = []
        if gaps:
            parts.append(f"{len(gaps)} gap(s) in the execution counts (e.g. {gaps[0][0]} to {gaps[0][1]})")
        if repeated:
            parts.append("repeated execution counts")
        cell = next(c for c, count in counts if count in {b for _, b in gaps} or repeated)
        yield self.finding(cell, None, f"{' and '.join(parts)}: cells ran that are not saved in this order; "
                                       "restart the kernel and run all cells before saving")


_OUT_OF_ORDER = OutOfOrderExecution()  # one instance: `findings_of` keeps its dispatcher


def _unexecuted_between(model: NotebookModel, first: int, last: int) -> bool:
    """Code cells without a count between the cells (indexes) that ran at two counts: the missing counts
    are theirs (run, then cleared), and RP503 reports them."""
    return first < last and any(cell.cell.execution_count is None and cell.cell.source.strip()
                                for cell in model.code_cells if first < cell.index < last)


# ---- project level: the folder around the notebook ------------------------------------------------


def _folder(model: NotebookModel) -> str:
    """The notebook's folder, absolute, as text: the key of the caches below (a Path costs more to build)."""
    return os.path.dirname(os.path.abspath(model.path))


@lru_cache(maxsize=1024)
def _project_root(folder: str) -> Path | None:
    path = Path(folder)
    for candidate in (path, *path.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


class NoDependencyFile(Rule):
    """## What it does
    Reports a notebook that imports third-party packages with no dependency file (requirements.txt,
    pyproject.toml, environment.yml, setup.py, Pipfile, a lock file) beside it or above it in its
    project.

    setup.cfg and conda environment files under any name count too. A notebook that pins every package
    it imports in its own install lines is not reported. Imports and project files are read as RP203
    reads them: local modules and IPython are not packages.

    ## Why is this bad?
    Without one, nobody can rebuild the environment the notebook ran in; pins inside the notebook
    help, but tools (CI, Binder, the exporter) look for a file.

    ## Example
    ```python
    import pandas as pd
    ```

    ## Use instead
    ```python
    import pandas as pd  # with requirements.txt beside the notebook: pandas==2.2.3
    ```
    """

    code = "RP720"
    name = "no-dependency-file"
    category = "notebook-hygiene"
    severity = Severity.INFO  # RP203 already reports each unpinned import as an error
    docs_are_runnable = False  # about files beside the notebook
    reads = ("imports", "install lines", "dependency files")

    def check(self, model: NotebookModel):
        from .dependencies import packages_without_dependency_file

        # The same reading of imports and project files as RP203: not local modules, not what the kernel
        # provides, not what the notebook's own install lines pin.
        third_party = packages_without_dependency_file(model)
        if third_party:
            shown = ", ".join(third_party[:5]) + (" ..." if len(third_party) > 5 else "")
            yield self.finding(None, None, f"No requirements.txt, pyproject.toml or environment.yml for this "
                                           f"notebook's packages ({shown}); add one with pinned versions")


class NotUnderVersionControl(Rule):
    """## What it does
    Reports a notebook that is not inside a git repository.

    ## Why is this bad?
    Without version control there is no history to review, no way back from a bad edit and no CI to
    run these checks.

    ## Example
    ```python
    x = 1  # in a folder outside any git repository
    ```

    ## Use instead
    ```python
    x = 1  # in a git repository (git init; git add analysis.ipynb)
    ```
    """

    code = "RP721"
    name = "not-under-version-control"
    category = "notebook-hygiene"
    severity = Severity.INFO
    docs_are_runnable = False
    reads = ("project files",)

    def check(self, model: NotebookModel):
        if model.path is None:
            return
        if _project_root(_folder(model)) is None:
            yield self.finding(None, None, "This notebook is not in a git repository; put it under version "
                                           "control")


@lru_cache(maxsize=256)
def _large_files(folder: str, threshold: int) -> tuple[tuple[str, int], ...]:
    folder = Path(folder)
    found = []
    for root, subfolders, files in os.walk(folder):
        depth = len(Path(root).relative_to(folder).parts)
        subfolders[:] = [d for d in subfolders if not d.startswith(".") and d not in ("node_modules", "venv")]
        if depth >= 2:
            subfolders[:] = []
        for name in files:
            path = Path(root) / name
            if path.suffix.lower() not in _DATA_SUFFIXES:
                continue
            try:
                size = path.stat().st_size
            except OSError:
                continue
            if size > threshold and not _tracked_elsewhere(path):
                found.append((str(path.relative_to(folder)), size))
    return tuple(sorted(found))


def _tracked_elsewhere(path: Path) -> bool:
    """DVC keeps a .dvc file beside the data; git-lfs a filter line in .gitattributes."""
    if path.with_name(path.name + ".dvc").exists():
        return True
    for folder in path.parents:
        attributes = folder / ".gitattributes"
        if attributes.is_file():
            try:
                text = attributes.read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            for line in text.splitlines():
                pattern, _, rest = line.partition(" ")
                if "filter=lfs" in rest and (Path(path.name).match(pattern) or path.suffix == pattern.lstrip("*")):
                    return True
        if (folder / ".git").exists():
            break
    return False


class LargeDataFile(Rule):
    """## What it does
    Reports data files over 10 MB beside the notebook (or one or two folders below it) that neither
    DVC (a `.dvc` file) nor git-lfs (a `filter=lfs` line in `.gitattributes`) keeps.

    ## Why is this bad?
    Big files in git make every clone slow, cannot be diffed, and stay in the history forever even
    after they are deleted.

    ## Example
    ```python
    import pandas as pd  # beside data/events.csv of 300 MB
    ```

    ## Use instead
    ```python
    import pandas as pd  # data/events.csv tracked with `dvc add` or `git lfs track "*.csv"`
    ```
    """

    code = "RP722"
    name = "large-data-file"
    category = "notebook-hygiene"
    severity = Severity.WARNING
    docs_are_runnable = False
    reads = ("project files",)

    def check(self, model: NotebookModel):
        if model.path is None:
            return
        for relative, size in _large_files(_folder(model), LARGE_FILE_BYTES):
            yield self.finding(None, None, f"Data file '{relative}' is {size / 1024 / 1024:.0f} MB and not kept "
                                           "by DVC or git-lfs; track it with one of them instead of git")


@lru_cache(maxsize=64)
def _notebook_names(root: Path) -> dict[str, tuple[str, ...]]:
    names: dict[str, list[str]] = {}
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [d for d in subfolders if not d.startswith(".") and d not in ("node_modules", "venv")]
        for name in files:
            if name.endswith(".ipynb"):
                names.setdefault(name, []).append(str(Path(folder, name).relative_to(root)))
    return {name: tuple(sorted(paths)) for name, paths in names.items() if len(paths) > 1}


class DuplicateNotebookName(Rule):
    """## What it does
    Reports a notebook whose file name is also used by another notebook in the same git repository.

    ## Why is this bad?
    Two `analysis.ipynb` in one project are easily confused in reviews, CI logs and exported package
    names, and usually mean one is a stale copy.

    ## Example
    ```python
    x = 1  # in experiments/analysis.ipynb and reports/analysis.ipynb
    ```

    ## Use instead
    ```python
    x = 1  # in experiments/feature_search.ipynb and reports/monthly_report.ipynb
    ```
    """

    code = "RP723"
    name = "duplicate-notebook-name"
    category = "notebook-hygiene"
    severity = Severity.INFO
    docs_are_runnable = False
    reads = ("project files",)

    def check(self, model: NotebookModel):
        if model.path is None:
            return
        root = _project_root(_folder(model))
        if root is None:
            return
        others = _notebook_names(root).get(model.path.name)
        if others:
            mine = str(Path(os.path.abspath(model.path)).relative_to(root))
            listed = ", ".join(path for path in others if path != mine)
            if listed:
                yield self.finding(None, None, f"Another notebook has the same name: {listed}; give each notebook "
                                               "a name that says what it does")


RULES = (
    UntitledNotebook, NotebookFileName, NoOpeningMarkdown, NoClosingMarkdown, MissingTitle, TooLittleMarkdown,
    NotebookTooLong, CellTooLong, EmptyCell, LongCommentBlock, ScatteredImports, NeverExecutedNotebook,
    ExecutionCountGaps, NoDependencyFile, NotUnderVersionControl, LargeDataFile, DuplicateNotebookName,
)
