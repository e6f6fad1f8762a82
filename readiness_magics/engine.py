"""Check notebooks: load, model, rules, ruff, suppression, report. The one entry point for every adapter."""
from __future__ import annotations

import gc
import json
import os
import sys
import threading
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from .config import Settings, settings_for
from .failures import debug_detail, inject_test_fault, internal_error, one_line
from .findings import Finding
from .notebook import Notebook, NotebookError, parse_notebook, read_notebook
from .report import NotebookReport, display_path
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
    # Imported here, not at the top: a run answered from the cache needs neither.
    from .analysis import NotebookModel

    rules = enabled_rules(settings, notebook.path)
    found = _model_findings(NotebookModel(notebook, settings), rules)
    module_rules = tuple(rule for rule in rules if rule.category in MODULE_CATEGORIES)
    for module in written_module_models(notebook, settings):
        found.extend(_model_findings(module, module_rules))
    return found


def enabled_rules(settings: Settings, path=None) -> tuple:
    """The rules whose findings this notebook could report: on by default or named by `select`, and not
    left out by the selection or the ignores as a whole (those cost nothing: they do not run)."""
    from .rules import all_rules

    return _enabled_for(all_rules(), tuple(settings.select), tuple(settings.ignore + settings.ignores_for(path)))


@lru_cache(maxsize=64)
def _enabled_for(rules: tuple, select: tuple[str, ...], ignore: tuple[str, ...]) -> tuple:
    """Once per selection (the watch hook and the sidebar ask on every check)."""
    named = {item.upper() for item in select}
    return tuple(rule for rule in rules
                 if (rule.enabled_by_default or rule.code.upper() in named or rule.name.upper() in named)
                 and is_selected(_probe(rule), select, ignore))


def _probe(rule) -> Finding:
    """A finding as the rule makes them: selection looks only at code, name and category."""
    return Finding(code=rule.code, name=rule.name, category=rule.category, severity=rule.severity, message="",
                   cell_index=None, cell_id=None, line=1, column=1, end_line=1, end_column=1)


# What a module written by `%%writefile x.py` is checked for: it is code that will run (paths, secrets,
# data checks, testability, leakage). Not the notebook's own matters: its cells, installs, hygiene.
MODULE_CATEGORIES = frozenset({"hardcoded-path", "hardcoded-secret", "missing-data-check", "untestable-code",
                               "data-leakage"})


def written_module_models(notebook: Notebook, settings: Settings) -> list:
    """One model per `%%writefile x.py` cell, holding that cell alone: the module is its own namespace."""
    from .analysis import NotebookModel, analyse_written_module

    models = []
    for cell in notebook.cells:
        if cell.is_code and cell.problem is None and "%%" in cell.source[:40] and \
                analyse_written_module(cell.source) is not None:
            alone = Notebook([cell], notebook.path, language=notebook.language, metadata=notebook.metadata)
            models.append(NotebookModel(alone, settings, analyse=analyse_written_module))
    return models


def _model_findings(model, rules: tuple) -> list[Finding]:
    from .fixes import attach_fixes
    from .rules.dispatch import dispatcher_for

    return attach_fixes(model, dispatcher_for(rules).run(model))


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
    from .ruff_bridge import drop_repeated

    return sorted(set(drop_repeated(kept)), key=lambda f: f.sort_key)


def check_notebook(notebook: Notebook, settings: Settings | None = None, *, use_ruff: bool = True,
                   ruff_findings: list[Finding] | None = None, ruff_reads_file: bool | None = None
                   ) -> NotebookReport:
    """`ruff_reads_file`: ruff lints the saved file at the notebook's path (True), the cells given here
    (False), or the file when there is one (None). Ruff runs while the rules do."""
    inject_test_fault(notebook.path)
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
        selection = ruff_bridge.selection_arguments(settings, notebook.path)
        if reads_file and notebook.path is not None:
            return ruff_bridge.RuffRun([notebook.path], selection)
        text = json.dumps(_ruff_json(notebook))
        name = str(notebook.path or "notebook.ipynb")
        return ruff_bridge.RuffRun([], selection, text=text, filename=name)
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
    diagnostics = ruff_bridge.reread(diagnostics, notebook.cells, lambda: _ruff_json(notebook),
                                     str(notebook.path or "notebook.ipynb"), run.selection)
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
    from .analysis import forget_everything

    forget_everything()


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


