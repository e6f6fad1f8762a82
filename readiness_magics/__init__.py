"""readiness-magics: find what keeps a notebook from production, and export it into a tested package."""
from __future__ import annotations

__version__ = "0.1.0"


def load_ipython_extension(ipython):  # pragma: no cover - thin hook, tested through %load_ext
    from .magics import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython):  # pragma: no cover
    from .magics import unload_ipython_extension as _unload

    _unload(ipython)


def _jupyter_server_extension_points():
    """jupyter_server finds the extension here (enabled by jupyter-config/ on install)."""
    return [{"module": "readiness_magics"}]


def _load_jupyter_server_extension(server_app):  # pragma: no cover - exercised by tests/test_server.py
    from .server import _load_jupyter_server_extension as _load

    _load(server_app)


def _jupyter_labextension_paths():
    """Where `jupyter labextension develop` and the wheel find the built sidebar."""
    return [{"src": "labextension", "dest": "readiness-magics"}]
