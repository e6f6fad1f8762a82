"""Turn a cell's IPython source (%magics, !shell, ?help) into Python, keeping a map back to its lines."""
from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

# Cell magics whose body is Python run by the kernel: analyse the body as code.
PYTHON_CELL_MAGICS = frozenset({
    "time", "timeit", "capture", "prun", "debug", "pypy", "python", "python3", "memit", "mprun",
    "snakeviz", "spark", "cython", "px", "cache", "skip", "notify", "tensorflow_version", "readiness",
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
    # The parse of `code`, when rewriting it already parsed it (to check where magics stand): not again.
    tree: ast.Module | None = field(default=None, compare=False, repr=False)

    def cell_line(self, python_line: int) -> int:
        if not self.line_map:
            return python_line
        index = min(max(python_line - 1, 0), len(self.line_map) - 1)
        return self.line_map[index]


def needs_ipython(source: str) -> bool:
    if "%" not in source and "!" not in source and "?" not in source:
        return False  # the usual answer, without running the pattern at every position
    return _IPYTHON_SYNTAX.search(source) is not None


@lru_cache(maxsize=1)
def _transformer():
    from IPython.core.inputtransformer2 import TransformerManager, leading_empty_lines

    manager = TransformerManager()
    # Dropping leading blank lines would shift every line number away from what the user sees.
    manager.cleanup_transforms = [t for t in manager.cleanup_transforms if t is not leading_empty_lines]
    return manager


# Line magics people type without `%`: IPython's automagic (on by default) runs `pip install x` as
# `%pip install x`, and aliases such as `ls` likewise.
_AUTOMAGIC = re.compile(
    r"^(?P<indent>[ \t]*)(?=(?:pip3?|conda|mamba|micromamba|cd|ls|ll|mkdir|rmdir|cp|mv|rm|cat|env|load_ext|"
    r"reload_ext|matplotlib|autoreload|time|timeit|run|who|whos|store|sx|system|pushd|popd|bookmark)"
    r"[ \t]+[^=(\s])", re.MULTILINE)


def as_the_kernel_reads(source: str) -> str | None:
    """The cell as IPython runs it when plain Python would not parse: automagic lines (`pip install x`)
    get their `%`, and a first line's indentation is removed from every line (IPython's leading_indent).
    Same number of lines, so line numbers hold. None when nothing changes."""
    lines = source.splitlines(keepends=True)
    first = next((line for line in lines if line.strip()), "")
    indent = first[:len(first) - len(first.lstrip(" \t"))]
    if indent:
        lines = [line[len(indent):] if line.startswith(indent) else line for line in lines]
    rewritten = _AUTOMAGIC.sub(lambda match: match["indent"] + "%", "".join(lines))
    return rewritten if rewritten != source else None


def to_python(source: str) -> PythonSource:
    if source.lstrip(" \t").startswith("%%"):
        return _cell_magic(source)
    if not needs_ipython(source):
        return PythonSource(source)
    if "%time" in source:
        timed = _with_timed_statements(source)
        if timed is not None:
            return timed
    return _transformed(source)


def _transformed(source: str) -> PythonSource:
    magics = _magic_lines(source)
    code, tree = _simple_transform_parsed(source) or (None, None)
    if code is None:
        if _costly_for_ipython(source):
            code = _line_by_line(source)
        else:
            try:
                code = _transformer().transform_cell(source)
            except Exception:  # noqa: BLE001 - IPython gives up on some half-written syntax; the parser reports it
                return PythonSource(source, magics=tuple(magics), magic_lines=frozenset(m.line for m in magics))
    original = source.splitlines()
    transformed = code.splitlines()
    line_map = _line_map(original, transformed)
    changed = {m.line for m in magics}
    return PythonSource(code, line_map, frozenset(changed), tuple(magics), tree=tree)


# `%time STMT` runs STMT in the notebook's namespace (what it binds stays bound), so the rules see the
# statement itself: `%time df = pd.read_csv(path)` is a load like any other. Its line stays marked as
# IPython syntax, so findings there point at the whole line.
_TIMED = re.compile(r"^(?P<indent>[ \t]*)%time[ \t]+(?P<statement>\S.*?)[ \t]*$")


def _with_timed_statements(source: str) -> PythonSource | None:
    """The cell with each `%time STMT` line replaced by STMT, or None when there is none (or when
    one is not where a statement starts: inside brackets or a string, it is not a magic)."""
    lines = source.splitlines(keepends=True)
    timed: list[MagicLine] = []
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\r\n")
        match = _TIMED.match(text)
        if match is None or text.endswith(("\\", "?")):
            continue
        if number > 1 and lines[number - 2].rstrip("\r\n").endswith("\\"):
            continue  # the end of a line joined to the one before
        lines[number - 1] = match["indent"] + match["statement"] + line[len(text):]
        timed.append(MagicLine("line", "time", match["statement"], number, match.start("statement") + 1))
    if not timed:
        return None
    rewritten = "".join(lines)
    inner = _transformed(rewritten) if needs_ipython(rewritten) else PythonSource(rewritten)
    tree = inner.tree or _parse(inner.code or "")
    if tree is None:
        return None
    starts = _statement_starts(tree)
    first_python_line = {}
    for python_line in range(len((inner.code or "").splitlines()), 0, -1):
        first_python_line[inner.cell_line(python_line)] = python_line
    if any((first_python_line.get(magic.line), _indent(lines[magic.line - 1])) not in starts for magic in timed):
        return None
    magics = tuple(sorted((*inner.magics, *timed), key=lambda magic: magic.line))
    return replace(inner, magics=magics, magic_lines=inner.magic_lines | {magic.line for magic in timed}, tree=tree)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


# IPython's transformer tokenises the whole cell again after each line it rewrites (up to 500 times),
# and its `name?` pattern is quadratic in a run of name characters: on a big cell full of IPython
# syntax, or with a long run before a `?`, that is minutes. Such cells are rewritten line by line
# instead (linear); the few cells that reach IPython in real notebooks rewrite a handful of lines.
_MAX_CELL_REWRITES = 8
_IPYTHON_BUDGET = 300_000  # rewrites x characters, at most a second or two of IPython's time
_LONGEST_HELP_RUN = 1_000
_LONGEST_LINE, _LONGEST_NAME = 2_000, 200  # what a line rewritten alone may hold
_NAME_RUN = re.compile(r"[\w*]+")


def _costly_for_ipython(source: str) -> bool:
    rewrites = sum(1 for _ in _IPYTHON_SYNTAX.finditer(source))
    if rewrites > _MAX_CELL_REWRITES or rewrites * len(source) > _IPYTHON_BUDGET:
        return True
    if "?" in source and len(source) > _LONGEST_HELP_RUN:
        return any(match.end() - match.start() > _LONGEST_HELP_RUN for match in _NAME_RUN.finditer(source))
    return False


def _line_by_line(source: str) -> str:
    """Each line of IPython syntax rewritten by IPython on its own, the rest as written; the same
    number of lines. A line inside brackets or a string may come out wrong: the parser then reports
    the cell, which is what a cell this odd deserves."""
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    number = 0
    while number < len(lines):
        line = lines[number]
        number += 1
        if not _IPYTHON_SYNTAX.search(line):
            out.append(line)
            continue
        joined = [line]
        while joined[-1].rstrip("\r\n").endswith("\\") and number < len(lines):
            joined.append(lines[number])
            number += 1
        text = "".join(joined)
        body = text.lstrip(" \t")
        rewritten = None
        if len(body) <= _LONGEST_LINE and all(len(run) <= _LONGEST_NAME for run in _NAME_RUN.findall(body)):
            rewritten = _rewrite_line(body if body.endswith("\n") else body + "\n")
        if rewritten is None:
            out.extend(joined)  # as written: the parser says what is wrong with it
            continue
        out.append(text[: len(text) - len(body)] + rewritten)
        out.extend("\n" for _ in joined[1:])
    return "".join(out)


@lru_cache(maxsize=4096)
def _rewrite_line(text: str) -> str | None:
    try:
        code = _transformer().transform_cell(text)
    except Exception:  # noqa: BLE001 - IPython gives up on some half-written syntax
        return None
    return code if code.count("\n") == 1 and code.endswith("\n") else None


# IPython's transformer tokenises the cell in pure Python, again after each line it rewrites: most of
# the cost of a cell with `%matplotlib inline` or `!pip install x`. The common case, whole lines of
# `%magic args`, `!cmd`, `!!cmd`, `x = %magic args` and `x = !cmd` at the start of a statement, is
# rewritten here to exactly the text IPython writes; anything else (or any doubt) goes to IPython.
_SIMPLE_ESCAPE = re.compile(r"^(?P<lhs>[ \t]*(?:[\w.,\[\] \t]+?=[ \t]*)?)(?P<escape>!!|!|%(?=[A-Za-z_]))")
# What IPython's cleanup steps would change: prompts pasted from a console, odd line breaks.
_PROMPT = re.compile(r"^(((\[nav\]|\[ins\])? )?In \[\d+\]: |\s*\.{3,}: ?)")
_ODD_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _simple_transform(source: str) -> str | None:
    """IPython's `transform_cell(source)` for simple cells, else None (then ask IPython)."""
    done = _simple_transform_parsed(source)
    return done[0] if done is not None else None


def _parse(code: str) -> ast.Module | None:
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences are ruff's to report
            return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _simple_transform_parsed(source: str) -> tuple[str, ast.Module] | None:
    """`_simple_transform`, with the parse of the result (made to check it) handed on to the analysis."""
    if ">>>" in source or _ODD_BREAKS.search(source):
        return None
    import textwrap

    lines = textwrap.dedent(source if source.endswith("\n") else source + "\n").splitlines(keepends=True)
    if any(_PROMPT.match(line) for line in lines[:2]):
        return None
    out: list[str] = []
    rewritten: list[tuple[int, int]] = []  # (1-based line of the result, column where the statement starts)
    number = 0
    while number < len(lines):
        line = lines[number]
        number += 1
        match = _SIMPLE_ESCAPE.match(line)
        if match is None:
            out.append(line)
            continue
        parts = [line[match.end():]]
        while parts[-1].endswith("\\\n"):  # joined as IPython joins them
            if number >= len(lines):
                return None
            parts.append(lines[number])
            number += 1
        content = " ".join([part.rstrip()[:-1] for part in parts[:-1]] + [parts[-1].rstrip()])
        if content.endswith("?"):
            return None  # a help request: IPython's business
        lhs, escape = match["lhs"], match["escape"]
        if escape == "%":
            name, _, args = content.partition(" ")
            call = f"get_ipython().run_line_magic({name!r}, {args!r})"
        elif escape == "!!" and lhs.strip():
            return None
        elif escape == "!!" or lhs.strip():
            call = f"get_ipython().getoutput({content!r})"
        else:
            call = f"get_ipython().system({content!r})"
        out.append(lhs + call + "\n")
        rewritten.append((len(out), len(lhs) - len(lhs.lstrip(" \t"))))
    lines = out
    code = "".join(lines)
    # Only what starts a statement is IPython syntax; inside brackets or a string it is not.
    tree = _parse(code)
    if tree is None or (rewritten and not set(rewritten) <= _statement_starts(tree)):
        return None
    return code, tree


def _statement_starts(tree: ast.Module) -> set[tuple[int, int]]:
    starts = set()
    stack = [tree.body]
    while stack:
        for statement in stack.pop():
            starts.add((statement.lineno, statement.col_offset))
            for name in ("body", "orelse", "finalbody"):
                block = getattr(statement, name, None)
                if type(block) is list:
                    stack.append(block)
            for part in getattr(statement, "handlers", ()) or getattr(statement, "cases", ()):
                stack.append(part.body)
    return starts


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


# `%%writefile x.py` (`%%file` is its old name; `-a` appends) writes a module that Python will run:
# its body is that module's code. Only a `.py` target: a file without an extension may be a shell
# script, a Dockerfile or data, and `.yaml`, `.sh`, `.sql` bodies are other languages.
_WRITEFILE = re.compile(r"^[ \t]*%%(?:writefile|file)(?:[ \t]+-a|[ \t]+--append)*[ \t]+(?P<target>\S.*?)[ \t]*$")


def written_module(source: str) -> PythonSource | None:
    """The Python module a `%%writefile x.py` cell writes, with line 1 (the magic line) left blank so
    that every line keeps its number in the cell; None for any other cell."""
    if "%%" not in source[:40]:
        return None
    first, newline, body = source.partition("\n")
    match = _WRITEFILE.match(first.rstrip("\r"))
    if match is None or not newline:
        return None
    target = match["target"].strip("'\"")
    if not target.lower().endswith(".py"):
        return None
    # A module is run by Python, not IPython: no `%magic` rewriting; what does not parse is not Python.
    return PythonSource("\n" + body, magic_lines=frozenset({1}), cell_magic="writefile")


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
    # Lines before the first change and after the last map one to one; difflib (quadratic on big
    # inputs) sees only the middle, and a long middle is aligned in one linear pass instead.
    head, shortest = 0, min(len(original), len(transformed))
    while head < shortest and original[head] == transformed[head]:
        head += 1
    tail = 0
    while tail < shortest - head and original[-1 - tail] == transformed[-1 - tail]:
        tail += 1
    middle_a, middle_b = original[head:len(original) - tail], transformed[head:len(transformed) - tail]
    mapping = list(range(1, head + 1))
    if len(middle_a) + len(middle_b) > 2_000:
        mapping.extend(head + line for line in _aligned(middle_a, middle_b))
    else:
        mapping.extend([0] * len(middle_b))
        matcher = difflib.SequenceMatcher(a=middle_a, b=middle_b, autojunk=False)
        for tag, a0, a1, b0, b1 in matcher.get_opcodes():
            for offset, index in enumerate(range(b0, b1)):
                mapping[head + index] = head + min(a0 + offset, max(a1 - 1, a0)) + 1
    mapping.extend(range(len(original) - tail + 1, len(original) + 1))
    return tuple(mapping)


def _aligned(original: list[str], transformed: list[str], look_ahead: int = 200) -> list[int]:
    """1-based original line of each transformed line, in one pass: a rewritten line stands for the
    original line here and the lines joined to it, up to where the next transformed line resumes."""
    mapping = []
    here = 0
    for index, line in enumerate(transformed):
        mapping.append(min(here, max(len(original) - 1, 0)) + 1)
        if here < len(original) and original[here] == line:
            here += 1
            continue
        following = transformed[index + 1] if index + 1 < len(transformed) else None
        resume = here + 1
        while resume < min(len(original), here + look_ahead) and original[resume] != following:
            resume += 1
        here = resume if resume < len(original) and original[resume] == following else here + 1
    return mapping
