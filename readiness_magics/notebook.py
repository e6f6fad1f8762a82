"""Read a notebook (any nbformat version) into plain cells without ever writing the file."""
from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Saved outputs are summarised, never decoded: images stay base64 strings we do not touch.
MAX_OUTPUT_TEXT = 20_000


class NotebookError(Exception):
    """A notebook that cannot be read; `kind` is a short machine-readable reason."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = ""  # a traceback, for internal errors shown with --verbose; never in the JSON

    def __reduce__(self):  # pickled as its two fields (the default would call __init__ with one)
        return (NotebookError, (self.kind, self.message))

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class Output:
    output_type: str  # stream, execute_result, display_data, error
    text: str = ""  # text/plain of a result or the stream text, cut to MAX_OUTPUT_TEXT
    ename: str = ""
    evalue: str = ""
    execution_count: int | None = None


@dataclass(frozen=True)
class Cell:
    index: int  # 0-based among all cells
    id: str | None
    kind: str  # code, markdown, raw
    source: str
    tags: tuple[str, ...] = ()
    execution_count: int | None = None
    outputs: tuple[Output, ...] = ()
    problem: str | None = None  # why this cell is invalid, when it is

    @property
    def is_code(self) -> bool:
        return self.kind == "code"

    @property
    def error_outputs(self) -> tuple[Output, ...]:
        return tuple(out for out in self.outputs if out.output_type == "error")


@dataclass
class Notebook:
    cells: list[Cell]
    path: Path | None = None
    nbformat: int = 4
    nbformat_minor: int = 0
    language: str = "python"
    metadata: dict[str, Any] = field(default_factory=dict)
    # What a live kernel knows about this notebook (live.KernelFacts), set by the magics; None elsewhere.
    kernel: Any = None

    @property
    def code_cells(self) -> list[Cell]:
        return [cell for cell in self.cells if cell.is_code]

    @property
    def name(self) -> str:
        return self.path.name if self.path else "<notebook>"


def read_notebook(path: str | os.PathLike) -> Notebook:
    path = Path(path)
    try:
        # A FIFO or a device named *.ipynb would block the read (or never end): regular files only.
        if os.path.exists(path) and not stat.S_ISREG(os.stat(path).st_mode) and not os.path.isdir(path):
            raise NotebookError("not-a-file", f"{path} is not a regular file (a pipe or a device?)")
        data = path.read_bytes()
    except IsADirectoryError:
        raise NotebookError("not-a-file", f"{path} is a directory, not a notebook") from None
    except FileNotFoundError:
        raise NotebookError("not-found", f"{path} does not exist") from None
    except OSError as exc:
        raise NotebookError("unreadable", f"cannot read {path}: {exc.strerror or exc}") from None
    if data and len(data) <= FAST_JSON_LIMIT and not data.isspace():
        try:  # straight from the bytes
            parsed = _fast_loads(data)
        except Exception:  # noqa: BLE001 (a BOM, NaN, not UTF-8...: the text path below decides)
            parsed = None
        if isinstance(parsed, dict):
            del data
            return parse_notebook(parsed, path=path)
    text = _decode_bytes(data)
    del data  # a big notebook is not held twice (bytes and text) while its JSON is parsed
    return parse_notebook(text, path=path)


def parse_notebook(content: str | bytes | dict, path: str | os.PathLike | None = None) -> Notebook:
    """Build a Notebook from JSON text, bytes or an already-decoded dict."""
    path = Path(path) if path is not None else None
    if isinstance(content, dict):
        data = content
    else:
        data = _decode_json(content)
    if not isinstance(data, dict):
        raise NotebookError("not-a-notebook", f"expected a JSON object, found {type(data).__name__}")
    major = data.get("nbformat")
    if "cells" not in data and "worksheets" not in data:
        raise NotebookError("not-a-notebook", "this JSON has no 'cells': it is not a Jupyter notebook")
    if major is None:
        major = 4 if "cells" in data else 3
    if not isinstance(major, int) or isinstance(major, bool):
        raise NotebookError("invalid-notebook", f"'nbformat' must be an integer, found {major!r}")
    if major < 4:
        data = _upgrade(data, major)
    elif major > 4:
        raise NotebookError("unsupported-version", f"nbformat {major} is newer than this tool reads (4)")
    cells_data = data.get("cells")
    if not isinstance(cells_data, list):
        raise NotebookError("invalid-notebook", "'cells' must be a list")
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    cells = [_read_cell(index, raw) for index, raw in enumerate(cells_data)]
    minor = data.get("nbformat_minor", 0)
    return Notebook(
        cells=cells,
        path=path,
        nbformat=4,
        nbformat_minor=minor if isinstance(minor, int) else 0,
        language=_language(metadata),
        metadata=metadata,
    )


def notebook_from_sources(cells: list, path: str | os.PathLike | None = None) -> Notebook:
    """A notebook made in code: each item a source string (code), or a dict with cell fields."""
    raw_cells = []
    for item in cells:
        if isinstance(item, str):
            raw_cells.append({"cell_type": "code", "source": item, "metadata": {}, "outputs": [],
                              "execution_count": None})
        else:
            raw = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": []}
            raw.update(item)
            if "tags" in raw:
                raw["metadata"] = {**raw.get("metadata", {}), "tags": list(raw.pop("tags"))}
            if raw["cell_type"] != "code":
                raw.pop("outputs", None)
                raw.pop("execution_count", None)
            raw_cells.append(raw)
    return parse_notebook({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": raw_cells}, path)


def _decode_json(content: str | bytes) -> Any:
    if isinstance(content, bytes):
        content = _decode_bytes(content)
    if not content or content.isspace():
        raise NotebookError("empty", "the file is empty")
    if len(content) <= FAST_JSON_LIMIT:
        try:
            return _fast_loads(content)
        except Exception:  # noqa: BLE001 (whatever orjson refuses, json decides: it reads NaN, huge integers)
            pass
    try:
        return json.loads(content)
    except json.JSONDecodeError as exc:
        raise NotebookError("not-json", f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise NotebookError("not-json", "JSON nested too deeply") from None


# orjson reads notebooks in half of json's time, but holds its input to the end of the parse; above
# this size json reads the text while the file's bytes are already let go (50 MB of images: 117 MB of
# peak memory, not 167). json stays the reference for whatever orjson refuses (see _decode_json).
FAST_JSON_LIMIT = 8 * 1024 * 1024
try:
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover (a dependency; json alone gives the same results)
    _fast_loads = json.loads


def _decode_bytes(content: bytes) -> str:
    # isspace() stops at the first other character; strip() would copy the whole file.
    if not content or content.isspace():
        raise NotebookError("empty", "the file is empty")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotebookError("not-json", "the file is not UTF-8 text (binary?)") from None


def _upgrade(data: dict, major: int) -> dict:
    import nbformat  # only old notebooks pay for this import

    try:
        node = nbformat.reader.reads(json.dumps(data))
        upgraded = json.loads(json.dumps(nbformat.convert(node, 4)))
    except Exception as exc:  # nbformat raises many kinds on malformed v3 files
        raise NotebookError("invalid-notebook", f"cannot upgrade nbformat {major} notebook: {exc}") from None
    # The upgrade invents random cell ids; the file has none, and the same file must give the same report.
    for cell in upgraded.get("cells", ()):
        if isinstance(cell, dict):
            cell.pop("id", None)
    return upgraded


def _language(metadata: dict) -> str:
    info = metadata.get("language_info")
    if isinstance(info, dict) and isinstance(info.get("name"), str):
        return info["name"].lower()
    spec = metadata.get("kernelspec")
    if isinstance(spec, dict) and isinstance(spec.get("language"), str):
        return spec["language"].lower()
    return "python"


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        try:
            return "".join(value)
        except TypeError:  # an item that is not a string
            return None
    return None


_CELL_KINDS = frozenset({"code", "markdown", "raw"})


def _read_cell(index: int, raw: Any) -> Cell:
    if not isinstance(raw, dict):
        return Cell(index, None, "invalid", "", problem=f"cell is a {type(raw).__name__}, not an object")
    get = raw.get
    kind = get("cell_type")
    cell_id = get("id")
    if not isinstance(cell_id, str):
        cell_id = None
    source = get("source", "")
    if type(source) is not str:
        source = _text(source)
    problem = None
    if source is None:
        problem, source = "'source' is neither a string nor a list of strings", ""
    if kind not in _CELL_KINDS:
        problem = f"unknown cell_type {kind!r}"
        kind = "invalid"
    tags = ()
    metadata = get("metadata")
    if metadata and isinstance(metadata, dict):
        tags = metadata.get("tags", ())
        tags = tuple([tag for tag in tags if isinstance(tag, str)]) if isinstance(tags, list) else ()
    count = get("execution_count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
        count = None
    outputs = ()
    if kind == "code":
        raw_outputs = get("outputs")
        if raw_outputs and isinstance(raw_outputs, list):
            outputs = tuple([out for out in map(_read_output, raw_outputs) if out])
    return Cell(index, cell_id, kind, source, tags, count, outputs, problem)


def _read_output(raw: Any) -> Output | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("output_type"), str):
        return None
    kind = raw["output_type"]
    if kind == "error":
        return Output(kind, ename=str(raw.get("ename", "")), evalue=str(raw.get("evalue", ""))[:MAX_OUTPUT_TEXT])
    if kind == "stream":
        return Output(kind, text=(_text(raw.get("text")) or "")[:MAX_OUTPUT_TEXT])
    data = raw.get("data") if isinstance(raw.get("data"), dict) else {}
    text = _text(data.get("text/plain")) or ""
    count = raw.get("execution_count") if isinstance(raw.get("execution_count"), int) else None
    return Output(kind, text=text[:MAX_OUTPUT_TEXT], execution_count=count)
