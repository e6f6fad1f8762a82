"""Shared pytest configuration."""

# jp_fetch, jp_root_dir and friends for the server extension's tests (tests/test_server.py).
pytest_plugins = ("pytest_jupyter.jupyter_server",)
