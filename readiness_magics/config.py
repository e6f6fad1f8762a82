"""Settings from `[tool.readiness]` in the nearest pyproject.toml, overridden by command-line flags."""
from __future__ import annotations

import fnmatch
import os
import sys
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from .findings import Severity



def toml_module():
    """tomllib, imported when a TOML file is read (not at every start of the CLI)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib


def read_toml(path: str | os.PathLike) -> dict:
    """A TOML file's tables, parsed once for each version of the file: the settings, ruff's options and
    the project's dependencies all read pyproject.toml. Shared: read it, never change it. Raises OSError,
    UnicodeDecodeError or tomllib's TOMLDecodeError as reading and parsing the file would."""
    state = os.stat(path)
    return _parsed_toml(os.fspath(path), (state.st_ino, state.st_mtime_ns, state.st_size))


@lru_cache(maxsize=64)
def _parsed_toml(path: str, _version: tuple) -> dict:
    return toml_module().loads(Path(path).read_text(encoding="utf-8"))


class ConfigError(ValueError):
    """A setting that cannot be used; the CLI reports it as a usage error (exit 2)."""


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ()  # codes, code prefixes, rule names or categories; empty = all
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    fail_on: Severity = Severity.ERROR
    ruff: bool = True
    # empty = readiness's own selection (ruff_bridge.DEFAULT_RUFF_SELECT), widened by the project's
    # [tool.ruff]; see ruff_bridge.selection_arguments
    ruff_select: tuple[str, ...] = ()
    ruff_extend_select: tuple[str, ...] = ()
    data_loaders: tuple[str, ...] = ()  # extra qualified names that load external data
    data_validators: tuple[str, ...] = ()  # extra qualified names that validate data
    allowed_path_prefixes: tuple[str, ...] = ()
    max_cells: int = 100
    max_cell_lines: int = 60
    source: Path | None = None  # the pyproject.toml it came from
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def ignores_for(self, path: Path | None) -> tuple[str, ...]:
        if path is None or not self.per_file_ignores:
            return ()
        base = self.source.parent if self.source else Path.cwd()
        try:
            relative = Path(os.path.abspath(path)).relative_to(Path(os.path.abspath(base))).as_posix()
        except ValueError:
            relative = Path(path).as_posix()
        found: list[str] = []
        for pattern, codes in self.per_file_ignores:
            if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(Path(path).name, pattern):
                found.extend(codes)
        return tuple(found)

    def with_overrides(self, **overrides) -> "Settings":
        clean = {key: value for key, value in overrides.items() if value is not None}
        extend = clean.pop("extend_select", None)
        if extend and (clean.get("select") or self.select):
            clean["select"] = tuple(clean.get("select") or self.select) + tuple(extend)
        if "fail_on" in clean:
            clean["fail_on"] = parse_severity(clean["fail_on"])
        return replace(self, **clean)


def parse_severity(value) -> Severity:
    try:
        return Severity(str(value).lower())
    except ValueError:
        raise ConfigError(f"fail-on must be one of error, warning, info; got {value!r}") from None


def find_pyproject(start: Path) -> Path | None:
    start = Path(os.path.abspath(start))
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
    return None


def settings_for(notebook_path: str | os.PathLike | None) -> Settings:
    """The settings that apply to a notebook: its nearest pyproject.toml, or the defaults."""
    pyproject = find_pyproject(Path(notebook_path) if notebook_path else Path.cwd())
    return _load(pyproject) if pyproject else Settings()


@lru_cache(maxsize=64)
def _load(pyproject: Path) -> Settings:
    try:
        tomllib = toml_module()
        data = read_toml(pyproject)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {pyproject}: {exc}") from None
    table = data.get("tool", {}).get("readiness", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.readiness] must be a table")
    return settings_from_table(table, source=pyproject)


def _strings(table: dict, key: str, where: Path | None) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: [tool.readiness] {key} must be a list of strings")
    return tuple(value)


def settings_from_table(table: dict, source: Path | None = None) -> Settings:
    known = {
        "select", "ignore", "per-file-ignores", "fail-on", "ruff", "data-loaders", "data-validators",
        "allowed-path-prefixes", "max-cells", "max-cell-lines",
    }
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{source}: unknown [tool.readiness] setting(s): {', '.join(unknown)}")
    ruff = table.get("ruff", True)
    ruff_on, ruff_select, ruff_extend = True, (), ()
    if isinstance(ruff, bool):
        ruff_on = ruff
    elif isinstance(ruff, dict):
        unknown_ruff = sorted(set(ruff) - {"enabled", "select", "extend-select"})
        if unknown_ruff:
            raise ConfigError(f"{source}: unknown [tool.readiness] ruff setting(s): {', '.join(unknown_ruff)}")
        ruff_on = bool(ruff.get("enabled", True))
        ruff_select = _strings(ruff, "select", source)
        ruff_extend = _strings(ruff, "extend-select", source)
    else:
        raise ConfigError(f"{source}: [tool.readiness] ruff must be true, false or a table")
    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise ConfigError(f"{source}: [tool.readiness] per-file-ignores must be a table")
    per_file_ignores = tuple((pattern, _strings(per_file, pattern, source)) for pattern in per_file)
    def number(key, default):
        value = table.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"{source}: [tool.readiness] {key} must be a positive integer")
        return value
    return Settings(
        select=_strings(table, "select", source),
        ignore=_strings(table, "ignore", source),
        per_file_ignores=per_file_ignores,
        fail_on=parse_severity(table.get("fail-on", "error")),
        ruff=ruff_on,
        ruff_select=ruff_select,
        ruff_extend_select=ruff_extend,
        data_loaders=_strings(table, "data-loaders", source),
        data_validators=_strings(table, "data-validators", source),
        allowed_path_prefixes=_strings(table, "allowed-path-prefixes", source),
        max_cells=number("max-cells", 100),
        max_cell_lines=number("max-cell-lines", 60),
        source=source,
    )
