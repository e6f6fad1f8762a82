"""The result of checking one notebook: findings, counts per category, a readiness score."""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .findings import Finding, Severity
from .notebook import NotebookError

# Each finding takes a share of what is left, so the score never goes negative and
# the first errors cost the most.
_SEVERITY_KEEP = {Severity.ERROR: 0.88, Severity.WARNING: 0.96, Severity.INFO: 0.995}


def readiness_score(findings: list[Finding]) -> int:
    score = 100.0
    for finding in findings:
        score *= _SEVERITY_KEEP[finding.severity]
    return int(round(score))


@dataclass
class NotebookReport:
    path: str | None
    findings: list[Finding] = field(default_factory=list)
    error: NotebookError | None = None
    checked: str = ""  # what was checked, in words (the magic says "history of this kernel", ...)

    def counts(self) -> Counter:
        return Counter(finding.severity.value for finding in self.findings)

    def by_category(self) -> dict[str, int]:
        return dict(sorted(Counter(finding.category for finding in self.findings).items()))

    @property
    def score(self) -> int:
        return readiness_score(self.findings) if self.error is None else 0

    def summary(self) -> dict:
        counts = self.counts()
        return {
            "error": counts.get("error", 0),
            "warning": counts.get("warning", 0),
            "info": counts.get("info", 0),
            "score": self.score,
            "by_category": self.by_category(),
        }

    def blocking(self, fail_on: Severity | str = Severity.ERROR) -> list[Finding]:
        """Findings at or above the fail level."""
        level = Severity(fail_on).rank
        return [finding for finding in self.findings if finding.severity.rank >= level]

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "error": self.error.to_dict() if self.error else None,
            "summary": self.summary(),
            "findings": [finding.to_dict() for finding in self.findings],
        }

    @classmethod
    def from_dict(cls, data: dict) -> NotebookReport:
        """The inverse of `to_dict` (plain data from a worker process or the cache)."""
        error = data.get("error")
        if error is not None:
            detail = error.get("detail", "")
            error = NotebookError(error["kind"], error["message"])
            error.detail = detail
        return cls(data.get("path"), [Finding.from_dict(item) for item in data.get("findings", ())], error)


def display_path(path: str | Path | None) -> str | None:
    """Paths relative to the working directory when they are inside it, as ruff prints them."""
    if path is None:
        return None
    # Not resolved: a symlink is reported under its own name, not its target's (which may be
    # another file of the same run, or nowhere). Strings, not Path: a warm run shows thousands.
    absolute = os.path.abspath(path)
    try:
        folders = _working_folders(os.getcwd())
    except OSError:  # the working directory was removed
        return str(path)
    for folder in folders:
        if absolute == folder:
            return "."
        prefix = folder if folder.endswith(os.sep) else folder + os.sep
        if absolute.startswith(prefix):
            return absolute[len(prefix):]
    return str(path)


@lru_cache(maxsize=8)
def _working_folders(cwd: str) -> tuple[str, ...]:
    return (cwd, os.path.realpath(cwd))
