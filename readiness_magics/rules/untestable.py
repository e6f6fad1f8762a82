"""untestable-code: hidden inputs, logic outside functions, prompts, unseeded randomness, calls before definitions."""
from __future__ import annotations

import ast
import re

from ..analysis import CellModel, NotebookModel, Span, root_name
from ..findings import Finding, Fix, Severity
from .base import Rule
from .hidden_state import _comprehension_bound, _first_opaque_cell
from .untestable_calls import (
    _MUTATING_METHODS,
    _SCOPES,
    _TRAIN_LAST_NAMES,
    _WRITE_FUNCTIONS,
    _WRITE_LAST_NAMES,
    _at_top_level,
    _breadth_first,
    _callee,
    _has_star_kwargs,
    _is_loader,
    _is_none,
    _is_path_like,
    _is_plumbing,
    _is_state,
    _is_true,
    _is_write,
    _keyword,
    _last,
    _method,
    _outer_function,
    _same_scope,
    _short_name,
    _training_call,
    _within,
)
from .untestable_flow import (
    _DATA_CONSTRUCTORS,
    _DISPLAY_CALLS,
    _KINDS,
    _SHOW_FUNCTION,
    _function_reads,
    _is_data,
    _is_plumbing_for_pipeline,
    _is_show_call,
    _only_shown,
    _reads_data,
    _reads_of,
    _shown_use,
    _target_roots,
)

_LOOPS = (ast.For, ast.AsyncFor, ast.While)


def _lines(numbers: list[int]) -> str:
    numbers = sorted(set(numbers))
    if len(numbers) == 1:
        return f"line {numbers[0]}"
    return "lines " + ", ".join(str(n) for n in numbers[:-1]) + f" and {numbers[-1]}"


def _quoted(names) -> str:
    names = [f"'{name}'" for name in names]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


# ---------------------------------------------------------------------------------------------------
# RP401


class FunctionReadsNotebookState(Rule):
    """## What it does
    Reports a function that reads, or mutates through `global`, a variable that other cells of the
    notebook bind at top level: a data frame, a fitted model, a setting kept in a lowercase name. One
    finding per function, on its `def` cell, listing the names.

    Functions, classes, imported modules and UPPER_CASE constants are not state and may be read
    freely; so may builtins. A parameter with the same name as a global is the function's own input,
    not a hidden one. A global bound only in the function's own cell is not reported.

    ## Why is this bad?
    The function's result depends on whatever the kernel happens to hold, so it cannot be called from
    a test or a script, and it silently changes behaviour when a cell above is re-run or edited.

    ## Example
    ```python
    import pandas as pd
    df = pd.DataFrame({"amount": [1.0, 2.0]})
    threshold = 1.5
    # %%
    def large_orders():
        return df[df["amount"] > threshold]
    ```

    ## Use instead
    ```python
    import pandas as pd
    df = pd.DataFrame({"amount": [1.0, 2.0]})
    THRESHOLD = 1.5
    # %%
    def large_orders(df, threshold=THRESHOLD):
        return df[df["amount"] > threshold]
    ```
    """

    code = "RP401"
    name = "function-reads-notebook-state"
    category = "untestable-code"
    severity = Severity.WARNING
    # DESIGN.md: "state from other cells". A global bound only beside the def is left alone.
    same_cell_counts = False
    visits_cells = True
    reads = ("definitions across cells",)

    def visit_cell(self, cell: CellModel, model: NotebookModel) -> list[Finding]:
        findings: list[Finding] = []
        for function in cell.facts.functions:
            found = self._hidden_inputs(model, cell, function)
            if not found:
                continue
            names = list(dict.fromkeys(name for name, _ in found))
            first = min((node for _, node in found), key=lambda n: (n.lineno, n.col_offset))
            mutated = [name for name in names if name in function.declared_global]
            read = [name for name in names if name not in function.declared_global]
            parts = []
            if read:
                parts.append(f"reads notebook state {_quoted(read)}")
            if mutated:
                parts.append(f"changes {_quoted(mutated)} through `global`")
            message = (f"Function '{function.name}' {' and '.join(parts)} from other cells; "
                       f"pass {'it' if len(names) == 1 else 'them'} in as "
                       f"{'a parameter' if len(names) == 1 else 'parameters'} and return results instead")
            findings.append(self.at_node(cell, first, message,
                                         Fix("Turn the globals into parameters of the function", "unsafe")))
        return findings

    @staticmethod
    def _hidden_inputs(model: NotebookModel, cell: CellModel, function) -> list[tuple[str, ast.AST]]:
        found: list[tuple[str, ast.AST]] = []
        for name in sorted(function.declared_global):
            if name in model.functions or name in model.class_names or name in model.imported_names:
                continue
            node = _global_statement(function.node, name)
            found.append((name, node or function.node))
        for read in function.free_reads:
            if read.id in function.declared_global or not _is_state(model, read.id):
                continue
            if _only_lambdas(model, read.id) or not (FunctionReadsNotebookState.same_cell_counts
                                                     or _bound_in_other_cell(model, read.id, cell)):
                continue
            found.append((read.id, read))
        return found


def _global_statement(function: ast.AST, name: str) -> ast.AST | None:
    for statement in _breadth_first(function):
        if isinstance(statement, ast.Global) and name in statement.names:
            return statement
    return None


def _bound_in_other_cell(model: NotebookModel, name: str, cell: CellModel) -> bool:
    return any(definition.cell.index != cell.index for definition in model.definitions.get(name, ()))


def _only_lambdas(model: NotebookModel, name: str) -> bool:
    """`square = lambda x: x * x` is a function, not state."""
    return all(
        isinstance(d.binding.statement, ast.Assign) and isinstance(d.binding.statement.value, ast.Lambda)
        for d in model.definitions.get(name, ())
    )


# ---------------------------------------------------------------------------------------------------
# RP402


def _writes_to_memory(model: NotebookModel, cell: CellModel, call: ast.Call, function: ast.AST) -> bool:
    """`df.to_parquet(buffer)` with `buffer = io.BytesIO()`: nothing reaches a file."""
    target = call.args[0] if call.args else None
    if isinstance(target, ast.Call):
        return _last(_callee(model, target)) in ("BytesIO", "StringIO")
    if not isinstance(target, ast.Name):
        return False
    for node in _within(cell, ast.Assign, function):
        if isinstance(node.value, ast.Call) \
                and _last(_callee(model, node.value)) in ("BytesIO", "StringIO") \
                and any(isinstance(t, ast.Name) and t.id == target.id for t in node.targets):
            return True
    return False


def _computes(model: NotebookModel, cell: CellModel, function: ast.AST) -> ast.AST | None:
    """The first node of the function that computes (rather than builds a path, prints or writes)."""
    for node in _breadth_first(function):
        if node is function:
            continue
        if isinstance(node, ast.Call):
            if _is_plumbing(model, node) or _inside_print(model, cell, node, function):
                continue
            return node
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, (ast.Div, ast.Add, ast.Mod)) and (_is_path_like(node.left)
                                                                     or _is_path_like(node.right)):
                continue
            if _inside_print(model, cell, node, function) or _in_name_building(model, cell, node):
                continue
            return node
        if isinstance(node, ast.AugAssign) and not (_is_path_like(node.value) or _is_path_like(node.target)):
            return node
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(target, ast.Subscript) for target in targets):
                return node
        if isinstance(node, ast.Compare) and any(isinstance(a, ast.Subscript) for a in _up_to_statement(cell, node)):
            return node
    return None


def _in_name_building(model: NotebookModel, cell: CellModel, node: ast.AST) -> bool:
    """`f"fig_{i + 1}.png"`, `os.path.join(out, str(i + 1))`: arithmetic that only names a file."""
    for ancestor in _up_to_statement(cell, node):
        if isinstance(ancestor, ast.JoinedStr):
            return True
        if isinstance(ancestor, ast.Call) and _is_plumbing(model, ancestor) and not _is_write(model, ancestor):
            return True
    return False


def _up_to_statement(cell: CellModel, node: ast.AST):
    for ancestor in cell.facts.ancestors(node):
        if isinstance(ancestor, ast.stmt):
            return
        yield ancestor


