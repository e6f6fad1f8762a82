"""The IPython extension: `%readiness` and `%%readiness`, the checks inside a running notebook."""
from __future__ import annotations

import ast
import datetime
import difflib
import importlib
import os
import re
import subprocess
import time
import weakref
from pathlib import Path

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from ..config import ConfigError, Settings, settings_for
from ..engine import check_notebook
from ..findings import Severity
from ..report import NotebookReport, display_path
from ..rules import all_rules, get_rule
from .display import CellView, ReadinessReport, RuleHelp, RuleTable, Snippet
from .sources import (
    Target,
    history_cells,
    history_notebook,
    history_settings,
    load_file,
    session_notebook,
)
from .watch import Watcher, check_cell

__all__ = [
    "ReadinessFailure",
    "ReadinessMagics",
    "ReadinessReport",
    "load_ipython_extension",
    "unload_ipython_extension",
]

_LONG_LITERAL = re.compile(r"""(['"])[^'"\\]{9,}\1""")
SUBCOMMANDS = ("on", "off", "pin", "datacheck", "explain", "export", "rules", "status", "fix")
_HISTORY_NAME = "kernel-history.ipynb"  # where the kernel's history "lives", for settings and project files



_FILE_CLOCK_SLACK = 0.01  # seconds: how far a file's mtime may lag time.time() (a tick of the coarse clock)

class ReadinessFailure(Exception):
    """Raised by `--strict` when findings reach the fail level, so Run All, nbclient and papermill stop."""

    def __init__(self, report: ReadinessReport):
        self.report = report
        if report.error is not None:
            message = f"cannot check {report.checked}: {report.error.message}"
        else:
            blocking = report.blocking(report.fail_on)
            where = "; ".join(
                f"{f.code} {report._where(f.cell_index)} line {f.line}" for f in blocking[:8]
            ) + ("; ..." if len(blocking) > 8 else "")
            level = report.fail_on.value
            message = (f"{len(blocking)} finding{'s' if len(blocking) != 1 else ''} at or above '{level}' "
                       f"in {report.checked} (--strict): {where}")
        super().__init__(message)

    def _render_traceback_(self) -> list[str]:
        # The report is already on screen; a Python traceback would only hide it.
        return [f"ReadinessFailure: {self}"]


# --- option parsers: `%readiness?` shows them all ------------------------------------------------

def _named(name: str):
    def mark(func):
        func.argcmd_name = name
        return func
    return mark


def _check_options(func):
    for decorator in reversed((
        argument("--select", action="append", metavar="CODES",
                 help="only these rules: codes, code prefixes, names or categories (comma-separated or repeated)"),
        argument("--ignore", action="append", metavar="CODES", help="leave these rules out (same forms as --select)"),
        argument("--fail-on", choices=("error", "warning", "info"), default=None,
                 help="the severity that counts as failing for --strict (default: the project's fail-on, else error)"),
        argument("--format", choices=("html", "text", "json"), default="html",
                 help="how the report shows: an HTML table (text in a terminal), plain text, or JSON"),
        argument("--strict", action="store_true",
                 help="raise when findings reach the fail level, so Run All and papermill stop here"),
        argument("--no-ruff", action="store_true", help="leave out ruff's code-quality diagnostics"),
    )):
        func = decorator(func)
    return func


@magic_arguments()
@_named("readiness")
@argument("path", nargs="?", metavar="PATH",
          help="a notebook to check (default: this session's notebook, else the cells run in this kernel)")
@_check_options
def _check_parser():
    """Check the notebook this kernel runs and show what keeps it from production."""


@magic_arguments()
@_named("%readiness")
@argument("--no-run", action="store_true", help="check the cell but do not run it")
@_check_options
def _cell_parser():
    """Check this cell in the context of the cells run before it, show the findings, then run it."""


@magic_arguments()
@_named("readiness on")
@argument("--select", action="append", metavar="CODES", help="only these rules")
@argument("--ignore", action="append", metavar="CODES", help="leave these rules out")
def _on_parser():
    """Watch mode: check each cell as it is run and show its findings in a line or two under it."""


