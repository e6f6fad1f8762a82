"""notebook-hygiene, live: what only the kernel running `%readiness` can tell about the notebook it runs.

These rules read `Notebook.kernel` (live.KernelFacts), which the magics set; everywhere else (the CLI,
the server, the exporter) it is None and they say nothing. They run inside the kernel's own process, so
"installed" and "importable" mean what this kernel would import.
"""
from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..analysis import CellModel, NotebookModel, Span
from ..findings import Finding, Fix, Severity
from ..live import (
    KernelFacts,
    distribution_for,
    installed_version_now,
    loaded_version,
    module_origin,
)
from ..requirements import (
    Requirement,
    canonicalize_name,
    display_name,
    likely_distributions,
    pinned_version,
    providing,
)
from ..suppression import is_selected
from .base import Rule
from .dependencies import (
    UnpinnedImport,
    _guarded,
    _import_span,
    _imports_to_install,
    _notebook_folder,
    notebook_installs,
    notebook_project,
)
from .dispatch import findings_of


def kernel_of(model: NotebookModel) -> KernelFacts | None:
    facts = getattr(model.notebook, "kernel", None)
    return facts if isinstance(facts, KernelFacts) else None


@dataclass(frozen=True)
class LiveImport:
    """A third-party module the notebook imports, as this kernel resolves it."""

    cell: CellModel
    fact: object  # analysis.ImportFact
    module: str  # the dotted module that decides the distribution: "sklearn", "google.cloud.storage"
    top: str  # "sklearn"
    distribution: str | None  # canonical name of the installed distribution that provides it here
    origin: Path | None  # where this kernel imports it from; None when it cannot


def live_imports(model: NotebookModel) -> list[LiveImport]:
    """Each third-party import once (its first unguarded import), resolved in this kernel; shared by the rules."""
    return model.per_notebook("_live_imports", _resolve_imports)


def _resolve_imports(model: NotebookModel) -> list[LiveImport]:
    found: list[LiveImport] = []
    seen: set[str] = set()
    for cell, fact, module, (top, key, _candidates) in _imports_to_install(model):
        if key in seen or _guarded(cell, fact.node, model):
            continue
        seen.add(key)
        try:
            origin = module_origin(top)
            distribution = distribution_for(top, module) if origin is not None else None
        except Exception:  # noqa: BLE001 - broken metadata of one package must not stop the check
            origin = distribution = None
        found.append(LiveImport(cell, fact, key, top, canonicalize_name(distribution) if distribution else None,
                                origin))
    return found


def _is_inside(path: Path, folder: Path) -> bool:
    try:
        Path(os.path.abspath(path)).relative_to(folder)
    except ValueError:
        return False
    return True


