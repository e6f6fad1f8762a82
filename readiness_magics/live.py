"""What only a live kernel knows: the versions installed for a notebook's imports, and checks drawn from live data."""
from __future__ import annotations

import importlib.util
import math
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .analysis import analyse_source
from .notebook import Notebook

# ---------------------------------------------------------------------------------------------
# Pins
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pin:
    """One third-party import of a notebook and what this kernel has installed for it."""

    module: str  # the top-level import name: "sklearn"
    distribution: str | None  # the installed distribution that provides it: "scikit-learn"
    version: str | None
    cell_index: int  # first cell that imports it

    @property
    def requirement(self) -> str | None:
        if self.distribution and self.version:
            return f"{self.distribution}=={self.version}"
        return None


def third_party_imports(notebook: Notebook, local_dirs: tuple[Path, ...] = ()) -> list[tuple[str, str, int]]:
    """(top-level module, full module, first cell) of each absolute import that is not the standard library
    or a module lying beside the notebook, in the order the notebook first imports them."""
    seen: dict[str, tuple[str, str, int]] = {}
    for cell in notebook.cells:
        if not cell.is_code or cell.problem:
            continue
        for fact in analyse_source(cell.source).imports:
            top = fact.top_level
            if fact.level or not top or top in seen or top == "__future__":
                continue
            if top in sys.stdlib_module_names or top in sys.builtin_module_names:
                continue
            if any(_is_local_module(folder, top) for folder in local_dirs):
                continue
            seen[top] = (top, fact.module, cell.index)
    return list(seen.values())


def pins_for(notebook: Notebook, local_dirs: tuple[Path, ...] = ()) -> list[Pin]:
    """For each third-party import, the distribution and version installed in this interpreter."""
    import importlib.metadata  # here: the CLI imports this module with the rules and never asks

    pins = []
    for top, full, cell_index in third_party_imports(notebook, local_dirs):
        distribution = distribution_for(top, full)
        version = None
        if distribution is not None:
            try:
                version = importlib.metadata.version(distribution)
            except importlib.metadata.PackageNotFoundError:
                distribution = None
        pins.append(Pin(top, distribution, version, cell_index))
    return pins


def requirements_text(pins: list[Pin], source: str) -> str:
    """A requirements file: one `dist==version` line per import, sorted; missing ones as comments."""
    lines = [f"# Pinned by `%readiness pin` from the versions installed in this kernel ({source})."]
    requirements = sorted({pin.requirement for pin in pins if pin.requirement}, key=str.lower)
    lines.extend(requirements)
    for pin in pins:
        if pin.requirement is None:
            lines.append(f"# {pin.module}: imported by the notebook but not installed in this kernel")
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=1)
def _packages_distributions() -> dict[str, list[str]]:
    # Scans every installed distribution once; a kernel does not gain packages often enough to matter,
    # and pins_for() falls back to a fresh scan when a module is unknown.
    import importlib.metadata

    return importlib.metadata.packages_distributions()


def distribution_for(top_level: str, full_module: str | None = None) -> str | None:
    """The distribution that provides an import name, or None when nothing installed provides it."""
    import importlib.metadata

    candidates = _packages_distributions().get(top_level)
    if not candidates:
        _packages_distributions.cache_clear()  # installed since the first scan (`%pip install` in the kernel)?
        candidates = _packages_distributions().get(top_level)
    if not candidates:
        return None
    unique = list(dict.fromkeys(candidates))
    if len(unique) == 1:
        return _display_name(unique[0])
    # A namespace package (google.cloud.storage, azure.storage.blob): the distribution that holds the
    # imported submodule's files.
    parts = (full_module or top_level).split(".")
    for depth in range(len(parts), 0, -1):
        prefix = "/".join(parts[:depth])
        for name in unique:
            try:
                files = importlib.metadata.distribution(name).files or ()
            except importlib.metadata.PackageNotFoundError:
                continue
            if any(str(file).startswith((prefix + "/", prefix + ".py")) for file in files):
                return _display_name(name)
    return _display_name(unique[0])