def check_batch(paths: list[Path], overrides: dict, use_ruff: bool, *, forget: bool = True
                ) -> list[NotebookReport]:
    """Check some notebooks with one ruff process over all of them, running beside our rules.
    Never raises: a notebook the tool fails on gets an `internal-error` entry, the others are reported.
    `forget=False` in a worker process that exits after the batch: freeing the caches one object at a
    time would cost a tenth of the batch for memory the exit gives back at once."""
    with without_cyclic_gc():
        try:
            return _check_batch(paths, overrides, use_ruff)
        except Exception as exc:
            if len(paths) == 1:
                return [NotebookReport(display_path(paths[0]), error=internal_error(exc))]
            # A failure outside the rules (ruff's results, suppression, ...): each notebook again alone,
            # so that it costs only the notebook it comes from.
            return [report for path in paths for report in check_batch([path], overrides, use_ruff, forget=forget)]
        finally:
            # A batch checks each notebook once: what the per-cell cache holds is not asked for again,
            # and once the collector is back it would walk all of it (half a second per batch).
            if forget:
                clear_caches()


def _check_batch(paths: list[Path], overrides: dict, use_ruff: bool) -> list[NotebookReport]:
    from . import ruff_bridge

    by_folder: dict[str, Settings] = {}  # the nearest pyproject.toml is looked for once per folder
    settings_by_path = {}
    for path in paths:
        folder = os.path.dirname(os.path.abspath(path))
        if folder not in by_folder:
            by_folder[folder] = settings_for(path).with_overrides(**overrides)
        settings_by_path[path] = by_folder[folder]
    # One ruff process per rule selection in the batch (projects may choose their own; usually one).
    by_selection: dict[tuple[str, ...], list[Path]] = {}
    for path in paths:
        if use_ruff and settings_by_path[path].ruff and path.is_file():
            selection = ruff_bridge.selection_arguments(settings_by_path[path], path)
            by_selection.setdefault(selection, []).append(path)
    ruff_runs = []
    for selection, wants_ruff in by_selection.items():
        try:
            ruff_runs.append(ruff_bridge.RuffRun(wants_ruff, selection))
        except (ruff_bridge.RuffUnavailable, OSError) as exc:
            ruff_bridge.warn(f"ruff diagnostics skipped: {exc}")
            break
    pending = []
    for path in paths:
        try:
            inject_test_fault(path)
            notebook = read_notebook(path)
            pending.append((path, notebook, None, rule_findings(notebook, settings_by_path[path])))
        except NotebookError as error:
            pending.append((path, None, error, []))
        except Exception as exc:  # MemoryError too: this notebook's error, not the run's
            pending.append((path, None, internal_error(exc), []))
    ruff_by_file: dict = {}
    for ruff_run in ruff_runs:
        try:
            ruff_by_file.update(ruff_run.result())
        except (ruff_bridge.RuffUnavailable, OSError, ValueError) as exc:
            ruff_bridge.warn(f"ruff diagnostics skipped: {exc}")
    reports = []
    for path, notebook, error, found in pending:
        if error is not None:
            reports.append(NotebookReport(display_path(path), error=error))
            continue
        diagnostics = ruff_by_file.get(os.path.abspath(path), [])
        if diagnostics:  # a notebook ruff stopped reading at a cell the kernel runs: read as the kernel does
            selection = ruff_bridge.selection_arguments(settings_by_path[path], path)
            diagnostics = ruff_bridge.reread(diagnostics, notebook.cells, lambda nb=notebook: _ruff_json(nb),
                                             str(path), selection)
        found = ruff_bridge.to_findings(diagnostics, notebook.cells) + found
        reports.append(NotebookReport(display_path(path), keep_wanted(notebook, settings_by_path[path], found)))
    return reports


def _batch_worker(connection, paths: list[str], overrides: dict, use_ruff: bool) -> None:
    """A worker process: check one batch and send back plain data (dicts of strings and numbers),
    never an exception object, which may not survive the trip (issue 13)."""
    gc.disable()  # for good: the process ends after the send, and a collection would walk every cached tree
    try:
        reports = check_batch([Path(p) for p in paths], overrides, use_ruff, forget=False)
        data = [_report_data(report) for report in reports]
    except BaseException as exc:  # noqa: BLE001 (even this must come back as data)
        error = {"kind": "internal-error", "message": f"internal error while checking it: {one_line(exc)}"}
        data = [{"path": display_path(p), "error": error, "findings": []} for p in paths]
    connection.send(data)
    connection.close()


def _report_data(report: NotebookReport) -> dict:
    data = report.to_dict()
    if report.error is not None and getattr(report.error, "detail", ""):
        data["error"]["detail"] = report.error.detail
    return data


def _prepare_workers() -> None:
    """What each worker would compute for itself, done once before they fork (they inherit it): the
    rules' import. (The check no longer scans the installed distributions: its findings must not depend on
    the machine it runs on.)"""
    import multiprocessing

    if multiprocessing.get_start_method(allow_none=False) != "fork":
        return
    from .rules import all_rules

    all_rules()


