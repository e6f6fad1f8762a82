"""ruff's own diagnostics, one ruff process per batch of notebooks, mapped to cells."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from .config import read_toml, toml_module
from .findings import Edit, Finding, Fix, Severity

# readiness's own choice of ruff rules, whatever ruff's default is: what breaks or misleads when the
# notebook runs, not style (ruff's default grew to import sorting and pyupgrade, a quarter of all
# findings on real notebooks). Each entry: a code or prefix, and why it is here.
DEFAULT_RUFF_RULES: tuple[tuple[str, str], ...] = (
    ("E9", "the file cannot be read or parsed (syntax errors themselves are left to RP001)"),
    # pyflakes, all but F405 (repeats F403 at every use of a star-imported name), F541 (an f-string
    # without placeholders prints the same text: cosmetic) and F811 (a name imported or defined again
    # before use: in a notebook, sections re-import what they use so each runs alone; 6 of 6 read on
    # the corpus were such re-imports, harmless at run time)
    ("F401", "unused import: a dependency the notebook installs and imports but never uses"),
    ("F402", "an import shadowed by a loop variable"),
    ("F403", "`from x import *`: names nobody can trace"),
    ("F404", "`from __future__` after other code: a SyntaxError"),
    ("F406", "star import inside a function: a SyntaxError"),
    ("F407", "an unknown __future__ feature: a SyntaxError"),
    ("F50", "%-format strings that raise or drop arguments"),
    ("F52", ".format() calls that raise or drop arguments"),
    ("F6", "repeated dict keys, `assert (x, msg)` that is always true, `is` with a literal"),
    ("F7", "break, continue, return or yield outside their place: a SyntaxError"),
    ("F821", "an undefined name: a NameError when the notebook runs top to bottom"),
    ("F822", "an undefined name in __all__"),
    ("F823", "a local variable used before its assignment: an UnboundLocalError"),
    ("F841", "a local variable assigned and never used: a result computed and dropped"),
    ("F842", "a local annotation never assigned"),
    ("F9", "`raise NotImplemented`: a TypeError"),
    # flake8-bugbear's rules for real bugs, not its opinions (B007, B9xx are left out). B023 (a function
    # defined in a loop binds the loop variable late) is left out too: it cannot tell a closure kept for
    # later from one called at once (`df[c].transform(lambda i: typ.names[i])`); 23 of 23 on the corpus
    # were called at once.
    ("B002", "`++x` is not an increment"),
    ("B005", "`.strip('abc')` strips characters, not a suffix"),
    ("B006", "a mutable default argument is shared between calls"),
    ("B008", "a call in a default argument runs once, at definition"),
    ("B012", "return/break/continue in `finally` swallows the exception"),
    ("B015", "a comparison whose result is thrown away (an assert or assignment was meant)"),
    ("B016", "raising a literal is a TypeError"),
    ("B018", "an expression that does nothing, not at a cell's end (nothing is shown)"),
    ("B020", "a loop variable that overwrites the iterable it loops over"),
    ("B029", "`except ():` catches nothing"),
    ("B030", "`except` of something that is not an exception: a TypeError"),
    ("B031", "a groupby group used twice is empty the second time"),
    ("B032", "`x: 1` (an annotation) where `x = 1` was meant"),
    ("B034", "re.sub/split with count or flags passed by position"),
    ("B035", "a dict comprehension with a constant key keeps one entry"),
    ("E722", "a bare `except:` also swallows KeyboardInterrupt and hides every failure"),
    ("W605", "an invalid escape sequence: a SyntaxWarning since Python 3.12, an error later"),
    ("PLE", "pylint's errors: code that raises or is rejected when it runs"),
    ("PLW0129", "`assert 'message'` is always true"),
    ("PLW0133", "an exception created and not raised"),
    ("PLW0177", "a comparison with NaN is always False"),
    ("PLW0711", "`except A or B` catches only A"),
    # APIs their libraries removed: the cell raises AttributeError on a current install
    ("NPY001", "np.float, np.int, ... were removed in NumPy 1.24"),
    ("NPY201", "names removed in NumPy 2.0 (np.NaN, np.float_, np.product, ...)"),
    ("PD007", "DataFrame.ix was removed in pandas 1.0"),
)
DEFAULT_RUFF_SELECT: tuple[str, ...] = tuple(code for code, _why in DEFAULT_RUFF_RULES)

# ruff's syntax diagnostics repeat RP001 on the same cell; RP001 is kept (it reads IPython syntax
# the way the kernel does). A cell ruff cannot parse gets no other ruff finding either: what ruff says
# after its parser recovered from an error is about code that does not exist.
_SYNTAX_CODES = {"E999", "invalid-syntax"}


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

    @property
    def is_syntax_error(self) -> bool:
        return self.code in _SYNTAX_CODES


class RuffUnavailable(RuntimeError):
    pass


def ruff_binary() -> str:
    # Beside this interpreter first: where pip and pre-commit install ruff with us, and the first place
    # ruff's own find_ruff_bin looks, found without importing sysconfig (a fiftieth of a check's start).
    beside = os.path.join(os.path.dirname(sys.executable), "ruff.exe" if os.name == "nt" else "ruff")
    if os.path.isfile(beside):
        return beside
    try:
        from ruff.__main__ import find_ruff_bin

        return find_ruff_bin()
    except Exception:  # ruff not installed as a Python package; try PATH
        from shutil import which

        found = which("ruff")
        if not found:
            raise RuffUnavailable("ruff is not installed") from None
        return found


def _command(selection: tuple[str, ...]) -> list[str]:
    """`selection`: the options that choose ruff's rules (see `selection_arguments`)."""
    return [ruff_binary(), "check", "--output-format", "json", "--no-cache", "--exit-zero", "--quiet",
            *selection]


