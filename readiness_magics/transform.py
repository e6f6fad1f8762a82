"""Turn a cell's IPython source (%magics, !shell, ?help) into Python, keeping a map back to its lines."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

# Cell magics whose body is Python run by the kernel: analyse the body as code.
PYTHON_CELL_MAGICS = frozenset({
    "time", "timeit", "capture", "prun", "debug", "pypy", "python", "python3", "memit", "mprun",
    "snakeviz", "spark", "cython", "px", "cache", "skip", "notify", "tensorflow_version",
})

# A cheap test that spares most cells the import and cost of IPython's transformer.
_IPYTHON_SYNTAX = re.compile(r"^[ \t]*(?:[%!?]|[\w.,\[\] \t]+=[ \t]*[%!])|\?[ \t]*$", re.MULTILINE)
_MAGIC_LINE = re.compile(
    r"^(?P<indent>[ \t]*)(?:(?P<target>[\w.,\[\] \t]+?)[ \t]*=[ \t]*)?(?P<escape>%%|%|!!|!)(?P<rest>.*)$"
)


@dataclass(frozen=True)
class MagicLine:
    """One line of IPython syntax as the user wrote it."""

    kind: str  # "line" (%name), "shell" (!cmd) or "cell" (%%name, first line only)
    name: str  # magic name, or the program of a shell line ("pip", "cp", ...)
    args: str  # what follows the name (for shell lines: the whole command)
    line: int  # 1-based line in the cell
    column: int  # 1-based column where `args` starts
    # Following lines joined to this one by a trailing backslash, as written (`!pip install \` ...).
    continuation: tuple[str, ...] = ()

    @property
    def command(self) -> str:
        """The shell-like command line: `pip install x` for both `%pip install x` and `!pip install x`."""
        if self.kind == "shell":
            return self.args
        return f"{self.name} {self.args}".strip()


@dataclass(frozen=True)
class PythonSource:
    code: str | None  # None when the cell is in another language (%%bash, %%sql, ...)
    line_map: tuple[int, ...] = ()  # python line (0-based index) -> 1-based cell line; empty = identity
    magic_lines: frozenset[int] = field(default_factory=frozenset)  # cell lines that were IPython syntax
    magics: tuple[MagicLine, ...] = ()
    cell_magic: str | None = None

    def cell_line(self, python_line: int) -> int:
        if not self.line_map:
            return python_line
        index = min(max(python_line - 1, 0), len(self.line_map) - 1)
        return self.line_map[index]


def needs_ipython(source: str) -> bool:
    return _IPYTHON_SYNTAX.search(source) is not None


@lru_cache(maxsize=1)
def _transformer():
    from IPython.core.inputtransformer2 import TransformerManager, leading_empty_lines

    manager = TransformerManager()
    # Dropping leading blank lines would shift every line number away from what the user sees.
    manager.cleanup_transforms = [t for t in manager.cleanup_transforms if t is not leading_empty_lines]
    return manager


def to_python(source: str) -> PythonSource:
    if source.lstrip(" \t").startswith("%%"):
        return _cell_magic(source)
    if not needs_ipython(source):
        return PythonSource(source)
    magics = _magic_lines(source)
    try:
        code = _transformer().transform_cell(source)
    except Exception:  # IPython gives up on some half-written syntax; let the parser report it
        return PythonSource(source, magics=tuple(magics), magic_lines=frozenset(m.line for m in magics))
    original = source.splitlines()
    transformed = code.splitlines()
    line_map = _line_map(original, transformed)
    changed = {m.line for m in magics}
    return PythonSource(code, line_map, frozenset(changed), tuple(magics))


def _cell_magic(source: str) -> PythonSource:
    first, _, body = source.partition("\n")
    indent = len(first) - len(first.lstrip(" \t"))
    header = first.strip()[2:]
    name, _, args = header.partition(" ")
    magic = MagicLine("cell", name, args.strip(), 1, indent + 3 + len(name) + (len(args) - len(args.lstrip())) + 1)
    if name not in PYTHON_CELL_MAGICS:
        return PythonSource(None, magics=(magic,), magic_lines=frozenset({1}), cell_magic=name)
    inner = to_python(body)
    shifted = [magic] + [
        replace(m, line=m.line + 1) for m in inner.magics
    ]
    # Line 1 of the body is line 2 of the cell; a blank first line keeps every other line in place.
    code = "\n" + (inner.code or "")
    body_lines = max(len((inner.code or "").splitlines()), 1)
    line_map = (1,) + tuple(inner.cell_line(i) + 1 for i in range(1, body_lines + 1))
    magic_lines = frozenset({1} | {line + 1 for line in inner.magic_lines})
    return PythonSource(code, line_map, magic_lines, tuple(shifted), cell_magic=name)


def _magic_lines(source: str) -> list[MagicLine]:
    found = []
    in_continuation = False
    for number, text in enumerate(source.splitlines(), start=1):
        if in_continuation:
            in_continuation = text.endswith("\\")
            found[-1] = replace(found[-1], continuation=found[-1].continuation + (text,))
            continue
        match = _MAGIC_LINE.match(text)
        if not match or text.strip().startswith("%%") and number > 1:
            continue
        escape, rest = match["escape"], match["rest"]
        start = match.start("rest") + 1
        if escape.startswith("!"):
            stripped = rest.lstrip()
            program = stripped.split(" ", 1)[0] if stripped else ""
            found.append(MagicLine("shell", program, stripped, number, start + len(rest) - len(stripped)))
        else:
            name, _, args = rest.partition(" ")
            offset = start + len(name) + (1 if _ else 0)
            stripped = args.lstrip()
            found.append(MagicLine("line", name, stripped, number, offset + len(args) - len(stripped)))
        in_continuation = text.endswith("\\")
    return found


def _line_map(original: list[str], transformed: list[str]) -> tuple[int, ...]:
    if len(original) == len(transformed):
        return ()
    # Line continuations merge lines; map unchanged lines exactly, changed ones to where they start.
    mapping = [0] * len(transformed)
    matcher = difflib.SequenceMatcher(a=original, b=transformed, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        for offset, index in enumerate(range(b0, b1)):
            mapping[index] = min(a0 + offset, max(a1 - 1, a0)) + 1
    return tuple(mapping)
