"""Test helpers: build a notebook from cell sources and see what the rules say about it."""
from __future__ import annotations

from readiness_magics.config import Settings
from readiness_magics.engine import run_rules
from readiness_magics.notebook import notebook_from_sources


def findings_for(cells: list, select: str | tuple[str, ...] = (), path=None, settings: Settings | None = None):
    """Findings (without ruff) for a notebook of `cells` (source strings, or dicts of cell fields)."""
    if isinstance(select, str):
        select = (select,)
    settings = (settings or Settings(ruff=False)).with_overrides(select=tuple(select) or None)
    return run_rules(notebook_from_sources(cells, path=path), settings)


def codes_for(cells: list, select: str | tuple[str, ...] = (), path=None, settings=None) -> list[tuple[str, int, int]]:
    """(code, cell_index, line) of each finding: the compact form most rule tests compare."""
    return [(f.code, f.cell_index, f.line) for f in findings_for(cells, select, path, settings)]
