"""The server extension under attack and load: a real jupyter_server, real HTTP on loopback.

What tests/test_server.py already pins (403 without a token on the three routes, `..` and absolute
paths, a symlinked notebook, 413, malformed JSON on /check) is not repeated; this file adds the
rest of the hardening issue: authentication required with `allow_unauthenticated_access` off on
every route and method, cookie logins that still need XSRF, traversal through every path field,
odd paths that must not turn into 500s, and 50 concurrent checks that all get the right answer.
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
from http.cookies import SimpleCookie

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from readiness_magics.engine import check_content, check_file
from readiness_magics.server import handlers

TOKEN = "hardening-token-7"
CAP = 200_000
SECRET_MARK = "OUTSIDE-THE-ROOT-d41d8cd9"  # appears only in files outside the server root


@pytest.fixture
def jp_server_config():
    return {
        "ServerApp": {
            "jpserver_extensions": {"readiness_magics": True},
            "allow_unauthenticated_access": False,
            "tornado_settings": {"readiness_max_body_bytes": CAP},
        },
        "IdentityProvider": {"token": TOKEN},
    }


def routes() -> list[tuple[str, type]]:
    """Every route the extension registers, read from setup_handlers itself (new ones are covered too)."""

    class Recorder:
        def __init__(self):
            self.settings = {"base_url": "/"}
            self.registered: list = []

        def add_handlers(self, host, rules):
            self.registered.extend(rules)

    recorder = Recorder()
    handlers.setup_handlers(recorder)
    return [(pattern.strip("/").split("/", 1)[1], handler) for pattern, handler in recorder.registered]


ROUTES = routes()
ENDPOINTS = [name for name, _ in ROUTES]
POST_ENDPOINTS = [name for name, handler in ROUTES if "post" in handler.__dict__]


def notebook_with(*sources: str):
    return new_notebook(cells=[new_code_cell(source) for source in sources])


@pytest.fixture
def root(jp_root_dir, tmp_path):
    """A server root with notebooks, and beside it (outside) a folder the server must never reveal."""
    (jp_root_dir / "work").mkdir()
    nbformat.write(notebook_with("import os\nx = 1"), jp_root_dir / "work" / "inside.ipynb")
    outside = tmp_path / "outside"
    outside.mkdir()
    nbformat.write(notebook_with(f"token = '{SECRET_MARK}'"), outside / "secret.ipynb")
    return jp_root_dir, outside


async def send(jp_fetch, endpoint: str, payload=None, *, method: str = "POST", **kwargs):
    if payload is not None and not isinstance(payload, (str, bytes)):
        payload = json.dumps(payload)
    if method in ("POST", "PUT", "PATCH") and payload is None:
        payload = "{}"
    return await jp_fetch("readiness", endpoint, method=method, body=payload, raise_error=False,
                          allow_nonstandard_methods=True, **kwargs)


def message(response) -> str:
    return json.loads(response.body)["message"]


def test_the_server_under_test_requires_authentication(jp_serverapp):
    assert jp_serverapp.web_app.settings["allow_unauthenticated_access"] is False
    assert set(ENDPOINTS) >= {"check", "rules", "export"}


# --- nobody let in -------------------------------------------------------------------------------

@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("auth", [None, "token wrong-token", "Bearer " + TOKEN[:-1], f"token {TOKEN.upper()}"])
async def test_every_route_and_method_refuses_without_the_token(jp_fetch, root, endpoint, method, auth):
    body = {"path": "work/inside.ipynb", "output_dir": "work/pkg"} if method != "GET" else None
    headers = {"Authorization": auth or ""}
    response = await send(jp_fetch, endpoint, body, method=method, headers=headers)
    assert response.code == 403, (endpoint, method, response.code)
    assert b"RP" not in response.body and b"findings" not in response.body
    assert not (root[0] / "work" / "pkg").exists()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_the_token_in_the_query_string_is_accepted_as_jupyter_does(jp_fetch, root, endpoint):
    # Sanity check for the refusals above: the same routes answer once the token is there.
    method = "POST" if endpoint in POST_ENDPOINTS else "GET"
    body = {"path": "work/inside.ipynb", "output_dir": "work/pkg_q"} if method == "POST" else None
    response = await send(jp_fetch, endpoint, body, method=method, headers={"Authorization": ""},
                          params={"token": TOKEN})
    assert response.code == 200, response.body


async def login_cookie(jp_fetch) -> str:
    """A browser's login: one request with the token in the URL makes Jupyter set its login cookie."""
    response = await send(jp_fetch, "rules", method="GET", headers={"Authorization": ""}, params={"token": TOKEN})
    assert response.code == 200
    jar = SimpleCookie()
    for header in response.headers.get_list("Set-Cookie"):
        jar.load(header)
    login = [name for name in jar if name.startswith("username-")]
    assert login, response.headers
    return "; ".join(f"{name}={jar[name].value}" for name in login)


