"""Check notebooks: load, model, rules, ruff, suppression, report. The one entry point for every adapter."""
from __future__ import annotations

import gc
import json
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

from .analysis import NotebookModel
from .config import Settings, settings_for
from .findings import Finding
from .notebook import Notebook, NotebookError, parse_notebook, read_notebook
from .report import NotebookReport, display_path
from .rules import all_rules
from .suppression import is_selected, is_suppressed

SKIPPED_FOLDERS = {".ipynb_checkpoints", ".git", "node_modules", ".venv", "venv", "__pycache__", ".tox"}


_gc_lock = threading.Lock()
_gc_holders = 0
_gc_was_enabled = False


@contextmanager
def without_cyclic_gc():
    """No cyclic garbage collection inside: parsing and rules make millions of small objects and no
    cycles worth collecting, and each collection would walk every tree the per-cell cache holds again
    (a third of a run, more in big notebooks). Reference counting still frees everything. Nests, and
    threads of one server may overlap: the collector is back on when the last one leaves."""
    global _gc_holders, _gc_was_enabled
    with _gc_lock:
        if _gc_holders == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_was_enabled:
                gc.enable()


def run_rules(notebook: Notebook, settings: Settings, extra: Iterable[Finding] = ()) -> list[Finding]:
    """All rules over one notebook, then selection and suppression; sorted by cell and position."""
    return keep_wanted(notebook, settings, [*extra, *rule_findings(notebook, settings)])


def rule_findings(notebook: Notebook, settings: Settings) -> list[Finding]:
    model = NotebookModel(notebook, settings)
    found: list[Finding] = []
    for rule in all_rules():
        try:
            found.extend(rule.check(model))
        except Exception:  # one broken rule must not hide what the others found
            if os.environ.get("READINESS_RAISE_RULE_ERRORS"):
                raise  # the test suite wants to see them
            print(f"readiness: internal error in {rule.code} on {notebook.name}:\n{traceback.format_exc()}",
                  file=sys.stderr)
    from .fixes import attach_fixes

    return attach_fixes(model, found)


def keep_wanted(notebook: Notebook, settings: Settings, found: list[Finding]) -> list[Finding]:
    """Selection, ignores and in-cell suppressions; duplicates dropped; sorted by cell and position."""
    ignore = settings.ignore + settings.ignores_for(notebook.path)
    kept = []
    for finding in found:
        if not is_selected(finding, settings.select, ignore):
            continue
        if finding.cell_index is not None:
            cell = notebook.cells[finding.cell_index]
            if is_suppressed(finding, cell.source, cell.tags):
                continue
        kept.append(finding)
    return sorted(set(kept), key=lambda f: f.sort_key)


def check_notebook(notebook: Notebook, settings: Settings | None = None, *, use_ruff: bool = True,
                   ruff_findings: list[Finding] | None = None, ruff_reads_file: bool | None = None
                   ) -> NotebookReport:
    """`ruff_reads_file`: ruff lints the saved file at the notebook's path (True), the cells given here
    (False), or the file when there is one (None). Ruff runs while the rules do."""
    settings = settings or settings_for(notebook.path)
    ruff_run = None
    if ruff_findings is None and use_ruff and settings.ruff:
        ruff_run = _start_ruff(notebook, settings, ruff_reads_file)
    with without_cyclic_gc():
        found = rule_findings(notebook, settings)
        if ruff_run is not None:
            ruff_findings = _ruff_result(ruff_run, notebook)
        found = keep_wanted(notebook, settings, [*(ruff_findings or ()), *found])
    return NotebookReport(display_path(notebook.path), found)


def check_file(path: str | os.PathLike, settings: Settings | None = None, *, use_ruff: bool = True,
               ruff_findings=None) -> NotebookReport:
    """Never raises for an unreadable notebook: the report carries the error instead."""
    with without_cyclic_gc():
        try:
            notebook = read_notebook(path)
        except NotebookError as error:
            return NotebookReport(display_path(path), error=error)
        return check_notebook(notebook, settings, use_ruff=use_ruff, ruff_findings=ruff_findings,
                              ruff_reads_file=True)


def check_content(content: str | bytes | dict, *, path: str | os.PathLike | None = None,
                  settings: Settings | None = None, use_ruff: bool = True) -> NotebookReport:
    """Check notebook JSON that is not (or not yet) on disk, e.g. unsaved edits from the browser."""
    with without_cyclic_gc():
        try:
            notebook = parse_notebook(content, path=path)
        except NotebookError as error:
            return NotebookReport(display_path(path), error=error)
        # The content, not the file at `path`: that is the saved version, not what the browser shows.
        return check_notebook(notebook, settings, use_ruff=use_ruff, ruff_reads_file=False)


def _start_ruff(notebook: Notebook, settings: Settings, reads_file: bool | None):
    """A ruff process over this notebook, started before the rules and read after them; None if unavailable."""
    from . import ruff_bridge

    try:
        if reads_file is None:
            reads_file = notebook.path is not None and notebook.path.is_file()
        if reads_file and notebook.path is not None:
            return ruff_bridge.RuffRun([notebook.path], settings.ruff_select)
        text = json.dumps(_ruff_json(notebook))
        name = str(notebook.path or "notebook.ipynb")
        return ruff_bridge.RuffRun([], settings.ruff_select, text=text, filename=name)
    except (ruff_bridge.RuffUnavailable, OSError, ValueError) as exc:
        ruff_bridge.warn(f"ruff diagnostics skipped: {exc}")
        return None


