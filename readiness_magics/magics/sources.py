"""Which notebook a kernel belongs to (Jupyter session, VS Code, a path, or its own history), and whether it is saved."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings
from ..notebook import Cell, Notebook, NotebookError, read_notebook
from ..report import display_path

# Lines that only drive this extension: checking them would report the checker.
_OWN_MAGIC_PREFIXES = ("%readiness", "%load_ext readiness_magics", "%reload_ext readiness_magics")


@dataclass(frozen=True)
class HistoryCell:
    """One cell this kernel ran: its execution count and its source as typed."""

    count: int
    source: str


@dataclass
class Target:
    """The notebook a magic checks, and how it was found, in words."""

    kind: str  # "session", "vscode", "path" or "history"
    description: str  # "churn.ipynb (the notebook of this Jupyter session)"
    short: str = ""  # "churn.ipynb", "the 12 cells run in this kernel"
    path: Path | None = None
    notebook: Notebook | None = None
    error: NotebookError | None = None
    notes: list[str] = field(default_factory=list)  # said above the findings: unsaved edits, fallbacks
    history_counts: dict[int, int] = field(default_factory=dict)  # cell index -> In[n], for history


def session_notebook(user_ns: dict, environ=os.environ, cwd: Path | None = None) -> tuple[str, Path | None, str]:
    """(kind, path or None, the raw value) of the notebook the front end says this kernel belongs to.

    ipykernel puts jupyter_server's JPY_SESSION_NAME into `__session__` (an absolute path, or a path
    relative to the server's root, which is some folder above the kernel's working directory);
    VS Code sets `__vsc_ipynb_file__` to an absolute path."""
    cwd = cwd or Path.cwd()
    vscode = user_ns.get("__vsc_ipynb_file__")
    if isinstance(vscode, str) and vscode:
        return "vscode", _existing(Path(vscode).expanduser(), cwd), vscode
    session = user_ns.get("__session__") or environ.get("JPY_SESSION_NAME")
    if isinstance(session, str) and session:
        return "session", _existing(Path(session).expanduser(), cwd), session
    return "", None, ""


def _existing(path: Path, cwd: Path) -> Path | None:
    if path.suffix.lower() != ".ipynb":
        return None  # consoles get names such as "console-1-uuid"
    if path.is_absolute():
        return path if path.is_file() else None
    for base in (cwd, *cwd.parents):
        candidate = base / path
        if candidate.is_file():
            return candidate
    candidate = cwd / path.name  # the kernel starts in the notebook's folder
    return candidate if candidate.is_file() else None


def history_cells(shell, *, drop_last: bool | None) -> list[HistoryCell]:
    """The cells this kernel ran, in order, as typed (`In`), without the empty ones.

    `drop_last` leaves out the cell running now: a magic sees its own cell at the end of the history
    (a pre_run_cell hook does not). None means "not known" (the extension was loaded in this very
    cell): then the last cell is left out when it holds this magic."""
    manager = getattr(shell, "history_manager", None)
    raw = list(manager.input_hist_raw) if manager is not None else list(shell.user_ns.get("In", []))
    entries = list(enumerate(raw))[1:]  # In[0] is always empty
    if drop_last is None:
        drop_last = bool(entries) and "readiness" in str(entries[-1][1])
    if drop_last and entries:
        entries = entries[:-1]
    cells = []
    for count, source in entries:
        if not isinstance(source, str) or not source.strip():
            continue
        cells.append(HistoryCell(count, as_checkable(source)))
    return cells


def as_checkable(source: str) -> str:
    """`%%readiness` runs its body as Python: keep the body (and its line numbers) for the rules."""
    stripped = source.lstrip()
    if stripped.startswith("%%readiness"):
        header, newline, body = source.partition("\n")
        return "# " + header.strip() + newline + body
    return source


def is_own_magic(source: str) -> bool:
    text = source.strip()
    if "\n" in text:
        return text.startswith("%%readiness")
    return text.startswith(_OWN_MAGIC_PREFIXES)


def history_notebook(cells: list[HistoryCell], path: Path | None = None, extra: str | None = None) -> Notebook:
    """The kernel's history as a notebook: one code cell per run, counted as they ran.

    A cell run several times is kept once, at its first run (where its names were first defined):
    re-running adds nothing for the rules, and long sessions stay cheap to check."""
    first: dict[str, HistoryCell] = {}
    for cell in cells:
        first.setdefault(cell.source, cell)
    notebook_cells = [
        Cell(index, None, "code", cell.source, (), cell.count)
        for index, cell in enumerate(first.values())
    ]
    if extra is not None:
        count = (cells[-1].count + 1) if cells else 1
        notebook_cells.append(Cell(len(notebook_cells), None, "code", extra, (), count))
    return Notebook(cells=notebook_cells, path=path)


# A kernel's history is not a document: it has no title, markdown, file name or cell order to judge.
# What it imports and installs still meets the requirements file of the folder it runs in.
_DOCUMENT_ONLY_KEEP = frozenset({"cell-too-long", "long-comment-block", "import-missing-from-requirements",
                                 "installed-version-differs"})


def history_settings(settings: Settings) -> Settings:
    """Settings for checking cells from the history: the rules about a saved document left out."""
    from ..rules import all_rules

    document_only = tuple(rule.code for rule in all_rules()
                          if rule.category == "notebook-hygiene" and rule.name not in _DOCUMENT_ONLY_KEEP)
    return settings.with_overrides(ignore=settings.ignore + document_only)


def unsaved_runs(notebook: Notebook, mtime: float, runs: list[HistoryCell],
                 finished: dict[int, float]) -> list[HistoryCell]:
    """Cells run since the file was saved whose source the saved file does not hold.

    With run times known (the extension records them), every run after the save counts; without
    them, only the last run cell. A file older than the last run is not enough by itself: papermill
    and nbclient run a saved notebook without saving it again."""
    if not runs:
        return []
    timed = [run for run in runs if run.count in finished]
    if timed:
        recent = [run for run in timed if finished[run.count] > mtime]
    else:
        recent = runs[-1:]
    if not recent:
        return []
    saved = {_normal(cell.source) for cell in notebook.cells if cell.is_code}
    return [run for run in recent if not is_own_magic(run.source) and _normal(run.source) not in saved]


def _normal(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def load_file(kind: str, path: Path, description: str, runs: list[HistoryCell],
              finished: dict[int, float]) -> Target:
    """Read a notebook file, and say when cells run in this kernel are not in it (unsaved edits)."""
    target = Target(kind, description, short=str(display_path(path)), path=path)
    try:
        target.notebook = read_notebook(path)
    except NotebookError as error:
        target.error = error
        return target
    if kind in ("session", "vscode"):
        try:
            mtime = path.stat().st_mtime
        except OSError:
            mtime = time.time()
        missing = unsaved_runs(target.notebook, mtime, runs, finished)
        if missing:
            counts = ", ".join(f"In [{run.count}]" for run in missing[:5]) + (" ..." if len(missing) > 5 else "")
            target.notes.append(
                f"The saved notebook is older than {counts}, which it does not contain: unsaved edits are not included. "
                "Save the notebook and run this again."
            )
    return target
