"""Watch mode: check each cell as it is run (a pre_run_cell hook) and say what it finds in a line or two."""
from __future__ import annotations

import ast
import contextlib
import io
import sys
import textwrap
import time
import traceback
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from ..analysis import analyse_source, child_fields
from ..config import Settings, settings_for
from ..engine import check_notebook, run_rules
from ..findings import Finding
from ..live import KernelFacts
from .sources import (
    HistoryCell,
    as_checkable,
    history_cells,
    history_notebook,
    history_settings,
    is_own_magic,
)

# A cell this long is data pasted into code; checking it on every run would cost more than it tells.
MAX_WATCHED_CHARACTERS = 200_000
MAX_LINE = 160


@dataclass
class CellCheck:
    """The findings on one cell, checked in the context of the cells run before it."""

    findings: list[Finding]
    seconds: float
    internal_errors: str = ""  # what broken rules printed, kept out of the user's cell


class ContextIndex:
    """The summaries of the cells run so far, indexed by the names they define.

    A kernel's history only grows, so each new cell is added once; choosing what a cell needs then
    costs what that cell reads, not what the whole session holds."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._consumed = 0
        self._last_source: str | None = None
        self._sources: set[str] = set()
        self._order = 0
        self._always: dict[str, int] = {}  # line -> first place
        self._always_reads: set[str] = set()
        self._by_name: dict[str, list[tuple[int, str]]] = {}

    def update(self, context: list[HistoryCell]) -> ContextIndex:
        if len(context) < self._consumed or (
                self._consumed and context[self._consumed - 1].source != self._last_source):
            self._reset()  # the history was reset (%reset, a new session): start again
        for cell in context[self._consumed:]:
            if cell.source in self._sources:
                continue  # a cell run again adds nothing: its lines are in, at their first place
            self._sources.add(cell.source)
            for names, line, reads in context_summary(cell.source):
                self._order += 1
                if names is None:
                    self._always.setdefault(line, self._order)
                    self._always_reads.update(reads)
                else:
                    for name in names:
                        self._by_name.setdefault(name, []).append((self._order, line))
        self._consumed = len(context)
        self._last_source = context[-1].source if context else None
        return self

    def lines_for(self, reads: frozenset[str]) -> list[str]:
        """The summary lines a cell that reads `reads` depends on, in the order they were run."""
        chosen = dict(self._always)
        # `sys.path.insert(0, folder)` needs what `folder` is, whatever the cell reads.
        for name in reads | self._always_reads:
            for order, line in self._by_name.get(name, ()):
                if chosen.setdefault(line, order) > order:
                    chosen[line] = order
        return [line for line, _ in sorted(chosen.items(), key=lambda item: item[1])]


def check_cell(source: str, context: list[HistoryCell], settings: Settings, cwd: Path | None = None,
               *, summarise: bool = False, use_ruff: bool = False, index: ContextIndex | None = None,
               kernel: KernelFacts | None = None) -> CellCheck:
    """Findings that land on `source` itself, checked after the cells of `context`. ruff's diagnostics
    only with `use_ruff` (a process per cell is too slow for watch mode).

    With `summarise`, the cells before it reach the rules as one short cell holding only what the
    cell being checked can depend on (see `context_summary`), so the cost stays flat however long
    the session grows. `index` keeps those summaries from one check to the next. `kernel`: what the
    kernel knows (live.KernelFacts), for the live rules; the cell checked has not run yet."""
    started = time.perf_counter()
    path = (cwd or Path.cwd()) / "kernel-history.ipynb"
    # As IPython's history keeps it (without trailing newlines), so that once this cell is in the
    # history, its parse and summary come from the cache.
    checkable = as_checkable(source.rstrip("\n"))
    if summarise:
        lines = (index or ContextIndex()).update(context).lines_for(names_read(checkable))
        count = context[-1].count if context else 0
        # Cell magics (%%writefile x.py) must open a cell: they go first, each on its own.
        summary = [HistoryCell(count, line) for line in lines if line.startswith("%%")]
        python = [line for line in lines if not line.startswith("%%")]
        if python:
            summary.append(HistoryCell(count, "\n".join(python) + "\n"))
        notebook = history_notebook(summary, path=path, extra=checkable)
    else:
        notebook = history_notebook(context, path=path, extra=checkable)
    if kernel is not None:
        notebook.kernel = replace(kernel, pending_cell=len(notebook.cells) - 1)
    captured = io.StringIO()
    # A failing rule prints its traceback to stderr; in a cell that would be noise the user did not ask for.
    with contextlib.redirect_stderr(captured):
        if use_ruff and settings.ruff:
            findings = check_notebook(notebook, settings).findings
        else:
            findings = run_rules(notebook, settings)
    last = len(notebook.cells) - 1
    own = [finding for finding in findings if finding.cell_index == last]
    return CellCheck(own, time.perf_counter() - started, captured.getvalue())


# Line magics that change what later cells are told: installs (a pin in an earlier cell counts), the
# working folder, scripts run and environment variables. Every `!shell` line is kept too (`!git clone`
# makes local packages, `!pip install` pins).
_KEPT_LINE_MAGICS = frozenset({"pip", "pip3", "conda", "mamba", "micromamba", "uv", "cd", "run", "env", "load",
                               "system", "sx"})
_CONTEXT_VALUE = "__readiness_context__()"  # a value of unknown kind: the rules take it for data
_LONG_STATEMENT = 400
_LONG_BLOCK = 80

# (the names it defines, or None when it is always relevant; a line of Python; the names that line reads)
Entry = tuple[frozenset[str] | None, str, frozenset[str]]


def names_read(source: str) -> frozenset[str]:
    """Every global name a cell reads: at top level, in its functions, in its classes."""
    facts = analyse_source(source)
    names = {read.name for read in facts.reads}
    for function in facts.functions:
        names.update(node.id for node in function.free_reads)
    for node in facts.classes:
        names.update(child.id for child in ast.walk(node) if isinstance(child, ast.Name))
    return frozenset(names)


@lru_cache(maxsize=4096)
def context_summary(source: str) -> tuple[Entry, ...]:
    """What a cell run earlier can tell the rules about a later cell, as lines of Python.

    A finding on the cell running now depends on earlier cells only through what they define: the
    imports (aliases, what is already imported), installs (pins), files they write (local modules,
    requirements), random seeds already set, `sys.path`, and for each name the later cell reads:
    whether it is a function or a class, and what value was bound to it (data, a setting, a model
    object). Loops, prints, plots and function bodies are left out: they are what makes a long
    session slow to check. Cached by source: each cell is summarised once."""
    checkable = as_checkable(source)
    facts = analyse_source(checkable)
    if facts.python.code is None:
        # %%writefile, %%bash, %%sql...: kept whole, as a cell of its own (rules read the file name,
        # what a shell cell installs); the rules spend next to nothing on cells that are not Python.
        return ((None, checkable, frozenset()),)
    entries: list[Entry] = []
    text_lines = source.splitlines()
    for magic in facts.magics:
        kept = magic.kind == "shell" or (magic.kind == "line" and magic.name in _KEPT_LINE_MAGICS)
        if kept and 0 < magic.line <= len(text_lines):
            end = magic.line  # an install may go on over lines ending in a backslash
            while text_lines[end - 1].rstrip().endswith("\\") and end < len(text_lines):
                end += 1
            entries.append((None, "\n".join(text_lines[magic.line - 1:end]).strip(), frozenset()))
    if facts.tree is None:
        return tuple(entries)
    code_lines = (facts.python.code or "").splitlines()
    for statement in facts.tree.body:
        try:
            entries.extend(_summarise_statement(statement, code_lines))
        except (ValueError, TypeError, AttributeError, RecursionError):
            entries.extend((frozenset({name}), f"{name} = {_CONTEXT_VALUE}", frozenset())
                           for name in _bound_names(statement))
    # Imports inside functions count too: the first cell that imports a package is where a missing
    # pin is reported, not again in later cells.
    top = {id(statement) for statement in facts.tree.body}
    for fact in facts.imports:
        if id(fact.node) not in top:
            entries.append((None, ast.unparse(fact.node), frozenset()))
    return tuple(entries)


def _text(statement: ast.stmt, code_lines: list[str]) -> str | None:
    """The statement as written, when it is one short line (slicing the source is cheaper than unparsing)."""
    if statement.lineno != statement.end_lineno or not 0 < statement.lineno <= len(code_lines):
        return None
    text = code_lines[statement.lineno - 1]
    if statement.col_offset or len(text) > _LONG_STATEMENT:
        return None
    return text.rstrip()


def _block(statement: ast.stmt, code_lines: list[str]) -> str | None:
    """A definition's own lines (decorators included), dedented, when it has at most _LONG_BLOCK lines."""
    first = min([statement.lineno] + [node.lineno for node in getattr(statement, "decorator_list", [])])
    last = statement.end_lineno or statement.lineno
    if last - first >= _LONG_BLOCK or not 0 < first <= last <= len(code_lines):
        return None
    text = textwrap.dedent("\n".join(code_lines[first - 1:last]))
    return text if not text[:1].isspace() else None


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# Their own scopes: what they bind stays inside (comprehension variables, lambda parameters).
_INNER_SCOPES = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_NAMED_BINDERS = (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)


