"""HTTP endpoints of the jupyter_server extension: parse the request, call the core off the loop, answer."""
from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path, PurePosixPath
from typing import Any

import tornado.web
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

# A notebook with many embedded images is still well under this; the panel strips rich outputs
# before sending, so only a runaway client reaches it. Override with
# `c.ServerApp.tornado_settings = {"readiness_max_body_bytes": N}`.
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024


class PathRejected(tornado.web.HTTPError):
    """A request path that may not be used; the message never says what lies outside the root."""


def resolve_api_path(root_dir: str, api_path: Any, *, allow_hidden: bool = True) -> Path:
    """Turn a Jupyter API path ("dir/nb.ipynb", relative to the server root) into a real path inside it.

    403 for paths that are not relative API paths (absolute, drive letters, `..`); 404 for anything
    that resolves outside the root (a symlink leaving it), so that an outside file and a missing one
    look the same to the caller.
    """
    if not isinstance(api_path, str) or not api_path.strip():
        raise tornado.web.HTTPError(400, "'path' must be a non-empty string (a path relative to the server root)")
    normalised = api_path.replace("\\", "/")
    pure = PurePosixPath(normalised)
    if (
        normalised.startswith("/")
        or "\x00" in normalised
        or (len(normalised) > 1 and normalised[1] == ":")  # C:/...
        or any(part == ".." for part in pure.parts)
    ):
        raise PathRejected(403, "'path' must be relative to the server root and stay inside it")
    if not allow_hidden and any(part.startswith(".") for part in pure.parts):
        raise PathRejected(404, f"No such notebook: {api_path}")
    root = Path(root_dir).resolve()
    try:
        candidate = (root / Path(*pure.parts)).resolve()
        candidate.exists()  # a name longer than the system allows fails here, not later as a 500
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
        raise PathRejected(404, f"No such notebook: {api_path}") from None
    if candidate != root and root not in candidate.parents:
        raise PathRejected(404, f"No such notebook: {api_path}")
    return candidate


class ReadinessHandler(APIHandler):
    """Shared parsing for the readiness endpoints."""

    auth_resource = "contents"

    @property
    def root_dir(self) -> str:
        root = self.settings.get("server_root_dir") or getattr(self.contents_manager, "root_dir", None)
        return os.path.expanduser(root or os.getcwd())

    @property
    def allow_hidden(self) -> bool:
        return bool(getattr(self.contents_manager, "allow_hidden", False))

    @property
    def max_body_bytes(self) -> int:
        return int(self.settings.get("readiness_max_body_bytes", DEFAULT_MAX_BODY_BYTES))

    def json_body(self) -> dict[str, Any]:
        body = self.request.body or b""
        declared = self.request.headers.get("Content-Length")
        if len(body) > self.max_body_bytes or (declared and declared.isdigit() and int(declared) > self.max_body_bytes):
            raise tornado.web.HTTPError(413, f"Request body is larger than {self.max_body_bytes} bytes")
        if not body.strip():
            raise tornado.web.HTTPError(400, "Request body is empty; send a JSON object")
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise tornado.web.HTTPError(400, f"Request body is not valid JSON: {exc}") from None
        except RecursionError:
            raise tornado.web.HTTPError(400, "Request body is not valid JSON: nested too deeply") from None
        if not isinstance(data, dict):
            raise tornado.web.HTTPError(400, "Request body must be a JSON object")
        return data

    def resolve(self, api_path: Any) -> Path:
        return resolve_api_path(self.root_dir, api_path, allow_hidden=self.allow_hidden)

    def api_path(self, real: Path) -> str:
        return real.relative_to(Path(self.root_dir).resolve()).as_posix()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """A failure of ours is a 500 whose JSON message says what failed in one line; the traceback
        goes to the server's log (tornado logs it as an uncaught exception), never to the client."""
        exc_info = kwargs.get("exc_info")
        if exc_info and not isinstance(exc_info[1], tornado.web.HTTPError):
            from ..failures import one_line

            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"message": f"readiness: internal error: {one_line(exc_info[1])}"}))
            return
        super().write_error(status_code, **kwargs)

    def answer(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(data))