def _inside_print(model: NotebookModel, cell: CellModel, node: ast.AST, stop: ast.AST) -> bool:
    for ancestor in cell.facts.ancestors(node):
        if ancestor is stop:
            return False
        if isinstance(ancestor, ast.Call):
            name = _callee(model, ancestor)
            if name in {"print", "display", "IPython.display.display"} or name.startswith("logging.") or (
                    isinstance(ancestor.func, ast.Attribute)
                    and ancestor.func.attr in {"info", "debug", "warning", "error", "log", "set_description",
                                               "set_postfix", "write"}):
                return True
    return False


# Functions named for the I/O they do: `save`, `save_model`, `dump_state`, `export_csv`, `copy_files`,
# `download_data`, `fetch_issues`. Serialising their own state (`self.w.tolist()`) is part of writing.
_WRITER_NAME = re.compile(r"^_*(?:save|dump|export|write|persist|store|serialize|serialise|copy|move|backup|"
                          r"upload|download|fetch|archive)(?:_|$|[A-Z])")


def _write_target(model: NotebookModel, write: ast.Call) -> str | None:
    """The file a write goes to, as written: `"tmp.pt"` for `torch.save(m, "tmp.pt")` or `savefig(fname=...)`."""
    if _callee(model, write) in _WRITE_FUNCTIONS and len(write.args) > 1:
        return ast.unparse(write.args[1])
    if write.args:
        return ast.unparse(write.args[0])
    keyword = _keyword(write, "fname", "path", "filepath", "file", "path_or_buf", "filename")
    return ast.unparse(keyword.value) if keyword is not None else None


def _removed_after(model: NotebookModel, cell: CellModel, function: ast.AST, write: ast.Call) -> bool:
    """`torch.save(m, "tmp.pt")` then `os.remove("tmp.pt")`: a temporary file, gone when the function returns."""
    written = _write_target(model, write)
    return written is not None and any(
        _last(_callee(model, node)) in ("remove", "unlink", "rmtree")
        and node.args and ast.unparse(node.args[0]) == written for node in _within(cell, ast.Call, function))


def _read_back(model: NotebookModel, cell: CellModel, function: ast.AST, write: ast.Call) -> bool:
    """`fig.savefig("hello.png")` then `imread("hello.png")`: the file is an intermediate, not an output."""
    written = _write_target(model, write)
    return written is not None and any(
        node is not write and _is_loader(model, node) and node.args
        and ast.unparse(node.args[0]) == written for node in _within(cell, ast.Call, function))


class FunctionComputesAndWrites(Rule):
    """## What it does
    Reports a function that both computes something (cleans, aggregates, trains, predicts) and writes
    a file or a saved plot (`to_csv`, `to_parquet`, `savefig`, `open(path, "w")`, `json.dump`,
    `np.save`, `pickle.dump`, `joblib.dump`, `torch.save`, ...). The finding sits on the function's
    `def` cell, at its first write.

    Pure loaders, I/O-only helpers that build a path and write what they were given (also a figure
    they were given, or a file they download), functions named for the I/O they do (`save`,
    `save_model`, `export_csv`, `copy_files`, `download_data`: a `save()` method serialising its own
    state), temporary files removed before the function returns and writes to in-memory buffers are
    fine. Drawing a
    chart is computing: a function that draws and saves should return the figure instead.

    ## Why is this bad?
    A test of the computation has to write files (and clean them up), and the pipeline cannot reuse
    the computation without the side effect. Return the result; write it in a separate step.

    ## Example
    ```python
    def summarise(sales, path):
        totals = sales.groupby("store")["amount"].sum()
        totals.to_csv(path)
    ```

    ## Use instead
    ```python
    def summarise(sales):
        return sales.groupby("store")["amount"].sum()


    def save_table(table, path):
        table.to_csv(path)
    ```
    """

    code = "RP402"
    name = "function-computes-and-writes"
    category = "untestable-code"
    severity = Severity.WARNING
    visits_cells = True
    reads = ("imports across cells", "definitions across cells", "the data_loaders setting")

    def visit_cell(self, cell: CellModel, model: NotebookModel) -> list[Finding]:
        findings: list[Finding] = []
        if not model.may_call(cell, _WRITE_LAST_NAMES):
            return findings  # no call named like a write: _is_write is False for each
        writes: dict[ast.AST, list[ast.Call]] = {}
        for call in cell.facts.calls:
            if not _is_write(model, call):
                continue
            function = _outer_function(cell, call)
            if function is not None and not _writes_to_memory(model, cell, call, function):
                writes.setdefault(function, []).append(call)
        for function, calls in writes.items():
            calls = [call for call in calls if not _removed_after(model, cell, function, call)]
            if not calls or _WRITER_NAME.match(function.name) and not _trains_inside(model, cell, function):
                continue  # a save()/export()/download() helper: writing is what it is for
            computation = _computes(model, cell, function)
            if computation is None:
                continue
            first = min(calls, key=lambda c: (c.lineno, c.col_offset))
            what = _last(_callee(model, first)) or _method(first)
            line = cell.facts.span(computation).line
            if _read_back(model, cell, function, first):
                findings.append(self.at_node(
                    cell, first,
                    f"Function '{function.name}' computes (line {line}) through a file it writes with {what}() "
                    f"and reads back, left behind in the working folder; use an in-memory buffer "
                    "(io.BytesIO) instead of the file",
                    Fix("Write to an io.BytesIO buffer and read from it", "unsafe"),
                ))
                continue
            findings.append(self.at_node(
                cell, first,
                f"Function '{function.name}' computes (line {line}) and also writes a file with {what}(); "
                "return the result and write it in a separate step",
                Fix("Split the function: one part returns the result, another writes it", "unsafe"),
            ))
        return findings


# ---------------------------------------------------------------------------------------------------
# RP403


def _is_name_chain(node: ast.AST) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


class TopLevelTraining(Rule):
    """## What it does
    Reports a `fit` or train call on an estimator, model or trainer made in top-level notebook code:
    `model.fit(X, y)`, `partial_fit`, `fit_predict`, Keras `model.fit`, `xgb.train`, `lgb.train`,
    `trainer.train()`, `trainer.hyperparameter_search()`, fastai `fit_one_cycle`.

    `fit_transform` trains too when what it fits is a preprocessing pipeline (`Pipeline`,
    `make_pipeline`, `ColumnTransformer`) with a step that learns, or a learned projection (PCA,
    truncated SVD, NMF, t-SNE, UMAP). A loop that trains is reported here, once per training call,
    not again as a top-level loop.

    Calling one of the notebook's own functions that trains inside is orchestration and is fine;
    so are `fit` of a SageMaker or Azure ML estimator (it launches a job running a training script
    elsewhere), `fit` of a scaler, encoder, imputer, vectorizer or feature selector,
    `fit_transform` of a single scaler or encoder preparing features, a pipeline of stateless
    steps (`FunctionTransformer`, `PolynomialFeatures`), and PyTorch's `model.train()`, which only
    switches the training mode on.

    ## Why is this bad?
    Training code at top level cannot be imported, tested or re-run with other data or settings; it
    is tied to the variables the notebook happens to hold at that moment.

    ## Example
    ```python
    from sklearn.linear_model import LinearRegression
    model = LinearRegression()
    model.fit([[1.0], [2.0]], [1.0, 2.0])
    ```

    ## Use instead
    ```python
    from sklearn.linear_model import LinearRegression


    def train(X, y):
        model = LinearRegression()
        model.fit(X, y)
        return model
    # %%
    model = train([[1.0], [2.0]], [1.0, 2.0])
    ```
    """

    code = "RP403"
    name = "top-level-training"
    category = "untestable-code"
    severity = Severity.WARNING
    visits_cells = True
    reads = ("imports across cells", "definitions across cells")

    def visit_cell(self, cell: CellModel, model: NotebookModel) -> list[Finding]:
        findings: list[Finding] = []
        if cell.is_parameters or not model.may_call(cell, _TRAIN_LAST_NAMES):
            return findings
        for call in cell.facts.calls:
            trained = _training_call(model, call)
            if trained and _at_top_level(cell, call):
                target = ast.unparse(call.func)
                if len(target) > 40 or not _is_name_chain(call.func):
                    target = f"{ast.unparse(call.func.value)[:20]}...{call.func.attr}" \
                        if isinstance(call.func, ast.Attribute) and len(target) > 40 else target
                findings.append(self.at_node(
                    cell, call,
                    f"{target}() trains a model in top-level code; move the training into a function "
                    "that takes the data and settings as parameters and returns the model",
                    Fix("Wrap the training in a function and call it here", "unsafe"),
                ))
        return findings


