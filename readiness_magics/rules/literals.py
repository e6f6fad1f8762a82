"""Where a string literal sits in its cell: the name it is given, and words of names as people write them."""
from __future__ import annotations

import ast
import re

from ..analysis import CellFacts
from ..transform import MagicLine

_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
# A token of a magic or shell line: a quoted string (to its closing quote, or to the end of the line
# when it has none) or a run of characters that do not end a shell word.
_TOKEN = re.compile(r"""'(?P<single>[^']*)(?:'|$)|"(?P<double>[^"]*)(?:"|$)|(?P<bare>[^\s'"(),;|&<>\[\]`]+)""")


def name_words(name: str) -> tuple[str, ...]:
    """`OPENAI_API_KEY` -> ("openai", "api", "key"); `apiKey` -> ("api", "key"); `X-Api-Key` too."""
    return tuple(word.lower() for word in _WORD.findall(name))


def target_name(target: ast.AST) -> str | None:
    """The name an assignment target stands for: `x`, `self.x` -> "x", `cfg["x"]` -> "x"."""
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript):
        key = target.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
    return None


def is_docstring_like(facts: CellFacts, node: ast.AST) -> bool:
    """A string that is a statement on its own: a docstring or a bare note."""
    return isinstance(facts.parent(node), ast.Expr)


def on_magic_line(facts: CellFacts, node: ast.AST) -> bool:
    """Strings of transformed `%magic`/`!shell` lines: rules read those lines through facts.magics."""
    if not facts.python.magic_lines:
        return False
    return facts.python.cell_line(getattr(node, "lineno", 1)) in facts.python.magic_lines


def literal_node(facts: CellFacts, node: ast.Constant) -> ast.AST:
    """The literal as written: the whole f-string for one of its parts."""
    parent = facts.parent(node)
    return parent if isinstance(parent, ast.JoinedStr) else node


def holder_name(facts: CellFacts, node: ast.AST, resolve=None) -> str | None:
    """The name a literal's value is given.

    `API_KEY = "..."`, `cfg.api_key = "..."`, `os.environ["API_KEY"] = "..."`, `f(api_key="...")`,
    `{"api_key": "..."}`, `def f(api_key="...")`, `os.getenv("API_KEY", "...")`, also through
    `a or "..."` and `x if c else "..."`.
    """
    parents = facts.parents
    child, parent = node, parents.get(node)
    kind = type(parent)  # compared with `is`: the parser makes no subclasses, and rules ask for every literal
    while kind is ast.BoolOp or (kind is ast.IfExp and child is not parent.test):
        if kind is ast.BoolOp and resolve is not None:
            # `os.environ.get("API_KEY") or "<fallback>"`: the fallback stands in for that variable
            for value in parent.values:
                name = _environment_name(value, resolve)
                if name:
                    return name
        child, parent = parent, parents.get(parent)
        kind = type(parent)
    if kind is ast.Assign:
        return target_name(parent.targets[-1]) if child is parent.value else None
    if kind is ast.AnnAssign or kind is ast.NamedExpr:
        return target_name(parent.target) if child is parent.value else None
    if kind is ast.keyword:
        return parent.arg
    if kind is ast.Dict:
        try:
            key = parent.keys[parent.values.index(child)]  # nodes compare by identity: found in C, not a loop
        except ValueError:
            return None  # a key, not a value
        return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
    if kind is ast.arguments:
        return _default_of(parent, child)
    if kind is ast.Tuple:
        # `user, password = "ana", "S3cret"`: the element's place in the target tuple.
        grand = parents.get(parent)
        if isinstance(grand, ast.Assign) and parent is grand.value and isinstance(grand.targets[-1], ast.Tuple):
            targets = grand.targets[-1].elts
            index = next(i for i, element in enumerate(parent.elts) if element is child)
            if len(targets) == len(parent.elts):
                return target_name(targets[index])
        return None
    if kind is ast.Call and resolve is not None and len(parent.args) >= 2 and child is parent.args[1]:
        # os.getenv("API_KEY", "<default>"), os.environ.get(...), os.environ.setdefault(...)
        callee = resolve(parent.func) or ""
        first = parent.args[0]
        if callee.endswith(("getenv", "environ.get", "environ.setdefault", "putenv")) and \
                isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return None


def _environment_name(node: ast.AST, resolve) -> str | None:
    """"API_KEY" for `os.environ["API_KEY"]`, `os.getenv("API_KEY")`, `os.environ.get("API_KEY")`."""
    if isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and \
                (resolve(node.value) or "").endswith("environ"):
            return key.value
    if isinstance(node, ast.Call) and node.args:
        first = node.args[0]
        if (resolve(node.func) or "").endswith(("getenv", "environ.get")) and \
                isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return None


def _default_of(arguments: ast.arguments, default: ast.AST) -> str | None:
    positional = [*arguments.posonlyargs, *arguments.args]
    for arg, value in zip(positional[len(positional) - len(arguments.defaults):], arguments.defaults):
        if value is default:
            return arg.arg
    for arg, value in zip(arguments.kwonlyargs, arguments.kw_defaults):
        if value is default:
            return arg.arg
    return None


def magic_tokens(magic: MagicLine):
    """(token, line, column) for each whitespace- or quote-separated token of a magic or shell line."""
    yield from _tokens(magic.args, magic.line, magic.column)
    for offset, text in enumerate(magic.continuation, start=1):
        yield from _tokens(text, magic.line + offset, 1)


def _tokens(text: str, line: int, column: int):
    for match in _TOKEN.finditer(text):
        group = next(name for name in ("single", "double", "bare") if match.group(name) is not None)
        if match.group(group):
            yield match.group(group), line, column + match.start(group)
