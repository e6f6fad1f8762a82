"""Shared pytest configuration."""

# jp_fetch, jp_root_dir and friends for the server extension's tests (tests/test_server.py).
pytest_plugins = ("pytest_jupyter.jupyter_server",)

import os  # noqa: E402

# A rule that crashes is caught and reported in normal use; in the tests it must fail loudly.
os.environ.setdefault("READINESS_RAISE_RULE_ERRORS", "1")

import pytest  # noqa: E402


@pytest.fixture(scope="module")
def shell():
    """One IPython shell per test module (IPython keeps a single instance)."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"  # nothing written to ~/.ipython
    yield InteractiveShell.instance(config=config)
    InteractiveShell.clear_instance()  # later test modules get no shell they did not ask for


@pytest.fixture
def ip(shell, tmp_path, monkeypatch):
    """A fresh session in an empty folder, with the extension loaded as a user loads it (In[1])."""
    from readiness_magics.magics import magics_for

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    shell.reset(new_session=True)
    shell.run_cell("%load_ext readiness_magics", store_history=True)
    yield shell
    shell.user_ns.pop("__session__", None)
    magics = magics_for(shell)
    if magics is not None:
        magics.stop_watching()
