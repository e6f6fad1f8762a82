"""unpinned-dependency: installs without exact versions, installs outside the kernel, imports nobody pinned."""
from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..analysis import CellModel, NotebookModel, Span, walk
from ..findings import Edit, Finding, Fix, Severity
from ..requirements import (
    IMPORT_TO_DISTRIBUTIONS,
    WELL_KNOWN_IMPORTS,
    InstallCommand,
    ProjectDependencies,
    Requirement,
    Token,
    canonicalize_name,
    display_name,
    distribution_provides,
    file_beside,
    import_key,
    is_kernel_provided,
    is_namespace_prefix,
    is_standard_library,
    likely_distributions,
    parse_install_commands,
    printed_versions,
    project_dependencies,
    read_listed_file,
    read_requirements_txt,
    versions_in_output,
)
from ..transform import MagicLine
from .base import Rule

_INSTALL_MAGICS = {"pip", "conda", "mamba", "micromamba"}
_SHELL_MAGICS = {"system", "sx"}  # `%system pip install x` runs a shell command like `!`


@dataclass(frozen=True)
class Unpinned:
    """A package an install line leaves unpinned, and where to point at it."""

    requirement: Requirement | None  # None for a requirements file that cannot be read
    token: Token
    shown: str  # "pandas", "numpy>=1.26 in requirements.txt", "-r requirements.txt"
    problem: str  # "no version", "a range, not an exact version", ...


@dataclass
class InstallLine:
    """One `%pip` / `!pip` / `%conda` line (with its continuation lines) and what it installs."""

    cell: CellModel
    magic: MagicLine
    commands: list[InstallCommand]
    unpinned: list[Unpinned] = field(default_factory=list)
    pinned_names: set[str] = field(default_factory=set)
    unpinned_names: set[str] = field(default_factory=set)
    url_names: set[str] = field(default_factory=set)  # packages installed from a VCS or archive URL
    opaque: bool = False  # installs what cannot be read here: a missing requirements file, a cloned folder
    upgrade: bool = False  # -U / --upgrade of something unpinned

    def position(self, token: Token) -> tuple[int, int, int]:
        """(line, column, end_column) of a token of this line as the user sees it."""
        if token.piece < 0:
            return self.magic.line, self.magic.column, self.magic.column
        if token.piece == 0:
            return self.magic.line, self.magic.column + token.start, self.magic.column + token.end
        return self.magic.line + token.piece, token.start + 1, token.end + 1

    def span(self, token: Token) -> Span:
        line, column, end_column = self.position(token)
        return Span(line, column, line, end_column)


@dataclass
class NotebookInstalls:
    lines: list[InstallLine]
    pinned: set[str]  # distributions some install line of the notebook pins
    reported: set[str]  # distributions an install line leaves unpinned (RP201 reports them)
    folder: Path | None  # the notebook's folder, where `-r file` and local modules are looked for
    # files the notebook writes (`%%writefile` path -> text), read when an install line reads a file (`-r`, `-c`)
    written: dict[str, str] = field(default_factory=dict)
    clones: Clones | None = None
    url_names: set[str] = field(default_factory=set)  # names guessed from VCS/archive URLs (`tsfm` of IBM/tsfm.git)
    opaque: bool = False  # some install line installs what cannot be read here (RP201 reports it)


def notebook_installs(model: NotebookModel) -> NotebookInstalls:
    """Every install line of the notebook, parsed once for the three rules."""
    return model.per_notebook("_notebook_installs", _collect_installs)


def notebook_project(model: NotebookModel) -> ProjectDependencies:
    """The dependency files of the notebook's project, looked up once per notebook (each look-up lists and
    stats the folders up to the project root)."""
    return model.per_notebook("_project_dependencies", lambda model: project_dependencies(model.path))


def _notebook_folder(model: NotebookModel) -> Path | None:
    if model.path is None:
        return None
    return model.per_notebook("_notebook_folder", lambda model: Path(os.path.abspath(model.path)).parent)


_SHELL_CELLS = {"bash", "sh", "zsh", "system"}


def _shell_cell_lines(cell: CellModel, magic: MagicLine) -> list[MagicLine]:
    """The commands of a `%%bash` / `%%sh` cell's body, each as if it were a `!` line."""
    lines = cell.facts.source.splitlines()
    found = []
    index = magic.line  # the body starts on the line after the magic (0-based: same number)
    while index < len(lines):
        text = lines[index]
        end = index
        while lines[end].endswith("\\") and end + 1 < len(lines):
            end += 1
        stripped = text.lstrip()
        if stripped and not stripped.startswith("#"):
            found.append(MagicLine("shell", stripped.split(" ", 1)[0], stripped, index + 1,
                                   len(text) - len(stripped) + 1, tuple(lines[index + 1: end + 1])))
        index = end + 1
    return found


# `pip install x` without `%` or `!`: IPython's automagic runs it as `%pip`, but it is no Python, so the cell
# does not parse and the transformer reports no magic for it.
_AUTOMAGIC_INSTALL = re.compile(r"^([ \t]*)((?:pip3?|conda|mamba)[ \t]+install\b.*)$")


def _automagic_lines(cell: CellModel) -> list[MagicLine]:
    if cell.facts.syntax_error is None or "install" not in cell.facts.source:
        return []
    lines = cell.facts.source.splitlines()
    found = []
    for index, text in enumerate(lines):
        match = _AUTOMAGIC_INSTALL.match(text)
        if match:
            name, _, args = match.group(2).partition(" ")
            end = index
            while lines[end].endswith("\\") and end + 1 < len(lines):
                end += 1
            found.append(MagicLine("line", "pip" if name.startswith("pip") else name, args.strip(), index + 1,
                                   len(match.group(1)) + len(name) + 2, tuple(lines[index + 1: end + 1])))
    return found


