"""The generated package's tests: imports, characterisation tests of literal calls, an end-to-end run on a sample."""
from __future__ import annotations

import ast
import csv
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .names import fresh_name
from .plan import NOT_LITERAL, ExportPlan, Parameter
from .render import INDENT

SAMPLE_ROWS = 100
_MAX_WHOLE_FILE = 1_000_000  # bytes: other data files are copied whole up to this size
_OUTPUT_WORDS = {"out", "output", "outputs", "report", "reports", "result", "results", "save", "saved", "export",
                 "exports", "dest", "destination", "write", "written", "artifacts", "artifact"}
_OUTPUT_FOLDERS = {"out", "output", "outputs", "reports", "results", "artifacts", "build"}


@dataclass
class DataPlan:
    """How the end-to-end test feeds the pipeline: sampled inputs, redirected outputs, or why it cannot."""

    samples: dict[str, bytes] = field(default_factory=dict)  # tests/data/<name> -> content
    inputs: dict[str, str] = field(default_factory=dict)  # parameter -> sample file name
    outputs: dict[str, tuple[str, bool]] = field(default_factory=dict)  # parameter -> (name under tmp_path, is_dir)
    reason: str = ""  # non-empty: no end-to-end test, and why
    has_checks: bool = False  # the steps hold assert statements that may not hold on a sample
    absent_reads: dict[str, list[str]] = field(default_factory=dict)  # function -> files it reads, not at hand

    @property
    def runs(self) -> bool:
        return not self.reason and bool(self.inputs)


def _words(name: str) -> set[str]:
    return set(re.findall(r"[a-z]+", name.lower()))


def _looks_like_path(value: str) -> bool:
    return ("/" in value or "\\" in value or bool(re.search(r"\.[A-Za-z0-9]{1,8}$", value))) and "://" not in value \
        and "\n" not in value and len(value) < 300


def _is_output(parameter: Parameter) -> bool:
    if _words(parameter.name) & _OUTPUT_WORDS:
        return True
    first = re.split(r"[\\/]", str(parameter.value).lstrip("./"))[0].lower()
    return first in _OUTPUT_FOLDERS


def sample_bytes(path: Path) -> bytes | None:
    """At most SAMPLE_ROWS records of a CSV/TSV (header kept) or a JSON list; small other files whole."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        with open(path, encoding="utf-8", errors="strict", newline="") as handle:
            head = handle.read(4_000_000)
        delimiter = "\t" if suffix == ".tsv" else ","
        reader = csv.reader(io.StringIO(head, newline=""), delimiter=delimiter)
        records = 0
        for _ in reader:
            records += 1
            if records > SAMPLE_ROWS:
                break
        lines = head.splitlines(keepends=True)
        return "".join(lines[: reader.line_num]).encode("utf-8")
    if path.stat().st_size > _MAX_WHOLE_FILE:
        return None
    data = path.read_bytes()
    if suffix == ".json":
        try:
            value = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            return data
        if isinstance(value, list) and len(value) > SAMPLE_ROWS:
            return (json.dumps(value[:SAMPLE_ROWS], indent=1) + "\n").encode("utf-8")
    return data


def plan_data(plan: ExportPlan, folder: Path | None) -> DataPlan:

    data = DataPlan()
    data.has_checks = any(isinstance(node, ast.Assert) for step in plan.steps for statement in step.statements
                          if statement.node is not None for node in ast.walk(statement.node))
    if folder is None:
        data.reason = "the notebook has no folder on disk, so its data files are unknown"
        return data
    root = Path(os.path.abspath(folder))
    taken: set[str] = set()
    for parameter in plan.parameters:
        if not parameter.is_literal or not isinstance(parameter.value, str) or not _looks_like_path(parameter.value):
            continue
        value = parameter.value
        candidate = Path(os.path.abspath(root / value))
        inside = candidate == root or root in candidate.parents
        if _is_output(parameter):
            name = fresh_name(Path(value.rstrip("/\\")).name or parameter.name, taken)
            data.outputs[parameter.name] = (name, not Path(value).suffix)
            continue
        if not inside:
            data.reason = f"{parameter.name} = {value!r} is not beside the notebook"
            continue
        if candidate.is_file():
            try:
                content = sample_bytes(candidate)
            except (OSError, UnicodeDecodeError):
                content = None
            if content is None:
                data.reason = f"{value} is too large to copy into tests/data and not a CSV or JSON list to sample"
                continue
            name = fresh_name(candidate.name, taken)
            data.samples[name] = content
            data.inputs[parameter.name] = name
        elif candidate.is_dir():
            data.reason = f"{parameter.name} = {value!r} is a folder of inputs; copy a small one into tests/data"
        else:
            data.reason = (f"{parameter.name} = {value!r} does not exist beside the notebook; cannot tell whether "
                           "the pipeline reads or writes it")
    if not data.inputs and not data.reason:
        data.reason = "no data file of the notebook was found beside it"
    return data


def _contains_float(value) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, (list, tuple, set)):
        return any(_contains_float(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_float(v) for v in value.values())
    return False


def _approx_ok(value) -> bool:
    """pytest.approx compares numbers, and flat lists, tuples and dicts of numbers."""
    number = (int, float)
    if isinstance(value, number) and not isinstance(value, bool):
        return True
    if isinstance(value, (list, tuple)):
        return all(isinstance(v, number) and not isinstance(v, bool) for v in value)
    if isinstance(value, dict):
        return all(isinstance(v, number) and not isinstance(v, bool) for v in value.values())
    return False


@dataclass
class Beside:
    """What the notebook's relative paths name beside it: shipped into tests/data/beside/, or known absent."""

    folders: list[str] = field(default_factory=list)  # folders its paths write into (created empty for tests)
    files: dict[str, bytes] = field(default_factory=dict)  # relative path -> content (CSV sampled)
    absent_reads: dict[str, list[str]] = field(default_factory=dict)  # function -> files it reads, not at hand