@magic_arguments()
@_named("readiness pin")
@argument("path", nargs="?", metavar="PATH", help="a notebook (default: as for %%readiness)")
@argument("--write", metavar="FILE", help="write the requirements to FILE instead of only showing them")
@argument("--force", action="store_true", help="replace FILE when it exists")
def _pin_parser():
    """Pin what the notebook imports to the versions installed in this kernel (a requirements file)."""


@magic_arguments()
@_named("readiness datacheck")
@argument("name", metavar="NAME", help="a pandas DataFrame in this kernel, e.g. df or data.train")
@argument("--style", choices=("auto", "asserts", "pandera"), default="auto",
          help="a pandera schema or plain asserts (auto: pandera when it is installed)")
@argument("--insert", action="store_true", help="also put the check in a new cell below (where the front end allows)")
def _datacheck_parser():
    """Write a data check from a live DataFrame, to paste under the line that loads it."""


@magic_arguments()
@_named("readiness explain")
@argument("code", metavar="CODE", help="a rule code or name (RP301, unchecked-data-load) or a ruff code (F401)")
def _explain_parser():
    """Show what a rule checks, why it matters, and what to write instead."""


@magic_arguments()
@_named("readiness export")
@argument("output_dir", nargs="?", metavar="OUTPUT_DIR",
          help="the folder to write the package folder into (default: beside the notebook)")
@argument("--notebook", metavar="PATH", help="the notebook to export (default: this session's notebook)")
@argument("--name", metavar="NAME", help="the package name (default: from the notebook's name)")
@argument("--force", action="store_true",
          help="replace an exported package folder, and export despite blocking findings (listed in its README)")
def _export_parser():
    """Export the notebook into an installable, tested Python package."""


_PARSERS = {
    "check": _check_parser, "cell": _cell_parser, "on": _on_parser, "pin": _pin_parser,
    "datacheck": _datacheck_parser, "explain": _explain_parser, "export": _export_parser,
}


def _parse(kind: str, line: str):
    parser = _PARSERS[kind]
    try:
        return parse_argstring(parser, line)
    except ValueError as exc:  # shlex: an unclosed quote
        raise UsageError(f"cannot read the options ({exc}); %readiness? shows them") from None
    except UsageError as exc:
        usage = " ".join(parser.parser.format_usage().replace("::", " ").split()).removeprefix("usage: ")
        raise UsageError(f"{exc}\nusage: {usage}\n(%readiness? shows every option)") from None


_HELP = """Find what keeps this notebook from production, without leaving it.

  %readiness [PATH]            check this session's notebook (or PATH, or the cells run in this kernel)
  %%readiness [--no-run]       check this cell with the cells run before it, then run it
  %readiness on | off          watch mode: check each cell as it runs (a line or two under the cell)
  %readiness pin               pin the notebook's imports to the versions installed here
  %readiness fix [CODES]       the diff the fixes make to the saved notebook (--unsafe, --write)
  %readiness datacheck NAME    a data check written from a live DataFrame, to paste under its load
  %readiness explain CODE      what a rule checks and what to write instead
  %readiness rules             every rule
  %readiness export DIR        the notebook as an installable, tested package
  %readiness status            watch mode, the notebook found, the last internal failure

`r = %readiness` keeps the report: r.findings, r.summary(), r.to_dict().
"""


def _selectors(values) -> tuple[str, ...] | None:
    if not values:
        return None
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def _unknown_selectors(selectors: tuple[str, ...] | None) -> list[str]:
    """Selectors that can match nothing we know: a typo would otherwise silently select nothing."""
    if not selectors:
        return []
    rules = all_rules()
    known_words = {rule.name for rule in rules} | {rule.category for rule in rules} | {"all"}
    from ..findings import CATEGORIES

    known_words |= set(CATEGORIES)
    unknown = []
    for selector in selectors:
        if selector.upper().startswith("RP"):
            if not any(rule.code.startswith(selector.upper()) for rule in rules):
                unknown.append(selector)
        elif not re.fullmatch(r"[A-Z]+[0-9]*", selector) and selector.lower() not in known_words:
            unknown.append(selector)  # not a ruff-style code either
    return unknown