async def test_cookie_logins_need_the_xsrf_token_to_post(jp_fetch, root):
    cookie = await login_cookie(jp_fetch)
    browser = {"Authorization": "", "Cookie": cookie}
    # The cookie alone is a login: GET works (same-origin script), so the refusals below are XSRF's.
    assert (await send(jp_fetch, "rules", method="GET", headers={**browser, "Referer": "http://127.0.0.1/"})).code == 200
    xsrf = "2|deadbeef|" + "ab" * 16 + "|1700000000"
    same_site = {**browser, "Cookie": f"{cookie}; _xsrf={xsrf}", "X-XSRFToken": xsrf}
    response = await send(jp_fetch, "check", {"path": "work/inside.ipynb", "ruff": False}, headers=same_site)
    assert response.code == 200, response.body

    for endpoint in POST_ENDPOINTS:
        payload = {"path": "work/inside.ipynb", "output_dir": f"work/xsrf_{endpoint}", "ruff": False}
        forged = xsrf.replace("ab", "cd")
        for headers in (
            browser,  # a cross-site form post: the browser sends the cookie, nothing else
            {**browser, "Cookie": f"{cookie}; _xsrf={xsrf}"},  # the cookie without the header
            {**browser, "Cookie": f"{cookie}; _xsrf={xsrf}", "X-XSRFToken": forged},  # a guessed header
        ):
            response = await send(jp_fetch, endpoint, payload, headers=headers)
            assert response.code == 403, (endpoint, headers, response.code)
            assert b"findings" not in response.body
        # With a valid XSRF pair but from another site's page, the Origin check refuses it.
        response = await send(jp_fetch, endpoint, payload, headers={**same_site, "Origin": "http://evil.example"})
        assert response.code in (403, 404), response.code
        assert b"findings" not in response.body
        assert not (root[0] / "work" / f"xsrf_{endpoint}").exists()


# --- paths: nothing outside the root is read, written, or named ---------------------------------

def assert_says_nothing_about_outside(response, outside) -> None:
    text = response.body.decode()
    assert str(outside) not in text and SECRET_MARK not in text and "findings" not in text


@pytest.fixture
def links(root):
    jp_root, outside = root
    if sys.platform == "win32":
        pytest.skip("symlinks need privileges on Windows")
    os.symlink(outside, jp_root / "work" / "out_dir")
    os.symlink(outside / "secret.ipynb", jp_root / "work" / "out.ipynb")
    os.symlink(outside / "nothing-here", jp_root / "work" / "dangling.ipynb")
    return root


ESCAPES = [
    "../outside/secret.ipynb",
    "work/../../outside/secret.ipynb",
    "work\\..\\..\\outside\\secret.ipynb",
    "/etc/passwd",
    "//etc/passwd",
    "C:\\Windows\\win.ini",
    "work/out.ipynb",
    "work/out_dir/secret.ipynb",
    "work/out_dir/../out_dir/secret.ipynb",
    "work/dangling.ipynb",
    "work/inside.ipynb\x00.txt",
]


@pytest.mark.parametrize("path", ESCAPES)
async def test_check_refuses_every_way_out(jp_fetch, links, path):
    _, outside = links
    for payload in ({"path": path}, {"path": path, "content": notebook_with("x = 1")}):
        response = await send(jp_fetch, "check", payload)
        assert response.code in (403, 404), (path, response.code, response.body)
        assert_says_nothing_about_outside(response, outside)