_RELATIVE_FILE = re.compile(r"^[\w.\- /]+\.[A-Za-z0-9]{1,8}$")
_READ_WORDS = ("read", "load", "open", "imread", "genfromtxt")


def _reads_it(facts, node) -> bool:
    """The string is the first argument of a call that reads (`open(p)`, `pd.read_csv(p)`, `np.load(p)`)."""
    parent = facts.parent(node)
    if not isinstance(parent, ast.Call) or not parent.args or parent.args[0] is not node:
        return False
    func = parent.func
    word = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if word == "open":
        mode = parent.args[1] if len(parent.args) > 1 else next((k.value for k in parent.keywords if k.arg == "mode"),
                                                                 None)
        return not (isinstance(mode, ast.Constant) and isinstance(mode.value, str) and set(mode.value) & set("wax"))
    return word.lower().startswith(_READ_WORDS)


def scan_beside(model, plan: ExportPlan, folder: Path | None) -> Beside:
    """Relative paths in the exported code that exist beside the notebook, and files functions read that do not.

    Generated tests run in an empty temporary folder. The files the code names there (a stylesheet, a small
    lookup table) are shipped in tests/data/beside/ (CSV sampled, others when small) and copied in first, and
    the folders it writes into are created, so a test fails only for what the code does.
    """
    found = Beside()
    if folder is None:
        return found
    root = Path(os.path.abspath(folder))
    exported = set(plan.exported_cells)
    folders: set[str] = set()
    total = 0
    lifted = {p.value for p in plan.parameters if p.is_literal and isinstance(p.value, str)}
    for cell in model.code_cells:
        if cell.index not in exported or cell.facts.tree is None:
            continue
        facts = cell.facts
        for node in facts.strings:
            value = node.value.replace("\\", "/")
            if node.value in lifted:
                continue  # a parameter: the end-to-end test passes its sample from tests/data
            if not value or len(value) > 200 or "://" in value or value.startswith(("/", "~")) or ":" in value:
                continue
            parts = [part for part in value.split("/") if part not in ("", ".")]
            if not parts or ".." in parts or any(part.startswith(".") and len(part) > 1 for part in parts[:-1]):
                continue
            relative = "/".join(parts)
            try:
                if (root / relative).is_dir():
                    folders.add(relative)
                    continue
                if (root / relative).parent != root and (root / relative).parent.is_dir():
                    folders.add("/".join(parts[:-1]))
                if not _RELATIVE_FILE.match(relative):
                    continue
                if (root / relative).is_file():
                    if relative not in found.files and total < 5_000_000:
                        content = sample_bytes(root / relative)
                        if content is not None:
                            found.files[relative] = content
                            total += len(content)
                    continue
            except (OSError, UnicodeDecodeError):
                continue
            function = facts.enclosing_function(node)
            top = facts.top_statement(node)
            if function is not None and isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                    and _reads_it(facts, node):
                found.absent_reads.setdefault(top.name, [])
                if value not in found.absent_reads[top.name]:
                    found.absent_reads[top.name].append(value)
    found.folders = sorted(folders)[:50]
    return found


