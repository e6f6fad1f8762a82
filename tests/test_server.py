"""The jupyter_server extension through real HTTP requests to a real server (pytest-jupyter's jp_fetch)."""
from __future__ import annotations

import json
import os
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

SMALL_CAP = 50_000


@pytest.fixture
def jp_server_config():
    return {
        "ServerApp": {
            "jpserver_extensions": {"readiness_magics": True},
            "tornado_settings": {"readiness_max_body_bytes": SMALL_CAP},
        },
        "IdentityProvider": {"token": "secret-test-token"},
    }


def make_notebook(*sources: str, markdown_first: bool = True):
    cells = [new_markdown_cell("# Churn")] if markdown_first else []
    cells += [new_code_cell(source) for source in sources]
    return new_notebook(cells=cells)


@pytest.fixture
def notebook_dir(jp_root_dir):
    """A root with a notebook that has findings, one that is clean, and one that is not JSON."""
    (jp_root_dir / "work").mkdir()
    nbformat.write(
        make_notebook("import os\nimport json\n\nprint(json.dumps({}))"),
        jp_root_dir / "work" / "findings.ipynb",
    )
    nbformat.write(make_notebook("print('hello')"), jp_root_dir / "work" / "clean.ipynb")
    (jp_root_dir / "work" / "broken.ipynb").write_text("{not json", encoding="utf-8")
    return jp_root_dir


async def post(jp_fetch, endpoint: str, payload, **kwargs):
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return await jp_fetch("readiness", endpoint, method="POST", body=body, raise_error=False, **kwargs)


def answer(response) -> dict:
    return json.loads(response.body)


async def test_check_saved_notebook_by_path(jp_fetch, notebook_dir):
    response = await post(jp_fetch, "check", {"path": "work/findings.ipynb"})
    assert response.code == 200
    entry = answer(response)
    assert entry["path"] == "work/findings.ipynb"
    assert entry["error"] is None
    assert set(entry["summary"]) >= {"error", "warning", "info", "score", "by_category"}
    unused = [f for f in entry["findings"] if f["code"] == "F401"]
    assert len(unused) == 1
    assert unused[0]["category"] == "code-quality"
    # cell_index counts the markdown cell too; line and column are 1-based in the cell.
    assert (unused[0]["cell_index"], unused[0]["line"], unused[0]["column"]) == (1, 1, 8)
    assert entry["summary"]["by_category"]["code-quality"] >= 1
    assert entry["summary"]["score"] < 100


async def test_check_unsaved_content_uses_what_the_browser_sends(jp_fetch, notebook_dir):
    on_disk = (notebook_dir / "work" / "clean.ipynb").read_bytes()
    unsaved = make_notebook("import os\nprint('hello')")
    response = await post(jp_fetch, "check", {"path": "work/clean.ipynb", "content": unsaved})
    assert response.code == 200
    entry = answer(response)
    assert entry["path"] == "work/clean.ipynb"
    assert "F401" in [f["code"] for f in entry["findings"] if f["category"] == "code-quality"]
    assert (notebook_dir / "work" / "clean.ipynb").read_bytes() == on_disk

    saved = answer(await post(jp_fetch, "check", {"path": "work/clean.ipynb"}))
    assert [f for f in saved["findings"] if f["category"] == "code-quality"] == []


async def test_unsaved_content_of_a_notebook_not_yet_on_disk(jp_fetch, notebook_dir):
    content = json.dumps(make_notebook("import os"))  # a string is accepted too
    response = await post(jp_fetch, "check", {"path": "work/Untitled.ipynb", "content": content})
    assert response.code == 200
    codes = [f["code"] for f in answer(response)["findings"] if f["category"] == "code-quality"]
    assert codes == ["F401"]


async def test_ruff_can_be_switched_off(jp_fetch, notebook_dir):
    entry = answer(await post(jp_fetch, "check", {"path": "work/findings.ipynb", "ruff": False}))
    assert not [f for f in entry["findings"] if f["category"] == "code-quality"]


async def test_unreadable_notebook_is_an_answer_with_an_error(jp_fetch, notebook_dir):
    response = await post(jp_fetch, "check", {"path": "work/broken.ipynb"})
    assert response.code == 200
    entry = answer(response)
    assert entry["error"]["kind"]
    assert entry["error"]["message"]
    assert entry["findings"] == []
    assert str(notebook_dir) not in response.body.decode()