def _bound_names(node: ast.AST) -> set[str]:
    """Names a statement binds in the notebook's global scope (not inside functions or comprehensions).

    Every statement of every cell run goes through here, so it dispatches on the exact node type and
    skips the fields that never hold nodes, as the engine's own walk does."""
    found: set[str] = set()
    stack = [node]
    AST, Name, Store, Constant = ast.AST, ast.Name, ast.Store, ast.Constant
    while stack:
        current = stack.pop()
        kind = type(current)
        if kind is Name:
            if type(current.ctx) is Store:
                found.add(current.id)
            continue
        if kind is Constant or kind in _INNER_SCOPES:
            continue
        if kind in _DEFINITIONS:
            found.add(current.name)
            stack.extend(current.decorator_list)
            continue
        if kind is ast.Import or kind is ast.ImportFrom:
            found.update((alias.asname or alias.name.split(".")[0]) for alias in current.names if alias.name != "*")
            continue
        if kind in _NAMED_BINDERS and current.name:
            found.add(current.name)
        for field_name in child_fields(kind):
            value = getattr(current, field_name, None)
            if type(value) is list:
                stack.extend([item for item in value if isinstance(item, AST)])
            elif isinstance(value, AST):
                stack.append(value)
    return found


def _placeholders(names) -> list[Entry]:
    return [(frozenset({name}), f"{name} = {_CONTEXT_VALUE}", frozenset()) for name in sorted(names)]