def render_conftest(beside: Beside | None = None) -> str:
    beside = beside or Beside()
    made = []
    if beside.folders:
        made += [f"{INDENT}for folder in {beside.folders!r}:  # folders beside the notebook its paths name",
                 f"{INDENT * 2}(tmp_path / folder).mkdir(parents=True, exist_ok=True)"]
    if beside.files:
        made += [f"{INDENT}# files beside the notebook its code reads by relative path (samples, see tests/data/beside)",
                 f"{INDENT}shutil.copytree(BESIDE, tmp_path, dirs_exist_ok=True)"]
    imports = ["import os", "import shutil", "from pathlib import Path"] if beside.files else ["import os"]
    constants = ['BESIDE = Path(__file__).parent / "data" / "beside"'] if beside.files else []
    return "\n".join([
        '"""Every generated test runs in its own temporary folder: the notebook\'s relative paths read and write'
        ' there,', 'never beside the package."""', "", "from __future__ import annotations", "", *imports, "",
        "import pytest", "",
        "# Set before the tests import the pipeline: a figure the code makes never opens a window.",
        'os.environ.setdefault("MPLBACKEND", "Agg")', *constants, "", "",
        "@pytest.fixture(autouse=True)", "def _in_a_temporary_folder(tmp_path, monkeypatch):",
        f"{INDENT}monkeypatch.chdir(tmp_path)", *made, "",
    ])


def _missing_reason(plan: ExportPlan, function: str) -> str:
    names = ", ".join(plan.needs_missing[function])
    return f"TODO: {function}() needs {names}, which the package could not define (README, Known issues)"


NOTEBOOK_DATA_VARIABLE = "NOTEBOOK_DATA_DIR"


def _decimals(text: str) -> int | None:
    """The most decimals among the numbers printed in `text` (the precision they were shown at); None without floats.

    A float the notebook displayed is its shortest repr, so the most precise number printed says how closely a
    re-run must agree; a rounded one (`0.73` from `round(x, 2)`) then agrees to its own digits too.
    """
    found = [len(fraction) for fraction in re.findall(r"\d\.(\d+)(?![\d.])", text)]
    return max(found) if found else None


def _assertion(expression: str, kind: str, text: str) -> str | None:
    """`assert <expression> ...` comparing with a saved output at its printed precision, or None."""
    if kind == "shape":
        value = _literal_value(text)
        if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
            return f"assert tuple({expression}.shape) == {value!r}"
        return None
    value = _literal_value(text)
    if value is NOT_LITERAL or isinstance(value, bool) or value is None:
        return None
    decimals = _decimals(text)
    if _contains_float(value) and _approx_ok(value) and decimals is not None:
        return f"assert {expression} == pytest.approx({value!r}, rel=1e-6, abs={0.5 * 10 ** -decimals!r})"
    if isinstance(value, (int, str)) or (isinstance(value, (list, tuple, dict)) and not _contains_float(value)):
        return f"assert {expression} == {value!r}"
    return None


def _literal_value(text: str):
    from .plan import _saved_value

    return _saved_value(text)