def _magic_lines(cell: CellModel) -> list[MagicLine]:
    found = []
    for magic in cell.facts.magics:
        if magic.kind != "cell":
            found.append(magic)
        elif magic.name in _SHELL_CELLS or (magic.name == "script" and magic.args.split(" ", 1)[0] in _SHELL_CELLS):
            found.extend(_shell_cell_lines(cell, magic))
    return found + _automagic_lines(cell)


def _writes_a_file(source: str) -> bool:
    """A `%%writefile` cell (the cheap test first: `lstrip` copies the cell)."""
    return "%%writefile" in source and source.lstrip().startswith("%%writefile")


def notebook_written_files(model: NotebookModel) -> dict[str, str]:
    return model.per_notebook("_written_files", written_files)


def written_files(model: NotebookModel) -> dict[str, str]:
    """Files the notebook writes with `%%writefile PATH` (the last write wins; `-a` appends)."""
    written: dict[str, str] = {}
    for cell in model.cells_with("%%writefile"):
        source = cell.facts.source
        if not _writes_a_file(source):
            continue
        first, _, body = source.lstrip().partition("\n")
        words = first.split()[1:]
        append = any(word in ("-a", "--append") for word in words)
        paths = [word.strip("'\"") for word in words if not word.startswith("-")]
        if paths:
            written[paths[0]] = (written.get(paths[0], "") if append else "") + body
    return written


def _collect_installs(model: NotebookModel) -> NotebookInstalls:
    folder = _notebook_folder(model)
    clones = notebook_clones(model)
    found = [(cell, magic, commands) for cell in _ipython_cells(model)
             for magic, commands in model.per_cell(cell, "installs", _cell_install_commands)]
    # the files the notebook writes matter to an install line that reads a file (`-r`, `-c`)
    reads_files = any(command.requirement_files or command.constraint_files
                      for _, _, commands in found for command in commands)
    written = notebook_written_files(model) if reads_files else {}
    lines = [_install_line(cell, magic, commands, folder, written, clones) for cell, magic, commands in found]
    pinned = set().union(*(line.pinned_names for line in lines)) if lines else set()
    reported = set().union(*(line.unpinned_names for line in lines if line.unpinned)) if lines else set()
    url_names = set().union(*(line.url_names for line in lines)) if lines else set()
    return NotebookInstalls(lines, pinned, reported, folder, written, clones, url_names,
                            any(line.opaque for line in lines))


def _is_local_folder(requirement: Requirement) -> bool:
    text = requirement.text
    return requirement.pinned and not requirement.name and "://" not in text and not text.lower().endswith(
        (".whl", ".zip", ".tar.gz", ".tgz"))


def _ipython_cells(model: NotebookModel) -> list[CellModel]:
    """The code cells with IPython syntax (magics, `!` lines), or that do not parse (`pip install x` without
    `%`): the only ones that can install or clone anything."""
    return model.per_notebook("_ipython_cells", lambda model: [
        cell for cell in model.code_cells if cell.facts.magics or cell.facts.syntax_error is not None])


def cell_install_commands(model: NotebookModel, cell: CellModel) -> list[tuple[MagicLine, list[InstallCommand]]]:
    """Each install line of one cell with its parsed commands, as written (what they install is read with the
    whole notebook: `notebook_installs`)."""
    if not cell.facts.magics and cell.facts.syntax_error is None:
        return []  # no IPython syntax, and no `pip install x` without `%` either (that does not parse)
    return model.per_cell(cell, "installs", _cell_install_commands)


def _cell_install_commands(cell: CellModel) -> list[tuple[MagicLine, list[InstallCommand]]]:
    """Each install line of one cell with its parsed commands (kept per cell source)."""
    return [(magic, commands) for magic in _magic_lines(cell) if (commands := _install_commands(magic))]


def _install_commands(magic: MagicLine) -> list[InstallCommand]:
    pieces = [magic.args, *magic.continuation]
    if magic.kind == "line" and magic.name in _INSTALL_MAGICS:
        return parse_install_commands(pieces, program=magic.name)
    if magic.kind == "shell" or (magic.kind == "line" and magic.name in _SHELL_MAGICS):
        if "install" not in magic.args and not magic.continuation:
            return []  # the cheap test first: most shell lines are `ls`, `wget`, ...
        return parse_install_commands(pieces)
    return []


def _listed_file(folder: Path | None, name: str, tool: str, written: dict[str, str]):
    """What `-r FILE` installs: the file the notebook wrote itself if it did, else the one on disk."""
    text = written.get(name, written.get(name.removeprefix("./")))
    if text is not None and tool == "pip":
        return read_requirements_txt(Path(name), text=text)
    if folder is None:
        return None  # an unsaved notebook: nothing to read the file against
    return read_listed_file(file_beside(folder, name), tool)


@dataclass(frozen=True)
class Clones:
    """Repositories the notebook `git clone`s without fixing a commit, and whether it `%cd`s into one."""

    urls: dict[str, str]  # folder name -> URL
    entered: str | None  # the clone the notebook `%cd`s into, if any
    sites: dict = field(default_factory=dict)  # folder name -> (cell, magic line) of its `git clone`

    def holding(self, path: str) -> str | None:
        """The URL of the clone a relative path of an install line lies in (`/content/diffusers`, `.`)."""
        parts = [part for part in re.split(r"[\\/]", path) if part not in ("", ".")]
        for part in parts:
            if part in self.urls:
                return self.urls[part]
        if self.entered and not os.path.isabs(path) and not path.startswith(".."):
            return self.urls[self.entered]
        return None


_CLONE = re.compile(r"\bgit\s+clone\s+(?:(?:-b|--branch|--depth|-o|--origin)\s+\S+\s+|-\S+\s+)*(\S+?)(?:\.git)?/?"
                    r"(?:\s+(?!-)([\w.-]+))?\s*$")
_CHECKOUT_COMMIT = re.compile(r"\bgit\b.*\b(?:checkout|reset\s+--hard|switch\s+--detach)\s+[0-9a-f]{7,40}\b")


