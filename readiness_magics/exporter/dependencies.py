"""The generated package's dependencies: each import pinned as the notebook or its project pins it, else installed."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from ..analysis import NotebookModel
from ..requirements import (
    Requirement,
    display_name,
    distributions_for_import,
    file_beside,
    installed_version,
    is_kernel_provided,
    is_standard_library,
    pinned_version,
    project_dependencies,
    read_listed_file,
    read_requirements_txt,
)
from ..rules.dependencies import notebook_installs


@dataclass(frozen=True)
class Dependency:
    name: str  # distribution name as people write it: "scikit-learn"
    requirement: str  # "scikit-learn==1.4.2", or the bare name when no version is known
    source: str  # "notebook" (an install line), a dependency file ("requirements.txt"), "installed" or "unknown"
    imports: tuple[str, ...] = ()  # the import names that need it

    @property
    def pinned(self) -> bool:
        return "==" in self.requirement

    def to_dict(self) -> dict:
        return {"name": self.name, "requirement": self.requirement, "source": self.source,
                "imports": list(self.imports)}


@dataclass(frozen=True)
class Pin:
    """One exact version that the notebook or its project fixes for a distribution, and where."""

    name: str  # canonical distribution name
    version: str
    source: str  # "notebook", or the dependency file as seen from the notebook's folder
    installed_by_notebook: bool  # named by an install line (or a file it installs): the package needs it too

    @property
    def requirement(self) -> str:
        try:
            Version(self.version)
        except InvalidVersion:
            return f"{display_name(self.name)}==={self.version}"  # `===` pins a version that is not PEP 440
        return f"{display_name(self.name)}=={self.version}"


def pins(model: NotebookModel) -> dict[str, Pin]:
    """The exact versions of what the RP2xx rules count as pinned, by canonical name: the notebook's install
    lines first (with the files they name: `-r`, `-c`, conda's `--file`), then the dependency files beside
    and above the notebook (requirements*.txt, pyproject.toml, environment.yml). The first pin wins; pins
    without a version (a commit, a wheel, a lock file's entry) are left to the installed version."""
    found: dict[str, Pin] = {}

    def add(requirement: Requirement, source: str, installed: bool) -> None:
        version = pinned_version(requirement) if requirement.name else None
        if version is not None and requirement.name not in found:
            found[requirement.name] = Pin(requirement.name, version, source, installed)

    installs = notebook_installs(model)
    folder = installs.folder
    for line in installs.lines:
        for command in line.commands:
            constraints: dict[str, Requirement] = {}
            for token in command.constraint_files if folder is not None else ():
                for requirement in read_requirements_txt(file_beside(folder, token.text)).requirements:
                    constraints.setdefault(requirement.name, requirement)
            for requirement, _ in command.packages:
                if requirement.pinned:
                    add(requirement, "notebook", True)
                elif requirement.name in constraints:  # `%pip install pandas -c constraints.txt`
                    add(constraints[requirement.name], constraints[requirement.name].source, True)
            for token in command.requirement_files if folder is not None else ():
                for requirement in read_listed_file(file_beside(folder, token.text), command.tool).requirements:
                    add(requirement, requirement.source, True)
    if folder is not None:
        for file in project_dependencies(model.path).files:
            shown = os.path.relpath(file.path, folder) if file.path.parent != folder else file.path.name
            for requirement in file.requirements:
                add(requirement, Path(shown).as_posix(), False)
    return found


def distribution_candidates(module: str) -> list[str]:
    """Canonical distribution names that may provide an import, the installed ones first."""
    candidates = list(distributions_for_import(module))
    installed = [name for name in candidates if installed_version(name)]
    return list(dict.fromkeys(installed + candidates))


def resolve_dependencies(modules: list[str], model: NotebookModel) -> tuple[list[Dependency], list[str]]:
    """One pinned dependency per distribution the imported `modules` need; warnings for what is not pinned."""
    pinned = pins(model)
    by_distribution: dict[str, tuple[str, str, str, list[str]]] = {}
    warnings: list[str] = []
    for module in sorted(set(modules)):
        if is_standard_library(module) or is_kernel_provided(module):
            continue
        candidates = distribution_candidates(module)
        key = next((name for name in candidates if name in pinned), candidates[0])
        if key in by_distribution:
            by_distribution[key][3].append(module)
            continue
        label = display_name(key)
        if key in pinned:
            requirement, source = pinned[key].requirement, pinned[key].source
        elif installed_version(key):
            requirement, source = f"{label}=={installed_version(key)}", "installed"
        else:
            requirement, source = label, "unknown"
            warnings.append(f"'{module}' is imported but no version of {label} is pinned in the notebook or "
                            "installed here; pin it in pyproject.toml")
        by_distribution[key] = (label, requirement, source, [module])
    # Pinned installs the notebook asked for that no import names (e.g. a pandas engine such as pyarrow).
    for key, pin in pinned.items():
        if pin.installed_by_notebook and key not in by_distribution:
            by_distribution[key] = (display_name(key), pin.requirement, pin.source, [])
    dependencies = [
        Dependency(label, requirement, source, tuple(imports))
        for key, (label, requirement, source, imports) in sorted(by_distribution.items())
    ]
    return dependencies, warnings