def _same_version(installed: str, pin: str, exact: bool = False) -> bool:
    """pip's view: `==2.1.0` accepts `2.1.0+cu118` and `2.1`; `===` compares text."""
    if exact:
        return installed.strip() == pin.strip()
    # packaging only here: a check that does not compare a live kernel's versions never imports it.
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        return SpecifierSet(f"=={pin}").contains(Version(installed), prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return installed.strip() == pin.strip()


def _release_compatible(a: str, b: str) -> bool:
    """`4.8.0` (a module's __version__) and `4.8.0.76` (its distribution's) name one release; a
    `__version__` that is not a version ("unknown", "dev") cannot tell, and counts as compatible."""
    from packaging.version import InvalidVersion, Version

    try:
        first, second = Version(a).release, Version(b).release
    except InvalidVersion:
        return True
    length = min(len(first), len(second))
    return first[:length] == second[:length]


class ImportMissingFromRequirements(Rule):
    """## What it does
    In a live kernel (`%readiness`, `%%readiness`), reports a module the notebook imports, that this
    kernel imports from an installed distribution, when the project keeps dependency files
    (requirements*.txt, pyproject.toml, environment.yml or a lock file, beside the notebook or above
    it up to the project root) and none of them lists that distribution at all.

    Imports that `unpinned-import` (RP203) already reports are left to it, so that one problem makes
    one finding: what remains are the packages the notebook installs itself with `%pip` but the
    files leave out. With RP203 not selected, every such import is reported. Modules that are not
    importable in this kernel, that come from the notebook's folder rather than from a distribution,
    the standard library and optional imports (`try: ... except ImportError`) are not reported.
    Without a dependency file, `no-dependency-file` (RP720) says so instead.

    ## Why is this bad?
    Whoever sets up the environment from the requirements file gets one without this package: the
    notebook fails at the import, or a `%pip` line in it installs something other than what the
    project declares.

    ## Example
    ```python
    # requirements.txt: pandas==2.2.3
    %pip install seaborn==0.13.2
    # %%
    import pandas as pd
    import seaborn as sns
    ```

    ## Use instead
    ```python
    # requirements.txt: pandas==2.2.3 and seaborn==0.13.2
    import pandas as pd
    import seaborn as sns
    ```
    """

    code = "RP730"
    name = "import-missing-from-requirements"
    category = "notebook-hygiene"
    severity = Severity.WARNING
    docs_are_runnable = False  # needs a live kernel and a requirements file
    reads = ("the running kernel", "imports", "dependency files", "RP203's findings")

    def check(self, model: NotebookModel) -> Iterator[Finding]:
        if kernel_of(model) is None or model.path is None:
            return
        project = notebook_project(model)
        if not project.files:
            return
        listed = {requirement.name for file in project.files for requirement in file.requirements
                  if requirement.name} | set(project.project_names)
        folder = _notebook_folder(model)
        left_to_rp203: set[tuple[int | None, int, int]] | None = None
        names = ", ".join(sorted({file.path.name for file in project.files}))
        for item in live_imports(model):
            if item.origin is None or item.distribution is None:
                continue  # not importable here, or not from a distribution (a module of the project)
            if folder is not None and _is_inside(item.origin, folder):
                continue  # a local module shadows the distribution
            candidates = {item.distribution, *likely_distributions(item.module)}
            if candidates & listed or (listed and providing(item.module, listed)):
                continue
            if left_to_rp203 is None:
                left_to_rp203 = self._reported_by_rp203(model)
            span = _import_span(item.cell, item.fact)
            if (item.cell.index, span.line, span.column) in left_to_rp203:
                continue
            version = installed_version_now(item.distribution)
            shown = display_name(item.distribution)
            pin = f"{shown}=={version}" if version else shown
            what = f"'{item.top}'" if canonicalize_name(item.top) == item.distribution else \
                f"'{item.top}' (distribution {shown})"
            yield self.finding(item.cell, span,
                               f"{what} is imported, and installed in this kernel, but {names} does not list it; "
                               f"add `{pin}`",
                               Fix(f"Add {pin} to the requirements file", "unsafe"))

    @staticmethod
    def _reported_by_rp203(model: NotebookModel) -> set[tuple[int | None, int, int]]:
        settings = model.settings
        if settings is None:
            select, ignore = (), ()
        else:
            select, ignore = settings.select, settings.ignore + settings.ignores_for(model.path)
        return {(f.cell_index, f.line, f.column) for f in findings_of(UnpinnedImport(), model)
                if is_selected(f, select, ignore)}


@dataclass(frozen=True)
class Pin:
    requirement: Requirement
    version: str
    cell: CellModel
    span: Span
    where: str  # "this cell's %pip line", "requirements.txt"


class InstalledVersionDiffers(Rule):
    """## What it does
    In a live kernel (`%readiness`, `%%readiness`), reports a package pinned to one version, by a
    `%pip`/`%conda` install line of the notebook or by a dependency file beside it (or above it, in
    its project), when the version installed in this kernel is another one, or when the kernel still
    runs an older import of it than the one installed since (`%pip install` after `import`, without
    a restart).

    A pin in a file is checked only for packages the notebook imports, and reported on the first cell
    that imports it; a pin of the notebook is reported on its install line. Pins without a version (a
    commit, a wheel, a lock file's name), pins whose environment marker excludes this interpreter,
    packages not installed here, and the install lines of a cell checked by `%%readiness` before it
    runs are not reported.

    ## Why is this bad?
    The outputs saved in the notebook were computed with the installed version, not with the one the
    notebook declares: whoever installs the pins gets other results, or errors, and nobody can tell
    from the notebook.

    ## Example
    ```python
    %pip install pandas==1.5.3
    # %% (the kernel has pandas 2.2.3 installed)
    import pandas as pd
    ```

    ## Use instead
    ```python
    %pip install pandas==2.2.3
    # %% (the pin says what the kernel runs; or install 1.5.3 and restart the kernel)
    import pandas as pd
    ```
    """

    code = "RP731"
    name = "installed-version-differs"
    category = "notebook-hygiene"
    severity = Severity.WARNING
    docs_are_runnable = False  # needs a live kernel
    reads = ("the running kernel", "install lines", "dependency files", "imports")

    def check(self, model: NotebookModel) -> Iterator[Finding]:
        kernel = kernel_of(model)
        if kernel is None:
            return
        imports = live_imports(model)
        pins = self._notebook_pins(model, kernel)
        pinned_here = {pin.requirement.name for pin in pins}
        pins += self._file_pins(model, imports, pinned_here)
        tops_by_distribution: dict[str, list[str]] = {}
        for item in imports:
            if item.distribution:
                tops_by_distribution.setdefault(item.distribution, []).append(item.top)
        for pin in pins:
            name = pin.requirement.name
            installed = installed_version_now(name)
            if installed is None:
                continue
            exact = "===" in pin.requirement.text
            shown = display_name(name)
            if not _same_version(installed, pin.version, exact):
                yield self.finding(pin.cell, pin.span,
                                   f"{pin.where} pins {shown} {pin.version}, but this kernel has {installed} "
                                   f"installed, so what the notebook computes here comes from {installed}; install "
                                   f"{pin.version} and restart the kernel, or pin the version the results were made with",
                                   Fix(f"Pin {shown}=={installed}, the version this kernel ran", "unsafe"))
                continue
            for top in tops_by_distribution.get(name, ()):
                loaded = loaded_version(top)
                if loaded and not _release_compatible(loaded, installed):
                    yield self.finding(pin.cell, pin.span,
                                       f"{shown} {pin.version} is installed, but this kernel still runs the "
                                       f"{loaded} it imported before: restart the kernel and run the notebook again")
                    break

    @staticmethod
    def _notebook_pins(model: NotebookModel, kernel: KernelFacts) -> list[Pin]:
        pins = []
        for line in notebook_installs(model).lines:
            if line.cell.index == kernel.pending_cell:
                continue  # about to run: its installs have not happened yet
            for command in line.commands:
                for requirement, token in command.packages:
                    version = pinned_version(requirement) if requirement.name else None
                    if version is not None:
                        prefix = "%" if line.magic.kind == "line" else "!"
                        where = f"The `{prefix}{line.magic.name} install` line"
                        pins.append(Pin(requirement, version, line.cell, line.span(token), where))
        return pins

    @staticmethod
    def _file_pins(model: NotebookModel, imports: list[LiveImport], skip: set[str]) -> list[Pin]:
        if model.path is None:
            return []
        first_import: dict[str, LiveImport] = {}
        for item in imports:
            for name in (item.distribution, *likely_distributions(item.module)):
                if name:
                    first_import.setdefault(name, item)
        pins = []
        seen: set[str] = set()
        for file in notebook_project(model).files:
            for requirement in file.requirements:
                name = requirement.name
                if not name or name in skip or name in seen or name not in first_import:
                    continue
                version = pinned_version(requirement)
                if version is None:
                    continue
                seen.add(name)
                item = first_import[name]
                pins.append(Pin(requirement, version, item.cell, _import_span(item.cell, item.fact),
                                _relative_name(file.path, model)))
        return pins


def _relative_name(path: Path, model: NotebookModel) -> str:
    folder = _notebook_folder(model)
    if folder is not None:
        try:
            return str(Path(os.path.abspath(path)).relative_to(folder))
        except ValueError:
            return os.path.relpath(os.path.abspath(path), folder)
    return path.name


def _normal(source: str) -> list[str]:
    return [line.rstrip() for line in source.strip("\n").splitlines()]


class StaleOutput(Rule):
    """## What it does
    In a live kernel (`%readiness`), reports a cell of the notebook this kernel runs whose saved
    execution count is N when the code this kernel ran as `In[N]` is not the code now in the cell:
    the cell was edited after it ran, and its saved output (and what it left in the kernel) come from
    the old code. The finding points at the first line that differs.

    The kernel can tell only for the notebook of its own session (`__session__`, or VS Code's file),
    and only when the saved counts are its own: nothing is reported when some saved count is higher
    than any this kernel gave (the counts come from an earlier session, before a restart), when no
    saved cell matches what the kernel ran, when the file was saved before this kernel's session
    began, for a count two cells share, for a count this kernel gave after the file was last saved
    (the file's count is then an older one), or for an empty cell without outputs.

    ## Why is this bad?
    Readers, reviewers and the exporter's characterisation tests trust a saved output to be what the
    code above it prints. An output from other code is a claim nothing in the notebook supports, and
    the next Run All may give something else.

    ## Example
    ```python
    # In [3] ran `total = prices.sum()`; the cell was then edited and not re-run:
    total = prices.mean()
    ```

    ## Use instead
    ```python
    # re-run the cell after editing it (or Restart and Run All before saving):
    total = prices.mean()
    ```
    """

    code = "RP732"
    name = "stale-output"
    category = "notebook-hygiene"
    severity = Severity.WARNING
    docs_are_runnable = False  # needs a live kernel's history
    reads = ("the running kernel's inputs", "execution counts")

    def check(self, model: NotebookModel) -> Iterator[Finding]:
        kernel = kernel_of(model)
        if kernel is None or not kernel.same_session or len(kernel.inputs) < 2:
            return
        inputs = kernel.inputs
        last = len(inputs) - 1
        counted = [cell for cell in model.code_cells if cell.cell.execution_count is not None]
        counts = [cell.cell.execution_count for cell in counted]
        if not counted or max(counts) > last or min(counts) < 1:
            return  # counts this kernel never gave: they come from another session
        repeated = {count for count in counts if counts.count(count) > 1}
        unsaved = repeated | kernel.ran_after_save  # counts the saved file cannot have been given here
        compared = [(cell, _normal(cell.cell.source), _normal(inputs[cell.cell.execution_count]))
                    for cell in counted if cell.cell.execution_count not in unsaved]
        if not any(now == ran for _, now, ran in compared):
            return  # nothing matches: these counts are not evidence about this kernel's runs
        for cell, now, ran in compared:
            if now == ran or (not any(now) and not cell.cell.outputs):
                continue
            line = _first_difference(now, ran)
            text = now[line - 1] if line <= len(now) else ""
            count = cell.cell.execution_count
            was = ran[line - 1].strip() if line <= len(ran) else ""
            detail = f"line {line} was `{_short(was)}`" if was else f"line {line} was not there"
            outputs = "its saved output comes" if cell.cell.outputs else "what it left in the kernel comes"
            yield self.finding(cell, Span(line, 1, line, len(text) + 1),
                               f"This cell was edited after it ran as In [{count}] ({detail}): {outputs} from the "
                               "old code; re-run it, or restart the kernel and run all before saving")


def _first_difference(now: list[str], ran: list[str]) -> int:
    """1-based line of the current source where it first departs from what ran."""
    matcher = difflib.SequenceMatcher(a=now, b=ran, autojunk=False)
    for tag, start, _end, _other_start, _other_end in matcher.get_opcodes():
        if tag != "equal":
            return min(start + 1, max(len(now), 1))
    return max(len(now), 1)


def _short(text: str, limit: int = 50) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


RULES = (ImportMissingFromRequirements, InstalledVersionDiffers, StaleOutput)
