"""The generated package's dependencies: each third-party import pinned from the notebook, else installed."""
from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..analysis import NotebookModel

# Used when readiness_magics.requirements is not there: the usual import/distribution mismatches.
_IMPORT_TO_DISTRIBUTION = {
    "sklearn": "scikit-learn", "cv2": "opencv-python", "PIL": "Pillow", "yaml": "PyYAML",
    "bs4": "beautifulsoup4", "skimage": "scikit-image", "dateutil": "python-dateutil",
    "dotenv": "python-dotenv", "jwt": "PyJWT", "attr": "attrs", "mpl_toolkits": "matplotlib",
    "imblearn": "imbalanced-learn", "umap": "umap-learn", "Bio": "biopython",
}
_KERNEL_PROVIDED = {"IPython", "ipykernel", "google.colab", "kaggle_secrets"}


@dataclass(frozen=True)
class Dependency:
    name: str  # distribution name as people write it: "scikit-learn"
    requirement: str  # "scikit-learn==1.4.2", or the bare name when no version is known
    source: str  # "notebook" (%pip line), "requirements.txt", "installed", or "unknown"
    imports: tuple[str, ...] = ()  # the import names that need it

    @property
    def pinned(self) -> bool:
        return "==" in self.requirement

    def to_dict(self) -> dict:
        return {"name": self.name, "requirement": self.requirement, "source": self.source,
                "imports": list(self.imports)}


def _requirements_module():
    try:
        from .. import requirements
    except ImportError:  # the shared helpers are optional; the small table above covers the usual cases
        return None
    return requirements


def is_standard_library(module: str) -> bool:
    helpers = _requirements_module()
    if helpers is not None and hasattr(helpers, "is_standard_library"):
        return helpers.is_standard_library(module)
    return module.split(".")[0] in sys.stdlib_module_names or module.split(".")[0] == "__future__"


def is_kernel_provided(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in _KERNEL_PROVIDED)


def distribution_candidates(module: str) -> list[str]:
    """Distribution names that may provide an import, the installed ones first."""
    helpers = _requirements_module()
    if helpers is not None and hasattr(helpers, "distributions_for_import"):
        candidates = list(helpers.distributions_for_import(module))
    else:
        top = module.split(".")[0]
        candidates = [_IMPORT_TO_DISTRIBUTION.get(top, top)]
        try:
            from importlib.metadata import packages_distributions

            candidates += packages_distributions().get(top, [])
        except Exception:  # broken metadata must not stop an export
            pass
    installed = [name for name in candidates if installed_version(name)]
    return list(dict.fromkeys(installed + candidates))


def installed_version(distribution: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except (PackageNotFoundError, ValueError):
        return None
    except Exception:  # broken metadata
        return None


def display_name(distribution: str) -> str:
    helpers = _requirements_module()
    if helpers is not None and hasattr(helpers, "display_name"):
        return helpers.display_name(canonicalize_name(distribution))
    for name in _IMPORT_TO_DISTRIBUTION.values():
        if canonicalize_name(name) == canonicalize_name(distribution):
            return name
    return distribution


def _install_words(command: str) -> list[str]:
    """The package arguments of `pip install ...` (options and their values dropped)."""
    try:
        words = shlex.split(command, comments=True)
    except ValueError:
        words = command.split()
    if "install" not in words:
        return []
    words = words[words.index("install") + 1:]
    found, skip = [], False
    for word in words:
        if skip:
            skip = False
            continue
        if word.startswith("-"):
            skip = word in {"-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url",
                            "-f", "--find-links", "-t", "--target", "-e", "--editable"}
            continue
        found.append(word)
    return found


def notebook_pins(model: NotebookModel) -> tuple[dict[str, Requirement], list[str]]:
    """Exact pins the notebook installs with `%pip install x==1.2` (any code cell), and the other install lines."""
    pins: dict[str, Requirement] = {}
    loose: list[str] = []
    for cell in model.code_cells:
        for magic in cell.facts.magics:
            command = magic.command
            if not re.match(r"^(pip3?|python3? -m pip|conda|mamba)\b", command):
                continue
            for word in _install_words(command):
                try:
                    requirement = Requirement(word)
                except InvalidRequirement:
                    loose.append(word)
                    continue
                exact = [spec for spec in requirement.specifier if spec.operator in ("==", "===")
                         and not spec.version.endswith(".*")]
                if exact:
                    pins[canonicalize_name(requirement.name)] = requirement
                else:
                    loose.append(word)
    return pins, loose


def file_pins(folder: Path | None) -> dict[str, Requirement]:
    """Exact pins of a requirements.txt beside the notebook."""
    if folder is None or not (folder / "requirements.txt").is_file():
        return {}
    pins = {}
    for line in (folder / "requirements.txt").read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if any(spec.operator in ("==", "===") for spec in requirement.specifier):
            pins[canonicalize_name(requirement.name)] = requirement
    return pins


def resolve_dependencies(modules: list[str], model: NotebookModel, folder: Path | None
                         ) -> tuple[list[Dependency], list[str]]:
    """One pinned dependency per distribution the imported `modules` need; warnings for what is not pinned."""
    from_notebook, _ = notebook_pins(model)
    from_file = file_pins(folder)
    by_distribution: dict[str, tuple[str, str, str, list[str]]] = {}
    warnings: list[str] = []
    for module in sorted(set(modules)):
        if is_standard_library(module) or is_kernel_provided(module):
            continue
        candidates = distribution_candidates(module)
        chosen = None
        for name in candidates:
            key = canonicalize_name(name)
            if key in from_notebook or key in from_file:
                chosen = name
                break
        chosen = chosen or candidates[0]
        key = canonicalize_name(chosen)
        if key in by_distribution:
            by_distribution[key][3].append(module)
            continue
        label = display_name(chosen)
        if key in from_notebook:
            requirement, source = f"{label}{from_notebook[key].specifier}", "notebook"
        elif key in from_file:
            requirement, source = f"{label}{from_file[key].specifier}", "requirements.txt"
        elif installed_version(chosen):
            requirement, source = f"{label}=={installed_version(chosen)}", "installed"
        else:
            requirement, source = label, "unknown"
            warnings.append(f"'{module}' is imported but no version of {label} is pinned in the notebook or "
                            "installed here; pin it in pyproject.toml")
        by_distribution[key] = (label, requirement, source, [module])
    # Pinned installs the notebook asked for that no import names (e.g. a pandas engine such as pyarrow).
    for key, requirement in from_notebook.items():
        if key not in by_distribution:
            label = display_name(requirement.name)
            by_distribution[key] = (label, f"{label}{requirement.specifier}", "notebook", [])
    dependencies = [
        Dependency(label, requirement, source, tuple(imports))
        for key, (label, requirement, source, imports) in sorted(by_distribution.items())
    ]
    return dependencies, warnings
