"""export_notebook(): the gate, the package build (pure) and the atomic write; every adapter calls this."""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..analysis import NotebookModel
from ..config import Settings, settings_for
from ..findings import Finding, Severity
from ..notebook import Notebook, NotebookError, read_notebook
from ..requirements import installed_version
from .dependencies import Dependency, resolve_dependencies
from .live import live_fixtures
from .names import PackageNameError, check_package_name, package_name_from
from .plan import ExportPlan, Planner
from .render import (
    RenderError,
    render_init,
    render_main,
    render_params,
    render_pipeline,
    render_pyproject,
    render_readme,
)
from .testgen import plan_data, render_conftest, render_tests, scan_beside
from .writer import WriteError, write_package

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


class ExportError(Exception):
    """An export that cannot start or finish: bad name, existing folder, unreadable notebook, write failure."""

    def __init__(self, kind: str, message: str, exit_code: int = EXIT_USAGE):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.exit_code = exit_code

    def to_dict(self) -> dict:
        return {"status": "error", "kind": self.kind, "message": self.message, "exit_code": self.exit_code}


@dataclass
class PackageBuild:
    """The files of a package, in memory: relative path -> bytes."""

    package: str
    files: dict[str, bytes]
    plan: ExportPlan
    dependencies: list[Dependency]
    warnings: list[str]
    end_to_end: bool


@dataclass
class ExportResult:
    notebook: str
    package: str
    output: str  # the package folder (written or that would have been)
    status: str  # "written" or "refused"
    exit_code: int
    files: tuple[str, ...] = ()
    blocking: list[Finding] = field(default_factory=list)  # the findings that refused the export
    known_issues: list[Finding] = field(default_factory=list)  # forced past: listed in the package README
    warnings: list[str] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)
    parameters: list[dict] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)

    @property
    def written(self) -> bool:
        return self.status == "written"

    @property
    def message(self) -> str:
        if self.written:
            return f"wrote package {self.package} to {self.output} ({len(self.files)} files)"
        return (f"refused: {len(self.blocking)} finding(s) at the fail level in {self.notebook}; fix them or pass "
                "--force to export anyway (they go into the package README as known issues)")

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "exit_code": self.exit_code,
            "message": self.message,
            "notebook": self.notebook,
            "package": self.package,
            "output": self.output,
            "files": list(self.files),
            "blocking": [finding.to_dict() for finding in self.blocking],
            "known_issues": [finding.to_dict() for finding in self.known_issues],
            "warnings": list(self.warnings),
            "dependencies": [dependency.to_dict() for dependency in self.dependencies],
            "parameters": list(self.parameters),
            "steps": list(self.steps),
        }


def _format_python(files: dict[str, bytes], package: str) -> None:
    """ruff format each generated module (isolated from any config), so the package passes `ruff format --check`."""
    try:
        from ..ruff_bridge import RuffUnavailable, ruff_binary

        binary = ruff_binary()
    except (ImportError, RuffUnavailable, OSError):
        binary = shutil.which("ruff")
    if not binary:
        return
    for name in sorted(files):
        if not name.endswith(".py"):
            continue
        # Sort the imports the way ruff's isort rules (I001) want them, then format.
        fixed = subprocess.run([binary, "check", "--isolated", "--select", "I", "--fix-only", "--exit-zero",
                                "--quiet", "--config", f"lint.isort.known-first-party = ['{package}']",
                                "--stdin-filename", name, "-"],
                               input=files[name], capture_output=True, check=False)
        if fixed.returncode == 0 and fixed.stdout:
            files[name] = fixed.stdout
        result = subprocess.run([binary, "format", "--isolated", "--stdin-filename", name, "-"],
                                input=files[name], capture_output=True, check=False)
        if result.returncode == 0 and result.stdout:
            files[name] = result.stdout