def _display_name(distribution: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.distribution(distribution).metadata["Name"] or distribution
    except importlib.metadata.PackageNotFoundError:
        return distribution


def _is_local_module(folder: Path, name: str) -> bool:
    return (folder / f"{name}.py").is_file() or (folder / name / "__init__.py").is_file() or (
        (folder / name).is_dir() and any((folder / name).glob("*.py"))
    )


# ---------------------------------------------------------------------------------------------
# What the kernel knows about the notebook it checks (read by the rules in rules/live_kernel.py)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KernelFacts:
    """What the kernel running `%readiness` knows beyond the saved file; the magics put it on
    `Notebook.kernel`. The live rules stay silent without it (the CLI, the server, the exporter)."""

    # IPython's `In`: the source of every execution of this session as typed, In[0] empty.
    inputs: tuple[str, ...] = ()
    # The notebook is the one this kernel's session runs (`__session__` or VS Code names it), so its
    # saved execution counts may have been given by this kernel.
    same_session: bool = False
    # A cell checked before it runs (`%%readiness`): its install lines have not run yet.
    pending_cell: int | None = None
    # Execution counts this kernel gave after the file was last saved: the file cannot hold them, so a
    # saved cell with one of these counts got it from an earlier session.
    ran_after_save: frozenset[int] = frozenset()


def kernel_facts(inputs, *, same_session: bool, pending_cell: int | None = None,
                 ran_after_save=frozenset()) -> KernelFacts:
    """KernelFacts from a kernel's `In` list (any sequence; items that are not text count as empty)."""
    return KernelFacts(tuple(item if isinstance(item, str) else "" for item in inputs), same_session, pending_cell,
                       frozenset(ran_after_save))


def installed_version_now(distribution: str) -> str | None:
    """The installed version, looked up now: a `%pip install` in this kernel changes it, so no cache."""
    import importlib.metadata

    try:
        return importlib.metadata.version(distribution)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None
    except Exception:  # noqa: BLE001 - broken metadata must not stop the check
        return None


def module_origin(top_level: str) -> Path | None:
    """Where this kernel would import a top-level module from (its file or package folder), without
    importing it; None when it cannot be imported here."""
    loaded = sys.modules.get(top_level)
    spec = getattr(loaded, "__spec__", None) if loaded is not None else None
    if spec is None:
        try:
            spec = importlib.util.find_spec(top_level)
        except (ImportError, ValueError):
            return None
    if spec is None:
        return None
    if spec.origin and spec.origin not in ("built-in", "frozen", "namespace"):
        return Path(spec.origin)
    locations = list(spec.submodule_search_locations or ())
    return Path(locations[0]) if locations else Path(top_level)


def loaded_version(top_level: str) -> str | None:
    """`__version__` of a module this kernel has already imported (what the running code uses)."""
    module = sys.modules.get(top_level)
    version = getattr(module, "__version__", None) if module is not None else None
    return version if isinstance(version, str) else None


# ---------------------------------------------------------------------------------------------
# Data checks
# ---------------------------------------------------------------------------------------------

# Above this many distinct values a text column is free text, not a set of categories.
MAX_CATEGORIES = 12
_ID_NAME = re.compile(r"(^|_)(id|key|uuid|guid)$|Id$|ID$", re.IGNORECASE)


@dataclass(frozen=True)
class ColumnProfile:
    """What the live data showed about one column."""

    name: Any
    dtype: str
    nullable: bool
    unique: bool
    low: Any = None  # Python literals (int, float or an ISO timestamp string), or None
    high: Any = None
    categories: tuple | None = None
    kind: str = "other"  # number, datetime, bool, text, category, other


@dataclass(frozen=True)
class DataCheck:
    """Code to paste under a load, and how it was made."""

    name: str
    style: str  # "asserts" or "pandera"
    code: str
    rows: int
    columns: int
    dropped: tuple[str, ...] = ()  # checks left out because they did not hold on the live data


def is_dataframe(value: Any) -> bool:
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)


def pandera_available() -> bool:
    return importlib.util.find_spec("pandera") is not None


def profile_frame(frame) -> list[ColumnProfile]:
    """Columns, dtypes, nullability, ranges, categories and uniqueness as seen in `frame`."""
    import pandas as pd

    rows = len(frame)
    profiles = []
    for position, column in enumerate(frame.columns):
        series = frame.iloc[:, position]
        if hasattr(column, "item") and not isinstance(column, str):
            column = column.item()  # np.int64(0) -> 0, so the generated code shows a plain literal
        dtype = series.dtype
        present = series.dropna()
        nullable = len(present) < rows
        kind = _kind(pd, dtype)
        low = high = None
        categories = None
        unique = False
        if kind in ("number", "datetime") and len(present):
            low, high = _literal(present.min()), _literal(present.max())
            if low is None or high is None:
                low = high = None
            elif kind == "number":
                low, high = _round_out(low, up=False), _round_out(high, up=True)
        if kind in ("text", "category", "bool") and len(present):
            try:
                values = present.unique()
            except TypeError:  # unhashable objects
                values = None
            if values is not None and kind != "bool" and len(values) <= MAX_CATEGORIES and rows >= 2 * len(values):
                literals = [_literal(value) for value in values]
                if all(isinstance(value, str) for value in literals):
                    categories = tuple(sorted(literals))
        if kind in ("number", "text") and rows >= 2 and not nullable:
            try:
                looks_unique = bool(series.is_unique)
            except TypeError:
                looks_unique = False
            # Unique by chance is common for measurements; say so only for keys.
            is_key = _ID_NAME.search(str(column)) is not None
            if looks_unique and (is_key or (kind == "text" and rows >= 10)) and not _is_float(pd, dtype):
                unique = True
        if unique or (_ID_NAME.search(str(column)) and kind == "number"):
            low = high = None  # a key's range says nothing about the data
        profiles.append(ColumnProfile(column, str(dtype), nullable, unique, low, high, categories, kind))
    return profiles


