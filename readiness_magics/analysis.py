"""Facts about each cell (one parse, one walk, cached by source) and the notebook-wide model built on them."""
from __future__ import annotations

import ast
import builtins
import warnings
from dataclasses import dataclass, field, replace
from bisect import bisect_right
from functools import cached_property, lru_cache
from itertools import accumulate

from .notebook import Cell, Notebook
from .transform import MagicLine, PythonSource, as_the_kernel_reads, to_python, written_module

# Names a notebook may read without defining them: builtins and what IPython puts in the namespace.
NOTEBOOK_BUILTINS = frozenset(dir(builtins)) | {
    "display", "get_ipython", "In", "Out", "exit", "quit", "_", "__", "___", "__file__", "__session__",
}

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
def _position(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.col_offset


_NONE: list = []  # what `CellFacts.of` answers for a type the cell lacks (never appended to)


@dataclass(frozen=True)
class Span:
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class SyntaxProblem:
    message: str
    span: Span


@dataclass(frozen=True)
class ImportFact:
    module: str  # the module imported from: "pandas" for `import pandas as pd` and `from pandas import x`
    name: str  # the full dotted thing the bound name stands for: "pandas", "pandas.read_csv"
    bound: str  # the name it binds in the notebook: "pd", "read_csv"
    level: int  # >0 for relative imports
    node: ast.AST

    @property
    def top_level(self) -> str:
        return self.module.split(".")[0]


@dataclass(frozen=True)
class Binding:
    name: str
    kind: str  # import, def, class, assign, augassign, loop, with, other
    node: ast.AST  # the Name/alias/def node that binds
    statement: ast.stmt  # the top-level statement holding it


@dataclass(frozen=True)
class NameRead:
    name: str
    node: ast.Name
    statement: ast.stmt


@dataclass
class FunctionFact:
    name: str
    node: ast.FunctionDef | ast.AsyncFunctionDef
    params: frozenset[str]
    locals: frozenset[str]
    declared_global: frozenset[str]
    free_reads: list[ast.Name]  # Name loads that are neither local nor parameters (globals or builtins)


@dataclass
class CellFacts:
    """Everything one code cell says, independent of where it sits in a notebook."""

    source: str
    python: PythonSource
    tree: ast.Module | None = None
    syntax_error: SyntaxProblem | None = None
    imports: list[ImportFact] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)
    reads: list[NameRead] = field(default_factory=list)  # top-level reads, in source order
    functions: list[FunctionFact] = field(default_factory=list)
    classes: list[ast.ClassDef] = field(default_factory=list)
    calls: list[ast.Call] = field(default_factory=list)  # every call, any depth
    strings: list[ast.Constant] = field(default_factory=list)  # every str constant, any depth
    parents: dict = field(default_factory=dict)
    # Every node of the tree but the module (and import aliases), recorded by the one walk; the rule
    # dispatcher hands rules their node types from it (`of`), so no rule walks the cell again.
    nodes: list = field(default_factory=list, repr=False)
    _in_order: set = field(default_factory=set, init=False, repr=False, compare=False)  # kinds `of` has sorted
    _lines: list[str] | None = None
    _source_lines: list[str] | None = None  # split once: span() asks for a magic line per statement
    # What rules derive from this cell alone (see NotebookModel.per_cell): kept with the facts, so
    # a re-check of an edited notebook recomputes it only for the cells whose source changed.
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def statements(self) -> list[ast.stmt]:
        return self.tree.body if self.tree else []

    @cached_property
    def call_words(self) -> frozenset[str]:
        """The attribute or name each call calls (`read_csv` of `pd.read_csv(...)`, `open` of `open(...)`)."""
        return frozenset(func.attr if type(func) is ast.Attribute else func.id
                         for func in (call.func for call in self.calls) if type(func) in (ast.Attribute, ast.Name))

    @cached_property
    def read_names(self) -> frozenset[str]:
        """Every name read at top level (`reads`), as a set."""
        return frozenset(read.name for read in self.reads)

    @cached_property
    def _groups(self) -> dict[type, list[ast.AST]]:
        """The cell's nodes grouped by type, in the walk's order (grouped on first request)."""
        groups: dict[type, list[ast.AST]] = {}
        for node in self.nodes:
            kind = type(node)
            group = groups.get(kind)
            if group is None:
                groups[kind] = [node]
            else:
                group.append(node)
        return groups

    def of(self, kind: type) -> list[ast.AST]:
        """Every node of this type in the cell, at any depth, in source order."""
        group = self._groups.get(kind)
        if group is None:
            return _NONE
        if kind in self._in_order:
            return group
        # The walk goes by fields, which is not always the order of the text (a function's arguments
        # before its decorators, a comprehension's element before its loop): sorted by position, for
        # the kinds asked for only. A new list, so a thread reading the old one never sees it half sorted.
        if len(group) > 1 and hasattr(group[0], "lineno"):
            group = self._groups[kind] = sorted(group, key=_position)
        self._in_order.add(kind)
        return group

    @property
    def magics(self) -> tuple[MagicLine, ...]:
        return self.python.magics

    @property
    def is_python(self) -> bool:
        return self.python.code is not None

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self.parents.get(node)

    def ancestors(self, node: ast.AST):
        node = self.parents.get(node)
        while node is not None:
            yield node
            node = self.parents.get(node)

    def enclosing_function(self, node: ast.AST):
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, _FUNCTIONS):
                return ancestor
        return None

    def top_statement(self, node: ast.AST) -> ast.stmt | None:
        last = node
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, ast.Module):
                return last
            last = ancestor
        return None

    def span(self, node: ast.AST) -> Span:
        """Where a node sits in the cell as the user sees it (1-based columns, characters not bytes)."""
        python_line = getattr(node, "lineno", 1)
        end_python_line = getattr(node, "end_lineno", None) or python_line
        line = self.python.cell_line(python_line)
        end_line = self.python.cell_line(end_python_line)
        if line in self.python.magic_lines:
            # The node lives in transformed text; point at the magic line as a whole.
            length = len(self._source_line(line))
            return Span(line, 1, line, length + 1)
        column = self._char_column(python_line, getattr(node, "col_offset", 0)) + 1
        end_column = self._char_column(end_python_line, getattr(node, "end_col_offset", None) or 0) + 1
        if end_line in self.python.magic_lines or (end_line, end_column) < (line, column):
            end_line, end_column = line, column
        return Span(line, column, end_line, end_column)

    def _python_line(self, number: int) -> str:
        if self._lines is None:
            self._lines = (self.python.code or "").splitlines()
        return self._lines[number - 1] if 0 < number <= len(self._lines) else ""

    def _source_line(self, number: int) -> str:
        if self._source_lines is None:
            self._source_lines = self.source.splitlines()
        lines = self._source_lines
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def _char_column(self, python_line: int, byte_offset: int) -> int:
        text = self._python_line(python_line)
        if text.isascii():
            return byte_offset
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