async def test_checks_run_concurrently(jp_fetch, notebook_dir):
    import asyncio

    responses = await asyncio.gather(
        *(post(jp_fetch, "check", {"path": "work/findings.ipynb"}) for _ in range(4)),
        jp_fetch("readiness", "rules", raise_error=False),
    )
    assert [r.code for r in responses] == [200] * 5


async def test_rules_list_with_docs(jp_fetch):
    response = await jp_fetch("readiness", "rules", raise_error=False)
    assert response.code == 200
    rules = answer(response)["rules"]
    assert rules
    for rule in rules:
        assert set(rule) >= {"code", "name", "category", "severity", "summary", "why"}
    assert len({rule["code"] for rule in rules}) == len(rules)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("{not json", "not valid JSON"),
        ("", "empty"),
        ("[1, 2]", "JSON object"),
        ({}, "'path'"),
        ({"path": 3}, "'path'"),
        ({"path": "work/clean.ipynb", "content": 5}, "'content'"),
        ({"path": "work/clean.ipynb", "ruff": "yes"}, "'ruff'"),
    ],
)
async def test_bad_requests_get_400_with_a_message(jp_fetch, notebook_dir, body, words):
    response = await post(jp_fetch, "check", body)
    assert response.code == 400
    assert words in answer(response)["message"]


async def test_missing_notebook_is_404(jp_fetch, notebook_dir):
    response = await post(jp_fetch, "check", {"path": "work/nope.ipynb"})
    assert response.code == 404
    assert "work/nope.ipynb" in answer(response)["message"]


@pytest.mark.parametrize("path", ["../outside.ipynb", "work/../../outside.ipynb", "/etc/passwd", "C:/x.ipynb"])
async def test_paths_that_leave_the_root_are_refused(jp_fetch, notebook_dir, path):
    response = await post(jp_fetch, "check", {"path": path})
    assert response.code == 403
    assert "root" in answer(response)["message"]