def check_paths(paths: Iterable[str | os.PathLike], *, overrides: dict | None = None, use_ruff: bool = True,
                jobs: int | None = None, progress: Callable[[int, int], None] | None = None,
                cache=None) -> list[NotebookReport]:
    """Check every notebook under `paths`, spread over processes, one ruff process per batch.
    One report per notebook, in the order found; a failure of the tool (even a worker killed by a
    signal) becomes the error entry of the notebooks it cost, never the run's. With `cache` (a
    `cache.ReportCache`), unchanged notebooks are answered from it and the others stored in it."""
    overrides = overrides or {}
    notebooks = collect_notebooks(paths)
    # A broken pyproject.toml is a usage error of the whole run, found before any work.
    by_folder: dict[str, Settings] = {}  # the nearest pyproject.toml is looked for once per folder
    settings = []
    for path in notebooks:
        folder = os.path.dirname(os.path.abspath(path))
        if folder not in by_folder:
            by_folder[folder] = settings_for(path).with_overrides(**overrides)
        settings.append(by_folder[folder])
    reports: list[NotebookReport | None] = [None] * len(notebooks)
    states: dict[int, dict] = {}
    if cache is not None:
        for number, path in enumerate(notebooks):
            found, states[number] = cache.get(path, settings[number])
            if found is not None:
                reports[number] = NotebookReport.from_dict({**found, "path": display_path(path)})
    todo = [number for number, report in enumerate(reports) if report is None]
    cached = len(notebooks) - len(todo)
    if progress and cached:
        progress(cached, len(notebooks))
    counted = (lambda done, _total: progress(cached + done, len(notebooks))) if progress else None
    checked = _check_all([notebooks[number] for number in todo], overrides, use_ruff, jobs, counted)
    for number, report in zip(todo, checked):
        reports[number] = report
        if cache is not None and not (report.error is not None and report.error.kind == "internal-error"):
            data = report.to_dict()
            del data["path"]  # shown relative to the working directory of each run
            cache.put(notebooks[number], states[number], data)
    return reports


def _check_all(notebooks: list[Path], overrides: dict, use_ruff: bool, jobs: int | None, progress
               ) -> list[NotebookReport]:
    if not notebooks:
        return []
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
    batches = [list(range(start, len(notebooks), jobs * 2)) for start in range(jobs * 2)]
    _prepare_workers()
    return _check_in_processes(notebooks, [batch for batch in batches if batch], overrides, use_ruff, jobs,
                               progress)


def _check_in_processes(notebooks: list[Path], batches: list[list[int]], overrides: dict, use_ruff: bool,
                        jobs: int, progress) -> list[NotebookReport]:
    """One process per batch, at most `jobs` at once, so a worker that dies takes only its own batch
    with it: that batch is split in halves and checked again until the notebook that brings its
    worker down is alone, and that one is reported as an internal error."""
    import multiprocessing
    from collections import deque
    from multiprocessing.connection import wait

    context = multiprocessing.get_context()
    results: dict[int, NotebookReport] = {}
    waiting = deque(batches)
    running: dict = {}
    while waiting or running:
        while waiting and len(running) < jobs:
            batch = waiting.popleft()
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=_batch_worker, daemon=True,
                                      args=(sender, [str(notebooks[i]) for i in batch], overrides, use_ruff))
            process.start()
            sender.close()  # the worker holds the only writer: its death is our end of file
            running[receiver] = (process, batch)
        for receiver in wait(list(running)):
            process, batch = running.pop(receiver)
            try:
                data = receiver.recv()
            except Exception:  # EOFError: died before sending; anything else: unreadable
                data = None
            receiver.close()
            process.join()
            if isinstance(data, list) and len(data) == len(batch):
                for number, item in zip(batch, data):
                    results[number] = NotebookReport.from_dict(item)
            elif len(batch) > 1:
                half = len(batch) // 2
                waiting.extend([batch[:half], batch[half:]])
            else:
                results[batch[0]] = NotebookReport(display_path(notebooks[batch[0]]),
                                                   error=_worker_died(process.exitcode))
            if progress:
                progress(len(results), len(notebooks))
    return [results[number] for number in range(len(notebooks))]


def _worker_died(exitcode: int | None) -> NotebookError:
    import signal

    if exitcode is not None and exitcode < 0:
        try:
            how = f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            how = f"killed by signal {-exitcode}"
    else:
        how = f"exit code {exitcode}"
    return NotebookError("internal-error", f"internal error while checking it: the worker process died ({how})")
