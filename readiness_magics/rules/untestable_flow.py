"""untestable-code: where values flow across cells; which names hold data, which values are only shown."""
from __future__ import annotations

import ast
import bisect
import re
import weakref

from ..analysis import CellModel, NotebookModel, names_in, root_name
from .untestable_calls import (
    _DECORATIONS,
    _DRAWING,
    _MUTATING_METHODS,
    _callee,
    _is_literal,
    _is_loader,
    _is_state,
    _is_write,
    _last,
    _method,
    _training_call,
)

_DATA_CONSTRUCTORS = {"DataFrame", "Series", "Index", "Categorical", "MultiIndex"}

_DISPLAY_CALLS = {"print", "display"}


def _reads_data(model: NotebookModel, node: ast.AST, names: list[str] | None = None) -> bool:
    """Reads a notebook variable that carries data (not a setting, object, module, function or constant).
    `names`, when known, are the names the node reads (from the cell's facts), which spares a walk."""
    if names is None:
        names = [child.id for child in names_in(node) if type(child.ctx) is ast.Load]
    return any(_is_data(model, name) for name in names)


def _is_data(model: NotebookModel, name: str | None) -> bool:
    if name is None:
        return False
    kinds = _KINDS.get(model)
    if kinds is None:
        kinds = _KINDS[model] = {}
    kind = kinds.get(name)
    if kind is None:
        kind = kinds[name] = _name_kind(model, name)
    return kind == "data"


# Per notebook model: name -> "data", "setting", "object" or "none" (not state at all).
_KINDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _name_kind(model: NotebookModel, name: str) -> str:
    """Globals that hold no data: a "setting" (only ever literals: `n_samples = 100`) or an "object" (a model,
    a figure, a client: `model = Sequential()`, `fig, ax = plt.subplots()`). Every other state is data."""
    if not _is_state(model, name) or name in model.parameter_names:
        return "none"
    found = set()
    for definition in model.definitions.get(name, ()):
        statement = definition.binding.statement
        value = statement.value if isinstance(statement, (ast.Assign, ast.AnnAssign)) else None
        found.add(_value_kind(model, value) if value is not None else "data")
        if "data" in found:
            return "data"
    return "object" if "object" in found else "setting"


def _value_kind(model: NotebookModel, value: ast.AST) -> str:
    if _is_literal(value):
        return "setting"
    if isinstance(value, (ast.List, ast.Tuple)) and value.elts:
        kinds = {_value_kind(model, item) for item in value.elts}
        return "object" if kinds <= {"object", "setting"} and "object" in kinds else "data"
    if isinstance(value, ast.Call):
        last = _last(_callee(model, value)) or _method(value)
        if _is_plumbing_for_pipeline(model, value) and not _training_call(model, value):
            return "object"
        if last[:1].isupper() and last not in _DATA_CONSTRUCTORS and not _is_loader(model, value):
            return "object"
    return "data"


def _is_plumbing_for_pipeline(model: NotebookModel, call: ast.Call) -> bool:
    """Plots, prints, path building and training: not data derivations even when they read data."""
    name = _callee(model, call)
    if name in _DISPLAY_CALLS or name.startswith(("matplotlib.", "seaborn.", "plotly.", "os.path.", "logging.")):
        return True
    if _training_call(model, call):
        return True  # RP403's business
    return isinstance(call.func, ast.Attribute) and call.func.attr in _PLOT_METHODS


_PLOT_METHODS = _DRAWING | _DECORATIONS

_SHOW_CALLS = {"print", "display", "pprint", "rprint", "pprint.pprint", "rich.print"}

_SHOW_PREFIXES = ("IPython.display.", "IPython.core.display.", "matplotlib.", "seaborn.", "plotly.", "bokeh.",
                  "altair.", "holoviews.", "rich.", "ipywidgets.", "networkx.draw", "gradio.", "streamlit.")


# Methods that draw or decorate a chart; `step`, `set`, `line`... also name other things (optimizer.step()).
_SHOW_METHODS = frozenset(({"show", "imshow", "display"} | {
    "plot", "hist", "hist2d", "bar", "barh", "scatter", "pie", "boxplot", "violinplot", "matshow", "contour",
    "contourf", "fill_between", "errorbar", "stem", "heatmap", "lineplot", "barplot", "histplot", "countplot",
    "scatterplot", "pairplot", "kdeplot", "distplot", "regplot", "lmplot", "catplot", "relplot", "displot",
    "jointplot", "stripplot", "swarmplot", "pointplot", "clustermap", "hexbin", "pcolormesh", "plot_surface",
    "plot3D", "scatter3D", "semilogy", "semilogx", "loglog", "quiver", "streamplot", "add_trace", "iplot",
    "plot_wireframe", "contour3D", "plot_trisurf", "add_patch", "add_artist", "fill", "vlines", "hlines",
    # bokeh's glyphs: `p.circle(x=samples["a"], y=samples["b"])`
    "circle", "square", "rect", "quad", "patch", "patches", "multi_line", "vbar", "hbar", "wedge", "segment",
    "triangle", "diamond", "varea", "harea", "image_rgba", "image_url",
}) | (_DECORATIONS - {"set", "figure", "subplots", "subplot", "add_subplot", "title", "text"})
    | {"set_title", "text", "annotate"})


