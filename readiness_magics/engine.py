"""Check notebooks: load, model, rules, ruff, suppression, report. The one entry point for every adapter."""
from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

from .analysis import NotebookModel
from .config import Settings, settings_for
from .findings import Finding
from .notebook import Notebook, NotebookError, parse_notebook, read_notebook
from .report import NotebookReport, display_path
from .rules import all_rules
from .suppression import is_selected, is_suppressed

SKIPPED_FOLDERS = {".ipynb_checkpoints", ".git", "node_modules", ".venv", "venv", "__pycache__", ".tox"}


def run_rules(notebook: Notebook, settings: Settings, extra: Iterable[Finding] = ()) -> list[Finding]:
    """All rules over one notebook, then selection and suppression; sorted by cell and position."""
    model = NotebookModel(notebook, settings)
    found: list[Finding] = list(extra)
    for rule in all_rules():
        try:
            found.extend(rule.check(model))
        except Exception:  # one broken rule must not hide what the others found
            print(f"readiness: internal error in {rule.code} on {notebook.name}:\n{traceback.format_exc()}",
                  file=sys.stderr)
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
                   ruff_findings: list[Finding] | None = None) -> NotebookReport:
    settings = settings or settings_for(notebook.path)
    if ruff_findings is None and use_ruff and settings.ruff:
        ruff_findings = _ruff_for_notebook(notebook, settings)
    findings = run_rules(notebook, settings, ruff_findings or ())
    return NotebookReport(display_path(notebook.path), findings)


def check_file(path: str | os.PathLike, settings: Settings | None = None, *, use_ruff: bool = True,
               ruff_findings=None) -> NotebookReport:
    """Never raises for an unreadable notebook: the report carries the error instead."""
    try:
        notebook = read_notebook(path)
    except NotebookError as error:
        return NotebookReport(display_path(path), error=error)
    return check_notebook(notebook, settings, use_ruff=use_ruff, ruff_findings=ruff_findings)


def check_content(content: str | bytes | dict, *, path: str | os.PathLike | None = None,
                  settings: Settings | None = None, use_ruff: bool = True) -> NotebookReport:
    """Check notebook JSON that is not (or not yet) on disk, e.g. unsaved edits from the browser."""
    try:
        notebook = parse_notebook(content, path=path)
    except NotebookError as error:
        return NotebookReport(display_path(path), error=error)
    return check_notebook(notebook, settings, use_ruff=use_ruff)


def _ruff_for_notebook(notebook: Notebook, settings: Settings) -> list[Finding]:
    from . import ruff_bridge

    cells = [cell for cell in notebook.cells]
    try:
        if notebook.path is not None and notebook.path.is_file():
            diagnostics = ruff_bridge.run_ruff_on_files([notebook.path], settings.ruff_select)
            return ruff_bridge.to_findings(diagnostics.get(os.path.abspath(notebook.path), []), cells)
        text = json.dumps(_ruff_json(notebook))
        name = str(notebook.path or "notebook.ipynb")
        return ruff_bridge.to_findings(ruff_bridge.run_ruff_on_content(text, name, settings.ruff_select), cells)
    except (ruff_bridge.RuffUnavailable, OSError, ValueError) as exc:
        ruff_bridge.warn(f"ruff diagnostics skipped: {exc}")
        return []


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


def _check_batch(args) -> list[dict]:
    """Worker: check some notebooks; ruff findings come precomputed from the parent."""
    paths, settings_overrides, use_ruff, ruff_by_file = args
    reports = []
    for path in paths:
        settings = settings_for(path).with_overrides(**settings_overrides)
        report = _check_one(path, settings, use_ruff, ruff_by_file)
        reports.append(report)
    return reports


def _check_one(path: Path, settings: Settings, use_ruff: bool, ruff_by_file) -> NotebookReport:
    from . import ruff_bridge

    try:
        notebook = read_notebook(path)
    except NotebookError as error:
        return NotebookReport(display_path(path), error=error)
    ruff_findings: list[Finding] = []
    if use_ruff and settings.ruff and ruff_by_file is not None:
        ruff_findings = ruff_bridge.to_findings(ruff_by_file.get(os.path.abspath(path), []), notebook.cells)
    return check_notebook(notebook, settings, use_ruff=False, ruff_findings=ruff_findings)


def check_paths(paths: Iterable[str | os.PathLike], *, overrides: dict | None = None, use_ruff: bool = True,
                jobs: int | None = None, progress: Callable[[int, int], None] | None = None
                ) -> list[NotebookReport]:
    """Check every notebook under `paths`: one ruff process in all, notebooks spread over processes."""
    from concurrent.futures import ProcessPoolExecutor

    from . import ruff_bridge

    overrides = overrides or {}
    notebooks = collect_notebooks(paths)
    ruff_by_file = None
    if use_ruff and overrides.get("ruff", True):
        select = overrides.get("ruff_select") or ()
        if not select and notebooks:
            select = settings_for(notebooks[0]).ruff_select
        try:
            ruff_by_file = ruff_bridge.run_ruff_on_files([p for p in notebooks if p.is_file()], select)
        except (ruff_bridge.RuffUnavailable, OSError, ValueError) as exc:
            ruff_bridge.warn(f"ruff diagnostics skipped: {exc}")
    jobs = jobs or (os.cpu_count() or 1)
    jobs = max(1, min(jobs, len(notebooks) // 8 or 1))
    reports: list[NotebookReport] = []
    if jobs == 1:
        for number, path in enumerate(notebooks, start=1):
            settings = settings_for(path).with_overrides(**overrides)
            reports.append(_check_one(path, settings, use_ruff, ruff_by_file))
            if progress:
                progress(number, len(notebooks))
        return reports
    batches = [notebooks[start::jobs * 4] for start in range(jobs * 4)]
    order = {os.path.abspath(p): i for i, p in enumerate(notebooks)}
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_check_batch, (batch, overrides, use_ruff,
                                              {k: v for k, v in (ruff_by_file or {}).items()
                                               if k in {os.path.abspath(p) for p in batch}} if ruff_by_file is not None else None))
                   for batch in batches if batch]
        done = 0
        for future in futures:
            batch_reports = future.result()
            reports.extend(batch_reports)
            done += len(batch_reports)
            if progress:
                progress(done, len(notebooks))
    reports.sort(key=lambda r: order.get(os.path.abspath(r.path or ""), 0))
    return reports