# ---------------------------------------------------------------------------------------------------
# RP404


def _is_trivial_value(model: NotebookModel, value: ast.AST) -> bool:
    """An alias or a plot handle: `ax = axes[i]`, `row = df.iloc[i]`, `fig, ax = plt.subplots()`."""
    if isinstance(value, (ast.Name, ast.Constant)):
        return True
    if isinstance(value, (ast.Attribute, ast.Subscript)):
        inner = value.value
        while isinstance(inner, (ast.Attribute, ast.Subscript)):
            if isinstance(inner, ast.Subscript) and not _simple_index(inner.slice):
                return False
            inner = inner.value
        return isinstance(inner, ast.Name) and (not isinstance(value, ast.Subscript) or _simple_index(value.slice))
    if isinstance(value, ast.Tuple):
        return all(_is_trivial_value(model, item) for item in value.elts)
    if isinstance(value, ast.IfExp):  # role = "Human" if is_human else "AI"
        return _is_trivial_value(model, value.body) and _is_trivial_value(model, value.orelse)
    if isinstance(value, ast.JoinedStr):
        return True  # a label or a file name
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add) and any(
            _names_a_location(side) for side in (value.left, value.right)):
        return True  # `spec_path = github_prefix + spec`: naming a file or a URL
    if isinstance(value, ast.Call):
        if isinstance(value.func, ast.Name) and value.func.id in model.functions:
            return True  # calling the notebook's own function for each item
        name = _callee(model, value)
        if name.startswith("os.path.") or name in ("str", "pathlib.Path", "Path"):
            return True  # building a path: `out = os.path.join(folder, name)`
        return name.startswith(("matplotlib.", "seaborn.", "plotly.")) or (
            isinstance(value.func, ast.Attribute) and value.func.attr in {"subplots", "add_subplot", "figure",
                                                                          "subplot", "twinx", "twiny"}
        )
    return False


_LOCATION_WORDS = ("path", "dir", "folder", "root", "file", "url", "uri", "prefix", "suffix", "base", "name", "ext")


def _names_a_location(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    identifier = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return any(word in identifier.lower() for word in _LOCATION_WORDS)


def _simple_index(node: ast.AST) -> bool:
    """`i`, `0`, `i - 1`, `:, 0`, `a:b`: positions, not computations."""
    if isinstance(node, (ast.Name, ast.Constant)):
        return True
    if isinstance(node, ast.Tuple):
        return all(_simple_index(item) for item in node.elts)
    if isinstance(node, ast.BinOp):
        return _simple_index(node.left) and _simple_index(node.right)
    if isinstance(node, ast.UnaryOp):
        return _simple_index(node.operand)
    if isinstance(node, ast.Slice):
        return all(part is None or _simple_index(part) for part in (node.lower, node.upper, node.step))
    return False


def _is_counter(statement: ast.stmt) -> bool:
    """`i += 1` straight in a loop's body: a hand-made enumerate (a subplot position), not a result."""
    return (isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name)
            and isinstance(statement.op, (ast.Add, ast.Sub)) and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, int))


def _loop_work(model: NotebookModel, cell: CellModel, loop: ast.AST) -> ast.AST | None:
    """The first statement or call in a loop that computes or mutates, or None for print/call-only loops,
    loops that only show something, loops that only wait for a remote job, and loops that train (RP403
    reports their training calls: one problem, one finding)."""
    if _trains_inside(model, cell, loop) or _shows_only(model, cell, loop.body, loop):
        return None
    work = _first_work(model, cell, loop)
    if work is not None and _is_plain_assignment(work) and _only_waits(model, cell, loop):
        return None
    return work


def _trains_inside(model: NotebookModel, cell: CellModel, root: ast.AST) -> bool:
    """A training call in a loop or a function (not in a def or lambda nested there)."""
    return any(_training_call(model, call) and _same_scope(cell, call, root) for call in _within(cell, ast.Call, root))


def _is_plain_assignment(node: ast.AST) -> bool:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
    return bool(targets) and all(isinstance(t, (ast.Name, ast.Tuple)) for t in targets)


def _only_waits(model: NotebookModel, cell: CellModel, loop: ast.AST) -> bool:
    """`while True: status = job.retrieve(); if done: break; time.sleep(30)`: polling, not computing. It
    sleeps and keeps nothing: no `+=`, item assignment or appending."""
    calls = _within(cell, ast.Call, loop)
    if not any(_short_name(model, call) == "sleep" and _same_scope(cell, call, loop) for call in calls):
        return False
    kept = (*_within(cell, ast.AugAssign, loop), *_within(cell, ast.Assign, loop), *_within(cell, ast.AnnAssign, loop),
            *(call for call in calls if isinstance(call.func, ast.Attribute) and call.func.attr in _MUTATING_METHODS))
    return not any(_keeps_something(node) and _same_scope(cell, node, loop) for node in kept)


def _keeps_something(node: ast.AST) -> bool:
    """`+=`, item or attribute assignment, `.append(...)`: the loop keeps a result."""
    if isinstance(node, ast.AugAssign):
        return True
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Attribute) and node.func.attr in _MUTATING_METHODS
    return isinstance(node, (ast.Assign, ast.AnnAssign)) and not _is_plain_assignment(node)


def _first_work(model: NotebookModel, cell: CellModel, loop: ast.AST) -> ast.AST | None:
    counters = {id(statement) for statement in loop.body if _is_counter(statement)}
    for node in _breadth_first(loop):
        if node is loop:
            continue
        if isinstance(node, _SCOPES):
            continue
        if isinstance(node, ast.AugAssign):
            if id(node) in counters or (_is_counter(node) and _read_only_inside(model, cell, node.target.id, loop)):
                continue  # `idx += 1` that only stops the loop (`if idx == 5: break`)
            return node
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, (ast.Subscript, ast.Attribute)) for t in targets):
                return node
            if node.value is not None and not _is_trivial_value(model, node.value) \
                    and not _never_read(model, targets, (cell, node)) \
                    and not _only_checked(model, cell, targets, loop):
                return node
        elif isinstance(node, ast.NamedExpr) or (
                isinstance(node, ast.Delete) and any(isinstance(t, ast.Subscript) for t in node.targets)):
            return node
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and node.func.attr in _MUTATING_METHODS \
                    and root_name(node.func) not in model.imported_names:
                return node
            if _training_call(model, node) or any(k.arg == "inplace" and _is_true(k.value) for k in node.keywords):
                return node
    return None


def _read_only_inside(model: NotebookModel, cell: CellModel, name: str, loop: ast.AST) -> bool:
    return name not in _function_reads(model) and all(
        _in_loop(read_cell, read.node, loop) for read_cell, read in _reads_of(model, name, (cell, loop)))


def _only_checked(model: NotebookModel, cell: CellModel, targets: list[ast.AST], loop: ast.AST) -> bool:
    """`r = api.set(item)` then only `if not r: print(r.error)` in the same loop: a call per item whose
    answer is checked, not a result the loop computes."""
    names = [name for target in targets for name in _target_roots(target)]
    if not names or None in names:
        return False
    for name in names:
        reads = _reads_of(model, name, (cell, loop))
        if not reads or name in _function_reads(model) or not all(
                _checked_in_loop(model, read_cell, read.node, loop) for read_cell, read in reads):
            return False
    return True


def _in_loop(cell: CellModel, node: ast.AST, loop: ast.AST) -> bool:
    """Whether a node of `cell` sits in `loop` (a cell with the same source shares the tree)."""
    return any(ancestor is loop for ancestor in cell.facts.ancestors(node))


def _checked_in_loop(model: NotebookModel, cell: CellModel, node: ast.AST, loop: ast.AST) -> bool:
    """Whether a node of `cell` sits in `loop`, in the test of an `if` or `while` there or in a show call."""
    checked = False
    child = node
    for ancestor in cell.facts.ancestors(node):
        if not checked:
            if isinstance(ancestor, (ast.If, ast.While)):
                checked = child is ancestor.test
            elif isinstance(ancestor, ast.Call):
                checked = _is_show_call(model, ancestor)
        if ancestor is loop:
            return checked
        child = ancestor
    return False


def _never_read(model: NotebookModel, targets: list[ast.AST], where=None) -> bool:
    """`resp = predictor.predict(...)` whose result nobody reads: the loop only calls something."""
    names = [name for target in targets for name in _target_roots(target)]
    return bool(names) and None not in names and all(
        not _reads_of(model, name, where) and name not in _function_reads(model) for name in names)

