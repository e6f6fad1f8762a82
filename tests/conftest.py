"""Shared pytest configuration."""

# jp_fetch, jp_root_dir and friends for the server extension's tests (tests/test_server.py).
pytest_plugins = ("pytest_jupyter.jupyter_server",)

import os  # noqa: E402

# A rule that crashes is caught and reported in normal use; in the tests it must fail loudly.
os.environ.setdefault("READINESS_RAISE_RULE_ERRORS", "1")
