"""Fix one notebook file as `ruff check --fix` fixes a script: rounds of non-conflicting fixes until none is left."""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..findings import Finding
from ..report import NotebookReport
from .apply import (
    NotebookFile,
    NotWritable,
    apply,
    choose,
    validation_error,
    write_atomically,
)

MAX_ROUNDS = 25  # each round re-checks the changed notebook; fixes that conflicted apply in the next


@dataclass
class FixOutcome:
    path: Path
    before: bytes
    after: bytes
    applied: list[Finding] = field(default_factory=list)  # the findings whose fixes were applied
    report: NotebookReport | None = None  # what remains after the fixes
    problem: str | None = None  # why the file was left as it is, when it was

    @property
    def changed(self) -> bool:
        return self.after != self.before


def wanted(finding: Finding, unsafe: bool, codes: tuple[str, ...] = ()) -> bool:
    fix = finding.fix
    if fix is None or not fix.edits or (fix.applicability != "safe" and not unsafe):
        return False
    return not codes or any(finding.code.startswith(code) or finding.name == code for code in codes)


def fix_content(raw: bytes, path: str | os.PathLike | None, *, settings=None, unsafe: bool = False,
                use_ruff: bool = True, codes: tuple[str, ...] = (), kernel=None) -> FixOutcome:
    """The fixed bytes of a notebook (nothing is written); `report` is checked on the result.
    `kernel`: what the kernel running this notebook knows (live.KernelFacts), from the magics."""
    from ..engine import check_content

    def check(content, path, settings, use_ruff):
        if kernel is None:
            return check_content(content, path=path, settings=settings, use_ruff=use_ruff)
        from ..engine import check_notebook
        from ..notebook import NotebookError, parse_notebook
        from ..report import NotebookReport, display_path

        try:
            notebook = parse_notebook(content, path=path)
        except NotebookError as error:
            return NotebookReport(display_path(path), error=error)
        notebook.kernel = kernel
        return check_notebook(notebook, settings, use_ruff=use_ruff, ruff_reads_file=False)

    path = Path(path) if path is not None else None
    try:
        notebook = NotebookFile.from_bytes(raw, path)
    except NotWritable as exc:
        report = check(raw, path, settings, use_ruff)
        return FixOutcome(path, raw, raw, report=report, problem=str(exc))
    data, applied, seen = notebook.data, [], set()
    report = check(raw, path, settings, use_ruff)
    for _round in range(MAX_ROUNDS):
        if report.error is not None:
            break
        findings = [finding for finding in report.findings if wanted(finding, unsafe, codes)]
        fixes = []
        for finding in findings:
            # A fix made again after it was applied did not remove its finding: never loop on it.
            if finding.fix not in fixes and finding.fix not in seen:
                fixes.append(finding.fix)
        chosen = choose(fixes, data)
        if not chosen:
            break
        seen.update(chosen)
        data = apply(data, chosen)
        applied.extend(finding for finding in findings if finding.fix in chosen)
        report = check(notebook.render(data), path, settings, use_ruff)
    after = notebook.render(data)
    if after != raw:
        problem = validation_error(after)
        if problem is not None:
            original = check(raw, path, settings, use_ruff)
            return FixOutcome(path, raw, raw, report=original,
                              problem=f"the fixed notebook would not be valid nbformat ({problem}); not written")
    return FixOutcome(path, raw, after, applied, report)


def fix_file(path: str | os.PathLike, *, settings=None, unsafe: bool = False, use_ruff: bool = True,
             codes: tuple[str, ...] = (), write: bool = True) -> FixOutcome:
    path = Path(path)
    raw = path.read_bytes()
    outcome = fix_content(raw, path, settings=settings, unsafe=unsafe, use_ruff=use_ruff, codes=codes)
    if write and outcome.changed:
        if path.read_bytes() != raw:
            outcome.problem = "the file changed on disk while it was being fixed; not written"
            outcome.after = raw
            outcome.applied = []
        else:
            write_atomically(path, outcome.after)
    return outcome


def cell_diff(before: bytes, after: bytes, name: str) -> str:
    """A unified diff of the cells that differ (per cell, as ruff shows notebook diffs)."""
    import json

    def cells(raw: bytes) -> list[tuple[str, str]]:
        data = json.loads(raw.decode("utf-8-sig"))
        return [(cell.get("cell_type", ""), "".join(cell.get("source", "")) if isinstance(cell.get("source"), list)
                 else cell.get("source", "")) for cell in data.get("cells", []) if isinstance(cell, dict)]

    old, new = cells(before), cells(after)
    chunks: list[str] = []

    def one(old_index, new_index, old_text, new_text):
        old_label = f"{name}:cell {old_index}" if old_index is not None else "/dev/null"
        new_label = f"{name}:cell {new_index}" if new_index is not None else "/dev/null"
        chunks.extend(difflib.unified_diff(_lines(old_text), _lines(new_text), old_label, new_label))

    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            continue
        # Inside a changed stretch, an old cell pairs with the next new cell of its kind that still
        # looks like it (an edited cell); the new cells it passes were added, the old ones left, deleted.
        j = b0
        for i in range(a0, a1):
            match = next((k for k in range(j, b1) if new[k][0] == old[i][0] and
                          difflib.SequenceMatcher(a=old[i][1], b=new[k][1], autojunk=False).ratio() >= 0.5), None)
            if match is None:
                one(i, None, old[i][1], "")
                continue
            for k in range(j, match):
                one(None, k, "", new[k][1])
            one(i, match, old[i][1], new[match][1])
            j = match + 1
        for k in range(j, b1):
            one(None, k, "", new[k][1])
    return "".join(chunks)


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of cell\n"
    return lines