class TopLevelLoop(Rule):
    """## What it does
    Reports a `for` or `while` loop in top-level notebook code whose body computes or mutates
    something: assignments that compute, `+=`, item or attribute assignment, `.append(...)`,
    in-place operations, training calls.

    A loop that only prints, plots or calls a function for each item is fine, as are comprehensions.
    So is a loop that only builds what it shows (`subset = df[df.name == n]` then a plot of it, a
    label and its picture drawn on each subplot), one that waits for a remote job (it sleeps and keeps
    nothing), one that names and moves files, one whose results nobody reads, and one that lays out a
    user interface (inside `with gr.Blocks():`). A loop that trains
    (`model.fit(...)` inside) is reported once, by top-level-training, not again here.

    ## Why is this bad?
    The loop is logic that cannot be called or tested on its own, and its accumulators live on as
    notebook globals, half-filled when a cell fails midway.

    ## Example
    ```python
    prices = [3.0, 4.5, 2.0]
    total = 0.0
    for price in prices:
        total += price * 1.2
    ```

    ## Use instead
    ```python
    def total_with_tax(prices, rate=1.2):
        return sum(price * rate for price in prices)
    # %%
    prices = [3.0, 4.5, 2.0]
    for price in prices:
        print(price)
    ```
    """

    code = "RP404"
    name = "top-level-loop"
    category = "untestable-code"
    severity = Severity.WARNING
    visits_cells = True
    reads = ("definitions and uses of names across cells",)

    def visit_cell(self, cell: CellModel, model: NotebookModel) -> list[Finding]:
        findings: list[Finding] = []
        for span, kind, line in _working_loops(model, cell):
            findings.append(self.finding(
                cell, span,
                f"Top-level {kind} loop computes or mutates data (line {line}); "
                "move it into a function that takes its inputs as parameters and returns the result",
                Fix("Move the loop into a function", "unsafe"),
            ))
        return findings


def _cell_loops(cell: CellModel) -> tuple[ast.AST, ...]:
    """The cell's top-level loops. Which of them compute depends on how other cells use their values
    (display is not logic), so only the loops are remembered with the cell's facts."""
    if not (cell.facts.of(ast.For) or cell.facts.of(ast.While) or cell.facts.of(ast.AsyncFor)):
        return ()
    return tuple(_top_level_loops(cell.facts.statements))


def _working_loops(model: NotebookModel, cell: CellModel) -> list[tuple[Span, str, int]]:
    """(span of the keyword, for or while, line of the work) of each top-level loop that computes."""
    found = []
    for loop in model.per_cell(cell, "RP404.loops", _cell_loops):
        if _builds_interface(model, cell, loop):
            continue
        work = _loop_work(model, cell, loop)
        if work is None:
            continue
        kind = "while" if isinstance(loop, ast.While) else "for"
        span = cell.facts.span(loop)
        found.append((Span(span.line, span.column, span.line, span.column + len(kind)), kind,
                      cell.facts.span(work).line))
    return found


def _builds_interface(model: NotebookModel, cell: CellModel, loop: ast.AST) -> bool:
    """A loop inside `with gr.Blocks():` (or a row, a column, a tab of it) lays out a user interface."""
    for ancestor in cell.facts.ancestors(loop):
        if isinstance(ancestor, (ast.With, ast.AsyncWith)) and any(
                isinstance(item.context_expr, ast.Call) and _callee(model, item.context_expr).startswith(
                    ("gradio.", "ipywidgets.", "streamlit.")) for item in ancestor.items):
            return True
    return False


def _top_level_loops(statements: list[ast.stmt]):
    """Outermost loops, also inside top-level if/with/try blocks."""
    for statement in statements:
        if isinstance(statement, _LOOPS):
            yield statement
        elif isinstance(statement, (ast.If, ast.With, ast.AsyncWith)):
            yield from _top_level_loops(statement.body)
            yield from _top_level_loops(getattr(statement, "orelse", []))
        elif isinstance(statement, ast.Try) or type(statement).__name__ == "TryStar":
            for block in (statement.body, statement.orelse, statement.finalbody):
                yield from _top_level_loops(block)
            for handler in statement.handlers:
                yield from _top_level_loops(handler.body)


# ---------------------------------------------------------------------------------------------------
# RP405


def _flat_statements(statements: list[ast.stmt]):
    for statement in statements:
        if isinstance(statement, (ast.If, ast.With, ast.AsyncWith)):
            yield from _flat_statements(statement.body)
            yield from _flat_statements(getattr(statement, "orelse", []))
        elif isinstance(statement, ast.Try) or type(statement).__name__ == "TryStar":
            for block in (statement.body, statement.orelse, statement.finalbody):
                yield from _flat_statements(block)
            for handler in statement.handlers:
                yield from _flat_statements(handler.body)
        else:
            yield statement


def _not_only_shown(model: NotebookModel, cell: CellModel, statement: ast.stmt) -> bool:
    """Whether what a statement deriving data builds is used otherwise than shown (plot geometry, a table
    to look at are not data work). Asked last: it follows the value through the notebook."""
    if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        roots = [name for target in targets for name in _target_roots(target)]
    else:
        roots = [root_name(statement.value.func)]
    return not (roots and None not in roots and all(_only_shown(model, name, where=(cell, statement))
                                                    for name in roots))


def _derives_data(model: NotebookModel, statement: ast.stmt, reads: dict[int, list[str]] | None = None) -> bool:
    if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        value = statement.value
        if value is None:
            return False
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        if isinstance(statement, ast.AugAssign) or any(isinstance(t, (ast.Subscript, ast.Attribute))
                                                       for t in targets):
            return any(_is_data(model, root_name(t)) for t in targets)
        # With plain names as targets, every name the statement reads is read by its value: a statement
        # that reads no data is no data work, whatever it calls (the cheap test first).
        plain = all(isinstance(t, ast.Name) for t in targets)
        names = reads.get(id(statement)) if plain and reads is not None else None
        if names is not None and not _reads_data(model, value, names):
            return False
        value = _placed(value)
        if isinstance(value, ast.Call):
            last = _last(_callee(model, value)) or _method(value)
            if isinstance(value.func, ast.Name) and value.func.id in model.functions:
                return False  # orchestration: the notebook's own function does the work
            if _is_loader(model, value) or _is_plumbing_for_pipeline(model, value):
                return False
            if last[:1].isupper() and last not in _DATA_CONSTRUCTORS:
                return False  # building a model or another object is not data work
        return names is not None or _reads_data(model, value)
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        call = statement.value
        if any(k.arg == "inplace" and _is_true(k.value) for k in call.keywords):
            return True
        if isinstance(call.func, ast.Attribute) and call.func.attr in _MUTATING_METHODS:
            return _is_data(model, root_name(call.func))
    return False


_PLACEMENT = {"to", "cuda", "cpu", "eval", "half", "float", "requires_grad_", "share_memory"}


def _placed(value: ast.AST) -> ast.AST:
    """`Pipeline.from_pretrained(...).to("cuda")` is the object built inside: moving it is not data work."""
    while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in _PLACEMENT \
            and isinstance(value.func.value, ast.Call):
        value = value.func.value
    return value


_CANDIDATES = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr)


def _may_hold(cell: CellModel, kinds: tuple[type, ...], count: int) -> bool:
    """Whether the cell has at least `count` nodes of these types, at any depth (a cheap bound)."""
    of = cell.facts.of
    for kind in kinds:
        count -= len(of(kind))
        if count <= 0:
            return True
    return False


def _candidate_statements(cell: CellModel) -> list[ast.stmt]:
    return [s for s in _flat_statements(cell.facts.statements) if isinstance(s, _CANDIDATES)]


def _reads_by_statement(cell: CellModel) -> dict[int, list[str]]:
    reads: dict[int, list[str]] = {}
    for read in cell.facts.reads:
        reads.setdefault(id(read.statement), []).append(read.name)
    return reads