# What rules keep between checks beside the analysis cache (the last flows of the sidebar's notebook, ...):
# each module that keeps something registers how to forget it, and `engine.clear_caches` calls them all.
_FORGETTERS: list = []


def forget_with_the_analysis(forget) -> None:
    """Register `forget()`, called whenever the analysis cache is cleared: what a rule kept that holds
    cells' facts must go with them, or a cleared cache still holds every tree it was meant to free."""
    _FORGETTERS.append(forget)


def forget_everything() -> None:
    analyse_source.cache_clear()
    analyse_written_module.cache_clear()
    for forget in _FORGETTERS:
        forget()


@lru_cache(maxsize=8192)
def analyse_source(source: str) -> CellFacts:
    """Parse and walk one cell. Cached by source: the sidebar re-checks on every keystroke."""
    return _analysed(source, to_python(source))


@lru_cache(maxsize=1024)
def analyse_written_module(source: str) -> CellFacts | None:
    """The facts of the module a `%%writefile x.py` cell writes (positions in the cell), else None.
    Kept apart from `analyse_source`, which sees such a cell as another language: the module's names
    are not the notebook's."""
    python = written_module(source)
    return None if python is None else _analysed(source, python)


def _analysed(source: str, python: PythonSource) -> CellFacts:
    facts = CellFacts(source=source, python=python)
    if python.code is None:
        return facts
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences are ruff's to report
            tree = python.tree or ast.parse(python.code)
    except SyntaxError as exc:
        kernel_reads = as_the_kernel_reads(source)
        if kernel_reads is not None:  # `pip install x` without `%`, an indented first line: the kernel runs them
            rewritten = analyse_source(kernel_reads)
            if rewritten.syntax_error is None:
                return replace(rewritten, source=source)
        facts.syntax_error = _syntax_problem(exc, python)
        return facts
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        facts.syntax_error = SyntaxProblem(f"cannot parse this cell: {exc}", Span(1, 1, 1, 1))
        return facts
    facts.tree = tree
    try:
        _walk(facts, tree)
    except RecursionError:
        facts.tree = None
        facts.syntax_error = SyntaxProblem("this cell is nested too deeply to analyse", Span(1, 1, 1, 1))
    return facts