_RUFF_CONFIG_NAMES = (".ruff.toml", "ruff.toml", "pyproject.toml")


def project_ruff_config(start: Path | None) -> dict | None:
    """The lint table of the ruff configuration ruff itself would use for a file in `start` (the
    nearest .ruff.toml, ruff.toml or pyproject.toml with a [tool.ruff] table), or None."""
    if start is None:
        return None
    start = Path(os.path.abspath(start))
    return _ruff_config_in(start if start.is_dir() else start.parent)


@lru_cache(maxsize=256)
def _ruff_config_in(folder: Path) -> dict | None:
    for candidate in (folder, *folder.parents):
        for name in _RUFF_CONFIG_NAMES:
            path = candidate / name
            if not path.is_file():
                continue
            tomllib = toml_module()
            try:
                data = read_toml(path)
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue  # ruff will say what is wrong with it
            table = data.get("tool", {}).get("ruff") if name == "pyproject.toml" else data
            if not isinstance(table, dict):
                continue  # a pyproject.toml without [tool.ruff]: ruff looks further up too
            lint = table.get("lint") if isinstance(table.get("lint"), dict) else {}
            return {**{k: v for k, v in table.items() if k != "lint"}, **lint}
    return None


def selection_arguments(settings, notebook_path: Path | None) -> tuple[str, ...]:
    """The ruff options that choose the rules for one notebook, in this order of precedence:

    1. `[tool.readiness] ruff = {select = [...]}`: exactly those rules (`--select`).
    2. The project's own ruff configuration chooses rules (`select` or `extend-select`): ruff runs
       with it as the project wrote it (its ignores hold) plus readiness's selection (`--extend-select`).
    3. Otherwise readiness's selection (`--select`), less the codes the project's ruff configuration
       ignores; ruff's own default set is never used.
    `[tool.readiness] ruff = {extend-select = [...]}` adds rules in every case."""
    extend = settings.ruff_extend_select
    if settings.ruff_select:
        return ("--select", ",".join(settings.ruff_select + extend))
    ours = DEFAULT_RUFF_SELECT + extend
    project = project_ruff_config(notebook_path) or {}
    # Options given to ruff come after its configuration, so the project's ignores are given again.
    ignored = [code for key in ("ignore", "extend-ignore") for code in project.get(key) or ()
               if isinstance(code, str)]
    keep_ignores = ("--ignore", ",".join(ignored)) if ignored else ()
    if project.get("select") or project.get("extend-select"):
        return ("--extend-select", ",".join(ours), *keep_ignores)
    return ("--select", ",".join(ours), *keep_ignores)