class CheckHandler(ReadinessHandler):
    """POST {"path": ...} checks the saved notebook; with "content" it checks that unsaved JSON instead."""

    @tornado.web.authenticated
    @authorized("read")
    async def post(self) -> None:
        from ..engine import check_content, check_file

        data = self.json_body()
        use_ruff = data.get("ruff", True)
        if not isinstance(use_ruff, bool):
            raise tornado.web.HTTPError(400, "'ruff' must be true or false")
        real = self.resolve(data.get("path"))
        if "content" in data:
            content = data["content"]
            if not isinstance(content, (dict, str)):
                raise tornado.web.HTTPError(400, "'content' must be the notebook as a JSON object or string")
            report = await asyncio.to_thread(check_content, content, path=str(real), use_ruff=use_ruff)
        else:
            if not real.is_file():
                raise tornado.web.HTTPError(404, f"No such notebook: {data['path']}")
            report = await asyncio.to_thread(check_file, real, use_ruff=use_ruff)
        entry = report.to_dict()
        entry["path"] = self.api_path(real)
        self.answer(entry)


class RulesHandler(ReadinessHandler):
    """GET: every rule with its docs, for the panel's "why" lines and the settings."""

    @tornado.web.authenticated
    @authorized("read")
    async def get(self) -> None:
        from ..rules import all_rules

        rules = await asyncio.to_thread(lambda: [rule.to_dict() for rule in all_rules()])
        self.answer({"rules": rules})


class ExportHandler(ReadinessHandler):
    """POST {"path", "output_dir"?, "name"?, "force"?}: write the notebook out as a tested package.

    The package goes to `output_dir`/<name> (default: beside the notebook). An answer with
    status "refused" lists the blocking findings; `force` exports anyway and replaces an
    earlier export.
    """

    @tornado.web.authenticated
    @authorized("write")
    async def post(self) -> None:
        data = self.json_body()
        notebook = self.resolve(data.get("path"))
        output_dir = data.get("output_dir")
        target = self.resolve(output_dir) if output_dir else notebook.parent
        name = data.get("name")
        if name is not None and not isinstance(name, str):
            raise tornado.web.HTTPError(400, "'name' must be a string")
        force = data.get("force", False)
        if not isinstance(force, bool):
            raise tornado.web.HTTPError(400, "'force' must be true or false")
        if not notebook.is_file():
            raise tornado.web.HTTPError(404, f"No such notebook: {data['path']}")
        try:
            from ..exporter import ExportError, export_notebook
        except ImportError:
            raise tornado.web.HTTPError(501, "Export is not available in this version of readiness-magics") from None

        try:
            result = await asyncio.to_thread(export_notebook, notebook, target, name=name, force=force)
        except ExportError as exc:
            status = {"exists": 409, "bad-name": 400}.get(exc.kind, 422)
            raise tornado.web.HTTPError(status, self.relative_message(exc.message)) from None
        payload = result.to_dict()
        payload["notebook"] = self.api_path(notebook)
        payload["output"] = payload["output_dir"] = self.api_path(Path(result.output).resolve())
        payload["message"] = self.relative_message(payload.get("message", ""))
        self.answer(payload)

    def relative_message(self, message: str) -> str:
        """Messages name folders inside the root by their API path, as the user sees them."""
        root = str(Path(self.root_dir).resolve())
        return message.replace(root + os.sep, "").replace(root, ".")


def setup_handlers(web_app: tornado.web.Application) -> None:
    base_url = web_app.settings.get("base_url", "/")
    routes = [
        ("check", CheckHandler),
        ("rules", RulesHandler),
        ("export", ExportHandler),
    ]
    web_app.add_handlers(
        ".*$", [(url_path_join(base_url, "readiness", route), handler) for route, handler in routes]
    )