# Names of functions that only show something (`show_random_elements`, `plot_batch`, `display_images`).
_SHOW_FUNCTION = re.compile(r"^_*(?:show|display|plot|draw|visuali[sz]e|view|preview|render|print|imshow)"
                            r"(?:_|$|[A-Z])")


def _is_show_call(model: NotebookModel, call: ast.Call) -> bool:
    name = _callee(model, call)
    if name in _SHOW_CALLS or name.startswith(_SHOW_PREFIXES):
        return True
    func = call.func
    if isinstance(func, ast.Name) and func.id in model.functions and _SHOW_FUNCTION.match(func.id):
        return True
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr in _SHOW_METHODS:
        return True
    inner = func.value  # df.plot.bar(...), df.style.format(...)
    while isinstance(inner, (ast.Attribute, ast.Call, ast.Subscript)):
        if isinstance(inner, ast.Attribute) and inner.attr in ("plot", "style", "hvplot"):
            return True
        inner = inner.func if isinstance(inner, ast.Call) else inner.value
    return False


def _reads_named(model: NotebookModel, name: str) -> tuple[list, list]:
    """The (cell, NameRead) of `name` in the notebook's top-level code, in document order, and the
    (cell index, statement line) of each; gathered for the names asked about, which are few."""
    cache = model.per_notebook("_untestable_reads", lambda model: {})
    found = cache.get(name)
    if found is None:
        if len(cache) < _NAMES_BEFORE_INDEX:
            reads = [(cell, read) for cell in model.parsed_cells if name in cell.facts.read_names
                     for read in cell.facts.reads if read.name == name]
        else:  # many names asked about (a long notebook): every read indexed once, not one pass per name
            by_name = model.__dict__.get("_untestable_reads_by_name")
            if by_name is None:
                by_name = model.__dict__["_untestable_reads_by_name"] = {}
                for cell in model.parsed_cells:
                    for read in cell.facts.reads:
                        by_name.setdefault(read.name, []).append((cell, read))
            reads = by_name.get(name, [])
        found = cache[name] = (reads, [(cell.index, read.statement.lineno) for cell, read in reads])
    return found


_NAMES_BEFORE_INDEX = 16


def _scope(model: NotebookModel, name: str, where) -> tuple | None:
    """The reads that can see the value a binding gives `name`: from the top-level statement holding it
    to the line of the next binding in a later top-level statement (that line included: `x = x + 1`
    reads it). Positions are (cell index, line). None: every read of the notebook."""
    if where is None:
        return None
    cell, node = where
    top = cell.facts.top_statement(node) or node
    start = (cell.index, getattr(top, "lineno", 0))
    starts, first_lines = _binding_positions(model, name)
    index = bisect.bisect_right(starts, start)  # the first binding in a later top-level statement
    return start, (first_lines[index] if index < len(first_lines) else None)


def _binding_positions(model: NotebookModel, name: str) -> tuple[list, list]:
    """The bindings of `name`, sorted by their top-level statement: (statement starts, binding lines)."""
    cache = model.per_notebook("_untestable_bindings", lambda model: {})
    found = cache.get(name)
    if found is None:
        pairs = sorted(((d.cell.index, d.binding.statement.lineno),
                        (d.cell.index, getattr(d.binding.node, "lineno", d.binding.statement.lineno)))
                       for d in model.definitions.get(name, ()))
        first_lines = [line for _, line in pairs]
        for i in range(len(first_lines) - 2, -1, -1):  # the earliest binding line from each index on
            first_lines[i] = min(first_lines[i], first_lines[i + 1])
        found = cache[name] = ([start for start, _ in pairs], first_lines)
    return found


def _reads_of(model: NotebookModel, name: str, where=None) -> list:
    return _reads_in(model, name, _scope(model, name, where))


def _reads_in(model: NotebookModel, name: str, scope: tuple | None) -> list:
    """The (cell, read) of `name` within a `_scope`."""
    reads, positions = _reads_named(model, name)
    if scope is None:
        return reads
    start, end = scope
    # Reads are in document order: find the first at or after `start`, stop past `end`.
    found = []
    for cell, read in reads[bisect.bisect_left(positions, start):]:
        if end is not None and (cell.index, read.node.lineno) > end:
            if cell.index > end[0]:
                break  # cells come in order; lines inside a statement may not
            continue
        found.append((cell, read))
    return found