def notebook_clones(model: NotebookModel) -> Clones:
    urls: dict[str, str] = {}
    sites: dict[str, tuple[CellModel, MagicLine]] = {}
    entered = None
    fixed = False
    for cell in _ipython_cells(model):
        for magic in model.per_cell(cell, "magic-lines", _magic_lines):
            text = " ".join((magic.name, magic.args, *magic.continuation)) if magic.kind == "line" else magic.args
            if magic.kind == "line" and magic.name == "cd":
                target = re.split(r"[\\/]", magic.args.strip().strip("'\"").rstrip("/"))[-1]
                entered = target if target in urls else entered
            if "git" not in text:
                continue  # a clone and a checkout are both `git` commands
            for command in re.split(r"&&|;", text):
                match = _CLONE.search(command)
                if match and "{" not in match.group(1) and "$" not in match.group(1):
                    name = match.group(2) or match.group(1).rstrip("/").rsplit("/", 1)[-1]
                    urls[name] = match.group(1)
                    sites[name] = (cell, magic)
                if _CHECKOUT_COMMIT.search(command):
                    fixed = True
    if fixed:
        return Clones({}, None)
    return Clones(urls, entered, sites)


def _install_line(cell: CellModel, magic: MagicLine, commands: list[InstallCommand], folder: Path | None,
                  written: dict[str, str], clones: Clones | None = None) -> InstallLine:
    line = InstallLine(cell, magic, commands)
    clones = clones or Clones({}, None)
    for command in commands:
        constrained = set()
        for token in command.constraint_files:
            file = _listed_file(folder, token.text, "pip", written)
            if file is not None:
                constrained |= {r.name for r in file.requirements if r.pinned and r.name}
        for requirement, token in command.packages:
            if requirement.name and "://" in requirement.text:
                line.url_names.add(requirement.name)
            cloned = clones.holding(requirement.text) if _is_local_folder(requirement) else None
            if cloned:
                # `git clone .../diffusers.git` then `pip install ./diffusers`: whatever the branch holds today;
                # the imports named after the clone are this finding's
                line.url_names.add(canonicalize_name(cloned.rstrip("/").rsplit("/", 1)[-1]))
                line.unpinned.append(Unpinned(requirement, token, requirement.text,
                                              f"a folder cloned from {cloned} at no fixed commit"))
                continue
            if requirement.pinned or requirement.name in constrained:
                if requirement.name:
                    line.pinned_names.add(requirement.name)
                continue
            line.upgrade = line.upgrade or command.upgrade
            line.unpinned.append(Unpinned(requirement, token, requirement.text, requirement.problem))
            if requirement.name:
                line.unpinned_names.add(requirement.name)
        for token in command.requirement_files:
            file = _listed_file(folder, token.text, command.tool, written)
            if file is None:
                continue
            if file.unreadable:
                option = "-r" if command.tool == "pip" else "--file"
                cloned = clones.holding(token.text)
                problem = (f"a file of the repository cloned from {cloned} at no fixed commit" if cloned
                           else "the file is not found beside the notebook")
                line.opaque = True  # what it installs is unknown: imports it may provide are this finding's
                line.unpinned.append(Unpinned(None, token, f"{option} {token.text}", problem))
                continue
            for requirement in file.requirements:
                if requirement.pinned or requirement.name in constrained:
                    if requirement.name:
                        line.pinned_names.add(requirement.name)
                    continue
                line.unpinned.append(Unpinned(requirement, token, f"{requirement.text} in {token.text}",
                                              requirement.problem))
                if requirement.name:
                    line.unpinned_names.add(requirement.name)
    return line


@dataclass(frozen=True)
class Evidence:
    """Versions the notebook shows it ran with: its saved outputs, or the live kernel in the magics.

    Never the environment the CLI runs in: a version suggested from there would differ by machine and
    need not be the one the notebook was written against."""

    versions: dict[str, str]  # canonical distribution -> version
    source: str  # "shown in the notebook's outputs" or "installed in this kernel"

    def version(self, distribution: str) -> str | None:
        found = self.versions.get(distribution)
        if found is None and self.source == _KERNEL:
            from ..live import installed_version_now

            found = installed_version_now(distribution)
        return found


_KERNEL, _OUTPUTS = "installed in this kernel", "shown in the notebook's outputs"


def version_evidence(model: NotebookModel) -> Evidence:
    return model.per_notebook("_version_evidence", lambda model: Evidence(
        _versions_in_outputs(model), _KERNEL if getattr(model.notebook, "kernel", None) is not None else _OUTPUTS))


def _versions_in_outputs(model: NotebookModel) -> dict[str, str]:
    """Install logs (`Successfully installed x-1.2.3`, `Requirement already satisfied: ... (1.2.3)`), `pip show`
    and `pip freeze` output, and printed `__version__`s, later cells winning."""
    found: dict[str, str] = {}
    for cell in model.code_cells:
        outputs = [out.text for out in cell.cell.outputs if out.text]
        if not outputs:
            continue
        text = "\n".join(outputs)
        found.update(versions_in_output(text))
        if "__version__" in cell.facts.source and cell.facts.tree is not None:
            found.update(_printed_version_attributes(model, cell, text))
    return found