def _ruff_result(run, notebook: Notebook) -> list[Finding]:
    from . import ruff_bridge

    try:
        by_file = run.result()
    except (ruff_bridge.RuffUnavailable, OSError, ValueError) as exc:
        ruff_bridge.warn(f"ruff diagnostics skipped: {exc}")
        return []
    # One notebook: from the file, keyed by its absolute path; from stdin, by the name given.
    diagnostics = next(iter(by_file.values()), [])
    return ruff_bridge.to_findings(diagnostics, notebook.cells)


def _ruff_json(notebook: Notebook) -> dict:
    """A minimal notebook ruff can read, cell for cell the same as ours (so cell numbers agree)."""
    cells = []
    for cell in notebook.cells:
        kind = cell.kind if cell.kind in ("code", "markdown", "raw") else "raw"
        raw = {"cell_type": kind, "metadata": {}, "source": cell.source}
        if kind == "code":
            raw.update(outputs=[], execution_count=None)
        cells.append(raw)
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {"language_info": {"name": "python"}}, "cells": cells}


def clear_caches() -> None:
    """Forget every cell's analysis and what rules remembered with it (benchmarks start cold with this)."""
    from .analysis import analyse_source

    analyse_source.cache_clear()


def collect_notebooks(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Files as given; folders searched recursively for .ipynb, skipping checkpoints and environments."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for folder, subfolders, files in os.walk(path):
                subfolders[:] = sorted(d for d in subfolders if d not in SKIPPED_FOLDERS)
                found.extend(Path(folder) / name for name in sorted(files) if name.endswith(".ipynb"))
        else:
            found.append(path)
    unique: dict[str, Path] = {}
    for path in found:
        unique.setdefault(os.path.abspath(path), path)
    return list(unique.values())


def check_batch(paths: list[Path], overrides: dict, use_ruff: bool) -> list[NotebookReport]:
    """Check some notebooks with one ruff process over all of them, running beside our rules."""
    with without_cyclic_gc():
        try:
            return _check_batch(paths, overrides, use_ruff)
        finally:
            # A batch checks each notebook once: what the per-cell cache holds is not asked for again,
            # and once the collector is back it would walk all of it (half a second per batch).
            clear_caches()


def _check_batch(paths: list[Path], overrides: dict, use_ruff: bool) -> list[NotebookReport]:
    from . import ruff_bridge

    settings_by_path = {path: settings_for(path).with_overrides(**overrides) for path in paths}
    ruff_run = None
    wants_ruff = [path for path in paths if use_ruff and settings_by_path[path].ruff and path.is_file()]
    if wants_ruff:
        try:
            ruff_run = ruff_bridge.RuffRun(wants_ruff, settings_by_path[wants_ruff[0]].ruff_select)
        except (ruff_bridge.RuffUnavailable, OSError) as exc:
            ruff_bridge.warn(f"ruff diagnostics skipped: {exc}")
    pending = []
    for path in paths:
        try:
            notebook = read_notebook(path)
        except NotebookError as error:
            pending.append((path, None, error, []))
            continue
        pending.append((path, notebook, None, rule_findings(notebook, settings_by_path[path])))
    ruff_by_file: dict = {}
    if ruff_run is not None:
        try:
            ruff_by_file = ruff_run.result()
        except (ruff_bridge.RuffUnavailable, OSError, ValueError) as exc:
            ruff_bridge.warn(f"ruff diagnostics skipped: {exc}")
    reports = []
    for path, notebook, error, found in pending:
        if error is not None:
            reports.append(NotebookReport(display_path(path), error=error))
            continue
        diagnostics = ruff_by_file.get(os.path.abspath(path), [])
        found = ruff_bridge.to_findings(diagnostics, notebook.cells) + found
        reports.append(NotebookReport(display_path(path), keep_wanted(notebook, settings_by_path[path], found)))
    return reports


def _prepare_workers() -> None:
    """What each worker would compute for itself, done once before they fork (they inherit it): the
    rules' import and the scan of the installed distributions (a quarter of a second)."""
    import multiprocessing

    if multiprocessing.get_start_method(allow_none=False) != "fork":
        return
    all_rules()
    from .requirements import installed_distributions

    installed_distributions("os")  # any name: the scan behind it is cached


def check_paths(paths: Iterable[str | os.PathLike], *, overrides: dict | None = None, use_ruff: bool = True,
                jobs: int | None = None, progress: Callable[[int, int], None] | None = None
                ) -> list[NotebookReport]:
    """Check every notebook under `paths`, spread over processes, one ruff process per batch."""
    from concurrent.futures import ProcessPoolExecutor

    overrides = overrides or {}
    notebooks = collect_notebooks(paths)
    jobs = jobs or (os.cpu_count() or 1)
    jobs = max(1, min(jobs, len(notebooks) // 8 or 1))
    if jobs == 1:
        batch_size = max(len(notebooks) // 10, 20)
        batches = [notebooks[start:start + batch_size] for start in range(0, len(notebooks), batch_size)]
        reports: list[NotebookReport] = []
        for batch in batches:
            reports.extend(check_batch(batch, overrides, use_ruff))
            if progress:
                progress(len(reports), len(notebooks))
        return reports
    # Round-robin batches even out big and small folders; the order is restored at the end.
    batches = [notebooks[start::jobs * 2] for start in range(jobs * 2)]
    _prepare_workers()
    order = {os.path.abspath(path): number for number, path in enumerate(notebooks)}
    reports = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(check_batch, batch, overrides, use_ruff) for batch in batches if batch]
        for future in futures:
            reports.extend(future.result())
            if progress:
                progress(len(reports), len(notebooks))
    reports.sort(key=lambda report: order.get(os.path.abspath(report.path or ""), 0))
    return reports