class TopLevelDataPipeline(Rule):
    """## What it does
    Reports a cell with four or more top-level statements that derive or mutate data: assignments
    computed from the notebook's data (`X = df.drop(columns="y")`), item and attribute assignment
    (`df["ratio"] = ...`), in-place calls (`inplace=True`, `.append(...)` on a list of results).

    Not data work: imports, constants, loading a file, building a model object
    (`RandomForestClassifier(...)`, `Pipeline.from_pretrained(...).to("cuda")`), calls to the
    notebook's own functions, plots and prints, and values built only to be shown (plot geometry,
    subsets drawn in a chart, a table only displayed). Three or fewer such statements in a cell are
    orchestration and are fine.

    Its severity is `info`: on real notebooks, read strictly, too many of its findings are metric
    calls, symbolic graph building or inference set-up for it to warn (see
    `docs/precision/untestable.md`).

    ## Why is this bad?
    A chain of transformations at top level is the pipeline's core logic, but it cannot be imported,
    tested on a small frame or re-run on new data without re-running the notebook.

    ## Example
    ```python
    import pandas as pd
    df = pd.DataFrame({"price": [1.0, 2.0], "qty": [3, 4]})
    # %%
    df["revenue"] = df["price"] * df["qty"]
    df = df[df["qty"] > 0]
    summary = df.groupby("qty")["revenue"].sum()
    share = summary / summary.sum()
    ```

    ## Use instead
    ```python
    import pandas as pd


    def revenue_share(df):
        df = df.assign(revenue=df["price"] * df["qty"])
        df = df[df["qty"] > 0]
        summary = df.groupby("qty")["revenue"].sum()
        return summary / summary.sum()
    # %%
    df = pd.DataFrame({"price": [1.0, 2.0], "qty": [3, 4]})
    share = revenue_share(df)
    ```
    """

    code = "RP405"
    name = "top-level-data-pipeline"
    category = "untestable-code"
    # Information, not a warning: read strictly on real notebooks (docs/precision/untestable.md) only
    # about two findings in three are a chain a reviewer would ask to extract; the rest are metric
    # calls, symbolic graph building and inference set-up, which four statements cannot tell apart.
    severity = Severity.INFO
    threshold = 4
    visits_cells = True
    reads = ("definitions and uses of names across cells",)

    def visit_cell(self, cell: CellModel, model: NotebookModel) -> list[Finding]:
        findings: list[Finding] = []
        if cell.is_parameters or not _may_hold(cell, _CANDIDATES, self.threshold):
            return findings
        statements = model.per_cell(cell, "RP405.statements", _candidate_statements)
        if len(statements) < self.threshold:
            return findings  # most cells: too few assignments to be a pipeline, whatever they hold
        reads = model.per_cell(cell, "RP405.reads", _reads_by_statement)
        work = [s for s in statements if _derives_data(model, s, reads)]
        if len(work) < self.threshold:
            return findings
        work = [s for s in work if _not_only_shown(model, cell, s)]
        if len(work) < self.threshold:
            return findings
        lines = [cell.facts.span(statement).line for statement in work]
        first = cell.facts.span(work[0])
        findings.append(self.finding(
            cell, Span(first.line, first.column, first.line, first.column),
            f"{len(work)} top-level statements derive or mutate data ({_lines(lines)}); "
            "move the steps into a function that takes the data and returns the result",
            Fix("Extract the steps into a function", "unsafe"),
        ))
        return findings


# ---------------------------------------------------------------------------------------------------
# Display is not logic (DESIGN.md): values that only reach a print, a plot or the cell's shown output.


def _shows_only(model: NotebookModel, cell: CellModel, statements: list[ast.stmt], loop: ast.AST) -> bool:
    """A block that only shows: prints and plots, and assignments whose values are only shown. Inside
    `loop`, a `rank += 1` counter read nowhere else only numbers what is shown."""
    for statement in statements:
        if isinstance(statement, (ast.Pass, ast.Break, ast.Continue)):
            continue
        if isinstance(statement, ast.Expr):
            value = statement.value
            if isinstance(value, ast.Constant) or (isinstance(value, ast.Call) and _is_show_call(model, value)):
                continue
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
                    and value.func.attr in _MUTATING_METHODS and root_name(value.func) is not None \
                    and _only_shown(model, root_name(value.func), where=(cell, statement)):
                continue  # `images.append(img)` into a list only shown
            return False
        if isinstance(statement, ast.AugAssign):
            if _is_counter(statement) and _read_only_inside(model, cell, statement.target.id, loop):
                continue
            if isinstance(statement.value, ast.Call) and _is_show_call(model, statement.value):
                continue  # `lines += ax.plot(...)`: the artists drawn, kept for a legend
            return False  # accumulating across iterations computes a result, even one that is then shown
        if isinstance(statement, (ast.Assign, ast.AnnAssign)):
            if statement.value is None:
                continue
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            names = [n for t in targets for n in _target_roots(t)]
            if any(not isinstance(t, (ast.Name, ast.Tuple, ast.List)) for t in targets) or None in names \
                    or not all(_only_shown(model, n, where=(cell, statement)) for n in names):
                return False
            continue
        if isinstance(statement, ast.If):
            if _shows_only(model, cell, statement.body, loop) and _shows_only(model, cell, statement.orelse, loop):
                continue
            return False
        if isinstance(statement, (ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith)):
            if _shows_only(model, cell, statement.body, loop) \
                    and _shows_only(model, cell, getattr(statement, "orelse", []), loop):
                continue
            return False
        return False
    return True


# ---------------------------------------------------------------------------------------------------
# RP406


_PROMPTS = frozenset({"input", "raw_input"})


class InteractiveInput(Rule):
    """## What it does
    Reports a call to `input()` (or Python 2's `raw_input()`), wherever it is.

    `getpass.getpass()` is not reported here: it is how a secret is best kept out of the notebook
    (see the hardcoded-secret rules).

    ## Why is this bad?
    A scheduled or batch run (papermill, CI, a job runner) has no one at the keyboard: the run blocks
    forever or fails with `EOFError`.

    ## Example
    ```python
    name = input("Which store? ")
    ```

    ## Use instead
    ```python
    store = "north"  # a parameter, overridden by papermill or the command line
    ```
    """

    code = "RP406"
    name = "interactive-input"
    category = "untestable-code"
    severity = Severity.ERROR
    visits_cells = True
    reads = ("definitions across cells",)

    def visit_cell(self, cell: CellModel, model: NotebookModel) -> list[Finding]:
        findings: list[Finding] = []
        if cell.facts.call_words.isdisjoint(_PROMPTS):
            return findings
        for call in cell.facts.calls:
            func = call.func
            if isinstance(func, ast.Name) and func.id in _PROMPTS \
                    and func.id not in model.definitions:
                variable = _environment_guard(model, cell, call)
                message = (f"{func.id}() asks for {variable} when the environment does not set it; a batch "
                           "run without it blocks here. Raise a clear error instead (or use getpass for a "
                           "secret)") if variable else \
                    (f"{func.id}() waits for someone to type; a batch run blocks here. "
                     "Make the value a parameter instead")
                findings.append(self.at_node(cell, call, message, Fix("Replace the prompt with a parameter", "unsafe")))
        return findings


def _environment_guard(model: NotebookModel, cell: CellModel, call: ast.Call) -> str | None:
    """`if "API_KEY" not in os.environ: os.environ["API_KEY"] = input(...)`: the prompt is a fallback for an
    environment variable; returns the variable's name as written, or None."""
    for ancestor in cell.facts.ancestors(call):
        if isinstance(ancestor, ast.If):
            for node in _breadth_first(ancestor.test):
                if isinstance(node, (ast.Attribute, ast.Name, ast.Call)) and \
                        (model.resolve(node.func if isinstance(node, ast.Call) else node) or "") \
                        .endswith(("os.environ", "os.getenv", "os.environ.get")):
                    names = [n.value for n in _breadth_first(ancestor.test)
                             if isinstance(n, ast.Constant) and isinstance(n.value, str)]
                    return f"'{names[0]}'" if names else "a setting"
    return None


# ---------------------------------------------------------------------------------------------------
# RP407