def _reproduction_test(plan: ExportPlan, data: DataPlan, blocked: list[str]) -> str | None:
    """run() on the notebook's own data reproduces what the notebook showed (to the printed precision).

    The data is the notebook's, not a sample, so the test runs only when NOTEBOOK_DATA_DIR names the folder that
    holds it (the notebook's folder); it is skipped, saying so, everywhere else.
    """
    if blocked:
        return None
    results = set(plan.results)
    checks = []
    seen = set()
    for name, kind, text in plan.shown:
        if name not in results or (name, kind) in seen:
            continue
        line = _assertion(f"results[{name!r}]", kind, text)
        if line:
            seen.add((name, kind))
            checks += [f"{INDENT}# the notebook showed {name}{'.shape' if kind == 'shape' else ''}: "
                       f"{' '.join(text.split())[:60]}", f"{INDENT}{line}"]
    if not checks:
        return None
    inputs = {p.name: p.value for p in plan.parameters if p.name in data.inputs}
    outputs = sorted(data.outputs.items())
    needs = ", ".join(sorted(str(v) for v in inputs.values())) or "the data it reads"
    reason = f"set {NOTEBOOK_DATA_VARIABLE} to the notebook's folder (with {needs}) to compare with its outputs"
    lines = [f"@pytest.mark.skipif(not os.environ.get({NOTEBOOK_DATA_VARIABLE!r}), reason={reason!r})",
             "def test_run_reproduces_what_the_notebook_showed(tmp_path):",
             f"{INDENT}folder = Path(os.environ[{NOTEBOOK_DATA_VARIABLE!r}])"]
    for parameter, (name, is_dir) in outputs:
        if is_dir:
            lines.append(f"{INDENT}(tmp_path / {name!r}).mkdir()")
    arguments = [f"{parameter}=str(folder / {value!r})" for parameter, value in inputs.items()]
    arguments += [f"{parameter}=str(tmp_path / {name!r})" for parameter, (name, _) in outputs]
    lines.append(f"{INDENT}results = pipeline.run(Params({', '.join(arguments)}))")
    return "\n".join(lines + checks)


def _sample_run_fixture(plan: ExportPlan, data: DataPlan, functions: list[str]) -> str:
    """A module fixture: run() once on the data sample, recording each notebook function's calls and results."""
    arguments = [f"{parameter}=str(DATA / {name!r})" for parameter, name in data.inputs.items()]
    arguments += [f"{parameter}=str(folder / {name!r})" for parameter, (name, _) in data.outputs.items()]
    lines = ["@pytest.fixture(scope=\"module\")", "def calls_on_sample(tmp_path_factory):",
             f"{INDENT}\"\"\"run() once on the data sample, in a temporary folder, recording what each notebook function "
             "returned.\"\"\"",
             f"{INDENT}folder = tmp_path_factory.mktemp(\"sample_run\")",
             f"{INDENT}seen = {{name: [] for name in {functions!r}}}",
             f"{INDENT}with pytest.MonkeyPatch.context() as patch:",
             f"{INDENT * 2}patch.chdir(folder)",
             f"{INDENT * 2}if BESIDE.is_dir():",
             f"{INDENT * 3}shutil.copytree(BESIDE, folder, dirs_exist_ok=True)"]
    for parameter, (name, is_dir) in sorted(data.outputs.items()):
        if is_dir:
            lines.append(f"{INDENT * 2}(folder / {name!r}).mkdir()")
    lines += [f"{INDENT * 2}for name, calls in seen.items():",
              f"{INDENT * 3}patch.setattr(pipeline, name, _recorder(getattr(pipeline, name), calls))"]
    if data.has_checks:
        lines += [f"{INDENT * 2}try:", f"{INDENT * 3}pipeline.run(Params({', '.join(arguments)}))",
                  f"{INDENT * 2}except AssertionError:",
                  f"{INDENT * 3}pass  # a check of the notebook (a quality bar) may fail on 100 rows; what ran counts"]
    else:
        lines.append(f"{INDENT * 2}pipeline.run(Params({', '.join(arguments)}))")
    lines.append(f"{INDENT}return seen")
    recorder = ["def _recorder(function, calls):", f"{INDENT}@functools.wraps(function)",
                f"{INDENT}def record(*args, **kwargs):", f"{INDENT * 2}result = function(*args, **kwargs)",
                f"{INDENT * 2}calls.append((args, kwargs, result))", f"{INDENT * 2}return result", "",
                f"{INDENT}return record"]
    return "\n".join(recorder) + "\n\n\n" + "\n".join(lines)


