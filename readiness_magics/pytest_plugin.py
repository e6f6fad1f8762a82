"""pytest plugin: `pytest --readiness [paths]` checks each notebook as a test item that lists its findings.

Registered through the `pytest11` entry point, so it is loaded in every pytest run of an
environment where readiness-magics is installed: without `--readiness` it only adds its options,
and it imports nothing but pytest until a notebook is checked. Each `.ipynb` becomes an item
`path/to/nb.ipynb::readiness` beside whatever else collects the file (nbval's cells with
`--nbval`/`--nbval-lax`). An item fails when findings reach the fail level: `--readiness-fail-on`,
else `fail-on` of `[tool.readiness]` in the notebook's nearest pyproject.toml, else `error`. The
rest of `[tool.readiness]` (select, ignore, per-file-ignores, ruff, ...) applies as in
`readiness check`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .report import NotebookReport

_LEVELS = ("error", "warning", "info")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("readiness", "notebook readiness (readiness-magics)")
    group.addoption(
        "--readiness", action="store_true", default=False,
        help="check every collected .ipynb with readiness-magics; one test item per notebook",
    )
    group.addoption(
        "--readiness-fail-on", choices=_LEVELS, default=None, metavar="LEVEL",
        help="lowest severity that fails a notebook: error, warning or info "
             "(default: fail-on of [tool.readiness], else error)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "readiness: a notebook checked by readiness-magics (--readiness)")


_INTERNAL_ERRORS = pytest.StashKey[int]()


def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    """An internal failure of the checker exits 2, as `readiness check` does; 1 means findings."""
    if session.config.stash.get(_INTERNAL_ERRORS, 0) and exitstatus in (0, 1):
        session.exitstatus = 2


def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".ipynb" and parent.config.getoption("readiness"):
        return ReadinessFile.from_parent(parent, path=file_path)
    return None


class ReadinessFile(pytest.File):
    """A notebook, as readiness-magics sees it: one item."""

    def collect(self):
        yield ReadinessItem.from_parent(self, name="readiness")


class NotReady(Exception):
    """A notebook with findings at the fail level, or one that could not be checked."""


class ReadinessItem(pytest.Item):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.add_marker("readiness")
        self.report: NotebookReport | None = None

    def runtest(self) -> None:
        from .config import ConfigError, parse_severity, settings_for
        from .engine import check_file

        try:
            settings = settings_for(self.path)
        except ConfigError as exc:
            raise NotReady(f"{self.path.name}: {exc}") from None
        option = self.config.getoption("readiness_fail_on")
        fail_on = parse_severity(option) if option else settings.fail_on
        try:
            report = check_file(self.path, settings)
        except Exception as exc:  # a failure of ours: one line, and the run exits 2, not 1 (findings)
            raise NotReady(self._internal_failure(exc)) from None
        self.report = report
        if report.error is not None:
            raise NotReady(f"{report.path}: cannot check it: {report.error.message}")
        self.user_properties.append(("readiness_score", report.score))
        blocking = report.blocking(fail_on)
        if blocking:
            raise NotReady(failure_text(report, fail_on.value))
        if report.findings:
            self.add_report_section("call", "readiness", findings_text(report.findings))

    def _internal_failure(self, exc: Exception) -> str:
        import traceback

        from .failures import debug_enabled, hint, one_line

        self.config.stash[_INTERNAL_ERRORS] = self.config.stash.get(_INTERNAL_ERRORS, 0) + 1
        line = f"{self.path.name}: internal error while checking it: {one_line(exc)}"
        if debug_enabled() or self.config.getoption("verbose") > 1:
            return line + "\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return line + hint()

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, NotReady):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"readiness: {self.path.name}"


def failure_text(report: NotebookReport, fail_on: str) -> str:
    blocking = report.blocking(fail_on)
    others = [finding for finding in report.findings if finding not in blocking]
    header = (f"{report.path}: {len(blocking)} finding{'s' if len(blocking) != 1 else ''} at or above "
              f"fail-on={fail_on} (readiness score {report.score}/100)")
    lines = [header, findings_text(blocking)]
    if others:
        lines += [f"also below fail-on={fail_on}:", findings_text(others)]
    return "\n".join(lines)


def findings_text(findings) -> str:
    lines = []
    for finding in findings:
        where = "notebook" if finding.cell_index is None else f"cell {finding.cell_index}, line {finding.line}"
        lines.append(f"  {where}: {finding.code} [{finding.severity.value}] {finding.message}")
    return "\n".join(lines)