# Estimators and helpers that draw random numbers unless given random_state.
_SEEDED_BY_RANDOM_STATE = {
    "train_test_split", "ShuffleSplit", "StratifiedShuffleSplit", "GroupShuffleSplit", "RepeatedKFold",
    "RepeatedStratifiedKFold", "RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier",
    "ExtraTreesRegressor", "RandomTreesEmbedding", "GradientBoostingClassifier", "GradientBoostingRegressor",
    "HistGradientBoostingClassifier", "HistGradientBoostingRegressor", "BaggingClassifier", "BaggingRegressor",
    "IsolationForest", "DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier",
    "ExtraTreeRegressor", "KMeans", "MiniBatchKMeans", "BisectingKMeans", "GaussianMixture",
    "BayesianGaussianMixture", "MLPClassifier", "MLPRegressor", "SGDClassifier", "SGDRegressor",
    "SGDOneClassSVM", "Perceptron", "PassiveAggressiveClassifier", "PassiveAggressiveRegressor", "TSNE", "UMAP",
    "RandomizedSearchCV", "HalvingRandomSearchCV", "make_classification", "make_regression", "make_blobs",
    "make_moons", "make_circles", "make_friedman1", "make_gaussian_quantiles", "make_s_curve", "make_swiss_roll",
    "make_sparse_coded_signal", "make_low_rank_matrix", "SMOTE", "ADASYN", "BorderlineSMOTE",
    "RandomOverSampler", "RandomUnderSampler", "permutation_importance", "AdaBoostClassifier", "AdaBoostRegressor",
    "ParameterSampler", "BayesSearchCV",
}
_SEEDED_ONLY_WHEN_SHUFFLED = {"KFold", "StratifiedKFold", "GroupKFold", "StratifiedGroupKFold"}
_SKLEARN_UTILS = {"sklearn.utils.shuffle", "sklearn.utils.resample"}
_NUMPY_NOT_DRAWS = {"seed", "RandomState", "default_rng", "Generator", "SeedSequence", "get_state", "set_state",
                    "PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64", "BitGenerator", "bit_generator"}
_RANDOM_DRAWS = {"random", "randint", "randrange", "choice", "choices", "shuffle", "sample", "uniform", "gauss",
                 "normalvariate", "triangular", "betavariate", "expovariate", "gammavariate", "lognormvariate",
                 "vonmisesvariate", "paretovariate", "weibullvariate", "getrandbits", "randbytes",
                 "binomialvariate"}
_TORCH_DRAWS = {"rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like", "normal",
                "bernoulli", "multinomial", "poisson"}
_TF1_DRAWS = {"random_normal", "random_uniform", "truncated_normal", "random_shuffle", "random_crop",
              "multinomial", "random_gamma", "random_poisson"}
_SEEDS = {
    "numpy.random.seed": ("numpy",),
    "random.seed": ("random",),
    "torch.manual_seed": ("torch",), "torch.random.manual_seed": ("torch",),
    "torch.cuda.manual_seed": ("torch",), "torch.cuda.manual_seed_all": ("torch",),
    "tensorflow.random.set_seed": ("tensorflow",), "tensorflow.set_random_seed": ("tensorflow",),
    "tensorflow.compat.v1.set_random_seed": ("tensorflow",),
    "tensorflow.compat.v1.random.set_random_seed": ("tensorflow",),
}
# Library helpers that seed everything at once (transformers.set_seed, lightning's seed_everything, ...).
_SEED_EVERYTHING = {"seed_everything", "set_seed", "set_random_seed", "set_global_seed", "set_seeds", "seed_all"}
_ALL_FAMILIES = ("numpy", "random", "torch", "tensorflow")
_SEED_LAST_NAMES = {_last(name) for name in _SEEDS} | _SEED_EVERYTHING
_NUMPY_DRAWS = {
    "rand", "randn", "randint", "random", "random_sample", "random_integers", "ranf", "sample", "choice", "bytes",
    "shuffle", "permutation", "beta", "binomial", "chisquare", "dirichlet", "exponential", "f", "gamma",
    "geometric", "gumbel", "hypergeometric", "laplace", "logistic", "lognormal", "logseries", "multinomial",
    "multivariate_normal", "negative_binomial", "noncentral_chisquare", "noncentral_f", "normal", "pareto",
    "poisson", "power", "rayleigh", "standard_cauchy", "standard_exponential", "standard_gamma",
    "standard_normal", "standard_t", "triangular", "uniform", "vonmises", "wald", "weibull", "zipf",
}
_TF_DRAWS = {"normal", "uniform", "shuffle", "truncated_normal", "categorical", "gamma", "poisson",
             "experimental", "fixed_unigram_candidate_sampler", "learned_unigram_candidate_sampler",
             "log_uniform_candidate_sampler", "uniform_candidate_sampler", "all_candidate_sampler"}
_OPTUNA_SAMPLERS = {"TPESampler", "RandomSampler", "CmaEsSampler", "NSGAIISampler", "NSGAIIISampler",
                    "QMCSampler", "MOTPESampler", "GPSampler", "BoTorchSampler"}
_SEARCH_NAMES = _OPTUNA_SAMPLERS | {"create_study", "fmin", "hyperparameter_search"}
# Only calls with one of these names can draw random numbers; the rest are skipped without resolving.
_RANDOM_LAST_NAMES = (_SEEDED_BY_RANDOM_STATE | _SEEDED_ONLY_WHEN_SHUFFLED | {_last(n) for n in _SKLEARN_UTILS}
                      | _NUMPY_DRAWS | _RANDOM_DRAWS | _TORCH_DRAWS | _TF1_DRAWS | _TF_DRAWS
                      | {"RandomState", "default_rng", "Random"} | _SEARCH_NAMES)


