"""jupyter lab for the browser tests: galata's test setup, then a token and XSRF checks as in real use."""
import os

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821 - `c` is the config object jupyter passes in

c.ServerApp.ip = "127.0.0.1"  # noqa: F821
c.ServerApp.port = int(os.environ.get("READINESS_UI_PORT", "8888"))  # noqa: F821
c.IdentityProvider.token = os.environ.get("READINESS_UI_TOKEN", "readiness-ui-test-token")  # noqa: F821
c.ServerApp.disable_check_xsrf = False  # noqa: F821
# CI runs as root; jupyter refuses to start as root without this.
c.ServerApp.allow_root = True  # noqa: F821
# The server extension is enabled by the installed jupyter-config file; say it here too so a
# checkout run with PYTHONPATH (no install) tests the same thing.
c.ServerApp.jpserver_extensions = {"readiness_magics": True}  # noqa: F821
# Windowed notebooks are JupyterLab's default; the test clicks findings in them.
c.LabApp.news_url = None  # noqa: F821
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"  # noqa: F821
