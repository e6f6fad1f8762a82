"""Watch mode: check each cell as it is run (a pre_run_cell hook) and say what it finds in a line or two."""
from __future__ import annotations

import contextlib
import io
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings, settings_for
from ..engine import run_rules
from ..findings import Finding
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


def check_cell(source: str, context: list[HistoryCell], settings: Settings, cwd: Path | None = None) -> CellCheck:
    """Findings (never ruff's: a subprocess per cell is too slow) that land on `source` itself."""
    started = time.perf_counter()
    notebook = history_notebook(context, path=(cwd or Path.cwd()) / "kernel-history.ipynb",
                                extra=as_checkable(source))
    captured = io.StringIO()
    # A failing rule prints its traceback to stderr; in a cell that would be noise the user did not ask for.
    with contextlib.redirect_stderr(captured):
        findings = run_rules(notebook, settings)
    last = len(notebook.cells) - 1
    own = [finding for finding in findings if finding.cell_index == last]
    return CellCheck(own, time.perf_counter() - started, captured.getvalue())


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
    paused: bool = False  # while %%readiness runs its own check
    _settings_error: str = field(default="", repr=False)

    def settings(self) -> Settings:
        base = settings_for(self.notebook_path or Path.cwd())
        return history_settings(base.with_overrides(ruff=False, select=self.select, ignore=self.ignore))

    def __call__(self, info=None) -> None:
        try:
            source = getattr(info, "raw_cell", None)
            if self.paused or not isinstance(source, str) or not source.strip():
                return
            if not getattr(info, "store_history", True) or is_own_magic(source):
                return
            if len(source) > MAX_WATCHED_CHARACTERS:
                print(f"readiness: this cell is over {MAX_WATCHED_CHARACTERS:,} characters; not checked in watch mode")
                return
            result = check_cell(source, history_cells(self.shell, drop_last=False), self.settings())
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
