"""Apply fixes' edits to a notebook's JSON and write it back keeping every byte no fix touches.

The file is read as it is (key order, indentation, `ensure_ascii`, line endings, final newline, a BOM)
and written with the same settings; before any edit, the untouched notebook must render back to the
very bytes that were read, so a fix can only change the cells it edits and the cells it adds or
deletes. A file that does not round-trip (hand-edited JSON, floats Python writes differently) is left
alone with a reason. Writing is atomic (a temporary file in the same folder, then `os.replace`) and
happens only when the result still validates as the nbformat version it was.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..findings import Edit, Fix

_BOM = b"\xef\xbb\xbf"


class NotWritable(Exception):
    """A notebook that fixes cannot be written to without changing what they do not touch."""


@dataclass
class NotebookFile:
    """A notebook's bytes, its JSON, and how to write that JSON back in the same shape."""

    path: Path | None
    original: bytes
    data: dict
    indent: str | None = None
    separators: tuple[str, str] = (",", ": ")
    ensure_ascii: bool = False
    final_newline: bool = True
    crlf: bool = False
    bom: bool = False

    @classmethod
    def read(cls, path: str | os.PathLike) -> NotebookFile:
        path = Path(path)
        return cls.from_bytes(path.read_bytes(), path)

    @classmethod
    def from_bytes(cls, raw: bytes, path: str | os.PathLike | None = None) -> NotebookFile:
        bom = raw.startswith(_BOM)
        try:
            text = raw[len(_BOM) if bom else 0:].decode("utf-8")
            data = json.loads(text)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise NotWritable(f"not readable as notebook JSON: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
            raise NotWritable("not an nbformat 4 notebook (fixes need `cells`; older files: convert first)")
        if data.get("nbformat") != 4:
            raise NotWritable(f"nbformat {data.get('nbformat')!r}: fixes write nbformat 4 notebooks only")
        found = cls(Path(path) if path is not None else None, raw, data, bom=bom)
        found._detect_format(text)
        return found

    def _detect_format(self, text: str) -> None:
        self.crlf = "\r\n" in text
        body = text.replace("\r\n", "\n") if self.crlf else text
        self.final_newline = body.endswith("\n")
        indent = re.match(r"\{\n([ \t]*)\"", body)
        candidates = []
        if indent:
            candidates = [(indent.group(1), (",", ": "))]
        else:
            candidates = [(None, (", ", ": ")), (None, (",", ":"))]
        for self.indent, self.separators in candidates:
            for self.ensure_ascii in (False, True):
                if self.render(self.data) == self.original:
                    return
        raise NotWritable("its JSON is not laid out as a JSON writer would write it (edited by hand?), so "
                          "rewriting it would change bytes no fix touches")

    def render(self, data: dict) -> bytes:
        text = json.dumps(data, indent=self.indent, separators=self.separators, ensure_ascii=self.ensure_ascii)
        if self.final_newline:
            text += "\n"
        if self.crlf:
            text = text.replace("\n", "\r\n")  # JSON strings hold no raw newlines: only layout changes
        return (_BOM if self.bom else b"") + text.encode("utf-8")


# --- edits on sources -------------------------------------------------------------------------------


class _Lines:
    """A source's lines and where each starts, for many positions in one source."""

    def __init__(self, source: str):
        self.lines = source.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, line: int, column: int) -> int | None:
        """Offset of a 1-based (line, column); the line after the last one is the end of the text."""
        if line < 1 or column < 1 or line > len(self.lines) + 1:
            return None
        if line == len(self.lines) + 1:
            return self.starts[-1] if column == 1 else None
        if column - 1 > len(self.lines[line - 1]):
            return None
        return self.starts[line - 1] + column - 1


def _cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _set_source(cell: dict, text: str) -> None:
    """The same shape the cell had: a list of lines (as nbformat writes) or one string."""
    if isinstance(cell.get("source"), list):
        cell["source"] = text.splitlines(keepends=True)
    else:
        cell["source"] = text


@dataclass
class _Ranges:
    """Accepted text ranges per cell and the cell-level changes, to turn away conflicting fixes."""

    text: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    inserted: set[tuple[str, int]] = field(default_factory=set)


def _resolved(edit: Edit, sources: list) -> tuple[int, int] | None:
    if not 0 <= edit.cell_index < len(sources):
        return None
    lines = sources[edit.cell_index]
    if not isinstance(lines, _Lines):
        lines = sources[edit.cell_index] = _Lines(lines)
    start = lines.offset(edit.line, edit.column)
    end = lines.offset(edit.end_line, edit.end_column)
    if start is None or end is None or end < start:
        return None
    return start, end


def _fits(fix: Fix, sources: list[str], taken: _Ranges) -> dict | None:
    """Where each edit of `fix` goes, or None when one is out of range or overlaps an accepted edit."""
    planned: dict[int, list[tuple[int, int]]] = {}
    deletes, inserts = set(), set()
    for edit in fix.edits:
        if edit.insert_cell is not None:
            key = (edit.insert_cell.where, edit.insert_cell.anchor)
            if not 0 <= edit.insert_cell.anchor < max(len(sources), 1) or key in taken.inserted or key in inserts:
                return None
            inserts.add(key)
            continue
        if edit.delete_cell:
            index = edit.cell_index
            if not 0 <= index < len(sources) or index in taken.deleted or taken.text.get(index):
                return None
            deletes.add(index)
            continue
        span = _resolved(edit, sources)
        if span is None or edit.cell_index in taken.deleted or edit.cell_index in deletes:
            return None
        for other in [*taken.text.get(edit.cell_index, ()), *planned.get(edit.cell_index, ())]:
            if span[0] < other[1] and other[0] < span[1] or span[0] == other[0] or (
                    span[0] == span[1] and other[0] < span[0] < other[1]) or (
                    other[0] == other[1] and span[0] < other[0] < span[1]):
                return None
        planned.setdefault(edit.cell_index, []).append(span)
    return {"text": planned, "deletes": deletes, "inserts": inserts}