def _syntax_problem(exc: SyntaxError, python: PythonSource) -> SyntaxProblem:
    line = python.cell_line(exc.lineno or 1)
    column = max(exc.offset or 1, 1)
    end_line = python.cell_line(exc.end_lineno) if getattr(exc, "end_lineno", None) else line
    end_column = exc.end_offset if getattr(exc, "end_offset", None) and end_line == line else column
    if line in python.magic_lines:
        column = end_column = 1
    return SyntaxProblem(exc.msg or "invalid syntax", Span(line, column, end_line, max(end_column, column)))


# Fields the walk skips: those that never hold a node (names, numbers, flags), and those that hold
# only operator and context singletons (`op`, `ops`, `ctx`: shared objects that no rule looks up).
_SCALAR_FIELDS = frozenset({
    "ctx", "id", "attr", "name", "asname", "module", "level", "arg", "kind", "type_comment", "conversion",
    "is_async", "simple", "tag", "kwd_attrs", "rest", "op", "ops",
})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def child_fields(kind: type) -> tuple[str, ...]:
    """The fields of a node type that can hold nodes, in order (cached: a walk asks for every node)."""
    fields = _CHILD_FIELDS.get(kind)
    if fields is None:
        fields = _CHILD_FIELDS[kind] = tuple(name for name in kind._fields if name not in _SCALAR_FIELDS)
        _CHILD_FIELDS_REVERSED[kind] = fields[::-1]
    return fields


_CHILD_FIELDS_REVERSED: dict[type, tuple[str, ...]] = {}

# The node kinds `_walk` records something for; every other kind only has its children visited.
_NESTED, _CALL, _CONSTANT, _NAME, _IMPORT, _FUNCTION, _CLASS, _LAMBDA = range(8)
_WALK_SPECIALS: dict[type, int] = {
    tuple: _NESTED, ast.Call: _CALL, ast.Constant: _CONSTANT, ast.Name: _NAME, ast.Import: _IMPORT,
    ast.ImportFrom: _IMPORT, ast.FunctionDef: _FUNCTION, ast.AsyncFunctionDef: _FUNCTION, ast.ClassDef: _CLASS,
    ast.Lambda: _LAMBDA,
}


