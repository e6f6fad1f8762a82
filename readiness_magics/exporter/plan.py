"""What a notebook becomes as a package: parameters, module-level code, and steps with explicit inputs and outputs."""
from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..analysis import CellModel, NotebookModel, qualified_name
from .edits import Edit, SourceIndex, apply_edits, replace_literal
from .names import fresh_name, identifier, slug
from .paths import PathLiteral, find_path_literals

_BUILTIN_NAMES = frozenset(dir(builtins))
# Bare-expression method calls that only show data: dropped like `df.head()`.
_DISPLAY_METHODS = frozenset({
    "head", "tail", "describe", "info", "sample", "value_counts", "nunique", "unique", "isna", "isnull",
    "notna", "notnull", "sum", "mean", "median", "min", "max", "std", "var", "count", "corr", "cov",
    "memory_usage", "to_string", "to_markdown", "style", "display", "summary", "dtypes", "shape",
})
_DISPLAY_FUNCTIONS = frozenset({"display", "IPython.display.display", "IPython.display.Markdown",
                                "IPython.display.HTML", "pprint.pprint"})
_PLOT_MODULES = ("matplotlib", "seaborn", "plotly", "altair", "bokeh", "pylab", "mpl_toolkits", "hvplot")
_PLOT_METHODS = frozenset({"plot", "hist", "boxplot", "scatter", "bar", "barh", "imshow", "show", "savefig",
                           "set_title", "set_xlabel", "set_ylabel", "legend", "tight_layout", "figure",
                           "subplots", "hexbin", "kde", "pie", "heatmap"})
_NOT_LITERAL = object()
# Stands for the params argument in step code until the renderer knows its name.
PARAMS_PLACEHOLDER = "__readiness_params__"


@dataclass
class Parameter:
    name: str  # field of Params
    annotation: str
    default: str  # Python source of the default
    value: object  # the literal value, or _NOT_LITERAL
    origin: str  # "parameters cell" or where a path was lifted from
    variable: str | None = None  # the notebook variable it feeds (None for a lifted literal)
    computed: str | None = None  # for a default computed from other parameters: its expression on `self`
    mutable: bool = False

    @property
    def is_literal(self) -> bool:
        return self.value is not _NOT_LITERAL

    @property
    def option(self) -> str:
        return "--" + self.name.lower().replace("_", "-")

    def to_dict(self) -> dict:
        return {"name": self.name, "default": self.default, "origin": self.origin}


@dataclass
class ModuleItem:
    """A function, class or constant that goes to the module level of pipeline.py."""

    kind: str  # function, class, constant
    names: tuple[str, ...]
    source: str
    cell_index: int


@dataclass
class Statement:
    cell: CellModel
    node: ast.stmt | None
    source: str
    reads: frozenset[str]
    binds: tuple[tuple[str, str], ...]  # (name, kind)
    dropped: bool = False  # display-only or a plot: left out unless a kept statement reads what it binds


@dataclass
class Step:
    name: str
    title: str
    cells: list[int] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    param_reads: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    uses_params: bool = False
    unbound: list[str] = field(default_factory=list)  # read before bound, and no earlier step binds them


@dataclass
class Call:
    """A call of one of the notebook's functions at top level, as written there."""

    function: str
    cell_index: int
    args_source: str
    literal: bool
    expected: object = _NOT_LITERAL  # the saved output's value, when the notebook showed one
    expected_text: str = ""
    printed: bool = False  # the output was the call printed (compare str()), not displayed (compare value)
    target: str | None = None  # the name the call's value was assigned to (`totals = f(...)`)
    argument_names: tuple[str, ...] = ()  # positional arguments, when every one is a plain name
    keyword_names: tuple[tuple[str, str], ...] = ()  # (keyword, name), when every value is a plain name


@dataclass
class ExportPlan:
    notebook_name: str
    folder: Path | None
    parameters: list[Parameter]
    params_imports: list[str]
    imports: list[ast.stmt]
    module_items: list[ModuleItem]
    steps: list[Step]
    results: list[str]
    params_var: str
    calls: list[Call]
    functions: list[str]
    classes: list[str]
    warnings: list[str]
    local_modules: list[str]
    exported_cells: list[int]
    title: str
    description: str
    # Where the notebook binds each name (cell indexes), to say why a name the package lacks is missing.
    bound_in: dict[str, list[int]] = field(default_factory=dict)
    # Set by the renderer: names the package cannot define (name -> why), and the functions that need them.
    missing: dict[str, str] = field(default_factory=dict)
    # function -> notebook variables it takes as keyword-only parameters; their literal values, where known.
    state: dict[str, list[str]] = field(default_factory=dict)
    state_values: dict[str, str] = field(default_factory=dict)
    # What the notebook showed of a value as a cell's last output: (name, "value" or "shape", saved text).
    shown: list[tuple[str, str, str]] = field(default_factory=list)
    returns_value: set[str] = field(default_factory=set)  # functions with a `return <value>`
    reproduces: bool = False  # set by the tests' renderer: a test compares run() with the saved outputs
    needs_missing: dict[str, list[str]] = field(default_factory=dict)


def _is_upper(name: str) -> bool:
    return name.upper() == name and any(ch.isalpha() for ch in name)


def _loads(node: ast.AST) -> set[str]:
    """Every name loaded anywhere in a node (nested scopes included: errs towards passing more inputs)."""
    found = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, (ast.Load, ast.Del)):
            found.add(child.id)
        elif isinstance(child, ast.AugAssign) and isinstance(child.target, ast.Name):
            found.add(child.target.id)
    return found


def _literal(node: ast.AST):
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT_LITERAL


