"""Source rewrites computed from parse positions on the original text and applied in one pass.

Every rewrite of notebook code (a lifted path becoming `params.x_path`) is an `Edit` on the cell's original
Python text. `apply_edits` sorts them, drops any that overlap one already taken, and splices right to left,
so one edit can never shift or cut into another: two literals on one line, inside one f-string or one call,
each keep every character around them.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

_NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, order=True)
class Edit:
    start: int  # character offsets into the original text, end exclusive
    end: int
    text: str


class SourceIndex:
    """Maps ast positions (1-based line, UTF-8 byte column) to character offsets of one text.

    Lines are split where Python's tokenizer splits them (\\n, \\r\\n, \\r): `str.splitlines` also splits at
    form feeds and other separators, which would put positions on the wrong line.
    """

    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [match.end() for match in _NEWLINE.finditer(text)]

    def line_start(self, lineno: int) -> int:
        return self.starts[min(max(lineno, 1), len(self.starts)) - 1]

    def line_end(self, lineno: int) -> int:
        """Offset just past the line's last character, before its newline."""
        if lineno >= len(self.starts):
            return len(self.text)
        end = self.starts[lineno]
        while end > self.starts[lineno - 1] and self.text[end - 1] in "\r\n":
            end -= 1
        return end

    def offset(self, lineno: int, byte_column: int) -> int:
        start = self.line_start(lineno)
        line = self.text[start:self.line_end(lineno)]
        if line.isascii():
            return start + byte_column
        return start + len(line.encode("utf-8")[:byte_column].decode("utf-8", errors="ignore"))

    def node_range(self, node: ast.AST) -> tuple[int, int] | None:
        if getattr(node, "end_lineno", None) is None or getattr(node, "end_col_offset", None) is None:
            return None
        return self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset)


def replace_literal(index: SourceIndex, node: ast.Constant, text: str) -> Edit | None:
    """An edit replacing a string literal by `text`, or None when its position does not hold that literal.

    The check reads the original characters at the node's range back as a Python literal: positions inside
    f-strings (before Python 3.12) or implicit concatenations can be off, and then the literal is left alone.
    """
    span = index.node_range(node)
    if span is None:
        return None
    segment = index.text[span[0]:span[1]]
    try:
        value = ast.literal_eval(segment)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if value != node.value or type(value) is not type(node.value):
        return None
    return Edit(span[0], span[1], text)


def apply_edits(text: str, edits: list[Edit], start: int = 0, end: int | None = None) -> str:
    """`text[start:end]` with every edit inside that range applied; an edit overlapping an earlier one is dropped."""
    end = len(text) if end is None else end
    chosen: list[Edit] = []
    for edit in sorted(edits):
        if edit.start < start or edit.end > end or edit.start > edit.end:
            continue
        if chosen and edit.start < chosen[-1].end:
            continue  # overlaps the one before: never splice into a rewritten range
        chosen.append(edit)
    out = text[start:end]
    for edit in reversed(chosen):
        out = out[:edit.start - start] + edit.text + out[edit.end - start:]
    return out