def _walk(facts: CellFacts, tree: ast.Module) -> None:
    """One pass over the tree: parents, calls, strings, imports, top-level bindings and reads.

    Nodes are visited in source order (depth first, fields in order), so `calls` and `strings` are too.
    Bodies of functions, lambdas and classes go through `_walk_nested`, which records less."""
    parents = facts.parents
    calls, strings, reads, bindings = facts.calls, facts.strings, facts.reads, facts.bindings
    seen = facts.nodes.append
    Load, AST, fields_of, reversed_fields = ast.Load, ast.AST, _CHILD_FIELDS, _CHILD_FIELDS_REVERSED
    specials_get = _WALK_SPECIALS.get
    for statement in tree.body:
        parents[statement] = tree
        # Nodes of this statement; a node in a 1-tuple starts a nested scope's body (see _walk_nested).
        stack: list = [statement]
        pop, push = stack.pop, stack.append
        while stack:
            node = pop()
            kind = type(node)
            special = specials_get(kind)  # one lookup sends the common nodes (attributes, operators) on
            if special is not None:
                if special == _NESTED:
                    _walk_nested(facts, node[0])
                    continue
                seen(node)
                if special == _CALL:
                    calls.append(node)
                elif special == _CONSTANT:
                    if type(node.value) is str:
                        strings.append(node)
                    continue
                elif special == _NAME:
                    if type(node.ctx) is Load:
                        reads.append(NameRead(node.id, node, statement))
                    elif not _is_comprehension_target(node, parents):
                        bindings.append(Binding(node.id, _binding_kind(statement), node, statement))
                    continue
                elif special == _IMPORT:
                    _add_imports(facts, node, statement, True)
                    continue
                else:  # a function, class or lambda: a scope of its own
                    if special == _FUNCTION:
                        bindings.append(Binding(node.name, "def", node, statement))
                        facts.functions.append(_function_fact(node))
                    elif special == _CLASS:
                        bindings.append(Binding(node.name, "class", node, statement))
                        facts.classes.append(node)
                    children = []
                    for field_name in fields_of.get(kind) or child_fields(kind):
                        value = getattr(node, field_name, None)
                        if type(value) is list:
                            children.extend([item for item in value if isinstance(item, AST)])
                        elif isinstance(value, AST):
                            children.append(value)
                    # Decorators, bases and defaults run in the enclosing scope; bodies do not.
                    decorators = getattr(node, "decorator_list", ())
                    bases = getattr(node, "bases", ())
                    arguments = getattr(node, "args", None)
                    for child in reversed(children):
                        parents[child] = node
                        push(child if child in decorators or child in bases or child is arguments else (child,))
                    continue
            else:
                seen(node)
            # Children pushed last field first, last item first: popped in source order.
            fields = reversed_fields.get(kind)
            if fields is None:
                child_fields(kind)
                fields = reversed_fields[kind]
            for field_name in fields:
                value = getattr(node, field_name, None)
                if type(value) is list:
                    for item in reversed(value):
                        if isinstance(item, AST):
                            parents[item] = node
                            push(item)
                elif isinstance(value, AST):
                    parents[value] = node
                    push(value)
    reads.sort(key=lambda read: (read.node.lineno, read.node.col_offset))
    bindings.sort(key=lambda b: (getattr(b.node, "lineno", 0), getattr(b.node, "col_offset", 0)))


def _walk_nested(facts: CellFacts, root: ast.AST) -> None:
    """`_walk` inside a function, lambda or class body: parents, calls, strings and imports only."""
    parents, calls, strings = facts.parents, facts.calls, facts.strings
    seen = facts.nodes.append
    Call, Constant, Name, Import, ImportFrom = ast.Call, ast.Constant, ast.Name, ast.Import, ast.ImportFrom
    AST, reversed_fields = ast.AST, _CHILD_FIELDS_REVERSED
    stack = [root]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        seen(node)
        kind = type(node)
        if kind is Call:
            calls.append(node)
        elif kind is Constant:
            if type(node.value) is str:
                strings.append(node)
            continue
        elif kind is Name:
            continue
        elif kind is Import or kind is ImportFrom:
            _add_imports(facts, node, None, False)
            continue
        fields = reversed_fields.get(kind)
        if fields is None:
            child_fields(kind)
            fields = reversed_fields[kind]
        for field_name in fields:
            value = getattr(node, field_name, None)
            if type(value) is list:
                for item in reversed(value):
                    if isinstance(item, AST):
                        parents[item] = node
                        push(item)
            elif isinstance(value, AST):
                parents[value] = node
                push(value)


def _is_default(function: ast.AST, child: ast.AST) -> bool:
    args = getattr(function, "args", None)
    return args is not None and child is args  # defaults live under `args`; annotations too


