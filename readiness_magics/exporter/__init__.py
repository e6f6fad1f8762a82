"""Export a clean notebook into an installable, tested Python package (CLI, nbconvert, magic and server use this)."""
from __future__ import annotations

from importlib import import_module

# Loaded on first use: `readiness check` registers the export sub-command at every start-up and must
# not pay for the exporter's imports.
_EXPORTS = {
    "ExportError": ".api",
    "ExportResult": ".api",
    "PackageBuild": ".api",
    "build_package": ".api",
    "export_notebook": ".api",
    "PackageNameError": ".names",
    "check_package_name": ".names",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