@magics_class
class ReadinessMagics(Magics):
    def __init__(self, shell):
        super().__init__(shell)
        self.watcher: Watcher | None = None
        self.finished: dict[int, float] = {}  # execution count -> when that cell finished
        # Whether a cell is running now (its source is then the last entry of the history); None
        # until the hooks have seen a cell start, e.g. when the extension was loaded in this cell.
        self.in_cell: bool | None = None
        self.last_failure = ""  # the traceback of the last internal failure, for %readiness status

    # -- hooks ----------------------------------------------------------------------------------
    def record_start(self, info=None) -> None:
        """pre_run_cell: a cell is running; the magics must not count it among the cells before it."""
        self.in_cell = bool(getattr(info, "store_history", True))

    def record_finish(self, result=None) -> None:
        """post_run_cell: when each cell finished, to tell whether the saved notebook is older."""
        count = getattr(result, "execution_count", None)
        if isinstance(count, int):
            self.finished[count] = time.time()
        self.in_cell = False

    # -- the magic -------------------------------------------------------------------------------
    @line_cell_magic
    def readiness(self, line: str = "", cell: str | None = None):
        if cell is not None:
            return self._cell(line, cell)
        words = line.split(None, 1)
        command = words[0] if words else ""
        rest = words[1] if len(words) > 1 else ""
        try:
            if command in SUBCOMMANDS:
                return getattr(self, f"_{command}")(rest)
            return self._check(line)
        except (UsageError, ReadinessFailure):
            raise
        except Exception as exc:  # noqa: BLE001 - a bug in the linter must not fail the user's cell
            failed = self._failed(exc, f"%readiness {line}".strip())
            if command in SUBCOMMANDS:
                print(f"readiness {command}: {failed.error.message}")
                return None
            return self._finish(failed, strict=_parse("check", line).strict)

    def _failed(self, exc: Exception, checked: str) -> ReadinessReport:
        """A report that says the check itself failed; the traceback waits for %readiness status."""
        import traceback

        from ..notebook import NotebookError

        self.last_failure = traceback.format_exc()
        summary = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        error = NotebookError("internal-error", f"the linter failed ({summary}); your code is not affected. "
                                               "Details: %readiness status")
        report = ReadinessReport(path=None, findings=[], error=error)
        report.checked = checked
        return report

    readiness.__doc__ = _HELP + "\n" + "\n".join(
        parser.__doc__ or "" for parser in (_check_parser, _cell_parser, _on_parser, _pin_parser,
                                            _datacheck_parser, _explain_parser, _export_parser)
    )

    # -- %readiness [PATH] -------------------------------------------------------------------
    def _check(self, line: str):
        args = _parse("check", line)
        target = self.target(args.path)
        settings = self._settings(target.path, args)
        if target.kind == "history":
            settings = history_settings(settings)
        if target.notebook is not None:
            target.notebook.kernel = self._kernel_facts(same_session=target.kind in ("session", "vscode"),
                                                        saved=target.path)
            report = check_notebook(target.notebook, settings, use_ruff=not args.no_ruff)
        else:
            report = NotebookReport(display_path(target.path), error=target.error)
        result = ReadinessReport.from_report(
            report, notes=list(target.notes), cells=self._cell_views(target), display_format=args.format,
            fail_on=settings.fail_on,
        )
        result.checked = target.description
        if target.kind == "history":
            result.path = None
        unknown = _unknown_selectors(_selectors(args.select))
        if unknown:
            result.notes.append(f"--select {', '.join(unknown)} matches no rule; see %readiness rules")
        self._add_pin_hint(result, target)
        return self._finish(result, args.strict)

    def _finish(self, result: ReadinessReport, strict: bool):
        if strict and (result.error is not None or result.blocking(result.fail_on)):
            from IPython.display import display

            display(result)
            raise ReadinessFailure(result)
        return result

    def target(self, path: str | None = None) -> Target:
        """The notebook to check: PATH, else the session's notebook, else this kernel's history."""
        cwd = Path.cwd()
        runs = history_cells(self.shell, drop_last=self.in_cell)
        kind, session_path, raw = session_notebook(self.shell.user_ns, cwd=cwd)
        if path:
            given = Path(os.path.expandvars(os.path.expanduser(path)))
            same = session_path is not None and _same_file(given, session_path)
            return load_file(kind if same else "path", given, f"{display_path(given)}", runs, self.finished)
        if session_path is not None:
            who = "the notebook of this Jupyter session" if kind == "session" else "the notebook open in VS Code"
            return load_file(kind, session_path, f"{display_path(session_path)} ({who})", runs, self.finished)
        notes = []
        if raw:
            notes.append(f"This kernel's session names {raw!r}, which is not a notebook file found from "
                         f"{cwd}; checked the cells run in this kernel instead.")
        notebook = history_notebook(runs, path=cwd / _HISTORY_NAME)
        count = len(notebook.cells)
        short = f"the {count} cell{'s' if count != 1 else ''} run in this kernel"
        description = f"{short} (no notebook file known; pass a PATH to check a saved notebook)"
        target = Target("history", description, short=short, notebook=notebook, notes=notes)
        target.history_counts = {cell.index: cell.execution_count for cell in notebook.cells}
        return target

    def _settings(self, path: Path | None, args) -> Settings:
        try:
            return settings_for(path or Path.cwd() / _HISTORY_NAME).with_overrides(
                select=_selectors(args.select), ignore=_selectors(args.ignore), fail_on=args.fail_on,
                ruff=False if getattr(args, "no_ruff", False) else None,
            )
        except ConfigError as exc:
            raise UsageError(f"readiness settings: {exc}") from None

    @staticmethod
    def _cell_views(target: Target) -> dict[int, CellView]:
        views = {}
        notebook = target.notebook
        if notebook is None:
            return views
        for cell in notebook.cells:
            first = next((text.strip() for text in cell.source.splitlines() if text.strip()), "")
            # A hint to find the cell by, not a copy of it: long literals (a key, a password) are masked.
            first = _LONG_LITERAL.sub(r"\1…\1", first)
            first = first if len(first) <= 60 else first[:59] + "…"
            if target.kind == "history":
                label = f"In [{target.history_counts.get(cell.index, '?')}]"
            else:
                count = f" [{cell.execution_count}]" if cell.execution_count is not None else ""
                label = f"cell {cell.index + 1}{count}"
            views[cell.index] = CellView(label, first)
        return views

    def _add_pin_hint(self, result: ReadinessReport, target: Target) -> None:
        """Unpinned imports: say which versions this kernel has, the pins a requirements file needs."""
        if target.notebook is None or not any(f.category == "unpinned-dependency" for f in result.findings):
            return
        try:
            from ..live import pins_for

            pins = [pin.requirement for pin in pins_for(target.notebook, self._local_dirs(target)) if pin.requirement]
        except Exception:  # noqa: BLE001 - a hint must not break the report
            return
        if pins:
            shown = ", ".join(pins[:8]) + (", ..." if len(pins) > 8 else "")
            result.notes.append(f"Installed in this kernel: {shown}. `%readiness pin --write requirements.txt` "
                                "writes them as pins.")

    def _kernel_facts(self, *, same_session: bool, saved: Path | None = None):
        """What this kernel knows beyond the saved file, for the live rules (RP730-RP732)."""
        from ..live import kernel_facts

        manager = getattr(self.shell, "history_manager", None)
        inputs = manager.input_hist_raw if manager is not None else self.shell.user_ns.get("In", [])
        ran_after_save: set[int] = set()
        if same_session and saved is not None:
            try:
                mtime = saved.stat().st_mtime
            except OSError:
                mtime = None
            if mtime is not None:
                # A file's time comes from the kernel's coarse clock, a few milliseconds behind time.time():
                # a save right after a run could otherwise look older than the run it saved.
                ran_after_save = {count for count, finished in self.finished.items()
                                  if finished > mtime + _FILE_CLOCK_SLACK}
                started = _session_start(manager)
                if started is not None and mtime < started:
                    # Saved before this session began (a kernel restarted since): none of its counts are ours.
                    ran_after_save = set(range(1, len(inputs)))
        return kernel_facts(inputs, same_session=same_session, ran_after_save=ran_after_save)

    @staticmethod
    def _local_dirs(target: Target) -> tuple[Path, ...]:
        folders = [Path.cwd()]
        if target.path is not None:
            folders.insert(0, Path(os.path.abspath(target.path)).parent)
        return tuple(dict.fromkeys(folders))

    # -- %%readiness -------------------------------------------------------------------------
    def _cell(self, line: str, cell: str):
        args = _parse("cell", line)
        settings = history_settings(self._settings(None, args))
        try:
            runs = history_cells(self.shell, drop_last=self.in_cell)
            source = f"%%readiness {line}".rstrip() + "\n" + cell
            checked = check_cell(source, runs, settings, summarise=True, use_ruff=not args.no_ruff,
                                 kernel=self._kernel_facts(same_session=False))
            findings = checked.findings
            for last_line in checked.internal_errors.splitlines()[-1:]:
                print(f"readiness: a rule failed on this cell and was skipped ({last_line.strip()})")
            report = ReadinessReport(path=None, findings=findings, display_format=args.format,
                                     fail_on=settings.fail_on)
            report.checked = (f"this cell, with the {len({r.source for r in runs})} cells run before it"
                              if runs else "this cell")
            report.cells = {f.cell_index: CellView("this cell") for f in findings}
        except Exception as exc:  # noqa: BLE001 - the cell runs whatever happens to its check
            report = self._failed(exc, "this cell")
            report.display_format, report.fail_on = args.format, settings.fail_on
        from IPython.display import display

        if args.strict and (report.error is not None or report.blocking(settings.fail_on)):
            display(report)
            raise ReadinessFailure(report)
        display(report)
        if args.no_run:
            return None
        return self._run_body(cell)

    def _run_body(self, cell: str):
        """Run the body as the cell it is: magics, the value of its last line, tracebacks that point at it."""
        __tracebackhide__ = True
        shell = self.shell
        transformed = shell.transform_cell(cell)
        number = max(shell.execution_count - 1, 0)
        # Line 1 of the cell is `%%readiness`: shift the body so tracebacks name the lines the user sees.
        filename = shell.compile.cache("\n" + transformed, number, raw_code="\n" + cell)
        tree = shell.compile.ast_parse("\n" + transformed, filename=filename)
        tree = shell.transform_ast(tree)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        exec(shell.compile(tree, filename, "exec"), shell.user_global_ns, shell.user_ns)  # noqa: S102 - the user's cell
        if last is not None:
            return eval(shell.compile(last, filename, "eval"), shell.user_global_ns, shell.user_ns)
        return None

    # -- watch mode ----------------------------------------------------------------------------
    def _on(self, line: str):
        args = _parse("on", line)
        if self.watcher is None:
            self.watcher = Watcher(self.shell)
            self.shell.events.register("pre_run_cell", self.watcher)
        self.watcher.select = _selectors(args.select)
        self.watcher.ignore = _selectors(args.ignore)
        _, session_path, _ = session_notebook(self.shell.user_ns)
        self.watcher.notebook_path = session_path
        print("readiness: watch mode on: each cell is checked as it runs (ruff's diagnostics are left to "
              "%readiness). %readiness off stops it.")

    def _off(self, line: str = ""):
        if line.strip():
            raise UsageError("%readiness off takes no options")
        was_on = self.watcher is not None
        self.stop_watching()
        print("readiness: watch mode off." if was_on else "readiness: watch mode was not on.")

    def stop_watching(self) -> None:
        if self.watcher is not None:
            try:
                self.shell.events.unregister("pre_run_cell", self.watcher)
            except ValueError:
                pass
            self.watcher = None

    def _status(self, line: str = ""):
        lines = []
        if self.watcher is None:
            lines.append("watch mode: off")
        else:
            checked = self.watcher.checked
            lines.append(f"watch mode: on ({checked} cell{'s' if checked != 1 else ''} checked, last took "
                         f"{self.watcher.last_seconds * 1000:.1f} ms)")
        target = self.target()
        lines.append(f"%readiness checks: {target.description}")
        failures = dict.fromkeys(filter(None, [self.last_failure, self.watcher.last_failure if self.watcher else ""]))
        lines.append("last internal failure: " + ("\n" + "\n".join(failures) if failures else "none"))
        print("\n".join(lines))

    def _fix(self, line: str):
        from .fix import run_fix

        return run_fix(self, line)

    # -- live-kernel extras ----------------------------------------------------------------------
    def _pin(self, line: str):
        from ..live import pins_for, requirements_text

        args = _parse("pin", line)
        target = self.target(args.path)
        if target.notebook is None:
            raise UsageError(f"cannot read {target.description}: {target.error.message if target.error else ''}")
        pins = pins_for(target.notebook, self._local_dirs(target))
        text = requirements_text(pins, target.short)
        if args.write:
            destination = Path(os.path.expanduser(args.write))
            if destination.exists() and not args.force and destination.read_text(errors="replace") != text:
                raise UsageError(f"{destination} exists; add --force to replace it")
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_text(text, encoding="utf-8")
            pinned = sum(1 for pin in pins if pin.requirement)
            print(f"readiness: wrote {pinned} pin{'s' if pinned != 1 else ''} to {destination}")
        return Snippet(text, "text")

    def _datacheck(self, line: str):
        from ..live import data_check, is_dataframe, pandera_available

        args = _parse("datacheck", line)
        name = args.name
        if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", name):
            raise UsageError(f"datacheck takes a variable name such as df or data.train, not {name!r}")
        root, *attributes = name.split(".")
        if root not in self.shell.user_ns:
            raise UsageError(f"there is no variable {root!r} in this kernel; run the cell that loads it first")
        value = self.shell.user_ns[root]
        for attribute in attributes:
            try:
                value = getattr(value, attribute)
            except AttributeError:
                raise UsageError(f"{name}: no attribute {attribute!r}") from None
        if not is_dataframe(value):
            raise UsageError(f"{name} is a {type(value).__module__}.{type(value).__name__}; "
                             "datacheck works on pandas DataFrames")
        if args.style == "pandera" and not pandera_available():
            raise UsageError("pandera is not installed in this kernel (%pip install pandera), or use --style asserts")
        check = data_check(value, name, args.style)
        if check.dropped:
            print(f"readiness: left out {len(check.dropped)} check(s) that do not hold on {name} as it is "
                  f"(dtypes pandas cannot compare): " + "; ".join(check.dropped)[:300])
        if args.insert:
            self.shell.set_next_input(check.code, replace=False)
        return Snippet(check.code)

    def _explain(self, line: str):
        args = _parse("explain", line)
        rule = get_rule(args.code)
        if rule is not None:
            docs = rule.docs()
            return RuleHelp(rule.code, rule.name, rule.category, rule.severity.value, [
                ("What it does", docs.summary), ("Why it matters", docs.why), ("Example", docs.example),
                ("Use instead", docs.use_instead),
            ])
        code = args.code.strip().upper()
        if re.fullmatch(r"[A-Z]{1,4}[0-9]{2,4}", code) and not code.startswith("RP"):
            text = _ruff_rule_docs(code)
            if text:
                return Snippet(text, "markdown")
        family = [f"{rule.code} {rule.name}" for rule in all_rules() if rule.code.startswith(code)]
        if family and code.startswith("RP"):
            raise UsageError(f"{args.code} is a family of rules: {', '.join(family)}; explain one of them")
        choices = [rule.code for rule in all_rules()] + [rule.name for rule in all_rules()]
        close = difflib.get_close_matches(args.code, choices, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; %readiness rules lists them all"
        raise UsageError(f"no rule {args.code!r}{hint}")

    def _rules(self, line: str = ""):
        rows = []
        for rule in all_rules():
            summary = rule.docs().summary.split("\n\n")[0].replace("\n", " ")
            first = re.split(r"(?<=[.!?])\s", summary, maxsplit=1)[0]
            rows.append((rule.code, rule.name, rule.category, rule.severity.value, first))
        return RuleTable(rows)

    def _export(self, line: str):
        args = _parse("export", line)
        try:
            exporter = importlib.import_module("readiness_magics.exporter")
            export_notebook = exporter.export_notebook
        except (ImportError, AttributeError):
            raise UsageError("export is not available: this installation of readiness-magics has no exporter "
                             "(readiness_magics.exporter)") from None
        target = self.target(args.notebook)
        if target.path is None:
            raise UsageError("export needs a saved notebook: no notebook file is known for this kernel; "
                             "pass --notebook PATH")
        if target.error is not None:
            raise UsageError(f"cannot read {target.description}: {target.error.message}")
        for note in target.notes:
            print(f"readiness: {note}")
        expected = tuple(e for e in (getattr(exporter, "ExportError", None),) if isinstance(e, type))
        output = Path(os.path.expanduser(args.output_dir)) if args.output_dir else None
        try:
            # this kernel ran the notebook: its values become fixtures of the generated tests
            result = export_notebook(target.path, output, name=args.name, force=args.force,
                                     live=dict(self.shell.user_ns))
        except expected + (FileExistsError, ValueError) as exc:
            raise UsageError(f"export failed: {exc}") from None
        blocking = list(getattr(result, "blocking", []) or [])
        if getattr(result, "status", "written") != "written":
            from IPython.display import display

            report = ReadinessReport(path=str(target.path), findings=blocking, fail_on=Severity.ERROR,
                                     title="readiness export refused", cells=self._cell_views(target))
            report.checked = target.short
            display(report)
            raise UsageError(getattr(result, "message", "export refused"))
        print(f"readiness: {getattr(result, 'message', f'exported {target.short}')}")
        for warning in getattr(result, "warnings", []) or []:
            print(f"readiness: {warning}")


def _session_start(manager) -> float | None:
    """When this kernel's history session began (IPython's `sessions` table), or None when unknown."""
    try:
        rows = list(manager.db.execute("SELECT start FROM sessions WHERE session = ?", (manager.session_number,)))
        start = rows[0][0] if rows else None
        if isinstance(start, str):
            start = datetime.datetime.fromisoformat(start)
        return start.timestamp() if isinstance(start, datetime.datetime) else None
    except Exception:  # noqa: BLE001 - history disabled, a DummyDB, another schema: not known
        return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _ruff_rule_docs(code: str) -> str | None:
    """ruff's own docs for one of its codes (the report includes ruff's diagnostics)."""
    try:
        from ..ruff_bridge import ruff_binary

        done = subprocess.run([ruff_binary(), "rule", code], check=False, capture_output=True, text=True, timeout=20)
    except Exception:  # noqa: BLE001 - no ruff: fall through to "no rule"
        return None
    return done.stdout if done.returncode == 0 and done.stdout.strip() else None


# --- loading ---------------------------------------------------------------------------------------

_LOADED: weakref.WeakKeyDictionary[object, ReadinessMagics] = weakref.WeakKeyDictionary()


def load_ipython_extension(ipython) -> None:
    """`%load_ext readiness_magics`; loading it again (or from ipython_config.py too) changes nothing."""
    if ipython in _LOADED:
        return
    magics = ReadinessMagics(ipython)
    ipython.register_magics(magics)
    ipython.events.register("pre_run_cell", magics.record_start)
    ipython.events.register("post_run_cell", magics.record_finish)
    _LOADED[ipython] = magics


def unload_ipython_extension(ipython) -> None:
    magics = _LOADED.pop(ipython, None)
    if magics is None:
        return
    magics.stop_watching()
    for event, callback in (("pre_run_cell", magics.record_start), ("post_run_cell", magics.record_finish)):
        try:
            ipython.events.unregister(event, callback)
        except ValueError:
            pass
    manager = ipython.magics_manager
    for kind in ("line", "cell"):
        manager.magics[kind].pop("readiness", None)
    manager.registry.pop(type(magics).__name__, None)


def magics_for(ipython) -> ReadinessMagics | None:
    """The extension's state in a shell (tests and `%readiness status` use it)."""
    return _LOADED.get(ipython)