def build_package(notebook: Notebook, package: str, *, known_issues: list[Finding] | None = None,
                  settings: Settings | None = None, format_code: bool = True, live: Mapping | None = None
                  ) -> PackageBuild:
    """Everything the package holds, as bytes; reads the notebook's data files for samples, writes nothing.

    `live` is the namespace of a kernel that ran the notebook: each function called there gets a fixture of the
    values it was called with, and a test that it returns the same kind of result.
    """
    check_package_name(package)
    folder = notebook.path.parent if notebook.path is not None else None
    model = NotebookModel(notebook, settings)
    plan = Planner(model, folder).plan()
    local = []
    if folder is not None:
        tops = set()
        for statement in plan.imports:
            names = [a.name for a in statement.names] if hasattr(statement, "names") else []
            if statement.__class__.__name__ == "ImportFrom":
                names = [statement.module or ""] if not statement.level else []
            tops.update(name.split(".")[0] for name in names if name)
        local = sorted(t for t in tops if (folder / f"{t}.py").is_file() or (folder / t / "__init__.py").is_file())
    plan.local_modules = local
    try:
        pipeline_text, modules, render_warnings = render_pipeline(plan, package)
    except RenderError as first:
        # A rewrite the compiler rejects (a bug of ours, or code we do not model): export the functions as the
        # notebook wrote them; the stand-ins say what they miss. Only when that fails too is the export refused.
        plan = Planner(model, folder, pass_state=False).plan()
        plan.local_modules = local
        try:
            pipeline_text, modules, render_warnings = render_pipeline(plan, package)
        except RenderError as exc:
            raise ExportError("cannot-export", f"{notebook.name}: the exporter could not write valid Python for "
                                               f"this notebook ({str(exc).splitlines()[0].rstrip(':')}); please report it") from None
        render_warnings.append("functions keep reading notebook variables as globals "
                               f"({str(first).splitlines()[0]})")
    warnings = list(plan.warnings) + render_warnings
    files: dict[str, str | bytes] = {}
    for module in local:
        source = folder / f"{module}.py"
        if source.is_file():
            files[f"src/{package}/{module}.py"] = source.read_bytes()
            modules.extend(_imports_of(source))
        else:
            for path in sorted((folder / module).rglob("*.py")):
                relative = path.relative_to(folder).as_posix()
                files[f"src/{package}/{relative}"] = path.read_bytes()
                modules.extend(_imports_of(path))
        warnings.append(f"the local module {module} was copied into the package and imported relatively")
    dependencies, dependency_warnings = resolve_dependencies(modules, model)
    warnings += dependency_warnings
    data = plan_data(plan, folder)
    beside = scan_beside(model, plan, folder)
    data.absent_reads = beside.absent_reads
    live_files, live_expected = live_fixtures(plan, live, set(beside.files)) if live is not None else ({}, {})
    files.update({f"tests/data/live/{name}": content for name, content in live_files.items()})
    pytest_version = installed_version("pytest")
    test_requirement = f"pytest=={pytest_version}" if pytest_version else "pytest>=7"
    files.update({
        "pyproject.toml": render_pyproject(plan, package, dependencies, test_requirement),
        f"src/{package}/__init__.py": render_init(plan, package),
        f"src/{package}/params.py": render_params(plan),
        f"src/{package}/pipeline.py": pipeline_text,
        f"src/{package}/__main__.py": render_main(plan, package),
        "tests/test_pipeline.py": render_tests(plan, package, data, live_expected),
        "tests/conftest.py": render_conftest(beside),
    })
    for name, content in data.samples.items():
        files[f"tests/data/{name}"] = content
    for relative, content in beside.files.items():
        files[f"tests/data/beside/{relative}"] = content
    files["README.md"] = render_readme(plan, package, dependencies, list(known_issues or []), warnings, data.runs)
    encoded = {name: content.encode("utf-8") if isinstance(content, str) else content
               for name, content in files.items()}
    if format_code:
        _format_python(encoded, package)
    return PackageBuild(package, dict(sorted(encoded.items())), plan, dependencies, warnings, data.runs)


def _imports_of(path: Path) -> list[str]:
    import ast

    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
    return found