def choose(fixes: list[Fix], data: dict) -> list[Fix]:
    """The fixes that apply together: in order, each whose edits overlap none already taken (as ruff
    does; the rest wait for the next round, on the changed notebook)."""
    sources = [_cell_source(cell) if isinstance(cell, dict) else "" for cell in data["cells"]]
    taken = _Ranges()
    chosen = []
    for fix in fixes:
        if not fix.edits:
            continue
        plan = _fits(fix, sources, taken)
        if plan is None:
            continue
        for index, spans in plan["text"].items():
            taken.text.setdefault(index, []).extend(spans)
        taken.deleted |= plan["deletes"]
        taken.inserted |= plan["inserts"]
        chosen.append(fix)
    return chosen


def apply(data: dict, fixes: list[Fix]) -> dict:
    """A copy of the notebook JSON with the edits of `fixes` (which must not conflict: see `choose`)."""
    data = copy.copy(data)
    cells = list(data["cells"])
    text_edits: dict[int, list[Edit]] = {}
    deletes: set[int] = set()
    inserts: dict[tuple[str, int], list[Edit]] = {}
    for fix in fixes:
        for edit in fix.edits:
            if edit.insert_cell is not None:
                inserts.setdefault((edit.insert_cell.where, edit.insert_cell.anchor), []).append(edit)
            elif edit.delete_cell:
                deletes.add(edit.cell_index)
            else:
                text_edits.setdefault(edit.cell_index, []).append(edit)
    for index, edits in text_edits.items():
        cell = copy.copy(cells[index])
        source = _cell_source(cell)
        lines = _Lines(source)
        placed = []
        for edit in edits:
            start = lines.offset(edit.line, edit.column)
            end = lines.offset(edit.end_line, edit.end_column)
            content = edit.content
            if start == len(source) and content and source and not source.endswith("\n"):
                # Text added after a last line that has no newline: the newline moves to the new text's
                # front, so the cell keeps ending without one.
                content = "\n" + content[:-1] if content.endswith("\n") else "\n" + content
            placed.append((start, end, content))
        pieces, last = [], len(source)
        for start, end, content in sorted(placed, reverse=True):  # from the end: offsets stay valid
            pieces += [source[end:last], content]
            last = start
        pieces.append(source[:last])
        _set_source(cell, "".join(reversed(pieces)))
        cells[index] = cell
    result = []
    for index, cell in enumerate(cells):
        result.extend(_new_cell(data, edit.insert_cell, result) for edit in inserts.get(("before", index), ()))
        if index not in deletes:
            result.append(cell)
        result.extend(_new_cell(data, edit.insert_cell, result) for edit in inserts.get(("after", index), ()))
    if not cells:
        result.extend(_new_cell(data, edit.insert_cell, result) for edits in inserts.values() for edit in edits)
    data["cells"] = result
    return data


def _new_cell(data: dict, new, siblings: list) -> dict:
    """A cell shaped like the notebook's own: the same keys in the same order, ids when cells have them."""
    cells = [cell for cell in data["cells"] if isinstance(cell, dict)]
    model = next((cell for cell in cells if cell.get("cell_type") == new.cell_type), None)
    keys = list(model) if model else ["cell_type", "execution_count", "id", "metadata", "outputs", "source"]
    with_ids = any("id" in cell for cell in cells) or (data.get("nbformat_minor", 0) >= 5 and not cells)
    as_list = any(isinstance(cell.get("source"), list) for cell in cells) or not cells
    values = {
        "cell_type": new.cell_type,
        "metadata": {"tags": list(new.tags)} if new.tags else {},
        "source": new.source.splitlines(keepends=True) if as_list else new.source,
    }
    if new.cell_type == "code":
        values.update(execution_count=None, outputs=[])
    if with_ids:
        taken = {cell.get("id") for cell in [*cells, *siblings] if isinstance(cell, dict)}
        digest = hashlib.sha1(new.source.encode()).hexdigest()
        number = 0
        while (cell_id := digest[number:number + 8]) in taken:
            number += 1
        values["id"] = cell_id
    order = [key for key in keys if key in values] + [key for key in values if key not in keys]
    return {key: values[key] for key in order}


# --- validation and writing --------------------------------------------------------------------------


def validation_error(raw: bytes) -> str | None:
    """Why these bytes are not a valid notebook of the nbformat version they declare, or None."""
    import nbformat

    try:
        node = nbformat.reads(raw.decode("utf-8-sig"), as_version=nbformat.NO_CONVERT)
        nbformat.validate(node)
    except Exception as exc:  # noqa: BLE001 - nbformat raises ValidationError, NotJSONError, KeyError...
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def write_atomically(path: str | os.PathLike, raw: bytes) -> None:
    """A temporary file beside `path`, then one rename: readers see the old file or the new, never half."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".readiness-fix")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(raw)
            stream.flush()
            os.fsync(stream.fileno())
        try:
            os.chmod(temporary, os.stat(path).st_mode & 0o7777)  # mkstemp makes 0600: keep the file's mode
        except OSError:
            pass
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
