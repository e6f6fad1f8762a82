"""Internal failures as every way in reports them: one line for the user, the traceback on request."""
from __future__ import annotations

import os
from pathlib import Path

from .notebook import NotebookError

INTERNAL_ERROR = "internal-error"
# The tests' way to make the check of one notebook fail as a bug or a dying worker would:
# READINESS_TEST_WORKER_FAULT=raise|memory|kill:<file name>.
FAULT_VARIABLE = "READINESS_TEST_WORKER_FAULT"
_MAX_MESSAGE = 300


def debug_enabled() -> bool:
    """READINESS_DEBUG=1 (or `--verbose`, which sets it) shows tracebacks of internal failures."""
    return os.environ.get("READINESS_DEBUG", "") not in ("", "0")


def one_line(exc: BaseException) -> str:
    """`ValueError: what went wrong`, on one line and short enough for a terminal or a JSON field."""
    text = " ".join(str(exc).split())
    name = type(exc).__name__
    line = f"{name}: {text}" if text else name
    return line if len(line) <= _MAX_MESSAGE else line[:_MAX_MESSAGE - 1] + "…"


def internal_error(exc: BaseException, what: str = "checking it") -> NotebookError:
    """A notebook's error entry for a failure of the tool itself (not of the notebook); the
    traceback rides along in `detail` for `--verbose`, never in the JSON."""
    import traceback

    error = NotebookError(INTERNAL_ERROR, f"internal error while {what}: {one_line(exc)}")
    error.detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return error


def hint() -> str:
    return "" if debug_enabled() else " (READINESS_DEBUG=1 or --verbose shows the traceback)"


def debug_detail(exc: BaseException) -> str:
    """One line, or with READINESS_DEBUG the line and the traceback under it."""
    if not debug_enabled():
        return one_line(exc) + hint()
    import traceback

    return one_line(exc) + "\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()


def inject_test_fault(path) -> None:
    """Fail on purpose when the tests ask for it; costs one environment lookup otherwise."""
    spec = os.environ.get(FAULT_VARIABLE)
    if not spec or path is None:
        return
    kind, _, name = spec.partition(":")
    if Path(path).name != name:
        return
    if kind == "raise":
        raise RuntimeError(f"fault injected by {FAULT_VARIABLE} on {name}")
    if kind == "memory":
        raise MemoryError(f"fault injected by {FAULT_VARIABLE} on {name}")
    if kind == "kill":
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
