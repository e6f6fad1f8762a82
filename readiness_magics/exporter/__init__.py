"""Export a clean notebook into an installable, tested Python package (CLI, nbconvert, magic and server use this)."""
from __future__ import annotations

from .api import ExportError, ExportResult, PackageBuild, build_package, export_notebook
from .names import PackageNameError, check_package_name

__all__ = [
    "ExportError",
    "ExportResult",
    "PackageBuild",
    "PackageNameError",
    "build_package",
    "check_package_name",
    "export_notebook",
]