class UnseededRandomness(Rule):
    """## What it does
    Reports randomness that affects results without a seed: `train_test_split`, shuffled splitters
    (`ShuffleSplit`, `KFold(shuffle=True)`), random forests and other tree ensembles, decision trees
    (their split search permutes features at random), k-means, MLPs, SGD models, t-SNE, UMAP,
    `RandomizedSearchCV`, SMOTE, `DataFrame.sample(...)` without `random_state=`; `np.random.*`
    without an earlier `np.random.seed(...)`, `np.random.default_rng()` / `RandomState()` without a
    seed, `random.*` without `random.seed(...)`, `torch.rand*` without `torch.manual_seed(...)`,
    `tf.random.*` without `tf.random.set_seed(...)`; hyper-parameter search that picks its trials at
    random: optuna's samplers without `seed=` (and `optuna.create_study()` without a seeded sampler),
    hyperopt's `fmin` without `rstate=`, `ParameterSampler`, `BayesSearchCV`, transformers'
    `trainer.hyperparameter_search()` without a seeded `sampler=`; a dataset's own
    `shuffle()` without a seed (Hugging Face `datasets`, `tf.data`). A cell's unseeded draws
    are one finding, at the first, listing the other lines.

    Raw draws (`np.random.*`, `random.*`, `torch.rand*`, `tf.random.*`) are reported with severity
    `info`: on real notebooks many make demo data or benchmark inputs whose values do not matter, so
    they are worth a look rather than a warning. Unseeded models, splitters, `df.sample` and
    hyper-parameter searches stay warnings; a cell with both is one warning at the model.

    Not reported: a random row, index or image picked only to be shown (`i = random.randint(...)`
    then `print(ds[i])`, `df.sample(5)` kept in a name that is only displayed, a draw inside a
    `show_*`/`plot_*` function that returns nothing), a `random_state=`/`seed=` argument (also a name such as `random_state=SEED`),
    deterministic estimators (`LinearRegression`, `LogisticRegression`, `StandardScaler`, XGBoost,
    LightGBM and CatBoost, which seed themselves), scikit-learn and pandas calls after
    `np.random.seed(...)` (they draw from NumPy's global generator), a library `seed_everything` /
    `set_seed` call, and `df.sample(5)` that is only displayed.

    ## Why is this bad?
    Every run gives different splits, models and scores, so results cannot be reproduced, compared
    or tested, and a regression hides behind random noise.

    ## Example
    ```python
    from sklearn.model_selection import train_test_split
    X, y = [[1], [2], [3], [4]], [0, 1, 0, 1]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5)
    ```

    ## Use instead
    ```python
    from sklearn.model_selection import train_test_split
    SEED = 42
    X, y = [[1], [2], [3], [4]], [0, 1, 0, 1]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=SEED)
    ```
    """

    code = "RP407"
    name = "unseeded-randomness"
    category = "untestable-code"
    severity = Severity.WARNING
    visits_cells = True
    reads = ("seeds set across cells", "definitions and uses of names across cells")

    def visit_cell(self, cell: CellModel, model: NotebookModel) -> list[Finding]:
        findings: list[Finding] = []
        if not model.may_call(cell, _RANDOM_LAST_NAMES):
            return findings
        seeds = self._seed_positions(model)
        found_here = []
        for call in cell.facts.calls:
            if _short_name(model, call) not in _RANDOM_LAST_NAMES:
                continue
            found = self._unseeded(model, cell, call, seeds)
            if found is not None:
                found_here.append((call, found[1], found[2]))
        if not found_here:
            return findings
        # One problem, one finding: the cell's unseeded draws are reported once, at the first model,
        # splitter or search (a warning) or else at the first raw draw (information: see the docs).
        found_here.sort(key=lambda item: (_is_raw_draw(model, item[0]), item[0].lineno, item[0].col_offset))
        call, message, advice = found_here[0]
        others = sorted({cell.facts.span(other).line for other, _, _ in found_here[1:]}
                        - {cell.facts.span(call).line})
        if others:
            message += f"; this cell draws unseeded random numbers again on {_lines(others)}"
        severity = Severity.INFO if _is_raw_draw(model, call) else self.severity
        span = cell.facts.span(call)
        findings.append(self.finding(cell, span, message, Fix(advice, "unsafe"), severity=severity))
        return findings

    @staticmethod
    def _seed_positions(model: NotebookModel) -> dict[str, tuple]:
        """Family -> the first place (cell index, line, column) a seed is set; found once per notebook."""
        first = model.__dict__.get("_untestable_seeds")
        if first is not None:
            return first
        first = model.__dict__["_untestable_seeds"] = {}
        for cell in model.parsed_cells:
            if not model.may_call(cell, _SEED_LAST_NAMES):
                continue
            for call in cell.facts.calls:
                if _short_name(model, call) not in _SEED_LAST_NAMES:
                    continue
                name = _callee(model, call)
                families = _SEEDS.get(name)
                if families is None and _last(name) in _SEED_EVERYTHING and (call.args or call.keywords):
                    families = _ALL_FAMILIES
                if families is None and name.startswith(("keras.", "tensorflow.keras.")) \
                        and _last(name) == "set_random_seed":
                    families = _ALL_FAMILIES
                if not families or not (call.args or call.keywords) or (call.args and _is_none(call.args[0])):
                    continue
                position = (cell.index, call.lineno, call.col_offset)
                if _outer_function(cell, call) is not None:
                    position = (-1, 0, 0)  # a seeding helper: counts wherever it is called from
                for family in families:
                    if family not in first or position < first[family]:
                        first[family] = position
        return first

    @staticmethod
    def _seeded(seeds: dict, family: str, cell: CellModel, call: ast.Call) -> bool:
        if family == "any":  # a dataset's shuffle draws from NumPy's or TensorFlow's global seed
            return any(UnseededRandomness._seeded(seeds, each, cell, call) for each in ("numpy", "tensorflow"))
        position = seeds.get(family)
        if position is None:
            return False
        if _outer_function(cell, call) is not None:
            return True  # a function runs when it is called, after the seed in practice
        return position < (cell.index, call.lineno, call.col_offset)

    @staticmethod
    def _unseeded(model: NotebookModel, cell: CellModel, call: ast.Call, seeds: dict) -> tuple[str, str, str] | None:
        """(seed family or "", message, advice) when this call draws random numbers without a seed (set
        neither in the call nor by a seed call before it)."""
        found = UnseededRandomness._draw(model, cell, call)
        if found is None:
            found = _unseeded_search(model, call)
        if found is not None and found[0] and UnseededRandomness._seeded(seeds, found[0], cell, call):
            return None
        if not found or _method(call) == "shuffle":
            return found  # shuffling works in place: its effect is the point
        if _only_displayed(model, cell, call):
            return None  # print(np.random.rand(3)): looked at, not used
        if _picked_to_show(model, cell, call):
            return None  # a random row or image picked only to show it
        return found

    @staticmethod
    def _draw(model: NotebookModel, cell: CellModel, call: ast.Call) -> tuple[str, str, str] | None:
        name = _callee(model, call)
        last = _last(name)
        root = root_name(call.func)
        imported_root = root is not None and root in model.aliases
        if _has_star_kwargs(call):
            return None
        seeded_arg = _keyword(call, "random_state", "seed", "random_seed", "rng", "generator")
        if seeded_arg is not None and not _is_none(seeded_arg.value):
            return None
        # scikit-learn style estimators and splitters
        if last in _SEEDED_BY_RANDOM_STATE or last in _SEEDED_ONLY_WHEN_SHUFFLED or name in _SKLEARN_UTILS:
            if name.startswith(("pyspark.", "torch.", "tensorflow.", "keras.")):
                return None
            if isinstance(call.func, ast.Name) and (last in model.class_names or last in model.functions):
                return None  # the notebook's own implementation
            if isinstance(call.func, ast.Attribute) and not imported_root:
                return None  # a method of some object, e.g. a Spark frame's own API
            if last in _SEEDED_ONLY_WHEN_SHUFFLED and not _is_true(getattr(_keyword(call, "shuffle"), "value", None)):
                return None
            if last == "train_test_split":
                shuffle = _keyword(call, "shuffle")
                if shuffle is not None and isinstance(shuffle.value, ast.Constant) and shuffle.value.value is False:
                    return None
            return ("numpy", f"{last}() is random and has no random_state; results change on every run",
                    "Pass random_state=SEED (a constant or a parameter)")
        # A dataset's own shuffle: Hugging Face `ds.shuffle()`, `tf.data` `ds.shuffle(buffer_size)`
        if isinstance(call.func, ast.Attribute) and call.func.attr == "shuffle" and not imported_root \
                and not _is_generator(model, call.func.value) and not _positional_seed(model, call):
            return ("any", (f"{ast.unparse(call.func)[:40]}() has no seed: the order, and what is kept after it, "
                    "changes on every run"), "Pass seed=SEED")
        # DataFrame.sample
        if isinstance(call.func, ast.Attribute) and call.func.attr == "sample" and not imported_root:
            if len(call.args) >= 5 or _only_displayed(model, cell, call):
                return None
            if any(k.arg not in _FRAME_SAMPLE_ARGUMENTS for k in call.keywords):
                return None  # some other object's sample(), e.g. a generative model's
            receiver = root_name(call.func.value)
            if receiver is not None and _is_data(model, receiver) is False and _KINDS[model].get(receiver) == "object":
                return None  # a fitted estimator's own sample(): seeded through its random_state
            return ("numpy", (f"{ast.unparse(call.func)}() draws a random sample without random_state; "
                    "results change on every run"), "Pass random_state=SEED")
        if not imported_root:
            return None
        # NumPy
        if name.startswith("numpy.random."):
            if last in ("RandomState", "default_rng"):
                if call.args and not _is_none(call.args[0]):
                    return None
                return ("", f"np.random.{last}() without a seed gives different numbers on every run",
                        f"Pass a seed: np.random.{last}(SEED)")
            if last in _NUMPY_NOT_DRAWS or last not in _NUMPY_DRAWS or name.count(".") != 2:
                return None
            return ("numpy", (f"np.random.{last}() is used without np.random.seed(...) earlier; "
                    "results change on every run"),
                    "Use rng = np.random.default_rng(SEED) and rng.<method>(), or call np.random.seed(SEED) first")
        # the standard library
        if name.startswith("random.") and name.count(".") == 1:
            if last == "Random":
                if call.args and not _is_none(call.args[0]):
                    return None
                return ("", "random.Random() without a seed gives different numbers on every run",
                        "Pass a seed: random.Random(SEED)")
            if last in _RANDOM_DRAWS:
                return ("random", (f"random.{last}() is used without random.seed(...) earlier; "
                        "results change on every run"), "Call random.seed(SEED) first, or use random.Random(SEED)")
            return None
        # PyTorch and TensorFlow
        if name.startswith("torch.") and name.count(".") == 1 and last in _TORCH_DRAWS:
            return ("torch", (f"torch.{last}() is used without torch.manual_seed(...) earlier; "
                    "results change on every run"), "Call torch.manual_seed(SEED) first")
        if (name.startswith("tensorflow.random.") and name.count(".") == 2
                and last not in ("set_seed", "Generator", "create_rng_state", "get_global_generator")
                and not last.startswith(("stateless", "set_"))) or (name.startswith("tensorflow.") and name.count(".") == 1
                                                          and last in _TF1_DRAWS):
            return ("tensorflow", (f"{ast.unparse(call.func)}() is used without tf.random.set_seed(...) earlier; "
                    "results change on every run"), "Call tf.random.set_seed(SEED) first, or pass seed=")
        return None