def _summarise_statement(statement: ast.stmt, code_lines: list[str]) -> list[Entry]:
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return [(None, _text(statement, code_lines) or ast.unparse(statement), frozenset())]
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        # Whole, when short: what a function does inside decides what calling it is (a load, a
        # check, training). Only read when the later cell uses the name, so long sessions stay cheap.
        whole = _block(statement, code_lines)
        if whole is not None:
            return [(frozenset({statement.name}), whole, frozenset())]
        if isinstance(statement, ast.ClassDef):
            bases = ", ".join(ast.unparse(base) for base in statement.bases)
            line = f"class {statement.name}({bases}): ..." if bases else f"class {statement.name}: ..."
        else:
            keyword = "async def" if isinstance(statement, ast.AsyncFunctionDef) else "def"
            line = f"{keyword} {statement.name}({ast.unparse(statement.args)}): ..."
        return [(frozenset({statement.name}), line, frozenset())]
    if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and statement.value is not None:
        names = _bound_names(statement) | ({statement.target.id} if isinstance(statement, ast.AugAssign)
                                            and isinstance(statement.target, ast.Name) else set())
        text = _text(statement, code_lines)
        if text is not None:
            return [(frozenset(names), text, frozenset())]
        value = statement.value  # keep what the value is (a call of what, a literal), not all of it
        short = f"{ast.unparse(value.func)}()" if isinstance(value, ast.Call) else (
            "0" if isinstance(value, (ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set)) else _CONTEXT_VALUE)
        return [(frozenset({name}), f"{name} = {short}", frozenset()) for name in sorted(names)]
    if isinstance(statement, ast.Expr):
        # Of the bare calls, only these change what a later cell is told: a random seed already set
        # (unseeded randomness), and `sys.path` pointed at a folder of local modules (unpinned imports).
        call = statement.value
        callee = call.func if isinstance(call, ast.Call) else None
        name = callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", "")
        target = callee.value if isinstance(callee, ast.Attribute) else None
        on_sys_path = (isinstance(target, ast.Attribute) and target.attr == "path"
                       and isinstance(target.value, ast.Name) and target.value.id == "sys")
        if "seed" in name.lower() or on_sys_path:
            reads = frozenset(node.id for node in ast.walk(statement) if isinstance(node, ast.Name))
            return [(None, _text(statement, code_lines) or ast.unparse(statement), reads)]
        return _placeholders(_bound_names(statement))  # a walrus in a bare expression
    if isinstance(statement, (ast.With, ast.AsyncWith)) and any(isinstance(item.context_expr, ast.Call)
                                                                 for item in statement.items):
        # `with open("chains.py", "w") as out:` writes a local module: keep the opening line.
        items = ", ".join(ast.unparse(item) for item in statement.items)
        keyword = "async with" if isinstance(statement, ast.AsyncWith) else "with"
        reads = frozenset(node.id for item in statement.items for node in ast.walk(item.context_expr)
                          if isinstance(node, ast.Name))
        opening = [(None, f"{keyword} {items}:\n    pass", reads)]
    else:
        opening = []
    blocks = [getattr(statement, field, None) or [] for field in ("body", "orelse", "finalbody")]
    blocks += [handler.body for handler in getattr(statement, "handlers", [])]
    blocks += [case.body for case in getattr(statement, "cases", [])]
    inner = [child for block in blocks for child in block if isinstance(child, ast.stmt)]
    if not inner:
        return opening + _placeholders(_bound_names(statement))
    # if / for / while / with / try / match: what the blocks inside define is defined at top level.
    entries: list[Entry] = []
    inside: set[str] = set()
    for child in inner:
        entries.extend(_summarise_statement(child, code_lines))
        inside |= _bound_names(child)
    return opening + _placeholders(_bound_names(statement) - inside) + entries