async def test_outside_and_missing_look_the_same(jp_fetch, links):
    outside = await send(jp_fetch, "check", {"path": "work/out_dir/secret.ipynb"})
    missing = await send(jp_fetch, "check", {"path": "work/out_dir/no-such.ipynb"})
    nowhere = await send(jp_fetch, "check", {"path": "work/no_dir/secret.ipynb"})
    assert outside.code == missing.code == nowhere.code == 404
    assert message(outside).replace("out_dir", "X") == message(nowhere).replace("no_dir", "X")


@pytest.mark.parametrize("field", ["path", "output_dir"])
@pytest.mark.parametrize("path", ESCAPES + ["work/out_dir/pkg", "work/out_dir"])
async def test_export_refuses_every_way_out_in_every_field(jp_fetch, links, field, path):
    jp_root, outside = links
    payload = {"path": "work/inside.ipynb", "output_dir": "work/pkg", "force": True}
    payload[field] = path
    before = sorted(p.name for p in outside.iterdir())
    response = await send(jp_fetch, "export", payload)
    assert response.code in (403, 404), (field, path, response.code, response.body)
    assert_says_nothing_about_outside(response, outside)
    assert sorted(p.name for p in outside.iterdir()) == before  # nothing written outside
    assert not (jp_root / "work" / "pkg").exists()


@pytest.mark.parametrize("path", [
    "work/" + "x" * 5000 + ".ipynb",  # longer than the OS allows a name to be
    "work/" + "/".join(["d"] * 3000) + "/nb.ipynb",  # longer than a whole path may be
    "work/loop.ipynb",  # a symlink loop
    "work/loop.ipynb/x.ipynb",
    "work/inside.ipynb/x.ipynb",  # a file used as a folder
    ".", "work", "work/",  # folders, not notebooks
    "\u202eknp.ipynb", "work/\udcff.ipynb",  # right-to-left mark; a lone surrogate (invalid UTF-8)
    "work/100%s %(x)d %.ipynb",  # format directives where tornado formats its log lines
])
async def test_odd_paths_are_client_errors_not_server_errors(jp_fetch, root, path):
    jp_root, _ = root
    if sys.platform != "win32":
        os.symlink("loop.ipynb", jp_root / "work" / "loop.ipynb")
    beside = sorted(os.listdir(jp_root.parent))
    for endpoint, payload in (
        ("check", {"path": path}),
        ("check", {"path": path, "content": notebook_with("x = 1")}),
        ("export", {"path": path}),
        ("export", {"path": "work/inside.ipynb", "output_dir": path}),
    ):
        body = json.dumps(payload)  # a lone surrogate goes as a \\udcff escape, as JSON allows
        response = await send(jp_fetch, endpoint, body)
        assert str(jp_root) not in response.body.decode()  # the server's own layout is not told either
        if response.code == 200 and ("content" in payload or "output_dir" in payload):
            continue  # unsaved content under an odd name, a package written to an odd folder: fine
        assert 400 <= response.code < 500, (endpoint, payload, response.code, response.body)
        assert message(response)
    assert sorted(os.listdir(jp_root.parent)) == beside  # nothing was written outside the root


# --- bodies ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
async def test_bodies_over_the_cap_get_413_on_every_post_route(jp_fetch, root, endpoint):
    padding = "#" * (CAP + 1)
    response = await send(jp_fetch, endpoint, {"path": "work/inside.ipynb", "pad": padding})
    assert response.code == 413
    assert str(CAP) in message(response)


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
@pytest.mark.parametrize(("body", "words"), [
    ("{not json", "not valid JSON"),
    ('{"path": "work/inside.ipynb",}', "not valid JSON"),
    (b"\xff\xfe{\x00}", "not valid JSON"),
    ("null", "JSON object"),
    ('"work/inside.ipynb"', "JSON object"),
    ("[" * 5000 + "]" * 5000, "JSON"),  # nesting deeper than Python's json will go
    ('{"path": "work/inside.ipynb", "content": ' + "[" * 5000 + "]" * 5000 + "}", "JSON"),
    ("   ", "empty"),
])
async def test_malformed_bodies_get_400_with_a_message(jp_fetch, root, endpoint, body, words):
    response = await send(jp_fetch, endpoint, body)
    assert response.code == 400, (response.code, response.body)
    assert words in message(response)


