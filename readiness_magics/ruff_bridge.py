"""ruff's own diagnostics, one ruff process per batch of notebooks, mapped to cells."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .findings import Edit, Finding, Fix, Severity

# ruff's syntax errors duplicate RP001; E703 on a cell's last line is how people hide output.
_DROPPED = {"E999"}


@dataclass(frozen=True)
class RuffDiagnostic:
    code: str
    name: str
    message: str
    cell: int  # 1-based among all cells, as ruff counts
    row: int
    column: int
    end_row: int
    end_column: int
    fix_message: str | None
    fix_applicability: str | None
    fix_edits: tuple = ()  # ((row, column, end_row, end_column, content), ...) in the diagnostic's cell


class RuffUnavailable(RuntimeError):
    pass


def ruff_binary() -> str:
    try:
        from ruff.__main__ import find_ruff_bin

        return find_ruff_bin()
    except Exception:  # ruff not installed as a Python package; try PATH
        from shutil import which

        found = which("ruff")
        if not found:
            raise RuffUnavailable("ruff is not installed") from None
        return found


def _command(select: tuple[str, ...]) -> list[str]:
    command = [ruff_binary(), "check", "--output-format", "json", "--no-cache", "--exit-zero", "--quiet"]
    if select:
        command += ["--select", ",".join(select)]
    return command


def _parse(output: str) -> dict[str, list[RuffDiagnostic]]:
    by_file: dict[str, list[RuffDiagnostic]] = {}
    for item in json.loads(output or "[]"):
        code = item.get("code")
        if not code or code in _DROPPED or item.get("cell") is None:
            continue
        fix = item.get("fix") or {}
        location, end = item["location"], item.get("end_location") or item["location"]
        by_file.setdefault(os.path.abspath(item["filename"]), []).append(RuffDiagnostic(
            code, item.get("name", ""), item.get("message", ""), item["cell"],
            location["row"], location["column"], end["row"], end["column"],
            fix.get("message"), fix.get("applicability"),
            tuple((e["location"]["row"], e["location"]["column"], e["end_location"]["row"],
                   e["end_location"]["column"], e["content"]) for e in fix.get("edits") or ()),
        ))
    return by_file


class RuffRun:
    """A ruff process over many files, started now and read later, so it runs beside our own rules.

    With `text`, ruff reads that notebook JSON from stdin instead (named `filename` for its settings):
    unsaved content, written to ruff at once so it is linted while our rules run."""

    def __init__(self, paths: list[Path], select: tuple[str, ...] = (), *, text: str | None = None,
                 filename: str = "notebook.ipynb"):
        self._process = None
        if text is not None:
            self._process = subprocess.Popen(_command(select) + ["--stdin-filename", filename, "-"],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, text=True)
            try:
                self._process.stdin.write(text)  # ruff reads all of stdin before it writes anything
                self._process.stdin.close()
            except BrokenPipeError:  # ruff already gave up; result() reports why
                pass
            self._process.stdin = None  # so communicate() does not flush the closed pipe
        elif paths:
            self._process = subprocess.Popen(_command(select) + [str(path) for path in paths],
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def result(self) -> dict[str, list[RuffDiagnostic]]:
        """Diagnostics by absolute path."""
        if self._process is None:
            return {}
        stdout, stderr = self._process.communicate()
        if self._process.returncode not in (0, 1):
            raise RuffUnavailable(stderr.strip().splitlines()[-1] if stderr.strip() else "ruff failed")
        return _parse(stdout)


def run_ruff_on_files(paths: list[Path], select: tuple[str, ...] = ()) -> dict[str, list[RuffDiagnostic]]:
    """One ruff process for all files; keys are absolute paths."""
    return RuffRun(paths, select).result()


def run_ruff_on_content(text: str, filename: str, select: tuple[str, ...] = ()) -> list[RuffDiagnostic]:
    found = RuffRun([], select, text=text, filename=filename).result()
    return next(iter(found.values()), [])


def to_findings(diagnostics: list[RuffDiagnostic], cells) -> list[Finding]:
    """Map ruff's (cell, row, column) onto our cells; `cells` is the notebook's list of Cell."""
    findings = []
    for diagnostic in diagnostics:
        index = diagnostic.cell - 1
        if not 0 <= index < len(cells):
            continue
        cell = cells[index]
        lines = cell.source.splitlines()
        if diagnostic.code == "E703" and diagnostic.row >= len([line for line in lines if line.strip()]):
            continue
        fix = None
        if diagnostic.fix_message:
            edits = tuple(Edit(index, *edit) for edit in diagnostic.fix_edits)
            if diagnostic.fix_applicability not in ("safe", "unsafe") or \
                    any(edit.end_line > len(lines) + 1 for edit in edits):
                edits = ()  # display-only, or not all in this cell: ruff's fix stays advice here
            fix = Fix(diagnostic.fix_message, "safe" if diagnostic.fix_applicability == "safe" else "unsafe",
                      edits)
        findings.append(Finding(
            code=diagnostic.code,
            name=diagnostic.name,
            category="code-quality",
            severity=Severity.WARNING,
            message=diagnostic.message,
            cell_index=index,
            cell_id=cell.id,
            line=diagnostic.row,
            column=diagnostic.column,
            end_line=diagnostic.end_row,
            end_column=diagnostic.end_column,
            fix=fix,
        ))
    return findings


def warn(message: str) -> None:
    print(f"readiness: {message}", file=sys.stderr)
