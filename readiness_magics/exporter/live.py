"""Fixtures from a live kernel: the values each notebook function was called with, and what it returned.

`%readiness export` in a kernel that ran the notebook knows the real values. For each top-level call
`result = f(a, b)` whose arguments are plain names, the arguments' current values (frames and arrays cut to
SAMPLE_ROWS rows) go to tests/data/live/ as a pickle, and a description of the result (its type, columns, dtypes,
length relation, or the value itself when small) becomes the test's expectation.
"""
from __future__ import annotations

import io
import os
import pickle
import re
from collections.abc import Mapping

from .plan import Call, ExportPlan

SAMPLE_ROWS = 100
_MAX_FIXTURE = 2_000_000  # bytes per pickled call


def _sample(value):
    """Frames, series and arrays cut to their first SAMPLE_ROWS rows; anything else as it is."""
    if hasattr(value, "iloc") and hasattr(value, "__len__") and len(value) > SAMPLE_ROWS:
        return value.iloc[:SAMPLE_ROWS]
    if type(value).__module__.startswith("numpy") and getattr(value, "ndim", 0) >= 1 and len(value) > SAMPLE_ROWS:
        return value[:SAMPLE_ROWS]
    return value


def _small_literal(value) -> bool:
    if isinstance(value, bool) or value is None or isinstance(value, (int, float, str)):
        return len(repr(value)) < 500
    if isinstance(value, (list, tuple)):
        return len(value) <= 50 and all(_small_literal(v) for v in value)
    if isinstance(value, dict):
        return len(value) <= 50 and all(_small_literal(k) and _small_literal(v) for k, v in value.items())
    return False


def _plain(value):
    """numpy and pandas scalars as Python's own, so the expectation's repr is valid Python in the test."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        return float(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value) if type(value) in (list, tuple) else [_plain(v) for v in value]
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value


def describe(value, arguments: list) -> dict:
    """What a test can check of a result computed on sampled arguments: its kind and shape, not its numbers."""
    found: dict = {"type": f"{type(value).__module__}.{type(value).__qualname__}"}
    columns = getattr(value, "columns", None)
    if columns is not None:
        found["columns"] = [str(c) for c in columns]
        dtypes = getattr(value, "dtypes", None)
        if dtypes is not None:
            found["dtypes"] = [str(d) for d in dtypes]
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and len(shape) > 1:
        found["width"] = shape[1]
    try:
        length = len(value)
    except TypeError:
        length = None
    if length is not None:
        for position, argument in enumerate(arguments):
            try:
                if len(argument) == length and length > 0:
                    found["same_length_as"] = position  # a row-wise transform keeps the rows
                    break
            except TypeError:
                continue
    return found


def _names_a_file(value) -> bool:
    text = str(value) if isinstance(value, (str, os.PathLike)) else ""
    return bool(text) and len(text) < 300 and "\n" not in text and bool(re.search(r"[/\\]|\.[A-Za-z0-9]{1,8}$", text))


def live_fixtures(plan: ExportPlan, namespace: Mapping, shipped: set[str] = frozenset()
                  ) -> tuple[dict[str, bytes], dict[str, dict]]:
    """tests/data/live/<function>.pkl -> pickled (args, kwargs), and function -> the expectation of its test.

    A call given a file name is left out unless that file ships with the tests (`shipped`, relative paths that the
    tests' temporary folder gets): the test would only fail on a missing file.
    """
    files: dict[str, bytes] = {}
    expectations: dict[str, dict] = {}
    taken: set[str] = set()
    for call in plan.calls:
        if call.literal or call.function in taken or not (call.argument_names or call.keyword_names):
            continue
        fixture = _fixture(call, plan, namespace, shipped)
        if fixture is None:
            continue
        taken.add(call.function)
        files[f"{call.function}.pkl"], expectations[call.function] = fixture
    return files, expectations


def _fixture(call: Call, plan: ExportPlan, namespace: Mapping, shipped: set[str]):
    names = [*call.argument_names, *(name for _, name in call.keyword_names)]
    state = plan.state.get(call.function, [])
    if any(name not in namespace for name in [*names, *state]):
        return None
    if any(_names_a_file(namespace[name]) and str(namespace[name]).replace("\\", "/").lstrip("./") not in shipped
           for name in call.argument_names + tuple(n for _, n in call.keyword_names)):
        return None
    sampled = {name: _sample(namespace[name]) for name in {*names, *state}}
    args = [sampled[name] for name in call.argument_names]
    kwargs = {keyword: sampled[name] for keyword, name in call.keyword_names}
    kwargs.update({name: sampled[name] for name in state})
    whole = all(sampled[name] is namespace[name] for name in sampled)  # nothing was cut
    expectation: dict = {"cell": call.cell_index}
    if call.target and call.target in namespace:
        result = namespace[call.target]
        if whole and _small_literal(result):
            expectation["value"] = _plain(result)
        else:
            expectation.update(describe(result, [namespace[name] for name in call.argument_names]))
    buffer = io.BytesIO()
    try:
        pickle.dump((tuple(args), kwargs), buffer, protocol=4)
    except Exception:  # noqa: BLE001 - a value that does not pickle (a connection, a model handle): no fixture
        return None
    if buffer.tell() > _MAX_FIXTURE:
        return None
    return buffer.getvalue(), expectation


def render_live_tests(expectations: dict[str, dict], indent: str) -> list[str]:
    """One test per function with a live fixture: it runs on the recorded arguments and returns the same kind."""
    tests = []
    for function, expected in expectations.items():
        lines = [f"def test_{function}_on_the_notebooks_values():",
                 (f"{indent}\"\"\"Called with the values the notebook gave it (cell {expected['cell']}; frames cut "
                  f"to {SAMPLE_ROWS} rows).\"\"\""),
                 f"{indent}args, kwargs = pickle.loads((LIVE / {function + '.pkl'!r}).read_bytes())",
                 f"{indent}result = pipeline.{function}(*args, **kwargs)"]
        if "value" in expected:
            value = expected["value"]
            if isinstance(value, float):
                lines.append(f"{indent}assert result == pytest.approx({value!r})")
            else:
                lines.append(f"{indent}assert result == {value!r}")
        elif "type" in expected:
            lines.append(f"{indent}assert f\"{{type(result).__module__}}.{{type(result).__qualname__}}\" == "
                         f"{expected['type']!r}")
            if "columns" in expected:
                lines.append(f"{indent}assert [str(c) for c in result.columns] == {expected['columns']!r}")
            if "dtypes" in expected:
                lines.append(f"{indent}assert [str(d) for d in result.dtypes] == {expected['dtypes']!r}")
            if "width" in expected:
                lines.append(f"{indent}assert result.shape[1] == {expected['width']!r}")
            if "same_length_as" in expected:
                lines.append(f"{indent}assert len(result) == len(args[{expected['same_length_as']}])")
        tests.append("\n".join(lines))
    return tests