def _immutable(value) -> bool:
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return True
    if isinstance(value, (tuple, frozenset)):
        return all(_immutable(item) for item in value)
    return False


def _annotation(value) -> tuple[str, bool]:
    if isinstance(value, bool):
        return "bool", False
    if isinstance(value, int):
        return "int", False
    if isinstance(value, float):
        return "float", False
    if isinstance(value, str):
        return "str", False
    if value is None:
        return "str | None", False
    if isinstance(value, list):
        return "list", True
    if isinstance(value, dict):
        return "dict", True
    if isinstance(value, set):
        return "set", True
    if isinstance(value, tuple):
        return "tuple", False
    return "object", False


def cell_is_exported(cell: CellModel, has_export_tags: bool) -> bool:
    tags = cell.cell.tags
    if "skip-export" in tags:
        return False
    if re.search(r"#\s*readiness:\s*skip-export\b", cell.cell.source):
        return False
    if has_export_tags and "export" not in tags and not cell.is_parameters:
        return False
    return True


def _heading(markdown: str) -> str | None:
    for line in markdown.splitlines():
        match = re.match(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$", line)
        if match:
            return match.group(2).strip()
    return None


def _first_paragraph(markdown: str) -> str:
    lines = []
    for line in markdown.splitlines():
        if line.lstrip().startswith("#"):
            if lines:
                break
            continue
        if not line.strip():
            if lines:
                break
            continue
        lines.append(line.strip())
    return " ".join(lines)


class _Source:
    """A cell's Python text, for cutting statements out with their comments and applying edits to them."""

    def __init__(self, cell: CellModel):
        self.cell = cell
        self.code = cell.facts.python.code or ""
        self.index = SourceIndex(self.code)
        self.lines = [self.code[self.index.line_start(n):self.index.line_end(n)]
                      for n in range(1, len(self.index.starts) + 1)]

    def statement_text(self, node: ast.stmt, previous_end: int, next_start: int | None,
                       edits: list[Edit] = ()) -> str:
        """The statement's text (with the comment lines just above it), with `edits` applied by position."""
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        end = node.end_lineno or node.lineno
        shares_line = previous_end == start or (next_start is not None and next_start == end)
        if shares_line:
            span = self.index.node_range(node)
            if span is None:
                return ast.unparse(node)
            first_offset = min([span[0]] + [self.index.offset(d.lineno, d.col_offset) - 1
                                            for d in getattr(node, "decorator_list", [])])
            return apply_edits(self.code, list(edits), first_offset, span[1])
        first = start
        while first - 1 > previous_end and self.lines[first - 2].lstrip().startswith("#"):
            first -= 1
        return apply_edits(self.code, list(edits), self.index.line_start(first), self.index.line_end(end))


def _signature_edit(node: ast.FunctionDef, names: list[str], index: SourceIndex) -> Edit | None:
    """An insertion that adds `names` as keyword-only parameters to the definition's signature."""
    arguments = node.args

    def end_of(arg: ast.arg, default: ast.AST | None) -> int | None:
        span = index.node_range(default if default is not None else arg)
        return span[1] if span else None

    added = ", ".join(names)
    if arguments.kwonlyargs:
        return _insert(end_of(arguments.kwonlyargs[-1], arguments.kw_defaults[-1]), ", " + added)
    if arguments.vararg is not None:
        return _insert(end_of(arguments.vararg, None), ", " + added)
    positional = [*arguments.posonlyargs, *arguments.args]
    if positional:
        defaults = [None] * (len(positional) - len(arguments.defaults)) + list(arguments.defaults)
        after = end_of(positional[-1], defaults[-1])
        if arguments.posonlyargs and not arguments.args:
            return None  # `def f(a, /)`: the `/` comes after; rare, left to the stand-ins
        return _insert(after, ", *, " + added)
    if arguments.kwarg is not None:
        span = index.node_range(arguments.kwarg)
        start = index.text.rfind("**", 0, span[0]) if span else -1
        return _insert(start if start >= 0 else None, f"*, {added}, ")
    start = index.offset(node.lineno, node.col_offset)
    match = re.compile(r"def\s+" + re.escape(node.name) + r"\s*(\[[^\]]*\]\s*)?\(").match(index.text, start)
    return _insert(match.end() if match else None, f"*, {added}")


def _insert(at: int | None, text: str) -> Edit | None:
    return None if at is None else Edit(at, at, text)


def _nested_imports(node: ast.AST) -> list[ast.stmt]:
    found = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.Try)):
            continue
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            if not (isinstance(child, ast.ImportFrom) and (child.level or child.module == "__future__")):
                found.append(child)
        else:
            found.extend(_nested_imports(child))
    return found


def _is_magic(node: ast.AST) -> bool:
    for child in ast.walk(node):
        if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
            inner = child.func.value
            if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id == "get_ipython":
                return True
    return False