def gate(notebook: Notebook, settings: Settings) -> tuple[list[Finding], list[Finding]]:
    """(all findings, those at or above the fail level)."""
    from ..engine import check_notebook

    use_ruff = settings.ruff and settings.fail_on != Severity.ERROR
    report = check_notebook(notebook, settings, use_ruff=use_ruff)
    return report.findings, report.blocking(settings.fail_on)


def resolve_package_name(notebook_path: Path, name: str | None) -> str:
    if name is not None:
        return check_package_name(name)
    derived = package_name_from(notebook_path.stem)
    try:
        return check_package_name(derived)
    except PackageNameError as exc:
        raise PackageNameError(f"cannot derive a package name from {notebook_path.name!r} ({exc}); pass --name") \
            from None


def export_notebook(path: str | os.PathLike, output_dir: str | os.PathLike | None = None, *,
                    name: str | None = None, force: bool = False, settings: Settings | None = None,
                    live: Mapping | None = None) -> ExportResult:
    """Export the notebook at `path` as package `name` into `output_dir`/`name` (default: beside the notebook).

    Returns a result with status "refused" (exit code 1) when findings at the fail level block it and
    `force` is false; raises ExportError for a bad name, an unreadable notebook, an existing folder
    without `force`, or a failed write. The notebook file is only read.
    """
    path = Path(path)
    try:
        resolve_package_name(path, name)  # a bad name is said before the notebook is read
        notebook = read_notebook(path)
    except PackageNameError as exc:
        raise ExportError("bad-name", str(exc)) from None
    except NotebookError as exc:
        raise ExportError(exc.kind, exc.message) from None
    return export_loaded_notebook(notebook, path, output_dir, name=name, force=force, settings=settings, live=live)


def export_loaded_notebook(notebook: Notebook, path: Path, output_dir: str | os.PathLike | None = None, *,
                           name: str | None = None, force: bool = False, settings: Settings | None = None,
                           live: Mapping | None = None) -> ExportResult:
    """`export_notebook` for a notebook already in memory (nbconvert's route); `path` is where it lives."""
    try:
        package = resolve_package_name(path, name)
    except PackageNameError as exc:
        raise ExportError("bad-name", str(exc)) from None
    output_dir = Path(output_dir) if output_dir is not None else path.parent
    root = Path(os.path.abspath(output_dir))
    target = root / package
    if target.parent != root:
        raise ExportError("bad-name", f"the package folder {target} would be outside {root}")
    if (target.exists() or target.is_symlink()) and not force:
        raise ExportError("exists", f"{target} already exists; pass --force to replace it")
    if target.is_symlink():
        raise ExportError("exists", f"{target} is a symbolic link; not replacing it")
    notebook_file = Path(os.path.abspath(path))
    if target == notebook_file or target in notebook_file.parents:
        raise ExportError("exists", f"{target} holds the notebook itself; choose another --name or output folder")
    if target.is_dir() and any(target.iterdir()) and not (target / "pyproject.toml").is_file():
        raise ExportError("exists", f"{target} is a folder that is not an exported package; not replacing it, "
                                    "even with --force")
    settings = settings or settings_for(path)
    findings, blocking = gate(notebook, settings)
    base = dict(notebook=str(path), package=package, output=str(target))
    if blocking and not force:
        return ExportResult(**base, status="refused", exit_code=EXIT_REFUSED, blocking=blocking)
    build = build_package(notebook, package, known_issues=blocking, settings=settings, live=live)
    try:
        write_package(build.files, target, force=force)
    except FileExistsError as exc:
        raise ExportError("exists", str(exc)) from None
    except (OSError, WriteError) as exc:
        raise ExportError("write-failed", f"could not write {target}: {exc}", exit_code=EXIT_USAGE) from None
    return ExportResult(
        **base, status="written", exit_code=EXIT_OK, files=tuple(build.files), known_issues=blocking,
        warnings=build.warnings, dependencies=build.dependencies,
        parameters=[parameter.to_dict() for parameter in build.plan.parameters],
        steps=[step.name for step in build.plan.steps],
    )