def _kind(pd, dtype) -> str:
    api = pd.api.types
    if api.is_bool_dtype(dtype):
        return "bool"
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if api.is_datetime64_any_dtype(dtype):
        return "datetime"
    if api.is_numeric_dtype(dtype) and not api.is_complex_dtype(dtype):
        return "number"
    if api.is_string_dtype(dtype):
        return "text"
    return "other"


def _is_float(pd, dtype) -> bool:
    return pd.api.types.is_float_dtype(dtype)


def _literal(value: Any) -> Any:
    """A value that prints as valid Python and compares equal after a round trip, or None."""
    if hasattr(value, "isoformat") and hasattr(value, "tzinfo"):  # pandas Timestamp, datetime
        text = str(value)
        return text.removesuffix(" 00:00:00")
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, TypeError):
            return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value
    return None


def _py(value: Any) -> str:
    """Python source for a literal, in the double quotes a formatter would leave."""
    if isinstance(value, str):
        text = repr(value)
        if text.startswith("'") and '"' not in value:
            text = '"' + text[1:-1].replace("\\'", "'") + '"'
        return text
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_py(item) for item in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py(k)}: {_py(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _round_out(value: Any, up: bool) -> Any:
    """A float bound with four significant digits, moved outwards so the seen values stay inside."""
    if not isinstance(value, float) or value == 0:
        return value
    step = 10.0 ** (math.floor(math.log10(abs(value))) - 3)
    rounded = float(f"{(math.ceil if up else math.floor)(value / step) * step:.4g}")
    if (up and rounded < value) or (not up and rounded > value):
        rounded = float(f"{rounded + (step if up else -step):.4g}")
    return rounded


def _assert_lines(name: str, profiles: list[ColumnProfile]) -> list[str]:
    columns = [profile.name for profile in profiles]
    lines = [
        f"assert len({name}) > 0, {_py(f'{name} is empty')}",
        f"assert list({name}.columns) == {_wrap(columns)}, {_py(f'{name}: the columns changed')}",
        (f"assert {name}.dtypes.astype(str).to_dict() == "
         f"{_wrap_dict({p.name: p.dtype for p in profiles})}, {_py(f'{name}: the dtypes changed')}"),
    ]
    for profile in profiles:
        ref = f"{name}[{_py(profile.name)}]"
        values = ref if not profile.nullable else f"{ref}.dropna()"
        if not profile.nullable:
            lines.append(f"assert {ref}.notna().all(), {_py(f'{ref} has missing values')}")
        if profile.unique:
            lines.append(f"assert {ref}.is_unique, {_py(f'{ref} has duplicates')}")
        if profile.low is not None:
            low, high = profile.low, profile.high
            lines.append(f"assert {values}.between({_py(low)}, {_py(high)}).all(), "
                         f"{_py(f'{ref} is outside [{low}, {high}]')}")
        if profile.categories is not None:
            lines.append(f"assert {values}.isin({_py(list(profile.categories))}).all(), "
                         f"{_py(f'{ref} has unexpected values')}")
    return lines


def _wrap(items: list) -> str:
    """Long list literals one item a line, so a pasted check stays readable."""
    literal = _py(items)
    if len(literal) <= 80:
        return literal
    inner = "".join(f"\n    {_py(item)}," for item in items)
    return f"[{inner}\n]"


def _wrap_dict(mapping: dict) -> str:
    literal = _py(mapping)
    if len(literal) <= 80:
        return literal
    inner = "".join(f"\n    {_py(key)}: {_py(value)}," for key, value in mapping.items())
    return "{" + inner + "\n}"


def _pandera_import() -> str:
    return "import pandera.pandas as pa" if importlib.util.find_spec("pandera.pandas") else "import pandera as pa"


def _pandera_column(profile: ColumnProfile, with_dtype: bool = True, with_checks: bool = True) -> str:
    parts = [_py(profile.dtype) if with_dtype else "None"]
    checks = []
    if with_checks:
        if profile.low is not None:
            checks.append(f"pa.Check.in_range({_py(profile.low)}, {_py(profile.high)})")
        if profile.categories is not None:
            checks.append(f"pa.Check.isin({_py(list(profile.categories))})")
    if len(checks) == 1:
        parts.append(checks[0])
    elif checks:
        parts.append("[" + ", ".join(checks) + "]")
    if profile.nullable:
        parts.append("nullable=True")
    if profile.unique:
        parts.append("unique=True")
    return f"pa.Column({', '.join(parts)})"


def data_check(frame, name: str, style: str = "auto") -> DataCheck:
    """A check of `frame` that, pasted under the line that loads it, stops the notebook when the data
    changes shape: columns, dtypes, missing values, ranges, categories and keys, as seen now.

    Every generated line is run against `frame` before it is returned; one that does not hold (an
    exotic dtype, values that do not compare) is left out and named in `dropped`."""
    if not is_dataframe(frame):
        raise TypeError(f"{name} is a {type(frame).__module__}.{type(frame).__name__}, not a pandas DataFrame")
    if style == "auto":
        style = "pandera" if pandera_available() else "asserts"
    profiles = profile_frame(frame)
    rows, columns = frame.shape
    header = (
        f"# Data check for `{name}`, made by %readiness datacheck from the data in this kernel "
        f"({rows:,} rows x {columns} columns).\n"
        "# It states what the data was; widen the ranges and value sets to what it may be.\n"
    )
    root = name.split(".")[0]
    namespace_value = _root_value(frame, name)
    if style == "pandera":
        return _pandera_check(frame, name, profiles, header, root, namespace_value)
    kept, dropped = [], []
    for line in _assert_lines(name, profiles):
        if _holds(line, root, namespace_value):
            kept.append(line)
        else:
            dropped.append(line)
    return DataCheck(name, "asserts", header + "\n".join(kept) + "\n", rows, columns, tuple(dropped))


def _root_value(frame, name: str):
    """The object bound to the first part of a dotted name, rebuilt so `name` evaluates to `frame`."""
    parts = name.split(".")
    if len(parts) == 1:
        return frame
    from types import SimpleNamespace

    value: Any = frame
    for part in reversed(parts[1:]):
        value = SimpleNamespace(**{part: value})
    return value


def _holds(code: str, root: str, value: Any) -> bool:
    try:
        exec(compile(code, "<readiness datacheck>", "exec"), {root: value})  # noqa: S102 - our own generated check
    except Exception:  # noqa: BLE001 - AssertionError, or a check pandas cannot evaluate on this dtype
        return False
    return True


def _pandera_check(frame, name, profiles, header, root, value) -> DataCheck:
    importer = _pandera_import()
    namespace: dict[str, Any] = {}
    exec(importer, namespace)  # noqa: S102 - a fixed import line
    pa = namespace["pa"]
    entries, dropped = [], []
    for position, profile in enumerate(profiles):
        single = frame.iloc[:, [position]]
        chosen = None
        for with_dtype, with_checks in ((True, True), (True, False), (False, False)):
            column = _pandera_column(profile, with_dtype, with_checks)
            try:
                schema = pa.DataFrameSchema({profile.name: eval(column, namespace)})
                schema.validate(single)
            except Exception:  # noqa: BLE001, S112 - pandera's errors vary by version; try a looser column
                continue
            chosen = column
            break
        if chosen is None:
            dropped.append(f"{_py(profile.name)}: {_pandera_column(profile)}")
            chosen = "pa.Column(None, nullable=True)"
        elif chosen != _pandera_column(profile):
            dropped.append(f"{_py(profile.name)}: {_pandera_column(profile)}")
        entries.append(f"        {_py(profile.name)}: {chosen},")
    schema_name = f"{name.replace('.', '_')}_schema"
    code = (
        f"{importer}\n\n"
        f"{schema_name} = pa.DataFrameSchema(\n"
        "    {\n" + "\n".join(entries) + "\n    },\n"
        "    strict=True,\n"
        "    ordered=True,\n"
        ")\n"
        f"assert len({name}) > 0, {_py(f'{name} is empty')}\n"
        f"{schema_name}.validate({name})\n"
    )
    if not _holds(code, root, value):  # the whole schema (strict, ordered) must hold too
        code = code.replace("    strict=True,\n    ordered=True,\n", "")
        dropped.append("strict=True, ordered=True")
    return DataCheck(name, "pandera", header + code, len(frame), frame.shape[1], tuple(dropped))