def _function_reads(model: NotebookModel) -> frozenset[str]:
    return model.per_notebook("_untestable_function_reads", lambda model: frozenset(
        read.id for cell in model.parsed_cells for function in cell.facts.functions for read in function.free_reads))


class _ShownFlows:
    """What `_only_shown` keeps for one notebook: the answers so far, and the bookkeeping of the question
    being answered (how many steps, how many shows, how far up the flow a cycle reached)."""

    __slots__ = ("answers", "cut_short", "cycle_depth", "looks", "steps")

    def __init__(self):
        self.answers: dict = {}
        self.steps = 0
        self.looks = 0
        self.cycle_depth = _NO_CYCLE  # the shallowest question in progress that a flow came back to
        self.cut_short = False  # the step bound was reached


_NO_CYCLE = 1 << 30


def _shown_flows(model: NotebookModel) -> _ShownFlows:
    return model.per_notebook("_untestable_shown", lambda model: _ShownFlows())


def _only_shown(model: NotebookModel, name: str, seen: dict | None = None, where=None) -> bool:
    """Whether every use of a top-level name only reaches something shown: a print, a plot, the cell's
    output. A name never read, read by a function or used in any other way is not. `where` (cell, node)
    is the binding whose value is followed: only the reads that can see it count. `seen`: the questions
    in progress (key -> depth)."""
    flows = _shown_flows(model)
    scope = _scope(model, name, where)
    key = (name, scope)
    answers = flows.answers
    if key in answers:
        return answers[key] and _looked_at(model)  # a value known to be shown reaches a show
    if not seen:  # a new question (a draw's own walk starts with an empty one)
        seen = {} if seen is None else seen
        flows.steps = 0
    depth = seen.get(key)
    if depth is not None:
        flows.cycle_depth = min(flows.cycle_depth, depth)
        return True  # `df[c] = df[c].round(2)`: feeding itself decides nothing
    # A flow whose answers lean on questions further up (it comes back to them) is walked again each
    # time it is reached: past a bound, say "not only shown", which keeps the finding.
    flows.steps += 1
    if flows.steps > 500:
        flows.cut_short = True
        return False
    depth = seen[key] = len(seen)
    outer_cycle, outer_cut = flows.cycle_depth, flows.cut_short
    flows.cycle_depth, flows.cut_short = _NO_CYCLE, False
    # `images.append(x)` builds the value rather than using it: the other reads decide.
    reads = [(cell, read) for cell, read in _reads_in(model, name, scope)
             if not _mutation_receiver(cell, read.node)]
    shows_before = flows.looks
    result = bool(reads) and name not in _function_reads(model) and name not in model.functions \
        and all(_shown_use(model, cell, read.node, seen) for cell, read in reads) \
        and flows.looks > shows_before  # a value that only feeds itself is not shown
    # A question asked first, or one whose answer leant on no question further up the flow (nor on the
    # step bound), gets the same answer whenever it is asked: remembered, the flows that join again at
    # it are walked once.
    if depth == 0 or (flows.cycle_depth >= depth and not flows.cut_short):
        answers[key] = result
    flows.cycle_depth, flows.cut_short = min(outer_cycle, flows.cycle_depth), outer_cut or flows.cut_short
    del seen[key]
    return result


# Calls that only wrap or reshape a value for looking at it: `pd.DataFrame(np.random.rand(3, 2))` shown.
_WRAPPERS = {"pandas.DataFrame", "pandas.Series", "numpy.array", "numpy.asarray", "numpy.round", "round", "list",
             "tuple", "str", "len", "sorted", "repr", "IPython.display.HTML"}


def _within_show(model: NotebookModel, cell: CellModel, node: ast.AST) -> bool:
    for ancestor in cell.facts.ancestors(node):
        if isinstance(ancestor, ast.stmt):
            return False
        if isinstance(ancestor, ast.Call) and _is_show_call(model, ancestor):
            return True
    return False


def _passes_through(model: NotebookModel, call: ast.Call) -> bool:
    """A library function that reshapes what is shown (`np.sin(z)`, `unescape(text)`, `pd.DataFrame(rows)`),
    as opposed to a model, a client or one of the notebook's functions (`model(x)`, `predictor.predict(x)`,
    `accuracy(model, x, y)`), whose results are computed, not merely shown."""
    if _callee(model, call) in _WRAPPERS:
        return True
    root = root_name(call.func)
    return root is not None and root in model.imported_names and root not in model.functions


def _looked_at(model: NotebookModel) -> bool:
    """Count a use that shows the value (for _only_shown's "something is shown at all"); always True."""
    _shown_flows(model).looks += 1
    return True