def _is_comprehension_target(node: ast.Name, parents: dict) -> bool:
    parent = parents.get(node)
    while parent is not None and not isinstance(parent, ast.stmt):
        if isinstance(parent, ast.comprehension):
            return True
        parent = parents.get(parent)
    return False


def _binding_kind(statement: ast.stmt | None) -> str:
    if isinstance(statement, (ast.Assign, ast.AnnAssign)):
        return "assign"
    if isinstance(statement, ast.AugAssign):
        return "augassign"
    if isinstance(statement, (ast.For, ast.AsyncFor, ast.While)):
        return "loop"
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        return "with"
    return "other"


def _add_imports(facts: CellFacts, node: ast.Import | ast.ImportFrom, statement, top_scope: bool) -> None:
    for alias in node.names:
        if isinstance(node, ast.Import):
            bound = alias.asname or alias.name.split(".")[0]
            name = alias.name if alias.asname else alias.name.split(".")[0]
            fact = ImportFact(alias.name, name, bound, 0, node)
        else:
            module = node.module or ""
            if alias.name == "*":
                fact = ImportFact(module, module, "*", node.level, node)
            else:
                fact = ImportFact(module, f"{module}.{alias.name}" if module else alias.name,
                                  alias.asname or alias.name, node.level, node)
        facts.imports.append(fact)
        if top_scope and fact.bound != "*":
            facts.bindings.append(Binding(fact.bound, "import", node, statement))


def _function_fact(node: ast.FunctionDef | ast.AsyncFunctionDef) -> FunctionFact:
    params = {arg.arg for arg in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)}
    if node.args.vararg:
        params.add(node.args.vararg.arg)
    if node.args.kwarg:
        params.add(node.args.kwarg.arg)
    declared_global: set[str] = set()
    bound: set[str] = set()
    loads: list[ast.Name] = []
    # Nested scopes are folded into the function: a name bound anywhere inside counts as local,
    # which errs towards not flagging.
    # Defaults and decorators run in the enclosing scope, so only the body is walked.
    for child in _walk_statements(node.body):
        if isinstance(child, ast.Global):
            declared_global.update(child.names)
        elif isinstance(child, ast.Nonlocal):
            bound.update(child.names)
        elif isinstance(child, ast.Name):
            if isinstance(child.ctx, ast.Load):
                loads.append(child)
            else:
                bound.add(child.id)
        elif isinstance(child, ast.arg):
            bound.add(child.arg)
        elif isinstance(child, _FUNCTIONS + (ast.ClassDef,)):
            bound.add(child.name)
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name.split(".")[0]) for a in child.names)
        elif isinstance(child, ast.ExceptHandler) and child.name:
            bound.add(child.name)
        elif isinstance(child, (ast.MatchAs, ast.MatchStar)) and child.name:
            bound.add(child.name)
    local = (bound | params) - declared_global
    free = [name for name in loads if name.id not in local]
    free.sort(key=lambda n: (n.lineno, n.col_offset))
    return FunctionFact(node.name, node, frozenset(params), frozenset(local), frozenset(declared_global), free)


def _walk_statements(statements: list[ast.stmt]):
    """`ast.walk` of each statement in turn (breadth first, the same order), expression contexts left out."""
    AST, Name, Constant, fields_of = ast.AST, ast.Name, ast.Constant, _CHILD_FIELDS
    for statement in statements:
        queue = [statement]
        for node in queue:  # the list grows as it is read: a queue
            yield node
            kind = type(node)
            if kind is Name or kind is Constant:
                continue
            for field_name in fields_of.get(kind) or child_fields(kind):
                value = getattr(node, field_name, None)
                if type(value) is list:
                    queue.extend([item for item in value if isinstance(item, AST)])
                elif isinstance(value, AST):
                    queue.append(value)


