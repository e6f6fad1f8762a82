"""Names a generated module uses but never defines, found with Python's own symbol tables (exact scoping)."""
from __future__ import annotations

import ast
import builtins
import symtable
import warnings

_BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__", "__builtins__",
                                        "__loader__", "__package__", "__path__", "__annotations__"}


def undefined_names(text: str) -> list[str]:
    """Global names read somewhere in `text` (any scope) that the module never binds, in order of first use.

    A module with `from x import *` binds names we cannot see: nothing is reported for it.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escapes in the notebook's strings are its own business
        tree = ast.parse(text)
        table = symtable.symtable(text, "<generated>", "exec")
    if any(isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names) for node in ast.walk(tree)):
        return []
    bound = {symbol.get_name() for symbol in table.get_symbols()
             if symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace()}
    used: set[str] = set()
    stack = [table]
    while stack:
        scope = stack.pop()
        for symbol in scope.get_symbols():
            name = symbol.get_name()
            if scope is not table and symbol.is_declared_global() and symbol.is_assigned():
                bound.add(name)  # `global x; x = ...` in a function defines x for the module
            if not symbol.is_referenced():
                continue
            if scope is table:
                if not (symbol.is_assigned() or symbol.is_imported()):
                    used.add(name)
            elif symbol.is_global():
                used.add(name)
        stack.extend(scope.get_children())
    used |= _class_reads_before_binding(tree)
    missing = used - bound - _BUILTINS
    order = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in missing:
            order.setdefault(node.id, (node.lineno, node.col_offset))
    return sorted(missing, key=lambda name: order.get(name, (0, 0)))


def _class_reads_before_binding(tree: ast.AST) -> set[str]:
    """Names a class body reads before it binds them (`field = Selector(default=field)`): those read the module's."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        assigned: set[str] = set()
        for statement in node.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                reads = [n for d in statement.decorator_list for n in ast.walk(d)]
            else:
                reads = list(_same_scope(statement))
            found.update(n.id for n in reads if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                         and n.id not in assigned)
            assigned.update(n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                assigned.add(statement.name)
    return found


def _same_scope(node: ast.AST):
    """The nodes of a statement in its own scope (not inside nested functions, lambdas or comprehensions)."""
    yield node
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp,
                              ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue
        yield from _same_scope(child)


MISSING_CLASS = '''class _Missing:
    """Stands for a name the notebook used but the package could not define (see README, Known issues).

    Importing the package works; any use of the name raises NotImplementedError saying where it came from.
    """

    def __init__(self, name: str, why: str) -> None:
        object.__setattr__(self, "_message", f"{name} is not defined in this package: {why}")

    def __repr__(self) -> str:
        return f"<missing: {self._message}>"

    def _fail(self, *args, **kwargs):
        raise NotImplementedError(self._message)

    __call__ = __getitem__ = __setitem__ = __iter__ = __len__ = _fail
    __bool__ = __contains__ = __setattr__ = __enter__ = __exit__ = _fail
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _fail
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = _fail
    __mod__ = __rmod__ = __pow__ = __rpow__ = __matmul__ = __rmatmul__ = _fail
    __and__ = __rand__ = __or__ = __ror__ = __xor__ = __rxor__ = _fail
    __neg__ = __pos__ = __abs__ = __invert__ = __int__ = __float__ = __index__ = _fail
    __lt__ = __le__ = __gt__ = __ge__ = __str__ = __format__ = _fail

    def __getattr__(self, attribute: str):
        self._fail()'''