async def test_paths_with_content_cannot_leave_the_root_either(jp_fetch, notebook_dir):
    response = await post(jp_fetch, "check", {"path": "../x.ipynb", "content": make_notebook("x = 1")})
    assert response.code == 403


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
async def test_symlink_out_of_the_root_looks_like_a_missing_file(jp_fetch, notebook_dir, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    nbformat.write(make_notebook("import os"), outside / "secret.ipynb")
    os.symlink(outside / "secret.ipynb", notebook_dir / "work" / "link.ipynb")
    os.symlink(outside, notebook_dir / "work" / "linked_dir")

    for path in ("work/link.ipynb", "work/linked_dir/secret.ipynb"):
        response = await post(jp_fetch, "check", {"path": path})
        assert response.code == 404
        text = response.body.decode()
        assert str(outside) not in text and "F401" not in text
        missing = await post(jp_fetch, "check", {"path": path.replace("secret", "nothing").replace("link.", "nothing.")})
        assert missing.code == 404


async def test_body_over_the_cap_is_413(jp_fetch, notebook_dir):
    big = make_notebook("x = 1\n" + "# padding\n" * (SMALL_CAP // 10))
    response = await post(jp_fetch, "check", {"path": "work/clean.ipynb", "content": big})
    assert response.code == 413
    assert str(SMALL_CAP) in answer(response)["message"]


async def test_no_token_is_403(jp_fetch, notebook_dir):
    no_token = {"Authorization": ""}
    response = await post(jp_fetch, "check", {"path": "work/findings.ipynb"}, headers=no_token)
    assert response.code == 403
    assert b"F401" not in response.body
    response = await jp_fetch("readiness", "rules", headers=no_token, raise_error=False)
    assert response.code == 403
    response = await post(jp_fetch, "export", {"path": "work/findings.ipynb"}, headers=no_token)
    assert response.code == 403


async def test_wrong_token_is_403(jp_fetch, notebook_dir):
    response = await post(
        jp_fetch, "check", {"path": "work/findings.ipynb"}, headers={"Authorization": "token wrong"}
    )
    assert response.code == 403


async def test_export_says_501_while_the_exporter_is_missing(jp_fetch, notebook_dir, monkeypatch):
    # Importing a module that sys.modules maps to None raises ImportError, as a missing one does.
    monkeypatch.setitem(sys.modules, "readiness_magics.exporter", None)
    response = await post(jp_fetch, "export", {"path": "work/clean.ipynb"})
    assert response.code == 501
    assert "Export is not available" in answer(response)["message"]


async def test_export_refuses_paths_outside_the_root(jp_fetch, notebook_dir):
    response = await post(jp_fetch, "export", {"path": "work/clean.ipynb", "output_dir": "../pkg"})
    assert response.code == 403
    response = await post(jp_fetch, "export", {"path": "../clean.ipynb"})
    assert response.code == 403
    response = await post(jp_fetch, "export", {"path": "work/nope.ipynb"})
    assert response.code == 404


async def test_export_writes_a_package_inside_the_root(jp_fetch, notebook_dir):
    pytest.importorskip("readiness_magics.exporter.api", reason="the exporter is not in this version yet")
    nbformat.write(
        make_notebook("def double(x):\n    return x * 2", "print(double(2))"),
        notebook_dir / "work" / "small.ipynb",
    )
    request = {"path": "work/small.ipynb", "output_dir": "work/out", "name": "small_pkg"}
    response = await post(jp_fetch, "export", request)
    assert response.code == 200, response.body
    result = answer(response)
    assert result["status"] == "written", result
    assert result["output_dir"] == "work/out/small_pkg"
    assert result["notebook"] == "work/small.ipynb"
    assert str(notebook_dir) not in response.body.decode()
    assert (notebook_dir / "work" / "out" / "small_pkg" / "pyproject.toml").is_file()

    again = await post(jp_fetch, "export", request)
    assert again.code == 409
    assert "work/out/small_pkg" in answer(again)["message"]
    assert str(notebook_dir) not in again.body.decode()
    forced = await post(jp_fetch, "export", {**request, "force": True})
    assert forced.code == 200
    assert answer(forced)["status"] == "written"


async def test_export_refuses_a_notebook_with_blocking_findings_unless_forced(jp_fetch, notebook_dir):
    pytest.importorskip("readiness_magics.exporter.api", reason="the exporter is not in this version yet")
    nbformat.write(
        make_notebook("import pandas as pd\n\ndf = pd.read_csv('/home/ana/churn.csv')\nprint(df.shape)"),
        notebook_dir / "work" / "blocked.ipynb",
    )
    response = await post(jp_fetch, "export", {"path": "work/blocked.ipynb", "name": "blocked"})
    assert response.code == 200
    result = answer(response)
    assert result["status"] == "refused"
    assert any(f["code"].startswith("RP1") for f in result["blocking"])
    assert not (notebook_dir / "work" / "blocked").exists()


async def test_export_bad_package_name_is_400(jp_fetch, notebook_dir):
    pytest.importorskip("readiness_magics.exporter.api", reason="the exporter is not in this version yet")
    response = await post(jp_fetch, "export", {"path": "work/clean.ipynb", "name": "../evil"})
    assert response.code == 400


def test_extension_points_are_declared():
    import readiness_magics

    assert readiness_magics._jupyter_server_extension_points() == [{"module": "readiness_magics"}]
    assert readiness_magics._jupyter_labextension_paths()[0]["dest"] == "readiness-magics"


def test_install_enables_the_server_extension():
    from pathlib import Path

    config = Path(__file__).parent.parent / "jupyter-config" / "server-config" / "readiness_magics.json"
    assert json.loads(config.read_text())["ServerApp"]["jpserver_extensions"] == {"readiness_magics": True}



def _installed() -> bool:
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        distribution("readiness-magics")
    except PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _installed(), reason="readiness-magics is not pip-installed in this environment")
def test_pip_install_registers_both_extensions():
    """What `jupyter labextension list` and `jupyter server extension list` read, read the same way."""
    from pathlib import Path

    from jupyter_core.paths import jupyter_config_path, jupyter_path
    from jupyter_server.extension.config import ExtensionConfigManager

    built = [Path(folder) / "readiness-magics" for folder in jupyter_path("labextensions")]
    installed = [folder for folder in built if (folder / "package.json").is_file()]
    assert installed, f"no readiness-magics in {jupyter_path('labextensions')}"
    package = json.loads((installed[0] / "package.json").read_text())
    assert package["name"] == "readiness-magics"
    assert package["jupyterlab"]["_build"]["load"].startswith("static/remoteEntry.")
    assert json.loads((installed[0] / "install.json").read_text())["packageName"] == "readiness-magics"

    manager = ExtensionConfigManager(read_config_path=jupyter_config_path())
    assert manager.get_jpserver_extensions().get("readiness_magics") is True
