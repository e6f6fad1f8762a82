"""The result of checking one notebook: findings, counts per category, a readiness score."""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .findings import CATEGORIES, Finding, Severity
from .notebook import NotebookError

# The readiness score is a rubric, in the spirit of Google's "ML Test Score" (Breck et al., 2017): each
# category of the contract passes, partly passes or fails, and is worth what failing it costs when the
# notebook goes to production. It reads which categories have problems and how serious, never how
# many findings there are, so a long notebook is not punished for being long. See docs/score.md.
CATEGORY_WEIGHTS: dict[str, int] = {
    "notebook-format": 15,  # it does not run at all
    "hidden-state": 15,  # its saved results are not what a run from the top gives
    "data-leakage": 15,  # its model is worse than its reported metrics: the costliest silent error
    "hardcoded-secret": 15,  # a credential leaks with the file, whatever else is right
    "hardcoded-path": 10,  # it runs on one machine only
    "unpinned-dependency": 10,  # it breaks, or changes its results, when a package releases
    "missing-data-check": 10,  # bad input flows silently into the results
    "untestable-code": 5,  # it cannot be tested or scheduled as it is: the cost is a rewrite
    "code-quality": 3,  # ruff's run-time problems: each is usually a small fix
    "notebook-hygiene": 2,  # names, markdown, structure: costs readers, not runs
}
# pass: nothing at warning or above; partial: warnings only; fail: at least one error. Info findings
# never cost points: they are information.
CREDIT = {"pass": 1.0, "partial": 0.5, "fail": 0.0}


def category_status(findings: list[Finding]) -> dict[str, str]:
    """"pass", "partial" or "fail" for every category of the contract."""
    worst = {category: -1 for category in CATEGORIES}
    for finding in findings:
        if finding.category in worst:
            worst[finding.category] = max(worst[finding.category], finding.severity.rank)
    error, warning = Severity.ERROR.rank, Severity.WARNING.rank
    return {category: "fail" if rank >= error else "partial" if rank >= warning else "pass"
            for category, rank in worst.items()}


def readiness_score(findings: list[Finding]) -> int:
    """0 to 100: the weights of the categories that pass, half of those that partly pass."""
    status = category_status(findings)
    total = sum(CATEGORY_WEIGHTS[category] * CREDIT[state] for category, state in status.items())
    return int(round(100 * total / sum(CATEGORY_WEIGHTS.values())))


def score_explanation(breakdown: dict[str, str]) -> str:
    """What the score is made of, in words every adapter shows the same way."""
    failed = [category for category, state in breakdown.items() if state == "fail"]
    partial = [category for category, state in breakdown.items() if state == "partial"]
    if not failed and not partial:
        return "every category passes"
    parts = []
    if failed:
        parts.append("fails " + ", ".join(failed))
    if partial:
        parts.append("partly " + ", ".join(partial))
    return "; ".join(parts)


def score_band(score: int) -> str:
    """good / fair / poor, for colours: the same bands in the reports, the magics and the sidebar."""
    return "good" if score >= 90 else "fair" if score >= 70 else "poor"


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

    def score_breakdown(self) -> dict[str, str]:
        """Each category's "pass", "partial" or "fail"; empty when the notebook could not be read."""
        return category_status(self.findings) if self.error is None else {}

    def summary(self) -> dict:
        counts = self.counts()
        return {
            "error": counts.get("error", 0),
            "warning": counts.get("warning", 0),
            "info": counts.get("info", 0),
            "score": self.score,
            "score_breakdown": self.score_breakdown(),
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