def render_tests(plan: ExportPlan, package: str, data: DataPlan, live: dict[str, dict] | None = None) -> str:
    tests: list[str] = []
    taken: set[str] = set()
    uses_pytest = False
    seen_calls: set[tuple[str, str]] = set()
    tested: set[str] = set()
    tests.append("\n".join([
        "def test_package_imports():",
        f"{INDENT}assert callable(pipeline.run)",
        f"{INDENT}assert isinstance(Params(), Params)",
    ]))
    for call in plan.calls:
        if not call.literal or (call.function, call.args_source) in seen_calls:
            continue
        seen_calls.add((call.function, call.args_source))
        name = fresh_name(f"test_{call.function}_as_in_cell_{call.cell_index}", taken)
        arguments = call.args_source
        state = plan.state.get(call.function, [])
        if state and all(variable in plan.state_values for variable in state):
            # the notebook state the function reads as parameters, with the literals the notebook gave it
            arguments = ", ".join([a for a in [arguments] if a]
                                  + [f"{variable}={plan.state_values[variable]}" for variable in state])
        lines = [f"def {name}():", f"{INDENT}result = pipeline.{call.function}({arguments})"]
        if state and not all(variable in plan.state_values for variable in state):
            uses_pytest = True
            missing = ", ".join(v for v in state if v not in plan.state_values)
            lines.insert(0, f"@pytest.mark.skip(reason={f'TODO: {call.function}() needs the notebook state {missing}; build it in a fixture'!r})")
        elif call.function in data.absent_reads:
            uses_pytest = True
            read = ", ".join(data.absent_reads[call.function])
            why = (f"TODO: {call.function}() reads {read}, which was not beside the notebook when it was exported; "
                   "put a small sample in tests/data/beside/")
            lines.insert(0, f"@pytest.mark.skip(reason={why!r})")
        elif call.function in plan.needs_missing:
            uses_pytest = True
            lines.insert(0, f"@pytest.mark.skip(reason={_missing_reason(plan, call.function)!r})")
        if call.printed:
            lines.append(f"{INDENT}assert str(result) == {call.expected_text!r}")
        elif call.expected is not NOT_LITERAL:
            if _contains_float(call.expected) and _approx_ok(call.expected):
                uses_pytest = True
                lines.append(f"{INDENT}assert result == pytest.approx({call.expected!r})")
            else:
                lines.append(f"{INDENT}assert result == {call.expected!r}")
        elif call.expected_text:
            first = call.expected_text.strip().splitlines()[0][:70] if call.expected_text.strip() else ""
            lines.append(f"{INDENT}# the notebook showed: {first}")
            lines.append(f"{INDENT}assert result is not None")
        tests.append("\n".join(lines))
        tested.add(call.function)
    blocked = sorted({name for step in plan.steps for name in plan.needs_missing.get(step.name, [])})
    if blocked:
        data.reason = (f"run() needs {', '.join(blocked)}, which the package could not define "
                       "(README, Known issues)")
    if data.runs:
        lines = ["def test_run_end_to_end_on_data_sample(tmp_path):"]
        for parameter, (name, is_dir) in sorted(data.outputs.items()):
            if is_dir:
                lines.append(f"{INDENT}(tmp_path / {name!r}).mkdir()")
        arguments = [f"{parameter}=str(DATA / {name!r})" for parameter, name in data.inputs.items()]
        arguments += [f"{parameter}=str(tmp_path / {name!r})" for parameter, (name, _) in data.outputs.items()]
        lines.append(f"{INDENT}params = Params({', '.join(arguments)})")
        if data.has_checks:
            uses_pytest = True
            lines += [f"{INDENT}try:", f"{INDENT * 2}results = pipeline.run(params)",
                      f"{INDENT}except AssertionError as exc:",
                      f"{INDENT * 2}# the notebook's own checks (asserts of its steps) ran on 100 rows, not on all",
                      f"{INDENT * 2}pytest.skip(f\"a check of the notebook failed on the data sample: {{exc}}\")"]
        else:
            lines.append(f"{INDENT}results = pipeline.run(params)")
        lines.append(f"{INDENT}assert isinstance(results, dict)")
        if plan.results:
            lines.append(f"{INDENT}assert sorted(results) == {sorted(plan.results)!r}")
        tests.append("\n".join(lines))
    else:
        uses_pytest = True
        reason = f"TODO: no end-to-end test: {data.reason}"
        tests.append("\n".join([f"@pytest.mark.skip(reason={reason!r})", "def test_todo_run_end_to_end():",
                                f"{INDENT}pipeline.run(Params())"]))
    reproduced = _reproduction_test(plan, data, blocked)
    if reproduced:
        uses_pytest = True
        tests.append(reproduced)
        plan.reproduces = True
    literal_callers = {call.function for call in plan.calls}
    live = {function: expected for function, expected in (live or {}).items()
            if function not in tested and function not in plan.needs_missing}
    if live:
        from .live import render_live_tests

        uses_pytest = True
        tests.extend(render_live_tests(live, INDENT))
        tested.update(live)
    on_sample = []
    if data.runs:
        # every function run() reaches: called by a step, or by another function (recorded all the same)
        on_sample = [f for f in plan.functions if f not in tested and f not in plan.needs_missing
                     and f not in data.absent_reads]
    if on_sample:
        uses_pytest = True
        tests.append(_sample_run_fixture(plan, data, on_sample))
        for function in on_sample:
            name = fresh_name(f"test_{function}_on_the_data_sample", taken)
            tests.append("\n".join([
                f"def {name}(calls_on_sample):",
                f"{INDENT}calls = calls_on_sample[{function!r}]",
                f"{INDENT}if not calls:",
                f"{INDENT * 2}pytest.skip(\"run() did not call {function}() on the sample (a branch the sample does "
                "not take, or a check of the notebook that failed before it)\")",
                *([f"{INDENT}for _args, _kwargs, result in calls:",
                   f"{INDENT * 2}assert result is not None  # the notebook's {function}() returns a value"]
                  if function in plan.returns_value else [f"{INDENT}assert calls"]),
            ]))
            tested.add(function)
    for function in plan.functions:
        if function in tested:
            continue
        uses_pytest = True
        if function in literal_callers:
            why = f"{function}() is called with notebook data, not literals; write a test with a small fixture"
        else:
            why = f"{function}() is not called at the top level of the notebook; write a test for it"
        name = fresh_name(f"test_todo_{function}", taken)
        tests.append("\n".join([f"@pytest.mark.skip(reason={('TODO: ' + why)!r})", f"def {name}():",
                                f"{INDENT}assert callable(pipeline.{function})"]))
    for cls in plan.classes:
        uses_pytest = True
        name = fresh_name(f"test_todo_{cls.lower()}", taken)
        why = f"TODO: {cls} is a class of the notebook; write a test that builds one"
        tests.append("\n".join([f"@pytest.mark.skip(reason={why!r})", f"def {name}():",
                                f"{INDENT}assert pipeline.{cls}"]))
    header = ['"""Tests written by readiness-magics with the package; they pass as generated, TODOs are skipped."""',
              "", "from __future__ import annotations", ""]
    if reproduced or live:
        header += ["import os", "import pickle", ""] if live else ["import os", ""]
    if data.runs or reproduced or live:
        header += ["from pathlib import Path", ""]
    if uses_pytest:
        header += ["import pytest", ""]
    header += [f"from {package} import pipeline", f"from {package}.params import Params"]
    if on_sample:
        header[header.index("import pytest")] = "import functools\nimport shutil\n\nimport pytest"
    if data.runs:
        header += ["", 'DATA = Path(__file__).parent / "data"']
    if on_sample:
        header += ['BESIDE = DATA / "beside"']
    if live:
        header += ["", 'LIVE = Path(__file__).parent / "data" / "live"']
    return "\n".join(header) + "\n\n\n" + "\n\n\n".join(tests) + "\n"