_RAW_DRAW_PREFIXES = ("numpy.random.", "random.", "torch.", "tensorflow.")


def _is_raw_draw(model: NotebookModel, call: ast.Call) -> bool:
    """`np.random.rand(3)`, `random.choice(xs)`, `torch.randn(2)`: numbers drawn directly, as opposed to a
    model, a splitter, a sampled frame or a hyper-parameter search that is random without a seed."""
    name = _callee(model, call)
    return name.startswith(_RAW_DRAW_PREFIXES) and _last(name) not in _SEEDED_BY_RANDOM_STATE


def _positional_seed(model: NotebookModel, call: ast.Call) -> bool:
    """Hugging Face's `ds.shuffle(42)` takes the seed first; tf.data's `ds.shuffle(1000)` takes a buffer size.
    A literal integer is a seed unless the notebook uses TensorFlow and not `datasets`."""
    first = call.args[0] if call.args else None
    if not (isinstance(first, ast.Constant) and isinstance(first.value, int)):
        return False
    modules = {name.split(".", 1)[0] for name in model.aliases.values()}
    return not ("tensorflow" in modules and "datasets" not in modules)


_GENERATORS = {"default_rng", "RandomState", "Random", "Generator", "SystemRandom"}


def _is_generator(model: NotebookModel, receiver: ast.AST) -> bool:
    """`rng` in `rng.shuffle(x)`, bound to `np.random.default_rng(...)`: its seeding is checked where it is made."""
    if isinstance(receiver, ast.Call):
        return _last(_callee(model, receiver)) in _GENERATORS
    return isinstance(receiver, ast.Name) and any(
        isinstance(d.binding.statement, ast.Assign) and isinstance(d.binding.statement.value, ast.Call)
        and _last(_callee(model, d.binding.statement.value)) in _GENERATORS
        for d in model.definitions.get(receiver.id, ())) or (
        isinstance(receiver, ast.Name) and receiver.id in ("rng", "random_state", "generator", "rs"))


def _picked_to_show(model: NotebookModel, cell: CellModel, call: ast.Call) -> bool:
    """`i = random.randint(0, n)` then only `print(ds[i])`; `df.sample(5)` kept in a name only shown; a
    draw inside a function that only shows (`show_random_elements`, `show_mask(random_color=True)`)."""
    function = _outer_function(cell, call)
    if function is not None:
        return bool(_SHOW_FUNCTION.match(function.name)) and not _returns_value(cell, function)
    return _shown_use(model, cell, call, {})


def _returns_value(cell: CellModel, function: ast.AST) -> bool:
    return any(node.value is not None and _same_scope(cell, node, function)
               for kind in (ast.Return, ast.Yield, ast.YieldFrom) for node in _within(cell, kind, function))


# Hyper-parameter search draws its trials at random: optuna's samplers, hyperopt's fmin, scikit-learn's
# ParameterSampler (in _SEEDED_BY_RANDOM_STATE), scikit-optimize.


def _unseeded_search(model: NotebookModel, call: ast.Call) -> tuple[str, str, str] | None:
    last = _short_name(model, call)
    if last not in _SEARCH_NAMES or _has_star_kwargs(call):
        return None
    name = _callee(model, call)
    if name.startswith("optuna.") and last in _OPTUNA_SAMPLERS:
        if _keyword(call, "seed") is not None:
            return None
        return ("", f"{last}() has no seed: the trials optuna tries change on every run",
                f"Pass seed=SEED: optuna.samplers.{last}(seed=SEED)")
    if name == "optuna.create_study" or name == "optuna.study.create_study":
        if _keyword(call, "sampler") is not None:
            return None  # the sampler given is checked where it is made
        return ("", "optuna.create_study() without a seeded sampler picks its trials at random on every run",
                "Pass sampler=optuna.samplers.TPESampler(seed=SEED)")
    if last == "hyperparameter_search" and isinstance(call.func, ast.Attribute):
        # transformers' Trainer hands its keywords to optuna.create_study / ray: a seeded sampler is one
        if _keyword(call, "sampler", "seed", "search_alg") is not None:
            return None
        return ("", (f"{ast.unparse(call.func)[:40]}() draws its trials at random (optuna's default sampler) "
                     "with no seed; the best run changes on every run"),
                "Pass sampler=optuna.samplers.TPESampler(seed=SEED)")
    if name == "hyperopt.fmin" or name == "hyperopt.fmin.fmin":
        if _keyword(call, "rstate") is not None:
            return None
        return ("", "hyperopt fmin() without rstate= picks its trials at random on every run",
                "Pass rstate=np.random.default_rng(SEED)")
    return None


_FRAME_SAMPLE_ARGUMENTS = {"n", "frac", "replace", "weights", "axis", "ignore_index", "withReplacement",
                           "fraction"}
# Calls that pass a value on to the display without using it: `round(df.sample(5))` is still a look.
_LOOKING_CALLS = _DISPLAY_CALLS | {"IPython.display.display", "round", "len", "str", "repr", "list", "tuple",
                                   "sorted", "type"}


def _only_displayed(model: NotebookModel, cell: CellModel, call: ast.Call) -> bool:
    """`df.sample(5)` or `print(np.random.rand(3))`: looked at, not used."""
    node: ast.AST = call
    for ancestor in cell.facts.ancestors(call):
        if isinstance(ancestor, ast.Expr):
            return True
        if isinstance(ancestor, ast.Call) and node is not ancestor.func \
                and _callee(model, ancestor) not in _LOOKING_CALLS:
            return False
        if not isinstance(ancestor, (ast.Attribute, ast.Call, ast.Subscript)):
            return False
        node = ancestor
    return False


# ---------------------------------------------------------------------------------------------------
# RP408


class FunctionCalledBeforeDefinition(Rule):
    """## What it does
    Reports a cell that calls (or otherwise uses at top level) a function that the notebook only
    defines in a cell further down. The finding sits on the calling cell.

    Not reported: a call inside another function's body (it runs only when that function is called),
    a name that is also defined or imported in the calling cell or above it, and notebooks that pull
    names in with `from x import *` or `%run` above the call.

    ## Why is this bad?
    The notebook works only because the cells ran in another order; "Restart and run all" stops with
    a `NameError`, and so does the exported pipeline.

    ## Example
    ```python
    totals = summarise([1, 2, 3])
    # %%
    def summarise(values):
        return sum(values)
    ```

    ## Use instead
    ```python
    def summarise(values):
        return sum(values)
    # %%
    totals = summarise([1, 2, 3])
    ```
    """

    code = "RP408"
    name = "function-called-before-definition"
    category = "untestable-code"
    severity = Severity.ERROR
    visits_cells = True
    reads = ("definitions across cells", "names brought in by `import *` and `%run`")

    def visit_cell(self, cell: CellModel, model: NotebookModel) -> list[Finding]:
        findings: list[Finding] = []
        if cell.facts.read_names.isdisjoint(model.function_names):
            return findings  # reads no function of the notebook
        opaque_from = model.__dict__.get("_untestable_opaque_from", -1)
        if opaque_from == -1:
            opaque_from = model.__dict__["_untestable_opaque_from"] = _first_opaque_cell(model)
        if opaque_from is not None and opaque_from <= cell.index:
            return findings
        reported: set[str] = set()
        for read in cell.facts.reads:
            name = read.name
            if name in reported or name not in model.functions:
                continue
            first = model.first_definition_cell(name)
            if first is None or first <= cell.index:
                continue
            if _comprehension_bound(cell, read.node):
                continue
            reported.add(name)
            called = isinstance(cell.facts.parent(read.node), ast.Call) and \
                cell.facts.parent(read.node).func is read.node
            defining = model.functions[name][0]
            findings.append(self.at_node(
                cell, read.node,
                f"Function '{name}' is {'called' if called else 'used'} here but defined only in cell "
                f"{first} below; move its definition above this cell",
                Fix(f"Move the definition of '{name}' (cell {defining.index}) above this cell", "unsafe"),
            ))
        return findings


RULES = (
    FunctionReadsNotebookState,
    FunctionComputesAndWrites,
    TopLevelTraining,
    TopLevelLoop,
    TopLevelDataPipeline,
    InteractiveInput,
    UnseededRandomness,
    FunctionCalledBeforeDefinition,
)