async def test_content_with_odd_json_values_is_answered(jp_fetch, root):
    content = json.dumps(notebook_with("x = 1")).replace('"execution_count": null', '"execution_count": NaN')
    for payload in (
        {"path": "work/new.ipynb", "content": content},
        {"path": "work/new.ipynb", "content": "{}"},
        {"path": "work/new.ipynb", "content": {"cells": "nope"}},
        {"path": "work/new.ipynb", "content": "\x00" * 100},
    ):
        response = await send(jp_fetch, "check", payload)
        assert response.code == 200, (payload, response.body)
        entry = json.loads(response.body)
        assert entry["path"] == "work/new.ipynb"
        assert entry["error"] is None or entry["findings"] == []


# --- load ------------------------------------------------------------------------------------------

CONCURRENT = 50


async def test_fifty_concurrent_checks_all_get_their_own_answer(jp_fetch, root):
    jp_root, _ = root
    requests = []
    for number in range(CONCURRENT):
        sources = (f"import pandas as pd\ndata = pd.read_csv('/home/user{number}/input.csv')",
                   f"total_{number} = data.sum()")
        name = f"work/load_{number}.ipynb"
        notebook = notebook_with(*sources)
        use_ruff = number % 5 == 0  # some requests also run ruff in a subprocess
        real = jp_root.resolve() / name
        if number % 2:
            nbformat.write(notebook, real)
            payload = {"path": name, "ruff": use_ruff}
            expected = check_file(real, use_ruff=use_ruff).to_dict()
        else:
            payload = {"path": name, "content": notebook, "ruff": use_ruff}
            expected = check_content(json.dumps(notebook), path=str(real), use_ruff=use_ruff).to_dict()
        requests.append((payload, expected))

    # Bounded: the whole burst must finish by itself well within this, or the test fails.
    responses = await asyncio.wait_for(
        asyncio.gather(*(send(jp_fetch, "check", payload, request_timeout=240) for payload, _ in requests)),
        timeout=300,
    )
    assert [r.code for r in responses] == [200] * CONCURRENT
    for number, (response, (payload, expected)) in enumerate(zip(responses, requests)):
        entry = json.loads(response.body)
        assert entry["path"] == payload["path"]
        assert entry["findings"] == expected["findings"], number
        assert entry["summary"] == expected["summary"]
        assert any(f"/home/user{number}/input.csv" in f["message"] for f in entry["findings"]), number
    # The server still answers afterwards.
    assert (await send(jp_fetch, "rules", method="GET")).code == 200


# --- export refusals are answers, not crashes ------------------------------------------------------

@pytest.mark.parametrize("name", ["../x", "/abs", "class", "", "pаckage", "a" * 300])
async def test_hostile_package_names_are_4xx_with_a_message(jp_fetch, root, name):
    jp_root, _ = root
    beside = sorted(os.listdir(jp_root.parent))
    response = await send(jp_fetch, "export", {"path": "work/inside.ipynb", "output_dir": "work/pkgs", "name": name})
    assert 400 <= response.code < 500, (name, response.code, response.body)
    assert message(response) and str(jp_root) not in response.body.decode()
    assert not (jp_root / "work" / "pkgs").exists() or not any((jp_root / "work" / "pkgs").iterdir())
    assert sorted(os.listdir(jp_root.parent)) == beside


async def test_exporting_over_an_existing_package_needs_force(jp_fetch, root):
    jp_root, _ = root
    payload = {"path": "work/inside.ipynb", "output_dir": "work/pkgs"}
    first = await send(jp_fetch, "export", payload)
    assert first.code == 200, first.body
    assert str(jp_root) not in first.body.decode()  # paths in the answer are relative to the root
    written = {p: p.read_bytes() for p in (jp_root / "work" / "pkgs").rglob("*") if p.is_file()}
    again = await send(jp_fetch, "export", payload)
    assert again.code == 409, (again.code, again.body)
    assert "force" in message(again) and str(jp_root) not in again.body.decode()
    assert {p: p.read_bytes() for p in (jp_root / "work" / "pkgs").rglob("*") if p.is_file()} == written
    forced = await send(jp_fetch, "export", {**payload, "force": True})
    assert forced.code == 200