def _parse(output: str) -> dict[str, list[RuffDiagnostic]]:
    by_file: dict[str, list[RuffDiagnostic]] = {}
    for item in json.loads(output or "[]"):
        code = item.get("code")
        if item.get("cell") is None:
            continue
        code = code or "invalid-syntax"  # ruff's syntax errors carry no code in some versions
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

    def __init__(self, paths: list[Path], selection: tuple[str, ...] = (), *, text: str | None = None,
                 filename: str = "notebook.ipynb"):
        self._process = None
        self.selection = selection
        if text is not None:
            self._process = subprocess.Popen(_command(selection) + ["--stdin-filename", filename, "-"],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, text=True)
            try:
                self._process.stdin.write(text)  # ruff reads all of stdin before it writes anything
                self._process.stdin.close()
            except BrokenPipeError:  # ruff already gave up; result() reports why
                pass
            self._process.stdin = None  # so communicate() does not flush the closed pipe
        elif paths:
            self._process = subprocess.Popen(_command(selection) + [str(path) for path in paths],
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def result(self) -> dict[str, list[RuffDiagnostic]]:
        """Diagnostics by absolute path."""
        if self._process is None:
            return {}
        stdout, stderr = self._process.communicate()
        if self._process.returncode not in (0, 1):
            raise RuffUnavailable(stderr.strip().splitlines()[-1] if stderr.strip() else "ruff failed")
        return _parse(stdout)


def run_ruff_on_files(paths: list[Path], selection: tuple[str, ...] = ()) -> dict[str, list[RuffDiagnostic]]:
    """One ruff process for all files; keys are absolute paths. `selection`: ruff options (`--select`, ...)."""
    return RuffRun(paths, selection).result()


def run_ruff_on_content(text: str, filename: str, selection: tuple[str, ...] = ()) -> list[RuffDiagnostic]:
    found = RuffRun([], selection, text=text, filename=filename).result()
    return next(iter(found.values()), [])


# ruff's words where they understate what happens at run time.
_MESSAGES = {
    "PD007": "`.ix` was removed in pandas 1.0: this raises AttributeError on a current pandas; use `.loc` "
             "(labels) or `.iloc` (positions)",
}
_UNDEFINED_NAME = re.compile(r"Undefined name `([^`]+)`")
_TIMED_ASSIGNMENT = re.compile(r"^[ \t]*%%?time(?:it)?[ \t]+([\w, ()\[\]]+?)[ \t]*=(?!=)", re.MULTILINE)
_QUOTED_NAME = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)'")
# Our rules that report a name used above the cell defining it: ruff's F821 on that name repeats them.
_USED_BEFORE_DEFINED = {"RP504", "RP408"}


def _bound_where_ruff_cannot_see(name: str, cells, index: int) -> bool:
    """True when a cell at or above `index` binds `name` in IPython syntax ruff reads as opaque
    (`%time x = ...`, which runs in the notebook's namespace): our analysis sees that binding."""
    from .analysis import analyse_source

    for cell in cells[:index + 1]:
        if cell.is_code and "%" in cell.source and name in cell.source:
            facts = analyse_source(cell.source)
            if any(binding.name == name for binding in facts.bindings):
                return True
            # `%time df = pd.read_csv(path, \` goes on below: too long a statement for the analysis
            for match in _TIMED_ASSIGNMENT.finditer(cell.source):
                if name in re.split(r"[\s,()\[\]]+", match.group(1)):
                    return True
    return False