def compact(findings: list[Finding]) -> str:
    """One line for one finding; two for more (the list, then the most severe one's message)."""
    if not findings:
        return ""
    ordered = sorted(findings, key=lambda f: (-f.severity.rank, f.line, f.column))
    first = ordered[0]
    detail = f"line {first.line}: {first.code} {first.message}"
    if len(findings) == 1:
        return _cut(f"readiness: {detail}")
    listed = ", ".join(f"{f.code} line {f.line}" for f in sorted(findings, key=lambda f: (f.line, f.column)))
    head = _cut(f"readiness: {len(findings)} findings in this cell: {listed}")
    return head + "\n" + _cut(f"  {detail}")


def _cut(text: str) -> str:
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"


@dataclass
class Watcher:
    """The pre_run_cell hook. It must never stop or change the user's cell: everything it does is
    caught, and a failure prints one line (`%readiness status` shows the traceback)."""

    shell: object
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    notebook_path: Path | None = None  # where settings are looked up from (the session's notebook)
    last_failure: str = ""
    last_seconds: float = 0.0
    checked: int = 0
    context: ContextIndex = field(default_factory=ContextIndex, repr=False)

    def settings(self) -> Settings:
        base = settings_for(self.notebook_path or Path.cwd())
        return history_settings(base.with_overrides(ruff=False, select=self.select, ignore=self.ignore))

    def __call__(self, info=None) -> None:
        try:
            source = getattr(info, "raw_cell", None)
            if not isinstance(source, str) or not source.strip():
                return
            if not getattr(info, "store_history", True) or is_own_magic(source):
                return
            if len(source) > MAX_WATCHED_CHARACTERS:
                print(f"readiness: this cell is over {MAX_WATCHED_CHARACTERS:,} characters; not checked in watch mode")
                return
            result = check_cell(source, history_cells(self.shell, drop_last=False), self.settings(),
                                summarise=True, index=self.context)
            self.checked += 1
            self.last_seconds = result.seconds
            message = compact(result.findings)
            if result.internal_errors:
                self.last_failure = result.internal_errors
                message = (message + "\n" if message else "") + (
                    "readiness: a rule failed on this cell and was skipped (details: %readiness status)")
            if message:
                print(message)
        except Exception as exc:  # noqa: BLE001 - the user's cell must run whatever the linter does
            self.last_failure = traceback.format_exc()
            try:
                summary = " ".join(f"{type(exc).__name__}: {exc}".split())
                print(_cut(f"readiness: could not check this cell ({summary}); it runs as usual. "
                           "Details: %readiness status"), file=sys.stdout)
            except Exception:  # noqa: BLE001, S110 - even printing may fail (closed stream); stay silent
                pass