def _printed_version_attributes(model: NotebookModel, cell: CellModel, text: str) -> dict[str, str]:
    """`print(f"NumPy version: {np.__version__}")` with `NumPy version: 1.24.3` in the output: the text
    printed before the version finds its line; without such labels, versions pair with the attributes in
    order when they are as many."""
    found: dict[str, str] = {}
    references: list[tuple[str, str]] = []  # (module, label printed just before it)
    facts = cell.facts
    printed = [call for call in facts.calls if getattr(call.func, "id", "") == "print"]
    for node in sorted([*facts.of(ast.JoinedStr), *printed], key=_position):
        pieces = node.values if type(node) is ast.JoinedStr else node.args
        label = ""
        for piece in pieces:
            value = piece.value if isinstance(piece, ast.FormattedValue) else piece
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                label = value.value.rsplit("\n", 1)[-1].strip()
            elif isinstance(value, ast.Attribute) and value.attr == "__version__":
                module = model.resolve(value.value)
                if module and label:
                    references.append((module, label))
    for module, label in references:
        match = re.search(re.escape(label) + r"\s*'?(" + _VERSION_TEXT + r")", text)
        if match and not is_standard_library(module):
            found[likely_distributions(module)[0]] = match.group(1)
    if not found:
        modules = [model.resolve(node.value) for node in facts.of(ast.Attribute) if node.attr == "__version__"]
        shown = printed_versions(text)
        if modules and len(modules) == len(shown) and all(modules):
            for module, version in zip(modules, shown):
                if not is_standard_library(module):
                    found[likely_distributions(module)[0]] = version
    return found


