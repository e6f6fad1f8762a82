"""The jupyter_server extension: JSON endpoints under {base_url}/readiness/ for the JupyterLab panel."""
from __future__ import annotations

from .handlers import setup_handlers


def _load_jupyter_server_extension(server_app) -> None:
    setup_handlers(server_app.web_app)
    server_app.log.info("readiness-magics: endpoints registered under %sreadiness/", server_app.base_url)


# Older jupyter_server and notebook versions look for this name.
load_jupyter_server_extension = _load_jupyter_server_extension
