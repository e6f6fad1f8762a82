"""unpinned-dependency: installs without exact versions, installs outside the kernel, imports nobody pinned."""
from __future__ import annotations

import ast
import os
import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..analysis import CellModel, NotebookModel, Span
from ..findings import Edit, Finding, Fix, Severity
from ..requirements import (
    IMPORT_TO_DISTRIBUTIONS,
    InstallCommand,
    ProjectDependencies,
    Requirement,
    Token,
    display_name,
    file_beside,
    import_key,
    installed_version,
    is_installed,
    is_kernel_provided,
    is_namespace_prefix,
    is_standard_library,
    likely_distributions,
    parse_install_commands,
    project_dependencies,
    providing,
    read_listed_file,
    read_requirements_txt,
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


_CACHE: weakref.WeakKeyDictionary[NotebookModel, NotebookInstalls] = weakref.WeakKeyDictionary()


def notebook_installs(model: NotebookModel) -> NotebookInstalls:
    """Every install line of the notebook, parsed once for the three rules."""
    cached = _CACHE.get(model)
    if cached is None:
        cached = _CACHE[model] = _collect_installs(model)
    return cached


def _notebook_folder(model: NotebookModel) -> Path | None:
    return Path(os.path.abspath(model.path)).parent if model.path is not None else None


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


def _magic_lines(cell: CellModel) -> list[MagicLine]:
    found = []
    for magic in cell.facts.magics:
        if magic.kind != "cell":
            found.append(magic)
        elif magic.name in _SHELL_CELLS or (magic.name == "script" and magic.args.split(" ", 1)[0] in _SHELL_CELLS):
            found.extend(_shell_cell_lines(cell, magic))
    return found


def _collect_installs(model: NotebookModel) -> NotebookInstalls:
    folder = _notebook_folder(model)
    lines: list[InstallLine] = []
    for cell in model.code_cells:
        if not cell.facts.magics:
            continue
        for magic, commands in model.per_cell(cell, "installs", _cell_install_commands):
            lines.append(_install_line(cell, magic, commands, folder))
    pinned = set().union(*(line.pinned_names for line in lines)) if lines else set()
    reported = set().union(*(line.unpinned_names for line in lines if line.unpinned)) if lines else set()
    return NotebookInstalls(lines, pinned, reported, folder)


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


def _install_line(cell: CellModel, magic: MagicLine, commands: list[InstallCommand], folder: Path | None) -> InstallLine:
    line = InstallLine(cell, magic, commands)
    for command in commands:
        constrained = set()
        for token in command.constraint_files:
            if folder is not None:
                constrained |= {r.name for r in read_requirements_txt(file_beside(folder, token.text)).requirements
                                if r.pinned and r.name}
        for requirement, token in command.packages:
            if requirement.pinned or requirement.name in constrained:
                if requirement.name:
                    line.pinned_names.add(requirement.name)
                continue
            line.upgrade = line.upgrade or command.upgrade
            line.unpinned.append(Unpinned(requirement, token, requirement.text, requirement.problem))
            if requirement.name:
                line.unpinned_names.add(requirement.name)
        for token in command.requirement_files:
            if folder is None:
                continue  # an unsaved notebook: nothing to read the file against
            file = read_listed_file(file_beside(folder, token.text), command.tool)
            if file.unreadable:
                option = "-r" if command.tool == "pip" else "--file"
                line.unpinned.append(Unpinned(None, token, f"{option} {token.text}",
                                              "the file is not found beside the notebook"))
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


def _pin_suggestion(requirement: Requirement | None, tool: str) -> str | None:
    if requirement is None or not requirement.name or requirement.source:
        return None
    version = installed_version(requirement.name)
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
    `pip uninstall` are not reported.

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

    def check(self, model: NotebookModel) -> Iterator[Finding]:
        for line in notebook_installs(model).lines:
            if not line.unpinned:
                continue
            first = line.unpinned[0]
            tool = line.commands[0].tool
            by_problem: dict[str, list[str]] = {}
            for item in line.unpinned:
                by_problem.setdefault(item.problem, []).append(item.shown)
            listed = "; ".join(f"{', '.join(names)} ({problem})" for problem, names in by_problem.items())
            suggestions = [s for s in (_pin_suggestion(item.requirement, tool) for item in line.unpinned) if s]
            message = f"Unpinned install: {listed}; pin every package to an exact version"
            if line.upgrade and "no version" in by_problem:
                message = message.replace(" (no version)", " (no version, and the upgrade flag takes the newest)", 1)
            if suggestions:
                message += f" (versions in this environment: {' '.join(suggestions)})"
            yield self.finding(line.cell, line.span(first.token), message, self._fix(line, tool))

    def _fix(self, line: InstallLine, tool: str) -> Fix:
        edits = []
        for item in line.unpinned:
            suggestion = _pin_suggestion(item.requirement, tool)
            if suggestion and item.token.piece >= 0:
                number, column, end_column = line.position(item.token)
                edits.append(Edit(line.cell.index, number, column, number, end_column, suggestion))
        if edits and len(edits) == len(line.unpinned):
            return Fix("Pin each package to the version installed in this environment", "unsafe", tuple(edits))
        return Fix("Pin each package with == to the version the notebook was run with", "unsafe", tuple(edits))


class ShellPipInstall(Rule):
    """## What it does
    Reports `!pip install ...` (also `!pip3`, `!python -m pip`, `!conda install`): a shell command
    that installs into whichever environment the shell finds first on its `PATH`.

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

    def check(self, model: NotebookModel) -> Iterator[Finding]:
        for line in notebook_installs(model).lines:
            if line.magic.kind != "shell":
                continue
            # `!{sys.executable} -m pip install` uses the kernel's own interpreter; uv picks its environment
            # itself and there is no `%uv` to suggest.
            command = next((c for c in line.commands
                            if not c.program[0].text.startswith(("{", "$")) and c.program[0].text != "uv"), None)
            if command is None:
                continue
            program = command.program
            magic = "%pip" if command.tool == "pip" else "%" + os.path.basename(program[0].text).removesuffix(".exe")
            shown = " ".join(token.text for token in program)
            where = f"`!{shown} install`" if self._is_bang_line(line) else f"`{shown} install` in a shell cell"
            message = (f"{where} installs into whatever environment the shell finds, not necessarily "
                       f"the kernel's; use `{magic} install`")
            span = line.span(program[0])
            span = Span(span.line, span.column, span.line, line.span(program[-1]).end_column)
            yield self.finding(line.cell, span, message, self._fix(line, command, magic))

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
            elif entry.is_dir() and name.isidentifier():
                if any(child.name.endswith(".py") for child in os.scandir(entry.path)):
                    names.add(name)
        except OSError:
            continue
    return frozenset(names)


def _local_modules(folder: Path) -> frozenset[str]:
    try:
        mtime = os.stat(folder).st_mtime_ns
    except OSError:
        return frozenset()
    return _modules_in(str(folder), mtime)


def _path_additions(model: NotebookModel) -> tuple[list[str], bool]:
    """Folders the notebook puts on `sys.path` as literal strings (`sys.path.append("../src")`), and whether
    it also adds some it computes (`sys.path.insert(0, path_to_code)`)."""
    found, computed = [], False
    for cell in model.parsed_cells:
        if "path" not in cell.facts.source:
            continue  # spares walking every call of the many cells that never touch sys.path
        for call in cell.facts.calls:
            func = call.func
            if not (isinstance(func, ast.Attribute) and func.attr in ("append", "insert", "extend")):
                continue
            callee = model.resolve(func)
            if callee not in ("sys.path.append", "sys.path.insert", "sys.path.extend"):
                continue
            arguments = call.args[1:] if callee == "sys.path.insert" else call.args
            literals = [node.value for argument in arguments for node in ast.walk(argument)
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
    for cell in model.code_cells:
        names.update(model.per_cell(cell, "named-modules", _named_in_cell))
    return frozenset(names)


def _named_in_cell(cell: CellModel) -> frozenset[str]:
    names: set[str] = set()
    for magic in cell.facts.magics:
        text = " ".join((magic.args, *magic.continuation))
        names.update(_PY_FILE.findall(text))
        for url, folder in _GIT_CLONE.findall(text):
            names.add(folder or url.rstrip("/").rsplit("/", 1)[-1])
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
    if isinstance(fact.node, ast.ImportFrom):
        if fact.bound != "*" and is_namespace_prefix(fact.module):
            return fact.name
        return fact.module
    return fact.module


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
    notebook nor by a dependency file beside or above it (requirements*.txt, pyproject.toml,
    environment.yml, or a lock file), up to the project root (the first folder holding `.git` or a
    pyproject.toml). A package the notebook imports directly but that only arrives as another's
    dependency (`numpy` when only `pandas==2.2.2` is pinned) is reported too.

    Reported once per package, on the first cell that imports it, and not when its unpinned install
    is already reported (RP201). The standard library, modules and packages beside the notebook,
    relative imports and optional imports (`try: ... except ImportError`) are not reported.

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

    def check(self, model: NotebookModel) -> Iterator[Finding]:
        installs = notebook_installs(model)
        folder = installs.folder
        project = project_dependencies(model.path)
        pinned = installs.pinned | project.pinned
        local: set[str] = set(_named_in_notebook(model))
        added, computed_path = _path_additions(model)
        if folder is not None:
            root = project.root
            places = [folder, *(folder / os.path.expanduser(text) for text in added)]
            if root is not None:
                places += [root, root / "src"]
            for place in places:
                local |= _local_modules(place)
        seen: set[str] = set()
        for cell in model.parsed_cells:
            for fact in cell.facts.imports:
                if fact.level > 0:
                    continue
                module = _imported_module(fact)
                if not module or is_standard_library(module) or is_kernel_provided(module):
                    continue
                top = module.split(".", 1)[0]
                if top in local or _LOCAL_LOOKING.match(top):
                    continue
                if computed_path and top not in IMPORT_TO_DISTRIBUTIONS and not is_installed(top):
                    continue  # likely found through the folder the notebook puts on sys.path
                key = import_key(module)
                candidates = likely_distributions(module)
                if key in seen or candidates[0] in seen or _guarded(cell, fact.node, model):
                    continue
                seen.update((key, candidates[0]))
                if self._covered(candidates, pinned, installs.reported, project):
                    continue
                if (pinned or installs.reported) and providing(module, pinned | installs.reported):
                    continue  # pinned under a distribution name the table does not know
                yield self._report(cell, fact, module, candidates, project)

    @staticmethod
    def _covered(candidates, pinned, reported, project: ProjectDependencies) -> bool:
        return any(name in pinned or name in reported or name in project.project_names for name in candidates)

    def _report(self, cell: CellModel, fact, module: str, candidates: tuple[str, ...],
                project: ProjectDependencies) -> Finding:
        distribution = next((name for name in candidates if installed_version(name)), candidates[0])
        shown = display_name(distribution)
        version = installed_version(distribution)
        pin = f"{shown}=={version}" if version else f"{shown}==<version>"
        top = import_key(module)
        what = f"'{top}'" if canonical_equal(top, distribution) else f"'{top}' (distribution {shown})"
        declared = next((project.declared[name] for name in candidates if name in project.declared), None)
        if declared is not None:
            detail = f"{declared.source} lists it as '{declared.text}' ({declared.problem})"
            message = f"{what} is imported but not pinned: {detail}; pin it exactly, e.g. `{pin}`"
        else:
            message = (f"{what} is imported but pinned nowhere: add `%pip install {pin}` to the notebook "
                       f"or `{pin}` to a requirements.txt beside it")
        fix = Fix(f"Pin {pin} in the notebook's %pip line or requirements.txt", "unsafe")
        return self.finding(cell, _import_span(cell, fact), message, fix)


def canonical_equal(import_name: str, distribution: str) -> bool:
    from packaging.utils import canonicalize_name

    return canonicalize_name(import_name.replace(".", "-")) == distribution


RULES = (UnpinnedInstall, ShellPipInstall, UnpinnedImport)