def _position(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.col_offset


_VERSION_TEXT = r"\d+\.\d+(?:\.\d+)*(?:[.+-]?(?:[a-z]+\d*|\d+))*"


def _pin_suggestion(requirement: Requirement | None, evidence: Evidence) -> str | None:
    if requirement is None or not requirement.name or requirement.source:
        return None
    version = evidence.version(requirement.name)
    if version is None:
        return None
    text = requirement.text
    if "://" in text or "/" in text or "\\" in text:
        return None
    base = text.split("::", 1)[-1]
    end = len(base)
    for index, char in enumerate(base):
        if char in "=<>!~ ;@":
            end = index
            break
    name_with_extras = base[:end]
    return f"{name_with_extras}=={version}"


class UnpinnedInstall(Rule):
    """## What it does
    Reports a `%pip install`, `!pip install`, `%conda install` (or `mamba`, `python -m pip`, `pip3`)
    line where any package is not pinned to one exact version: a bare name, a range such as
    `>=1.2`, a VCS URL without a full commit hash, or `-r` of a requirements file that is not fully
    pinned (or cannot be found beside the notebook).

    Pinned means `==` or `===` (`pkg=1.2.3` or `pkg==1.2.3` for conda), a VCS URL at a full 40-hex
    commit, or a local wheel file. Commented-out installs, `pip list`, `pip freeze`, `pip show` and
    `pip uninstall` are not reported. Also reported: `pip install x` written without `%` (IPython runs
    it as `%pip`), a folder or `-r` file of a repository the notebook `git clone`s without checking out
    a commit (and such a clone the notebook imports code from), and the requirements file a job installs from its `source_dir="scripts"` (SageMaker,
    Azure ML) when it leaves a package unpinned. A file the notebook writes itself with
    `%%writefile requirements.txt` is read from the notebook.

    The fix pins only to a version the notebook shows it ran with (an install log in its outputs such
    as `Successfully installed pandas-1.5.3`, or, in `%readiness`, the running kernel), never to the
    version installed where the check runs.

    ## Why is this bad?
    Each run installs whatever version is newest that day, so the notebook that worked last month
    may fail or give different numbers today, and nobody can tell which versions produced a result.

    ## Example
    ```python
    %pip install pandas scikit-learn>=1.3
    ```

    ## Use instead
    ```python
    %pip install pandas==2.2.2 scikit-learn==1.5.0
    ```
    """

    code = "RP201"
    name = "unpinned-install"
    category = "unpinned-dependency"
    severity = Severity.ERROR
    reads = ("install lines", "git clones", "files the notebook writes", "requirements files", "saved outputs",
             "jobs' source_dir")

    def check(self, model: NotebookModel) -> Iterator[Finding]:
        """Install lines (and a job's requirements) read with the whole notebook: the files it writes, the
        repositories it clones."""
        for line in notebook_installs(model).lines:
            if not line.unpinned:
                continue
            evidence = version_evidence(model)  # only for a notebook with something to pin
            first = line.unpinned[0]
            by_problem: dict[str, list[str]] = {}
            for item in line.unpinned:
                by_problem.setdefault(item.problem, []).append(item.shown)
            listed = "; ".join(f"{', '.join(names)} ({problem})" for problem, names in by_problem.items())
            suggestions = [s for s in (_pin_suggestion(item.requirement, evidence) for item in line.unpinned) if s]
            message = f"Unpinned install: {listed}; pin every package to an exact version"
            if any("cloned from" in problem for problem in by_problem):
                message += " (of a clone: `git checkout` a commit)"
            if line.upgrade and "no version" in by_problem:
                message = message.replace(" (no version)", " (no version, and the upgrade flag takes the newest)", 1)
            if suggestions:
                message += f" (versions {evidence.source}: {' '.join(suggestions)})"
            yield self.finding(line.cell, line.span(first.token), message, self._fix(line, evidence))
        yield from self._imported_clones(model)
        for cell in model.cells_with("source_dir"):  # the few notebooks that start a job
            if cell.facts.tree is not None:
                yield from self._job_requirements(cell, model)

    def _imported_clones(self, model: NotebookModel) -> Iterator[Finding]:
        """`!git clone .../inversecooking.git` then `from inversecooking.src.model import get_model`: code
        imported from whatever the branch holds the day the notebook runs."""
        installs = notebook_installs(model)
        clones = installs.clones
        if not clones or not clones.sites:
            return
        problems = " ".join(item.problem for line in installs.lines for item in line.unpinned)
        imported = {fact.module.split(".", 1)[0] for cell in model.parsed_cells for fact in cell.facts.imports
                    if fact.level == 0}
        for name, (cell, magic) in clones.sites.items():
            url = clones.urls[name]
            if name not in imported or f"cloned from {url} " in problems:
                continue  # not imported, or its install is reported already
            span = Span(magic.line, magic.column, magic.line, magic.column + len(magic.args))
            yield self.finding(cell, span, f"The notebook imports {name} from {url}, cloned at no fixed commit: "
                                           f"`git checkout` a commit after the clone (or install a pinned release)",
                               Fix("Check out a fixed commit of the clone", "unsafe"))

    def _job_requirements(self, cell: CellModel, model: NotebookModel) -> Iterator[Finding]:
        """A training or inference job the notebook starts with `source_dir="scripts"` installs
        scripts/requirements.txt where it runs (SageMaker, Azure ML): its pins are the job's."""
        folder = _notebook_folder(model)
        if folder is None:
            return
        written = notebook_written_files(model)
        for call in cell.facts.calls:
            for keyword in call.keywords:
                value = keyword.value
                if keyword.arg != "source_dir" or not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
                    continue
                name = value.value.rstrip("/") + "/requirements.txt"
                text = written.get(name, written.get(name.removeprefix("./")))
                file = read_requirements_txt(folder / name, text=text)
                unpinned = [r.text for r in file.requirements if not r.pinned]
                if file.unreadable or not unpinned:
                    continue
                message = (f"The job installs {name}, which leaves {', '.join(unpinned)} unpinned; pin every "
                           f"package there to an exact version")
                yield self.finding(cell, cell.facts.span(value), message,
                                   Fix(f"Pin each package of {name} with ==", "unsafe"))

    def _fix(self, line: InstallLine, evidence: Evidence) -> Fix:
        edits = []
        for item in line.unpinned:
            suggestion = _pin_suggestion(item.requirement, evidence)
            if suggestion and item.token.piece >= 0:
                number, column, end_column = line.position(item.token)
                edits.append(Edit(line.cell.index, number, column, number, end_column, suggestion))
        if edits and len(edits) == len(line.unpinned):
            return Fix(f"Pin each package to the version {evidence.source}", "unsafe", tuple(edits))
        return Fix("Pin each package with == to the version the notebook was run with", "unsafe", tuple(edits))


class ShellPipInstall(Rule):
    """## What it does
    Reports `!pip install ...` (also `!pip3`, `!python -m pip`, `!conda install`): a shell command
    that installs into whichever environment the shell finds first on its `PATH`.

    One finding per cell, listing the lines, with a fix that changes each of them.

    ## Why is this bad?
    That is often not the environment the kernel runs in, so the install "succeeds" and the next
    `import` still fails, or a different version than the one installed is imported. The `%pip` and
    `%conda` magics always install into the running kernel's environment.

    ## Example
    ```python
    !pip install pandas==2.2.2
    ```

    ## Use instead
    ```python
    %pip install pandas==2.2.2
    ```
    """

    code = "RP202"
    name = "shell-pip-install"
    category = "unpinned-dependency"
    severity = Severity.WARNING
    visits_cells = True  # the install lines of each cell, as written (what they install does not matter)
    unparsed_cells_too = True  # its findings can sit in a cell that does not parse

    def visit_cell(self, cell: CellModel, model: NotebookModel) -> Iterable[Finding]:
        if not cell.facts.magics and cell.facts.syntax_error is None:
            return ()  # no IPython syntax: no install line (the common case, decided without a call)
        return self._cell_finding(cell, model)

    def _cell_finding(self, cell: CellModel, model: NotebookModel) -> Iterator[Finding]:
        # One finding per cell: a cell of five `!pip install` lines is one habit to change, not five.
        found: list[tuple[InstallLine, InstallCommand]] = []
        for magic, commands in cell_install_commands(model, cell):
            if magic.kind != "shell":
                continue
            # `!{sys.executable} -m pip install` uses the kernel's own interpreter; uv picks its environment
            # itself and there is no `%uv` to suggest.
            command = next((c for c in commands
                            if not c.program[0].text.startswith(("{", "$")) and c.program[0].text != "uv"), None)
            if command is not None:
                found.append((InstallLine(cell, magic, commands), command))
        if not found:
            return
        line, command = found[0]
        program = command.program
        magic = self._magic_for(command)
        shown = " ".join(token.text for token in program)
        where = f"`!{shown} install`" if self._is_bang_line(line) else f"`{shown} install` in a shell cell"
        if len(found) > 1:
            where += f" (lines {', '.join(str(item.magic.line) for item, _ in found)})"
        message = (f"{where} installs into whatever environment the shell finds, not necessarily "
                   f"the kernel's; use `{magic} install`")
        span = line.span(program[0])
        span = Span(span.line, span.column, span.line, line.span(program[-1]).end_column)
        fixes = [self._fix(item, item_command, self._magic_for(item_command)) for item, item_command in found]
        fix = None
        if all(fixes):
            edits = tuple(edit for one in fixes for edit in one.edits)
            fix = fixes[0] if len(fixes) == 1 else Fix(f"Replace each `!{shown}` with `{magic}`" if len(
                {self._magic_for(c) for _, c in found}) == 1 else "Replace each shell install with its magic",
                "safe", edits)
        yield self.finding(line.cell, span, message, fix)

    @staticmethod
    def _magic_for(command: InstallCommand) -> str:
        return "%pip" if command.tool == "pip" else "%" + os.path.basename(command.program[0].text).removesuffix(".exe")

    @staticmethod
    def _bang(line: InstallLine) -> int | None:
        """The 1-based column of the `!` of a plain `!command` line; None for `x = !cmd`, `!!cmd`, shell cells."""
        source_lines = line.cell.cell.source.splitlines()
        if line.magic.line > len(source_lines):
            return None
        before = source_lines[line.magic.line - 1][: line.magic.column - 1].rstrip()
        if not before.endswith("!") or before[:-1].strip() or before.endswith("!!"):
            return None
        return len(before)

    def _is_bang_line(self, line: InstallLine) -> bool:
        source_lines = line.cell.cell.source.splitlines()
        return line.magic.line <= len(source_lines) and "!" in source_lines[line.magic.line - 1][: line.magic.column]

    def _fix(self, line: InstallLine, command: InstallCommand, magic: str) -> Fix | None:
        if len(line.commands) != 1 or command.chained:
            return None  # `%pip` would hand the rest of the chain to the shell unchanged
        first, last = command.program[0], command.program[-1]
        if first.piece != 0 or first.start != 0:
            return None  # `!sudo pip install ...`: not a plain install
        bang = self._bang(line)
        if bang is None:
            return None  # `files = !pip ...` captures output, `!!` too: `%pip` would change that
        _, _, end_column = line.position(last)
        edit = Edit(line.cell.index, line.magic.line, bang, line.magic.line, end_column, magic)
        return Fix(f"Replace `!{' '.join(t.text for t in command.program)}` with `{magic}`", "safe", (edit,))


# --- imports ---------------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _modules_in(folder: str, _mtime: int) -> frozenset[str]:
    """Importable names a folder provides: `x.py`, packages and namespace folders holding Python files."""
    names: set[str] = set()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return frozenset()
    for entry in entries:
        name = entry.name
        try:  # a symlink loop or a vanished entry raises here: it provides nothing importable
            if entry.is_file():
                stem, _dot, suffix = name.partition(".")
                if suffix in ("py", "pyc") or (suffix.endswith(("so", "pyd")) and stem.isidentifier()):
                    names.add(stem)
            elif (entry.is_dir() and name.isidentifier()
                  and any(child.name.endswith(".py") for child in os.scandir(entry.path))):
                names.add(name)
        except OSError:
            continue
    return frozenset(names)


@lru_cache(maxsize=256)
def _folders_from(folder: str) -> tuple[str, ...]:
    """The folder and each one above it, up to the file system's root (the notebooks of a folder share them)."""
    above = [folder]
    while (parent := os.path.dirname(above[-1])) != above[-1]:
        above.append(parent)
    return tuple(above)


def _local_modules(folder: str) -> frozenset[str]:
    try:
        mtime = os.stat(folder).st_mtime_ns
    except OSError:
        return frozenset()
    return _modules_in(folder, mtime)


def _path_additions(model: NotebookModel) -> tuple[list[str], bool]:
    """Folders the notebook puts on `sys.path` as literal strings (`sys.path.append("../src")`), and whether
    it also adds some it computes (`sys.path.insert(0, path_to_code)`)."""
    found, computed = [], False
    for cell in model.cells_with("path"):
        source = cell.facts.source
        if cell.facts.tree is None or not ("append" in source or "insert" in source or "extend" in source):
            continue  # spares looking at every call of the many cells that never touch sys.path
        for call in cell.facts.calls:
            func = call.func
            if not (isinstance(func, ast.Attribute) and func.attr in ("append", "insert", "extend")):
                continue
            callee = model.resolve(func)
            if callee not in ("sys.path.append", "sys.path.insert", "sys.path.extend"):
                continue
            arguments = call.args[1:] if callee == "sys.path.insert" else call.args
            literals = [node.value for argument in arguments for node in walk(argument)
                        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value]
            found.extend(literals)
            computed = computed or not literals
    return found, computed


# Names people give their own helper modules; a PyPI package of that name is almost never what is meant.
_LOCAL_LOOKING = re.compile(
    r"^(?:utils?|helpers?|common|tools|functions|settings|config|my_\w+|\w+_(?:utils?|helpers?|tools|functions)"
    r"|(?:utils?|helpers?)_\w+)$"
)
_PY_FILE = re.compile(r"(?:^|[\s/\\'\"=])([A-Za-z_]\w*)\.py\b")
_GIT_CLONE = re.compile(r"\bgit\s+clone\s+(?:-\S+\s+)*(\S+?)(?:\.git)?/?(?:\s+(?!-)([\w.-]+))?(?:\s|$)")


def _named_in_notebook(model: NotebookModel) -> frozenset[str]:
    """Modules the notebook itself brings along: files it names as `x.py` (written with `%%writefile`,
    downloaded, checked for) and repositories it `git clone`s."""
    names: set[str] = set()
    # what may name a module file, write one or clone a repository (an escape in a string has a backslash)
    for cell in model.cells_with(".py", "clone", "writefile", "\\"):
        names.update(model.per_cell(cell, "named-modules", _named_in_cell))
    return frozenset(names)


def _named_in_cell(cell: CellModel) -> frozenset[str]:
    names: set[str] = set()
    for magic in cell.facts.magics:
        text = " ".join((magic.args, *magic.continuation))
        if ".py" in text:
            names.update(_PY_FILE.findall(text))
        if magic.kind == "cell" and magic.name == "writefile":
            # `%%writefile src/mypkg/model.py`: `mypkg` (and `src`) are the notebook's own too
            for word in magic.args.split():
                if not word.startswith("-"):
                    names.update(part for part in re.split(r"[\\/]", word.strip("'\""))[:-1] if part.isidentifier())
        if "clone" in text:
            for url, folder in _GIT_CLONE.findall(text):
                names.add(folder or url.rstrip("/").rsplit("/", 1)[-1])
    if ".py" in cell.facts.source or "\\" in cell.facts.source:  # else no string names a `.py` file
        for string in cell.facts.strings:
            if ".py" in string.value:
                names.update(_PY_FILE.findall(string.value))
    return frozenset(name.replace("-", "_") for name in names)


def _guarded(cell: CellModel, node: ast.AST, model: NotebookModel) -> bool:
    """An optional import (in the body of a `try` that handles ImportError, or under `if TYPE_CHECKING`),
    or a module fetched from elsewhere (`with httpimport.github_repo(...)`)."""
    child = node
    for ancestor in cell.facts.ancestors(node):
        if isinstance(ancestor, ast.With) and child in ancestor.body:
            for item in ancestor.items:
                callee = model.resolve(item.context_expr.func) if isinstance(item.context_expr, ast.Call) else None
                if callee and callee.split(".", 1)[0] in ("httpimport",):
                    return True
        if isinstance(ancestor, ast.Try) and child in ancestor.body:
            for handler in ancestor.handlers:
                names = []
                if handler.type is None:
                    return True
                types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
                for kind in types:
                    names.append(kind.attr if isinstance(kind, ast.Attribute) else getattr(kind, "id", ""))
                if {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"} & set(names):
                    return True
        if isinstance(ancestor, ast.If):
            test = ancestor.test
            name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", "")
            if name == "TYPE_CHECKING" and child in ancestor.body:
                return True
        child = ancestor
    return False


def _imported_module(fact) -> str:
    """The dotted module an import statement depends on (`google.cloud.storage` for
    `from google.cloud import storage`)."""
    if fact.bound != "*" and type(fact.node) is ast.ImportFrom and _is_namespace_prefix(fact.module):
        return fact.name
    return fact.module


_is_namespace_prefix = lru_cache(maxsize=1024)(is_namespace_prefix)  # asked for every `from x import y`


def _import_span(cell: CellModel, fact) -> Span:
    node = fact.node
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name == fact.module and hasattr(alias, "lineno"):
                return cell.facts.span(alias)
    span = cell.facts.span(node)
    return Span(span.line, span.column, span.line, span.end_column if span.end_line == span.line else span.column)


class UnpinnedImport(Rule):
    """## What it does
    Reports a third-party import whose distribution is pinned neither by a `%pip install` line of the
    notebook nor by a dependency file beside or above it, up to the project root (the first folder
    holding `.git`, pyproject.toml, setup.py or setup.cfg): requirements*.txt and `requirements/*.txt`,
    pyproject.toml (extras and dependency groups too), setup.py and setup.cfg (`install_requires`,
    extras), Pipfile, a conda environment file under any name (a YAML file with a `dependencies:` list
    of match specs), or a lock file. A package the notebook imports directly but that only arrives as
    another's dependency (`numpy` when only `pandas==2.2.2` is pinned) is reported too.

    An import is matched to its distribution by its full dotted name (`google.cloud.storage` is
    google-cloud-storage, `from azure.ai.ml import MLClient` is azure-ai-ml, `cv2` is opencv-python),
    by a built-in table, never by what happens to be installed where the check runs. A version in the
    message comes from evidence: the notebook's outputs (an install log, a printed `__version__`), or
    the running kernel in `%readiness`; otherwise it says `==<version>`.

    Reported once per package, on the first cell that imports it, and not when its unpinned install
    is already reported (RP201), nor when an install line installs what cannot be read here (a `-r`
    file that is missing or belongs to a clone: RP201 reports that). Not reported: the standard library, what the
    kernel or the hosting service provides (IPython, google.colab), the project's own modules (beside
    the notebook, in the folders above it up to the project root and their `src/`, on a `sys.path` the
    notebook extends, written with `%%writefile`, or the project's own distribution name), relative
    imports, optional imports (`try: ... except ImportError`), and the imports of a script the notebook
    writes with `%%writefile` (its job's environment pins those).

    ## Why is this bad?
    Whoever runs the notebook next gets whatever version their environment has, or none at all, and
    the notebook breaks or quietly computes something else. An exact pin says which version worked.

    ## Example
    ```python
    import numpy as np
    ```

    ## Use instead
    ```python
    %pip install numpy==1.26.4
    # %%
    import numpy as np
    ```
    """

    code = "RP203"
    name = "unpinned-import"
    category = "unpinned-dependency"
    severity = Severity.ERROR
    reads = ("imports", "install lines", "dependency files", "the project's own modules", "saved outputs")

    def check(self, model: NotebookModel) -> Iterator[Finding]:
        """Across the notebook: a package is pinned, or its module brought along, in any cell."""
        installs = notebook_installs(model)
        if installs.opaque:
            return  # an install of what cannot be read here (RP201's finding) may provide any of the imports
        imports = third_party_imports(model)
        if not imports:
            return
        project = notebook_project(model)
        covering = installs.pinned | project.pinned | installs.reported | project.project_names
        for item in imports:
            if _covered(item.module, item.candidates, covering):
                continue
            if _from_url_install(item.module, installs.url_names):
                continue  # `pip install git+https://github.com/IBM/tsfm.git` provides `tsfm_public`: RP201's finding
            yield self._report(item.cell, item.fact, item.module, item.candidates, project, version_evidence(model))

    def _report(self, cell: CellModel, fact, module: str, candidates: tuple[str, ...],
                project: ProjectDependencies, evidence: Evidence) -> Finding:
        # `cv2` may be opencv-python-headless: the distribution the evidence shows wins over the usual one
        distribution = next((name for name in candidates if evidence.version(name)), candidates[0])
        shown = display_name(distribution)
        version = evidence.version(distribution)
        pin = f"{shown}=={version}" if version else f"{shown}==<version>"
        top = import_key(module)
        what = f"'{top}'" if canonical_equal(top, distribution) else f"'{top}' (distribution {shown})"
        declared = next((project.declared[name] for name in candidates if name in project.declared), None)
        if declared is not None:
            if ";" in declared.text:  # `numpy<1.25;python_version<='3.8'`: other Pythons get no line at all
                detail = f"{declared.source} lists it only as '{declared.text}', for some Python versions"
            else:
                detail = f"{declared.source} lists it as '{declared.text}' ({declared.problem})"
            if declared.source in ("setup.py", "setup.cfg", "pyproject.toml"):
                # a package's own metadata keeps ranges on purpose; the notebook's run needs a pin of its own
                where = "pin it exactly for the notebook in a requirements or lock file"
            else:
                where = f"pin it exactly in {declared.source}"
            message = f"{what} is imported but not pinned: {detail}; {where}, e.g. `{pin}`"
        elif not _is_known_distribution(module):
            # A name no table knows may be a module of the project that is missing here as well as a package.
            message = (f"{what} is imported but is neither a module beside the notebook nor pinned anywhere: if it "
                       f"is a package, add `%pip install {pin}` to the notebook or `{pin}` to a requirements.txt "
                       f"beside it; if it is the project's own module, keep it with the notebook")
        else:
            message = (f"{what} is imported but pinned nowhere: add `%pip install {pin}` to the notebook "
                       f"or `{pin}` to a requirements.txt beside it")
        fix = Fix(f"Pin {pin} in the notebook's %pip line or requirements.txt", "unsafe")
        return self.finding(cell, _import_span(cell, fact), message, fix)


def _is_known_distribution(module: str) -> bool:
    key = import_key(module)
    return key in IMPORT_TO_DISTRIBUTIONS or key.split(".", 1)[0] in WELL_KNOWN_IMPORTS or "." in key


def _from_url_install(module: str, url_names: set[str]) -> bool:
    """A package installed from a URL is named after its repository, which may differ a little from what it
    provides (`tsfm` -> `tsfm_public`, `segment-anything` -> `segment_anything`)."""
    key = canonicalize_name(import_key(module).split(".", 1)[0])
    return any(len(name) >= 3 and (key.startswith(name) or name.startswith(key)) for name in url_names)


def _covered(module: str, candidates: tuple[str, ...], names: set[str] | frozenset[str]) -> bool:
    """Whether one of these distributions provides the import: by the table of import names, or because the
    distribution's name says so (`pinecone-client` for `pinecone`), never by what is installed here."""
    return any(name in names for name in candidates) or any(_provides(name, module) for name in names)


_provides = lru_cache(maxsize=8192)(distribution_provides)  # by names alone: every pinned name, for each import


@dataclass(frozen=True)
class ThirdPartyImport:
    cell: CellModel
    fact: object  # the ImportFact
    module: str  # the dotted module that decides the distribution
    candidates: tuple[str, ...]  # distributions it may come from, best guess first


def third_party_imports(model: NotebookModel) -> list[ThirdPartyImport]:
    """The notebook's third-party imports, one per distribution, first import first: not the standard library,
    not what the kernel or the hosting service provides, not the project's own modules (beside the notebook,
    in the folders above it up to the project root and their `src/`, on a `sys.path` it extends, written with
    `%%writefile`), not optional imports."""
    return model.per_notebook("_third_party_imports", _find_third_party_imports)


def _find_third_party_imports(model: NotebookModel) -> list[ThirdPartyImport]:
    imported = [(cell, fact, module, guess) for cell, fact, module, guess in _imports_to_install(model)
                if not _writes_a_file(cell.facts.source)]
    # a script the notebook writes runs where its job's environment (a container, its own requirements file)
    # is defined, not in this kernel
    if not imported:
        return []  # the notebook's own modules are looked for only when something could be one
    added, computed_path = _path_additions(model)
    local = _named_in_notebook(model) | _project_modules(model, added)
    found: list[ThirdPartyImport] = []
    seen: set[str] = set()
    for cell, fact, module, (top, key, candidates) in imported:
        if top in local or _LOCAL_LOOKING.match(top):
            continue
        if computed_path and top not in IMPORT_TO_DISTRIBUTIONS and top not in WELL_KNOWN_IMPORTS:
            continue  # likely found through the folder the notebook puts on sys.path
        if key in seen or candidates[0] in seen or _guarded(cell, fact.node, model):
            continue
        seen.update((key, candidates[0]))
        found.append(ThirdPartyImport(cell, fact, module, candidates))
    return found


def _imports_to_install(model: NotebookModel) -> list[tuple[CellModel, object, str, tuple[str, str, tuple[str, ...]]]]:
    """(cell, import fact, module, (top, key, distributions)) of each absolute import of a module that neither
    the standard library nor the kernel provides, in the order of the cells (shared with the live rules)."""
    found = []
    for cell in model.parsed_cells:
        for fact in cell.facts.imports:
            if fact.level > 0:
                continue
            module = _imported_module(fact)
            guess = _distribution_guess(module)
            if guess is not None:
                found.append((cell, fact, module, guess))
    return found


@lru_cache(maxsize=4096)
def _distribution_guess(module: str) -> tuple[str, str, tuple[str, ...]] | None:
    """(top-level name, import key, likely distributions) of a module to install; None for the standard
    library and what the kernel provides. By name alone: the same modules recur in every notebook."""
    if not module or is_standard_library(module) or is_kernel_provided(module):
        return None
    return module.split(".", 1)[0], import_key(module), likely_distributions(module)


def _project_modules(model: NotebookModel, added: list[str]) -> frozenset[str]:
    """Modules beside the notebook, in the folders it puts on `sys.path`, and in each folder above it up to the
    project root and their `src/` (the project's own package: `recommenders/` at the root of
    microsoft/recommenders)."""
    if model.path is None:
        return frozenset()
    folder = os.path.dirname(os.path.abspath(model.path))
    places = [folder, *(os.path.join(folder, os.path.expanduser(text)) for text in added)]
    root = notebook_project(model).root
    if root is not None:
        root = os.fspath(root)
        above = _folders_from(folder)
        for place in above[: above.index(root) + 1] if root in above else [root]:
            places += [place, os.path.join(place, "src")]
    local: set[str] = set()
    for place in places:
        local |= _local_modules(place)
    return frozenset(local)


def packages_without_dependency_file(model: NotebookModel) -> list[str]:
    """For RP720: the third-party imports the notebook's own install lines do not pin, when no dependency
    file of its project (beside it or above it) declares anything. Empty when there is such a file, or when
    the notebook pins every import itself."""
    installs = notebook_installs(model)
    if model.path is None or installs.opaque or notebook_project(model).files:
        return []  # opaque: it installs from a requirements file that exists elsewhere (RP201 says so)
    pinned = installs.pinned
    return sorted({import_key(item.module) for item in third_party_imports(model)
                   if not _covered(item.module, item.candidates, pinned)})


def canonical_equal(import_name: str, distribution: str) -> bool:
    return canonicalize_name(import_name.replace(".", "-")) == distribution


RULES = (UnpinnedInstall, ShellPipInstall, UnpinnedImport)