def walk(node: ast.AST):
    """Every node under `node`, itself included, depth first in source order: `ast.walk` for a part of a
    cell (a call's arguments, an assignment's value), with the node-free fields skipped. A whole cell is
    never walked again: its nodes are in `CellFacts.nodes`. (`_walk`'s loop without what it records; each
    keeps the loop inline, as a call per node would cost a third more.)"""
    AST, reversed_fields = ast.AST, _CHILD_FIELDS_REVERSED
    stack = [node]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        yield node
        kind = type(node)
        fields = reversed_fields.get(kind)
        if fields is None:
            child_fields(kind)
            fields = reversed_fields[kind]
        for field_name in fields:
            value = getattr(node, field_name, None)
            if type(value) is list:
                for item in reversed(value):
                    if isinstance(item, AST):
                        push(item)
            elif isinstance(value, AST):
                push(value)


def names_in(node: ast.AST) -> list[ast.Name]:
    """The `Name` nodes under `node` (itself included), in source order."""
    return [item for item in walk(node) if type(item) is ast.Name]


def qualified_name(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """`pd.read_csv` -> "pandas.read_csv"; `requests.get(u).json` -> "requests.get().json"."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        base = qualified_name(node.value, aliases)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, ast.Call):
        base = qualified_name(node.func, aliases)
        return f"{base}()" if base else None
    if isinstance(node, ast.Subscript):
        base = qualified_name(node.value, aliases)
        return f"{base}[]" if base else None
    return None


def root_name(node: ast.AST) -> str | None:
    """The variable an expression starts from: `df` for `df["a"].mean()`."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


@dataclass
class CellModel:
    cell: Cell
    facts: CellFacts | None  # None for markdown, raw and invalid cells

    @property
    def index(self) -> int:
        return self.cell.index

    @property
    def is_parameters(self) -> bool:
        return "parameters" in self.cell.tags


@dataclass
class Definition:
    cell: CellModel
    binding: Binding


class NotebookModel:
    """The notebook as rules see it: every cell's facts plus the flow of names between cells."""

    def __init__(self, notebook: Notebook, settings=None, analyse=analyse_source):
        """`analyse`: how a code cell's source becomes facts (`analyse_written_module` for the model
        of a module a cell writes)."""
        self.notebook = notebook
        self.settings = settings
        self.cells = [
            CellModel(cell, analyse(cell.source) if cell.is_code and cell.problem is None else None)
            for cell in notebook.cells
        ]

    @property
    def path(self):
        return self.notebook.path

    @cached_property
    def code_cells(self) -> list[CellModel]:
        return [cell for cell in self.cells if cell.facts is not None]

    @cached_property
    def parsed_cells(self) -> list[CellModel]:
        return [cell for cell in self.code_cells if cell.facts.tree is not None]

    @cached_property
    def aliases(self) -> dict[str, str]:
        """Imported name -> what it stands for, across the notebook (later imports win)."""
        aliases: dict[str, str] = {}
        for cell in self.parsed_cells:
            for fact in cell.facts.imports:
                if fact.bound != "*" and fact.level == 0:
                    aliases[fact.bound] = fact.name
        return aliases

    def resolve(self, node: ast.AST) -> str | None:
        return qualified_name(node, self.aliases)

    def may_call(self, cell: CellModel, lasts: frozenset[str] | set[str]) -> bool:
        """False when no call in the cell has a last name in `lasts` (a module-level constant): not as an
        attribute (`x.fit`), a name (`fit`), nor through an import (`from sklearn import fit as f`; `f`).
        A cheap test before looking at each call; True says only "maybe"."""
        words = cell.facts.call_words
        if not words.isdisjoint(lasts):
            return True
        entry = self._aliased.get(id(lasts))
        if entry is None or entry[0] is not lasts:
            bound = frozenset(name for name, full in self.aliases.items() if full.rsplit(".", 1)[-1] in lasts)
            entry = self._aliased[id(lasts)] = (lasts, bound)
        return not words.isdisjoint(entry[1])

    @cached_property
    def _aliased(self) -> dict:
        return {}

    @cached_property
    def imports_key(self) -> tuple:
        """The notebook's import aliases as one comparable value: the context of per-cell results that
        resolve names (`pd.read_csv` means pandas.read_csv in this notebook)."""
        return tuple(self.aliases.items())

    def per_cell(self, cell: CellModel, name: str, compute, context=None):
        """`compute(cell)`, remembered with the cell's facts for as long as the analysis cache keeps them.

        Only for a result that depends on nothing but the cell's source and `context` (a comparable value
        such as `imports_key` or the settings it reads): identical cells share facts, and the sidebar's
        re-checks then pay only for the cells that changed. The result must not hold `cell` itself."""
        memo = cell.facts.memo
        entry = memo.get(name)
        if entry is not None and entry[0] == context:
            return entry[1]
        value = compute(cell)
        memo[name] = (context, value)
        return value

    def per_notebook(self, key: str, compute):
        """`compute(self)`, once per notebook model (kept in the model, so it goes with it): what several
        rules (and the exporter) read of one notebook. A result of None is computed again each time."""
        cached = self.__dict__.get(key)
        if cached is None:
            cached = self.__dict__[key] = compute(self)
        return cached

    def cells_with(self, *words: str) -> list[CellModel]:
        """The code cells whose source holds one of `words` (none with a line break), in order: looked for
        in the notebook's one text, so the many cells without them cost nothing, not a search each."""
        text, starts = self._joined_sources
        found: set[int] = set()
        for word in words:
            position = text.find(word)
            while position >= 0:
                index = bisect_right(starts, position) - 1
                found.add(index)
                if index + 1 == len(starts):
                    break
                position = text.find(word, starts[index + 1])  # the next cell's: one hit is enough
        cells = self.code_cells
        return [cells[index] for index in sorted(found)]

    @cached_property
    def _joined_sources(self) -> tuple[str, tuple[int, ...]]:
        """The code cells' sources as one text, and where each starts in it."""
        sources = [cell.facts.source for cell in self.code_cells]
        starts = tuple(accumulate((len(source) + 1 for source in sources[:-1]), initial=0)) if sources else ()
        return "\n".join(sources), starts

    @cached_property
    def definitions(self) -> dict[str, list[Definition]]:
        """Top-level bindings of each name in document order."""
        found: dict[str, list[Definition]] = {}
        for cell in self.parsed_cells:
            for binding in cell.facts.bindings:
                found.setdefault(binding.name, []).append(Definition(cell, binding))
        return found

    @cached_property
    def functions(self) -> dict[str, tuple[CellModel, FunctionFact]]:
        found = {}
        for cell in self.parsed_cells:
            for function in cell.facts.functions:
                found[function.name] = (cell, function)
        return found

    @cached_property
    def function_names(self) -> frozenset[str]:
        """The names of `functions`, as a set: `isdisjoint` with a dict would walk the whole dict."""
        return frozenset(self.functions)

    @cached_property
    def class_names(self) -> frozenset[str]:
        return frozenset(node.name for cell in self.parsed_cells for node in cell.facts.classes)

    @cached_property
    def imported_names(self) -> frozenset[str]:
        return frozenset(
            fact.bound for cell in self.parsed_cells for fact in cell.facts.imports if fact.bound != "*"
        )

    @cached_property
    def parameter_names(self) -> frozenset[str]:
        return frozenset(
            binding.name
            for cell in self.parsed_cells if cell.is_parameters
            for binding in cell.facts.bindings
        )

    def first_definition_cell(self, name: str) -> int | None:
        definitions = self.definitions.get(name)
        return definitions[0].cell.index if definitions else None

    def is_state(self, name: str) -> bool:
        """A global that carries data: not a function, class, module or UPPER_CASE constant."""
        if name in self.functions or name in self.class_names or name in self.imported_names:
            return False
        if name.isupper() or (name.upper() == name and any(ch.isalpha() for ch in name)):
            return False
        return name in self.definitions

    @cached_property
    def executed_cells(self) -> list[CellModel]:
        """Code cells with an execution count, in the order they ran."""
        ran = [cell for cell in self.code_cells if cell.cell.execution_count is not None]
        return sorted(ran, key=lambda cell: cell.cell.execution_count)