class Planner:
    """Walk the exported cells once and decide where each top-level statement goes."""

    def __init__(self, model: NotebookModel, folder: Path | None, lift_paths: bool = True,
                 pass_state: bool = True):
        self.model = model
        self.folder = folder
        self.lift_paths = lift_paths
        self.pass_state = pass_state
        self.warnings: list[str] = []
        self._state: dict[str, list[str]] = {}
        self._literal_globals: set[str] = set()
        self._shown_values: list[tuple[str, str, str]] = []

    # -- parameters ------------------------------------------------------------------------------

    def _parameters_cell(self, cells: list[CellModel]) -> tuple[list[Parameter], list[str], set[str]]:
        parameters: list[Parameter] = []
        needed_imports: list[str] = []
        names: set[str] = set()
        for cell in cells:
            if not cell.is_parameters or cell.facts.tree is None:
                continue
            for statement in cell.facts.statements:
                pairs: list[tuple[str, ast.AST]] = []
                if isinstance(statement, ast.Assign):
                    for target in statement.targets:
                        if isinstance(target, ast.Name):
                            pairs.append((target.id, statement.value))
                        elif (isinstance(target, ast.Tuple) and isinstance(statement.value, ast.Tuple)
                              and len(target.elts) == len(statement.value.elts)
                              and all(isinstance(t, ast.Name) for t in target.elts)):
                            pairs.extend((t.id, v) for t, v in zip(target.elts, statement.value.elts))
                elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.value:
                    pairs.append((statement.target.id, statement.value))
                elif isinstance(statement, (ast.Import, ast.ImportFrom)):
                    continue
                elif _is_magic(statement):
                    continue
                else:
                    self.warnings.append(
                        f"cell {cell.index} (parameters): a statement that is not an assignment was left out: "
                        f"{ast.unparse(statement)[:60]!r}")
                    continue
                for name, value_node in pairs:
                    value = _literal(value_node)
                    if value is not _NOT_LITERAL:
                        annotation, mutable = _annotation(value)
                        parameter = Parameter(name, annotation, repr(value), value, "parameters cell",
                                              variable=name, mutable=mutable)
                    else:
                        reads = _loads(value_node)
                        expression = _SelfPrefixer(names).visit(ast.parse(ast.unparse(value_node), mode="eval"))
                        for read in sorted(reads - names - _BUILTIN_NAMES):
                            statement_text = self._import_of(read)
                            if statement_text and statement_text not in needed_imports:
                                needed_imports.append(statement_text)
                        parameter = Parameter(name, "object", "None", _NOT_LITERAL, "parameters cell",
                                              variable=name, computed=ast.unparse(expression.body))
                    parameters = [p for p in parameters if p.name != name] + [parameter]
                    names.add(name)
        return parameters, needed_imports, names

    def _import_of(self, name: str) -> str | None:
        for definition in self.model.definitions.get(name, []):
            if definition.binding.kind == "import":
                node = definition.binding.node
                for alias in node.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    if bound == name:
                        copy = type(node)(**{**{f: getattr(node, f) for f in node._fields}, "names": [alias]})
                        return ast.unparse(copy)
        return None

    # -- the walk --------------------------------------------------------------------------------

    def plan(self) -> ExportPlan:
        model = self.model
        has_export_tags = any("export" in cell.cell.tags for cell in model.cells)
        exported = [cell for cell in model.code_cells if cell_is_exported(cell, has_export_tags)]
        exported_indexes = {cell.index for cell in exported}
        for cell in model.code_cells:
            if cell.index not in exported_indexes and cell.cell.source.strip():
                self.warnings.append(f"cell {cell.index} is not exported (skip-export, or not tagged export)")
        parameters, params_imports, param_names = self._parameters_cell(exported)

        module_names: set[str] = set()
        for cell in exported:
            if cell.facts.tree is None:
                continue
            for binding in cell.facts.bindings:
                if binding.kind in ("import", "def", "class") and binding.statement in cell.facts.statements:
                    if not isinstance(binding.statement, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
                        module_names.add(binding.name)

        title, description = "", ""
        for cell in model.cells:
            if cell.cell.kind == "markdown":
                heading = _heading(cell.cell.source)
                if heading and not title:
                    title = heading
                    description = _first_paragraph(cell.cell.source.split(heading, 1)[-1])
                    break

        # Path literals to lift, in document order.
        literals: list[PathLiteral] = []
        if self.lift_paths:
            for cell in exported:
                if cell.facts.tree is not None and not cell.is_parameters:
                    literals.extend(find_path_literals(self.model, cell))
        lifted = self._lift(literals, parameters, param_names)
        literal_params = {p.name for p in parameters if p.is_literal}
        self._literal_globals = self._literals_functions_read(exported, param_names)
        if self.pass_state:
            self._state = self._state_of_functions(exported, module_names | self._pre_constants(exported,
                                                                                                module_names),
                                                   literal_params)

        # Sections: a markdown heading starts one; code before the first heading is its own section.
        has_sections = any(cell.cell.kind == "markdown" and _heading(cell.cell.source) for cell in model.cells)
        raw_steps: list[Step] = []
        current_title = ""
        imports: list[ast.stmt] = []
        if self._state:
            imports.append(ast.parse("import functools").body[0])  # only kept where a partial() uses it
        items: list[ModuleItem] = []
        displayed: set[str] = set()
        calls: list[Call] = []
        constants: set[str] = set()
        for cell in model.cells:
            if cell.cell.kind == "markdown":
                heading = _heading(cell.cell.source)
                if heading:
                    current_title = heading
                    raw_steps.append(Step("", heading))
                continue
            if cell.index not in exported_indexes or cell.is_parameters:
                continue
            if not has_sections or not raw_steps:
                raw_steps.append(Step("", current_title if has_sections else ""))
            step = raw_steps[-1]
            self._cell_into(cell, step, imports, items, module_names | constants, constants, displayed, calls,
                            lifted)
        _keep_what_later_steps_read(raw_steps)
        for step in raw_steps:
            step.statements = [statement for statement in step.statements if not statement.dropped]
        steps = [step for step in raw_steps if step.statements]

        # Names the generated module uses for itself must not clash with the notebook's.
        taken = set(module_names) | set(constants) | param_names | {"run", "Params", "annotations"}
        for cell in exported:
            if cell.facts.tree is not None:
                taken.update(node.id for node in ast.walk(cell.facts.tree) if isinstance(node, ast.Name))
        params_var = fresh_name("params", taken)
        for number, step in enumerate(steps, start=1):
            base = slug(step.title) if step.title else ""
            if not base:
                outputs = [name for statement in step.statements for name, _ in statement.binds]
                base = f"make_{outputs[0]}" if outputs and not has_sections else f"step_{number}"
            if base and base[0].isdigit():
                base = f"step_{base}"
            if base in taken:
                base = f"{base}_step"
            step.name = fresh_name(base, taken)
        if has_sections and steps and not steps[0].title:
            steps[0].name = fresh_name("setup", taken) if steps[0].name.startswith("step_") else steps[0].name
        self._flow(steps, param_names, module_names | constants, displayed)
        results = self._results
        functions = [name for item in items if item.kind == "function" for name in item.names]
        classes = [name for item in items if item.kind == "class" for name in item.names]
        self._function_state(exported, param_names, parameters, items, module_names | constants)
        return ExportPlan(
            notebook_name=model.notebook.name,
            folder=self.folder,
            parameters=parameters,
            params_imports=params_imports,
            imports=imports,
            module_items=items,
            steps=steps,
            results=results,
            params_var=params_var,
            calls=[call for call in calls if call.function in functions],
            functions=functions,
            classes=classes,
            warnings=self.warnings,
            local_modules=[],
            exported_cells=sorted(exported_indexes),
            title=title,
            description=description,
            state=dict(self._state),
            state_values=self._state_values(),
            shown=self._shown_values,
            returns_value={name for name, (_, function) in model.functions.items()
                           if any(isinstance(n, ast.Return) and n.value is not None
                                  for n in ast.walk(function.node))},
            bound_in={name: sorted({d.cell.index for d in definitions})
                      for name, definitions in model.definitions.items()},
        )

    def _lift(self, literals: list[PathLiteral], parameters: list[Parameter], param_names: set[str]
              ) -> dict[int, Parameter]:
        """One parameter per distinct path literal; returns id(literal node) -> parameter."""
        by_value: dict[str, Parameter] = {}
        lifted: dict[int, Parameter] = {}
        taken = set(param_names)
        for literal in literals:
            parameter = by_value.get(literal.value)
            if parameter is None:
                base = identifier(literal.holder) if literal.holder else literal.suggested_name
                name = fresh_name(base.lower(), taken)
                parameter = Parameter(name, "str", repr(literal.value), literal.value,
                                      f"lifted from cell {literal.cell_index}, line {literal.line}")
                by_value[literal.value] = parameter
                parameters.append(parameter)
            lifted[id(literal.node)] = parameter
            if literal.in_function:
                self.warnings.append(
                    f"cell {literal.cell_index}, line {literal.line}: the path {literal.value!r} inside function "
                    f"{literal.in_function}() is kept there; Params.{parameter.name} holds it for the steps")
        return lifted

    def _cell_into(self, cell: CellModel, step: Step, imports: list, items: list, module_names: set[str],
                   constants: set[str], displayed: set[str], calls: list[Call], lifted) -> None:
        facts = cell.facts
        step.cells.append(cell.index)
        if facts.python.code is None:
            magic = facts.magics[0] if facts.magics else None
            body = "\n".join("# " + line for line in cell.cell.source.splitlines())
            self.warnings.append(f"cell {cell.index}: a %%{magic.name if magic else '?'} cell is not Python; "
                                 "it is kept as a comment and not run")
            step.statements.append(Statement(cell, None, body, frozenset(), ()))
            return
        if facts.tree is None:
            self.warnings.append(f"cell {cell.index} does not parse and is left out")
            return
        source = _Source(cell)
        statements = facts.statements
        replacements: dict[int, list[Edit]] = {}
        for literal in find_path_literals(self.model, cell) if self.lift_paths else []:
            if id(literal.node) in lifted and not literal.in_function:
                edit = replace_literal(source.index, literal.node,
                                       f"{PARAMS_PLACEHOLDER}.{lifted[id(literal.node)].name}")
                if edit is None:
                    self.warnings.append(f"cell {cell.index}, line {literal.line}: the path {literal.value!r} is "
                                         "kept as written (its position in the source could not be confirmed)")
                    continue
                replacements.setdefault(id(literal.statement), []).append(edit)

        for edit_node, edit in self._state_edits(cell, source):
            replacements.setdefault(id(edit_node), []).append(edit)
        self._collect_calls(cell, calls)
        self._collect_shown(cell)
        for position, node in enumerate(statements):
            previous_end = statements[position - 1].end_lineno if position else 0
            next_start = statements[position + 1].lineno if position + 1 < len(statements) else None
            if _is_magic(node):
                self._magic_statement(cell, node, step)
                continue
            text = source.statement_text(node, previous_end, next_start, replacements.get(id(node), []))
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                if not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
                    imports.append(node)
                continue
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                # `if not key: import getpass` binds a global in the notebook but a local in a step: the
                # module imports it too (only where it is used; not from a `try` that guards a missing package).
                imports.extend(_nested_imports(node))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                kind = "class" if isinstance(node, ast.ClassDef) else "function"
                items.append(ModuleItem(kind, (node.name,), text, cell.index))
                continue
            if self._is_constant(node, module_names) and id(node) not in replacements:
                names = tuple(t.id for t in node.targets)
                constants.update(names)
                module_names.update(names)
                items.append(ModuleItem("constant", names, text, cell.index))
                continue
            dropped = self._display_or_plot(node, displayed)
            binds = tuple((b.name, b.kind) for b in facts.bindings if b.statement is node)
            if dropped and not binds:
                continue
            reads = _loads(node)
            for function in reads & set(self._state):
                reads |= set(self._state[function])  # the call now passes the notebook state it reads
            step.statements.append(Statement(cell, node, text, frozenset(reads), binds, dropped=dropped))

    # -- functions that read notebook state ---------------------------------------------------------

    def _pre_constants(self, exported: list[CellModel], module_names: set[str]) -> set[str]:
        """The names that will be module constants (as _cell_into decides), known before the walk."""
        known = set(module_names)
        found: set[str] = set()
        for cell in exported:
            if cell.facts.tree is None or cell.is_parameters:
                continue
            for node in cell.facts.statements:
                if self._is_constant(node, known):
                    names = {t.id for t in node.targets}
                    found |= names
                    known |= names
        return found

    def _state_of_functions(self, exported: list[CellModel], module_level: set[str], literal_params: set[str]
                            ) -> dict[str, list[str]]:
        """function -> the notebook variables it reads as globals, which become its keyword-only parameters.

        In the notebook `def tokenize(batch): return tokenizer(batch)` reads the global `tokenizer`; in the
        package that global does not exist, so `tokenize` takes `tokenizer` as a parameter and every call
        passes it. A function calling such a function needs its state too, to pass it on.
        """
        reads: dict[str, list[str]] = {}
        calls: dict[str, set[str]] = {}
        own: dict[str, frozenset[str]] = {}
        for cell in exported:
            if cell.facts.tree is None or cell.is_parameters:
                continue
            top = {id(node) for node in cell.facts.statements}
            for function in cell.facts.functions:
                if id(function.node) not in top or isinstance(function.node, ast.AsyncFunctionDef):
                    continue
                names: list[str] = []
                for read in function.free_reads:
                    name = read.id
                    if (name in module_level or name in _BUILTIN_NAMES or name in literal_params
                            or name in function.declared_global or name not in self.model.definitions
                            or name == function.name or name in names):
                        continue
                    names.append(name)
                if names and _signature_edit(function.node, names, SourceIndex(cell.facts.python.code or "")) is None:
                    names = []  # a signature we cannot extend (`def f(a, /)`): its globals get stand-ins
                reads[function.name] = names
                calls[function.name] = {read.id for read in function.free_reads}
                own[function.name] = function.params | function.locals | function.declared_global
        own_reads = {name: list(names) for name, names in reads.items()}
        while True:
            reads = {name: list(names) for name, names in own_reads.items()}
            conflict = None
            changed = True
            while changed and conflict is None:
                changed = False
                for name in reads:
                    for callee in calls[name] & set(reads):
                        for needed in reads[callee]:
                            if needed in own[name]:
                                conflict = callee  # the caller has its own `needed`: it cannot pass the global on
                            elif needed not in reads[name] and needed != name:
                                reads[name].append(needed)
                                changed = True
            if conflict is None:
                break
            own_reads[conflict] = []  # left reading its globals: the stand-ins say what is missing
        state = {name: names for name, names in reads.items() if names}
        for name, names in state.items():
            self.warnings.append(f"function {name}() read the notebook variable(s) {', '.join(names)} as globals; "
                                 "they are now keyword-only parameters, and every call passes them")
        return state

    def _state_values(self) -> dict[str, str]:
        """The literal a state variable holds, when the notebook assigns it once, as `name = <literal>`."""
        values = {}
        for name in {name for names in self._state.values() for name in names}:
            definitions = self.model.definitions.get(name, [])
            if len(definitions) != 1:
                continue
            statement = definitions[0].binding.statement
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                    and isinstance(statement.targets[0], ast.Name):
                value = _literal(statement.value)
                if value is not _NOT_LITERAL and len(repr(value)) < 200:
                    values[name] = repr(value)
        return values

    def _state_edits(self, cell: CellModel, source: _Source) -> list[tuple[ast.stmt, Edit]]:
        """Edits that add state parameters to the definitions, and pass them at every use, in this cell."""
        if not getattr(self, "_state", None) or cell.facts.tree is None:
            return []
        state = self._state
        facts = cell.facts
        index = source.index
        edits: list[tuple[ast.stmt, Edit]] = []
        for node in facts.statements:
            if isinstance(node, ast.FunctionDef) and node.name in state:
                edit = _signature_edit(node, state[node.name], index)
                if edit is not None:  # always, as _state_of_functions checked
                    edits.append((node, edit))
        for child in ast.walk(facts.tree):
            if not (isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load) and child.id in state):
                continue
            statement = facts.top_statement(child)
            parent = facts.parent(child)
            keywords = ", ".join(f"{name}={name}" for name in state[child.id])
            if isinstance(parent, ast.Call) and parent.func is child:
                span = index.node_range(parent)
                if span is None or index.text[span[1] - 1] != ")":
                    continue
                last = ([*parent.args, *parent.keywords] or [None])[-1]
                if last is None:
                    edits.append((statement, Edit(span[1] - 1, span[1] - 1, keywords)))
                else:
                    last_end = index.node_range(last)
                    if last_end is None:
                        continue
                    between = index.text[last_end[1]:span[1] - 1]
                    text = keywords if "," in between else ", " + keywords
                    at = span[1] - 1 if "," in between else last_end[1]
                    edits.append((statement, Edit(at, at, text)))
            else:
                span = index.node_range(child)
                if span is not None:
                    edits.append((statement, Edit(span[0], span[1], f"functools.partial({child.id}, {keywords})")))
        return edits

    def _is_constant(self, node: ast.stmt, module_names: set[str]) -> bool:
        if not isinstance(node, ast.Assign):
            return False
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id in self._literal_globals and _immutable(_literal(node.value)):
            return True
        if not all(isinstance(t, ast.Name) and _is_upper(t.id) for t in node.targets):
            return False
        return _loads(node.value) <= (module_names | _BUILTIN_NAMES)

    def _literals_functions_read(self, exported: list[CellModel], param_names: set[str]) -> set[str]:
        """Variables a function reads as globals that the notebook binds once, to a literal (`k = 3`).

        They move to module level as constants, as they are, rather than becoming parameters of each function.
        """
        exported_ids = {cell.index for cell in exported}
        read = {r.id for cell in exported if cell.facts.tree is not None for f in cell.facts.functions
                for r in f.free_reads}
        found = set()
        for name in read - param_names:
            definitions = self.model.definitions.get(name, [])
            if len(definitions) != 1 or definitions[0].cell.index not in exported_ids \
                    or definitions[0].cell.is_parameters:
                continue
            statement = definitions[0].binding.statement
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                    and isinstance(statement.targets[0], ast.Name) and _immutable(_literal(statement.value)):
                found.add(name)  # not `results = []`: a module-level list would carry state from one run() to the next
        return found

    _plot_names: set[str]

    def _display_or_plot(self, node: ast.stmt, displayed: set[str]) -> bool:
        """True when the statement only shows something: a bare value, `df.head()`, a plot."""
        plot_names = self.__dict__.setdefault("_plot_names", set())
        # Only what an assignment binds is a plot object (`fig, ax = plt.subplots()`); a loop that also plots
        # binds data (`total` below a `plt.plot`), which the steps after it may read.
        assigned = self._bound_names(node) if isinstance(node, (ast.Assign, ast.AnnAssign)) else set()
        if _loads(node) & plot_names:
            plot_names.update(assigned)
            return True
        for child in ast.walk(node):
            if isinstance(child, ast.Call):
                callee = qualified_name(child.func, self.model.aliases) or ""
                method = child.func.attr if isinstance(child.func, ast.Attribute) else ""
                if callee.split(".")[0] in _PLOT_MODULES or method in _PLOT_METHODS:
                    plot_names.update(assigned)
                    return True
        value = node.value if isinstance(node, (ast.Expr, ast.Assign)) else None
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "get_ipython":
            return True  # `ip = get_ipython()`: IPython-only; kept only if a kept statement reads `ip`
        if not isinstance(node, ast.Expr):
            return False
        value = node.value
        if not isinstance(value, ast.Call):
            if isinstance(value, ast.Name):
                displayed.add(value.id)
            elif isinstance(value, ast.Tuple):
                displayed.update(e.id for e in value.elts if isinstance(e, ast.Name))
            return True  # a bare value: the notebook displayed it
        callee = qualified_name(value.func, self.model.aliases) or ""
        if callee in _DISPLAY_FUNCTIONS:
            displayed.update(a.id for a in value.args if isinstance(a, ast.Name))
            return True
        if isinstance(value.func, ast.Attribute) and value.func.attr in _DISPLAY_METHODS:
            return True
        if callee == "print":
            # `print(json.dumps(summary))` shows `summary`: a value the notebook ends with
            callees = {id(c.func) for c in ast.walk(value) if isinstance(c, ast.Call)}
            callees |= {id(c.func.value) for c in ast.walk(value) if isinstance(c, ast.Call)
                        and isinstance(c.func, ast.Attribute)}
            for argument in value.args:
                displayed.update(n.id for n in ast.walk(argument) if isinstance(n, ast.Name)
                                 and isinstance(n.ctx, ast.Load) and id(n) not in callees)
        return False

    @staticmethod
    def _bound_names(node: ast.stmt) -> set[str]:
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}

    def _magic_statement(self, cell: CellModel, node: ast.stmt, step: Step) -> None:
        facts = cell.facts
        line = facts.python.cell_line(node.lineno)
        magic = next((m for m in facts.magics if m.line == line), None)
        if magic is None:
            return
        command = magic.command
        if re.match(r"^(pip3?|conda|mamba|python3? -m pip)\s+install\b", command):
            return  # becomes a dependency of the package
        if magic.kind == "shell":
            self.warnings.append(f"cell {cell.index}, line {line}: the shell command `!{magic.args}` is kept as a "
                                 "comment and not run")
            bound = self._bound_names(node)
            if bound:
                self.warnings.append(f"cell {cell.index}, line {line}: {', '.join(sorted(bound))} came from a shell "
                                     "command and is not defined in the package")
            step.statements.append(Statement(cell, None, f"# shell command in the notebook, not run: !{magic.args}",
                                             frozenset(), ()))
            return
        if magic.kind == "line" and magic.name == "time" and magic.args.strip():
            try:
                inner = ast.parse(magic.args.strip())
            except SyntaxError:
                return
            binds = tuple((n, "assign") for n in sorted(self._bound_names(inner)))
            step.statements.append(Statement(cell, inner, magic.args.strip(), frozenset(_loads(inner)), binds))
            return
        if magic.kind == "line" and magic.name in ("run", "store", "env", "cd", "load", "sx", "system"):
            self.warnings.append(f"cell {cell.index}, line {line}: %{magic.name} {magic.args} is not exported")

    def _collect_shown(self, cell: CellModel) -> None:
        """A value the cell showed last (`accuracy`, `df.shape`, `print(score)`) with the output the notebook saved."""
        statements = cell.facts.statements
        if not statements or not isinstance(statements[-1], ast.Expr) or any(
                o.output_type == "error" for o in cell.cell.outputs):
            return
        value = statements[-1].value
        result_text = next((o.text for o in cell.cell.outputs if o.output_type == "execute_result"), None)
        stream = "".join(o.text for o in cell.cell.outputs if o.output_type == "stream")
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "print" \
                and len(value.args) == 1 and not value.keywords and stream.count("\n") == 1 and stream.endswith("\n"):
            printed_calls = [c for c in cell.facts.calls if isinstance(c.func, ast.Name) and c.func.id == "print"]
            if len(printed_calls) == 1:
                value, result_text = value.args[0], stream[:-1]
        if result_text is None or len(result_text) > 500:
            return
        if isinstance(value, ast.Name):
            self._shown_values.append((value.id, "value", result_text.strip()))
        elif isinstance(value, ast.Attribute) and value.attr == "shape" and isinstance(value.value, ast.Name):
            self._shown_values.append((value.value.id, "shape", result_text.strip()))

    def _collect_calls(self, cell: CellModel, calls: list[Call]) -> None:
        """Top-level calls of notebook functions, with the output the notebook saved for them."""
        facts = cell.facts
        statements = facts.statements
        result_text = next((o.text for o in cell.cell.outputs if o.output_type == "execute_result"), None)
        stream_text = "".join(o.text for o in cell.cell.outputs if o.output_type == "stream")
        error = any(o.output_type == "error" for o in cell.cell.outputs)
        for call in facts.calls:
            if not isinstance(call.func, ast.Name) or facts.enclosing_function(call) is not None:
                continue
            if any(isinstance(a, (ast.Lambda, ast.ClassDef)) for a in facts.ancestors(call)):
                continue
            arguments = [*call.args, *(k.value for k in call.keywords)]
            literal = all(_literal(a) is not _NOT_LITERAL for a in arguments) and all(
                k.arg is not None for k in call.keywords) and not any(isinstance(a, ast.Starred) for a in call.args)
            if literal and any(_looks_like_path_or_url(_literal(a)) for a in arguments):
                literal = False
            parts = [ast.unparse(a) for a in call.args] + [f"{k.arg}={ast.unparse(k.value)}" for k in call.keywords]
            entry = Call(call.func.id, cell.index, ", ".join(parts), literal)
            parent = facts.parent(call)
            if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
                entry.target = parent.targets[0].id
            if all(isinstance(a, ast.Name) for a in call.args) and all(
                    k.arg is not None and isinstance(k.value, ast.Name) for k in call.keywords):
                entry.argument_names = tuple(a.id for a in call.args)
                entry.keyword_names = tuple((k.arg, k.value.id) for k in call.keywords)
            if literal and not error and statements:
                last = statements[-1]
                # `labels = label([1, 2])` then `labels` as the cell's last line shows the call's value too
                shown_after = (isinstance(last, ast.Expr) and isinstance(last.value, ast.Name) and len(statements) > 1
                               and isinstance(statements[-2], ast.Assign) and statements[-2].value is call
                               and [ast.unparse(t) for t in statements[-2].targets] == [last.value.id])
                if ((isinstance(last, ast.Expr) and last.value is call) or shown_after) and result_text is not None:
                    entry.expected_text = result_text
                    entry.expected = _saved_value(result_text)
                elif (len(statements) == 1 and isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)
                      and isinstance(last.value.func, ast.Name) and last.value.func.id == "print"
                      and len(last.value.args) == 1 and last.value.args[0] is call and not last.value.keywords
                      and stream_text.endswith("\n") and stream_text.count("\n") == 1):
                    entry.expected_text = stream_text[:-1]
                    entry.expected = stream_text[:-1]
                    entry.printed = True
            calls.append(entry)

    # -- data flow between steps -------------------------------------------------------------------

    def _flow(self, steps: list[Step], param_names: set[str], module_names: set[str], displayed: set[str]) -> None:
        flat = [(index, statement) for index, step in enumerate(steps) for statement in step.statements]
        last_binding: dict[str, int] = {}
        binding_kind: dict[str, str] = {}
        for position, (_, statement) in enumerate(flat):
            for name, kind in statement.binds:
                last_binding[name] = position
                binding_kind[name] = kind
        results = []
        for name, position in sorted(last_binding.items(), key=lambda item: (item[1], item[0])):
            if name.startswith("_") or name in module_names or binding_kind[name] in ("loop", "with", "import", "def", "class"):
                continue
            read_after = any(name in statement.reads for _, statement in flat[position + 1:])
            if name in displayed or not read_after:
                results.append(name)
        gone = set().union(*(_deleted_at_end(step) for step in steps)) if steps else set()
        results = [name for name in results if name not in gone]
        self._results = results
        result_set = set(results)
        producer: dict[str, int] = {}
        for index, step in enumerate(steps):
            reads: list[str] = []
            for statement in step.statements:
                for name in sorted(statement.reads, key=lambda n: _first_position(statement.node, n)):
                    if name not in reads:
                        reads.append(name)
            # A name read before the step binds it came from code the package lacks: the step starts by giving
            # it a stand-in that says so (render), instead of an UnboundLocalError.
            step.unbound = sorted(_read_before_bound(step, set(producer) | module_names | param_names
                                                     | _BUILTIN_NAMES))
            step.inputs = [name for name in reads if name in producer and name not in module_names]
            step.param_reads = [name for name in reads if name in param_names and name not in producer
                                and name not in module_names]
            replaced = any(PARAMS_PLACEHOLDER + "." in statement.source for statement in step.statements)
            step.uses_params = bool(step.param_reads) or replaced
            bound: list[str] = []
            for statement in step.statements:
                for name, kind in statement.binds:
                    if name not in bound and name not in module_names:
                        bound.append(name)
            later_reads = set()
            for later in steps[index + 1:]:
                for statement in later.statements:
                    later_reads |= statement.reads
            deleted = _deleted_at_end(step)
            step.outputs = [name for name in bound if name not in deleted and (name in later_reads
                            or (name in result_set and last_binding_step(steps, name) == index))]
            for name in bound:
                producer[name] = index

    def _function_state(self, exported, param_names, parameters, items, module_names) -> None:
        """Functions that read notebook variables: parameters get a module-level default, the rest a warning."""
        exported_ids = {cell.index for cell in exported}
        defaults = {p.variable: p for p in parameters if p.variable}
        needed: list[str] = []
        for name, (cell, function) in self.model.functions.items():
            if cell.index not in exported_ids:
                continue
            local = function.params | function.locals
            for read in function.free_reads:
                if read.id in local or read.id in module_names or read.id in _BUILTIN_NAMES:
                    continue
                if read.id in defaults and defaults[read.id].is_literal:
                    if read.id not in needed:
                        needed.append(read.id)
                        self.warnings.append(f"function {name}() reads the parameter {read.id} as a global; it sees "
                                             "the default value only, pass it as an argument instead")
                elif read.id in self.model.definitions and read.id not in self._state.get(name, ()):
                    self.warnings.append(f"function {name}() reads the notebook variable {read.id}, which is not "
                                         "defined at module level in the package; pass it as an argument")
        for name in needed:
            items.insert(0, ModuleItem("constant", (name,), f"{name} = {defaults[name].default}", -1))