def _mutation_receiver(cell: CellModel, node: ast.AST) -> bool:
    """`images.append(x)` or `true_data["temp"] = ...`: the name is being built, not used."""
    parent = cell.facts.parent(node)
    grand = cell.facts.parent(parent) if parent is not None else None
    if isinstance(parent, (ast.Subscript, ast.Attribute)) and parent.value is node \
            and isinstance(parent.ctx, ast.Store):
        return True
    return isinstance(parent, ast.Attribute) and parent.attr in _MUTATING_METHODS \
        and isinstance(grand, ast.Call) and grand.func is parent


_FLOWS = (ast.Attribute, ast.Subscript, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.IfExp, ast.JoinedStr,
          ast.FormattedValue, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Starred, ast.keyword, ast.Slice,
          ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp, ast.comprehension)


def _shown_use(model: NotebookModel, cell: CellModel, node: ast.AST, seen: dict) -> bool:
    """Whether the value at `node` only reaches something shown."""
    child = node
    passed_on = False  # given to some call whose result is then used: the result must be only shown too
    for ancestor in cell.facts.ancestors(node):
        if isinstance(ancestor, ast.Call):
            if _is_show_call(model, ancestor):
                return _looked_at(model)  # drawn or printed, or the axes drawn on
            if _training_call(model, ancestor) or _is_write(model, ancestor):
                return False
            if child is not ancestor.func and not _passes_through(model, ancestor):
                # given to a model, a client or the notebook's own function: computed with, unless the
                # whole expression is printed (`print(format_row(ds[randrange(n)]))`)
                return _within_show(model, cell, ancestor) and _looked_at(model)
            if isinstance(ancestor.func, ast.Attribute) and ancestor.func.attr in _MUTATING_METHODS:
                if child is ancestor.func:
                    return True  # `images.append(x)`: building the value, not using it
                target = root_name(ancestor.func.value)  # `picks.append(pick)`: flows into picks
                return target is not None and _only_shown(model, target, seen, (cell, ancestor))
            passed_on = passed_on or (child is not ancestor.func and _callee(model, ancestor) not in _WRAPPERS)
        elif isinstance(ancestor, ast.stmt):
            return _statement_shows(model, cell, ancestor, child, passed_on, seen)
        elif not isinstance(ancestor, _FLOWS):
            return False
        child = ancestor
    return False


def _statement_shows(model: NotebookModel, cell: CellModel, statement: ast.stmt, child: ast.AST,
                     passed_on: bool, seen: dict) -> bool:
    if isinstance(statement, ast.Expr):
        # The cell's last expression is its shown output; a call made for its effect is not a look.
        return not passed_on and statement is _last_statement(cell) and _is_look(model, statement.value) \
            and _looked_at(model)
    if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and child is statement.value:
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        names = [n for t in targets for n in _target_roots(t)]
        return bool(names) and None not in names and all(_only_shown(model, n, seen, (cell, statement))
                                                         for n in names)
    if isinstance(statement, (ast.For, ast.AsyncFor)) and child is statement.iter:
        names = _target_roots(statement.target)
        return bool(names) and None not in names and all(_only_shown(model, n, seen, (cell, statement))
                                                         for n in names)
    return False


# Methods whose result is only looked at when it ends a cell: `df_sample.sort_values("a")`, `x.head()`.
_LOOKING_METHODS = {"head", "tail", "describe", "sort_values", "sort_index", "value_counts", "info", "round",
                    "unique", "nunique", "sum", "mean", "median", "max", "min", "count", "std", "corr", "items",
                    "keys", "values", "to_frame", "reset_index", "transpose", "tolist", "to_list", "to_dict", "astype"}


def _is_look(model: NotebookModel, value: ast.AST) -> bool:
    """An expression shown as the cell's output, not a call made for what it does (`ds.save_to_disk(p)`)."""
    while isinstance(value, (ast.Attribute, ast.Subscript)):
        value = value.value
    if isinstance(value, ast.Call):
        if _callee(model, value) in _WRAPPERS:
            return True  # `pd.DataFrame(np.random.rand(3, 2))` shown
        return isinstance(value.func, ast.Attribute) and value.func.attr in _LOOKING_METHODS \
            and _is_look(model, value.func.value)
    return isinstance(value, (ast.Name, ast.Constant, ast.BinOp, ast.Compare, ast.Tuple, ast.List))


def _target_roots(target: ast.AST) -> list:
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for item in target.elts for n in _target_roots(item)]
    if isinstance(target, ast.Starred):
        return _target_roots(target.value)
    return [root_name(target)]


def _last_statement(cell: CellModel) -> ast.stmt | None:
    statements = cell.facts.statements
    return statements[-1] if statements else None
