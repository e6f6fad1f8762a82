"""The wheel build's sidebar step: JupyterLab's npm build when Node.js is there, skipped when it is not.

Without Node.js (a pre-commit hook's environment, a server with only Python) the package still
installs, without the JupyterLab sidebar: the CLI, the magics, the exporter and the hooks need none of
it. hatch-jupyter-builder imports this module from the project folder (pyproject.toml names it).
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

SIDEBAR_FILES = ("readiness_magics/labextension/static/style.js", "readiness_magics/labextension/package.json")


def build_sidebar(target_name: str, version: str, **kwargs) -> None:
    if shutil.which("node") is None:
        if not all(Path(name).exists() for name in SIDEBAR_FILES):
            print("readiness-magics: Node.js not found, so the JupyterLab sidebar is not built; the package "
                  "installs without it (install Node.js and reinstall to get the sidebar)", file=sys.stderr)
        return
    from hatch_jupyter_builder import npm_builder

    npm_builder(target_name, version, **kwargs)
    missing = [name for name in SIDEBAR_FILES if not Path(name).exists()]
    if version == "standard" and missing:
        raise ValueError(f"the sidebar build did not make {', '.join(missing)}")