def _keep_what_later_steps_read(steps: list[Step]) -> None:
    """Keep a dropped statement (a plot, say) when a kept statement later reads a name it binds.

    `model = fit(x); plt.plot(model.loss_)` in a loop is dropped as a plot, but the steps after it need
    `model`: dropping it would leave a name the package never defines. Repeats until nothing changes, so what
    a kept statement needs (`fig` for `ax`) is kept too.
    """
    flat = [statement for step in steps for statement in step.statements]
    changed = True
    while changed:
        changed = False
        for position, statement in enumerate(flat):
            if not statement.dropped:
                continue
            bound = {name for name, _ in statement.binds}
            for later in flat[position + 1:]:
                if later.dropped:
                    continue
                if any(_reads_first(later, name) for name in later.reads & bound):
                    statement.dropped = False
                    changed = True
                    break
                bound -= {name for name, _ in later.binds}
                if not bound:
                    break


def _reads_first(statement: Statement, name: str) -> bool:
    """The statement reads `name`'s earlier value (not only one it binds first, as `for i in ...` does)."""
    if name not in {bound for bound, _ in statement.binds} or statement.node is None:
        return True
    if isinstance(statement.node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        return True  # the value is evaluated before the target is bound
    return _first_position(statement.node, name, ast.Load) < _first_position(statement.node, name, ast.Store)


def _read_before_bound(step: Step, known: set[str]) -> set[str]:
    """Names the step binds but reads first (`x = f(x)` with no earlier x), that no earlier step gives it."""
    bound: set[str] = set()
    found: set[str] = set()
    step_binds = {name for statement in step.statements for name, _ in statement.binds}
    for statement in step.statements:
        own = {name for name, _ in statement.binds}
        if statement.node is None:
            continue
        reads_first = isinstance(statement.node, (ast.Assign, ast.AugAssign, ast.AnnAssign))
        for name in statement.reads & step_binds:
            if name in bound or name in known:
                continue
            if name not in own or reads_first or _first_position(statement.node, name, ast.Load) \
                    < _first_position(statement.node, name, ast.Store):
                found.add(name)
        bound |= own
    return found


def _deleted_at_end(step: Step) -> set[str]:
    """Names a top-level `del` removes after their last binding in the step: they cannot be returned."""
    deleted: set[str] = set()
    for statement in step.statements:
        deleted -= {name for name, _ in statement.binds}
        if isinstance(statement.node, ast.Delete):
            deleted |= {target.id for target in statement.node.targets if isinstance(target, ast.Name)}
    return deleted


def last_binding_step(steps: list[Step], name: str) -> int | None:
    found = None
    for index, step in enumerate(steps):
        if any(bound == name for statement in step.statements for bound, _ in statement.binds):
            found = index
    return found


def _first_position(node: ast.AST | None, name: str, context: type | None = None) -> tuple[int, int]:
    if node is None:
        return (0, 0)
    positions = [(n.lineno, n.col_offset) for n in ast.walk(node) if isinstance(n, ast.Name) and n.id == name
                 and (context is None or isinstance(n.ctx, context))]
    return min(positions) if positions else ((0, 0) if context is None else (10**9, 0))


class _SelfPrefixer(ast.NodeTransformer):
    def __init__(self, names: set[str]):
        self.names = set(names)

    def visit_Name(self, node: ast.Name):
        if node.id in self.names and isinstance(node.ctx, ast.Load):
            return ast.copy_location(ast.Attribute(ast.Name("self", ast.Load()), node.id, ast.Load()), node)
        return node


def _looks_like_path_or_url(value) -> bool:
    if isinstance(value, str):
        return "/" in value or "\\" in value or bool(re.search(r"\.[A-Za-z0-9]{1,5}$", value)) or "://" in value
    if isinstance(value, (list, tuple, set)):
        return any(_looks_like_path_or_url(v) for v in value)
    if isinstance(value, dict):
        return any(_looks_like_path_or_url(v) for v in [*value.keys(), *value.values()])
    return False


def _saved_value(text: str):
    """The value a saved `text/plain` output stands for, when it is a Python literal (numpy scalars too)."""
    cleaned = re.sub(r"\bnp\.(?:float|int|uint|bool_?|str_)\d*\(([^()]*)\)", r"\1", text.strip())
    value = _literal_text(cleaned)
    return value


def _literal_text(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT_LITERAL


def build_plan(model: NotebookModel, folder: Path | None) -> ExportPlan:
    return Planner(model, folder).plan()


NOT_LITERAL = _NOT_LITERAL
