"""readiness-magics: find what keeps a notebook from production, and export it into a tested package."""
from __future__ import annotations

__version__ = "0.1.0"


def load_ipython_extension(ipython):  # pragma: no cover - thin hook, tested through %load_ext
    from .magics import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython):  # pragma: no cover
    from .magics import unload_ipython_extension as _unload

    _unload(ipython)