def kernel_reading(diagnostics: list[RuffDiagnostic], cells) -> dict[int, str] | None:
    """Ruff reads a notebook as one module and says nothing more once a cell does not parse. When every
    such cell is one the kernel runs (an indented first line, which IPython dedents; a magic ruff does
    not know without its `%`), the sources to lint instead, by cell index; None when there is nothing
    to re-read or it would not help."""
    from .analysis import analyse_source
    from .transform import as_the_kernel_reads

    unparsable = {diagnostic.cell - 1 for diagnostic in diagnostics if diagnostic.is_syntax_error}
    if not unparsable:
        return None
    sources = {}
    for index in unparsable:
        if not 0 <= index < len(cells) or not cells[index].is_code:
            return None
        source = cells[index].source
        kernel = as_the_kernel_reads(source)
        if kernel is None or analyse_source(source).syntax_error is not None:
            return None  # Python 2, half-written code: RP001 reports it and ruff has nothing to add
        sources[index] = kernel
    return sources


def reread(diagnostics: list[RuffDiagnostic], cells, notebook_json, filename: str,
           selection: tuple[str, ...]) -> list[RuffDiagnostic]:
    """ruff's diagnostics of the notebook as the kernel reads it (see `kernel_reading`), with columns
    put back where the user sees them; the first diagnostics when that does not apply or fails.
    `notebook_json()` makes the notebook ruff reads, cell for cell the same as `cells`."""
    sources = kernel_reading(diagnostics, cells)
    if not sources:
        return diagnostics
    content = notebook_json()
    for index, source in sources.items():
        content["cells"][index]["source"] = source
    try:
        again = run_ruff_on_content(json.dumps(content), filename, selection)
    except (RuffUnavailable, OSError, ValueError):
        return diagnostics
    shifted = []
    for diagnostic in again:
        index = diagnostic.cell - 1
        if index in sources:  # a dedented cell: columns move back by the indentation removed
            first = next((line for line in cells[index].source.splitlines() if line.strip()), "")
            shift = len(first) - len(first.lstrip(" \t"))
            diagnostic = replace(diagnostic, column=diagnostic.column + shift,
                                 end_column=diagnostic.end_column + shift)
        shifted.append(diagnostic)
    return shifted


def drop_repeated(findings: list[Finding]) -> list[Finding]:
    """One problem, one finding: ruff's undefined name on a cell where RP504/RP408 names it already."""
    named: dict[int | None, set[str]] = {}
    for finding in findings:
        if finding.code in _USED_BEFORE_DEFINED:
            named.setdefault(finding.cell_index, set()).update(_QUOTED_NAME.findall(finding.message))
    if not named:
        return findings
    kept = []
    for finding in findings:
        match = _UNDEFINED_NAME.match(finding.message) if finding.code == "F821" else None
        if match and match.group(1) in named.get(finding.cell_index, ()):
            continue
        kept.append(finding)
    return kept


def to_findings(diagnostics: list[RuffDiagnostic], cells) -> list[Finding]:
    """Map ruff's (cell, row, column) onto our cells; `cells` is the notebook's list of Cell."""
    findings = []
    unparsable = {diagnostic.cell for diagnostic in diagnostics if diagnostic.is_syntax_error}
    for diagnostic in diagnostics:
        index = diagnostic.cell - 1
        if not 0 <= index < len(cells) or diagnostic.cell in unparsable:
            continue
        undefined = _UNDEFINED_NAME.match(diagnostic.message) if diagnostic.code == "F821" else None
        if undefined and _bound_where_ruff_cannot_see(undefined.group(1), cells, index):
            continue
        cell = cells[index]
        lines = cell.source.splitlines()
        if diagnostic.code == "E703" and diagnostic.row >= len([line for line in lines if line.strip()]):
            continue
        message = _MESSAGES.get(diagnostic.code, diagnostic.message)
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
            message=message,
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
