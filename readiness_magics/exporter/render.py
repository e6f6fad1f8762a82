"""The text of the generated package's files, from an ExportPlan."""
from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
import warnings as python_warnings

from .. import __version__
from ..requirements import is_kernel_provided, is_standard_library
from .dependencies import Dependency
from .plan import PARAMS_PLACEHOLDER, ExportPlan, Step
from .undefined import MISSING_CLASS, undefined_names

INDENT = "    "


class RenderError(RuntimeError):
    """Generated code that does not parse: a bug of the exporter, never written to disk."""


def indent(code: str, prefix: str = INDENT) -> str:
    """Indent code, leaving the inside of multi-line strings as they are (their value must not change)."""
    protected: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.start[0] != token.end[0] and token.type in (tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", -1)):
                protected.update(range(token.start[0] + 1, token.end[0] + 1))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    lines = code.split("\n")
    return "\n".join(
        line if (number in protected or not line.strip()) else prefix + line
        for number, line in enumerate(lines, start=1)
    )


def _docstring(text: str) -> str:
    text = text.replace("\\", "/").replace('"""', "'''").strip()
    return f'"""{text}"""'


def _cells_text(cells: list[int]) -> str:
    if not cells:
        return ""
    if len(cells) == 1:
        return f"cell {cells[0]}"
    return "cells " + ", ".join(str(c) for c in cells)


def render_params(plan: ExportPlan) -> str:
    text = _params_text(plan)
    try:
        missing = undefined_names(text)
    except SyntaxError:
        missing = []
    if not missing:
        return text
    # A default computed from a notebook variable the package lacks (`tmpdir.name`): no default then; the option
    # must be given, and the README says why.
    for parameter in plan.parameters:
        if parameter.computed is None:
            continue
        reads = {n.id for n in ast.walk(ast.parse(parameter.computed, mode="eval")) if isinstance(n, ast.Name)}
        lacking = sorted(reads & set(missing))
        if lacking:
            plan.missing[f"Params.{parameter.name}"] = (
                f"its default in the parameters cell (`{parameter.computed.replace('self.', '')}`) reads "
                f"{', '.join(lacking)}, which the package does not define; pass {parameter.option}")
            parameter.computed = None
            parameter.default = "None"
            parameter.annotation = "object"
            parameter.origin = "parameters cell (no default: see README, Known issues)"
    return _params_text(plan)


def _params_text(plan: ExportPlan) -> str:
    needs_field = any(p.mutable for p in plan.parameters)
    lines = ['"""Parameters of the pipeline: the notebook\'s `parameters` cell and the paths lifted out of its code."""',
             "", "from __future__ import annotations", ""]
    lines.append("from dataclasses import dataclass, field" if needs_field else "from dataclasses import dataclass")
    imports = list(plan.params_imports)
    if imports:
        lines.append("")
        lines.extend(imports)
    lines += ["", "", "@dataclass", "class Params:",
              f'{INDENT}"""Every value the pipeline takes from outside; `python -m ... --help` lists them."""']
    fields = []
    for parameter in plan.parameters:
        comment = f"  # {parameter.origin}"
        if parameter.computed is not None:
            fields.append(f"{INDENT}{parameter.name}: object = None  # computed from the others when not given")
        elif parameter.mutable:
            fields.append(f"{INDENT}{parameter.name}: {parameter.annotation} = field(default_factory=lambda: "
                          f"{parameter.default}){comment}")
        else:
            fields.append(f"{INDENT}{parameter.name}: {parameter.annotation} = {parameter.default}{comment}")
    if fields:
        lines.append("")
        lines.extend(fields)
    computed = [p for p in plan.parameters if p.computed is not None]
    if computed:
        lines += ["", f"{INDENT}def __post_init__(self) -> None:"]
        without_default = {p.name for p in plan.parameters if p.computed is None and p.default == "None"
                           and not p.is_literal}
        for parameter in computed:
            # computed only from what is given: a parameter left without a default stays None until passed
            needs = sorted(set(re.findall(r"\bself\.(\w+)", parameter.computed)) & without_default)
            given = "".join(f" and self.{name} is not None" for name in needs)
            lines.append(f"{INDENT * 2}if self.{parameter.name} is None{given}:")
            lines.append(f"{INDENT * 3}self.{parameter.name} = {parameter.computed}")
    return "\n".join(lines) + "\n"


def _kept_imports(plan: ExportPlan, used: set[str], local: set[str]) -> tuple[list[str], list[str], list[str]]:
    """Import lines the code uses (each bound name once), the modules they name, and warnings."""
    seen: set[tuple] = set()
    lines: list[str] = []
    modules: list[str] = []
    warnings: list[str] = []
    for node in plan.imports:
        if isinstance(node, ast.Import):
            kept = []
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                key = ("import", alias.name, alias.asname)
                if bound not in used or key in seen:
                    continue
                seen.add(key)
                top = alias.name.split(".")[0]
                if top in local:
                    if "." in alias.name:
                        warnings.append(f"`import {alias.name}` of a local module is not rewritten; fix it by hand")
                        kept.append(alias)
                    else:
                        lines.append(ast.unparse(ast.ImportFrom(None, [alias], 1)))
                    continue
                kept.append(alias)
                modules.append(alias.name)
            if kept:
                lines.append(ast.unparse(ast.Import(kept)))
        else:
            if node.level:
                warnings.append(f"relative import `{ast.unparse(node)}` kept as it is")
            kept = []
            for alias in node.names:
                bound = alias.asname or alias.name
                key = ("from", node.module, node.level, alias.name, alias.asname)
                if (alias.name != "*" and bound not in used) or key in seen:
                    continue
                seen.add(key)
                kept.append(alias)
            if not kept:
                continue
            module = node.module or ""
            level = node.level
            if level == 0 and module.split(".")[0] in local:
                level = 1
            elif level == 0:
                modules.append(module)
            if any(alias.name == "*" for alias in kept):
                warnings.append(f"`from {module} import *` kept; name what you use")
            lines.append(ast.unparse(ast.ImportFrom(module, kept, level)))
    return lines, modules, warnings


def _awaits(step: Step) -> bool:
    """The step's code awaits at its top level (not inside a function of its own)."""
    def walk(node: ast.AST) -> bool:
        if isinstance(node, (ast.Await, ast.AsyncFor, ast.AsyncWith)):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            return False
        return any(walk(child) for child in ast.iter_child_nodes(node))

    return any(statement.node is not None and walk(statement.node) for statement in step.statements)


def _module_level(plan: ExportPlan) -> set[str]:
    names = {name for item in plan.module_items for name in item.names}
    for node in plan.imports:
        names.update((alias.asname or alias.name.split(".")[0]) for alias in node.names if alias.name != "*")
    return names


def _step_source(step: Step, plan: ExportPlan, notebook: str) -> str:
    params = plan.params_var
    arguments = ([f"{params}: Params"] if step.uses_params else []) + step.inputs
    label = step.title or "Step"
    # IPython runs a cell's top-level `await`; in the package the step is a coroutine that run() runs
    keyword = "async def" if _awaits(step) else "def"
    lines = [f"{keyword} {step.name}({', '.join(arguments)}):",
             INDENT + _docstring(f"{label}: {_cells_text(step.cells)} of {notebook}.")]
    # `routes = routes[...]` where `routes` was imported: the notebook rebinds the global; so does the step
    # (a plain assignment would make it a local, read before it is bound)
    rebound = sorted({name for statement in step.statements for name, _ in statement.binds} & _module_level(plan))
    if rebound:
        lines.append(f"{INDENT}global {', '.join(rebound)}")
    for name in step.param_reads:
        lines.append(f"{INDENT}{name} = {params}.{name}")
    for name in step.unbound:
        lines.append(f"{INDENT}{name} = _Missing({name!r}, {_why_missing(name, plan, step)!r})")
    body_has_code = bool(step.param_reads)
    for statement in step.statements:
        text = statement.source.replace(PARAMS_PLACEHOLDER, params)
        lines.append(indent(text))
        body_has_code = body_has_code or statement.node is not None
    if step.outputs:
        lines.append(f"{INDENT}return {', '.join(step.outputs)}")
    elif not body_has_code:
        lines.append(f"{INDENT}pass")
    return "\n".join(lines)


def _run_source(plan: ExportPlan) -> str:
    params = plan.params_var
    lines = [f"def run({params}: Params | None = None) -> dict:",
             INDENT + _docstring("Run the notebook's steps in order; return the values it ends with, by name."),
             f"{INDENT}if {params} is None:", f"{INDENT * 2}{params} = Params()"]
    for step in plan.steps:
        arguments = ([params] if step.uses_params else []) + step.inputs
        call = f"{step.name}({', '.join(arguments)})"
        if _awaits(step):
            call = f"asyncio.run({call})"
        if step.outputs:
            lines.append(f"{INDENT}{', '.join(step.outputs)} = {call}")
        else:
            lines.append(f"{INDENT}{call}")
    results = ", ".join(f'"{name}": {name}' for name in plan.results)
    lines.append(f"{INDENT}return {{{results}}}")
    return "\n".join(lines)


def render_pipeline(plan: ExportPlan, package: str) -> tuple[str, list[str], list[str]]:
    """pipeline.py's text, the modules it imports (for dependencies), and warnings."""
    notebook = plan.notebook_name
    blocks: list[str] = []
    previous = None
    for item in plan.module_items:
        if previous is not None and item.kind == previous.kind == "constant" and item.cell_index == previous.cell_index:
            blocks[-1] += "\n" + item.source
        else:
            blocks.append(item.source)
        previous = item
    blocks += [_step_source(step, plan, notebook) for step in plan.steps]
    blocks.append(_run_source(plan))
    body = "\n\n\n".join(blocks)
    try:
        tree = ast.parse(body)
    except SyntaxError as exc:
        raise RenderError(f"pipeline.py would not parse ({exc.msg}, line {exc.lineno}):\n"
                          f"{body.splitlines()[(exc.lineno or 1) - 1] if body else ''}") from None
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    nested_imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    import_lines, modules, warnings = _kept_imports(plan, used, set(plan.local_modules))
    for node in nested_imports:
        if isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
        elif node.level == 0 and node.module:
            modules.append(node.module)
    header = [_docstring(f"The pipeline of {notebook}: its functions, and run(params) made of its steps in order.\n\n"
                         f"Exported by readiness-magics {__version__}."),
              "", "from __future__ import annotations", ""]
    if any(_awaits(step) for step in plan.steps) and "import asyncio" not in import_lines:
        import_lines = ["import asyncio", *import_lines]
    if import_lines:
        header += import_lines + [""]
    header.append("from .params import Params")
    text = "\n".join(header) + "\n\n\n" + body + "\n"
    try:
        text = _define_missing(text, plan, warnings)
    except SyntaxError as exc:
        raise RenderError(f"pipeline.py would not parse: {exc.msg}, line {exc.lineno}") from None
    try:
        with python_warnings.catch_warnings():
            python_warnings.simplefilter("ignore")  # invalid escapes in the notebook's strings are its own business
            compile(text, "pipeline.py", "exec", dont_inherit=True)  # also what only the compiler checks
    except (SyntaxError, ValueError) as exc:
        raise RenderError(f"pipeline.py would not compile: {getattr(exc, 'msg', exc)}, line "
                          f"{getattr(exc, 'lineno', '?')}") from None
    third_party = [m for m in modules if m and not is_standard_library(m) and not is_kernel_provided(m)
                   and m.split(".")[0] not in plan.local_modules]
    return text, third_party, warnings


def _why_missing(name: str, plan: ExportPlan, step: Step | None = None) -> str:
    if name == "get_ipython":
        return "get_ipython() exists only inside an IPython kernel; the package runs without one"
    cells = [cell for cell in plan.bound_in.get(name, []) if step is None or cell not in step.cells]
    if step is not None:
        where = f"{_cells_text(step.cells)} of the notebook read(s) it before binding it"
        if not cells:
            return f"{where}; no cell that parses binds it (an earlier session or a magic did); define it or pass it in"
        return f"{where}; {_cells_text(cells)} bind(s) it in code the export could not keep"
    if not cells:
        return ("the notebook never binds it in its code (a magic, %run, an extension or an earlier session "
                "defined it); define it or pass it in")
    return f"the notebook binds it in {_cells_text(cells)}, in code the export could not keep; define it or pass it in"


_DISPLAY = '''def display(*objects, **options) -> None:
    """IPython's display() outside a notebook: print the objects."""
    print(*objects)
'''


def _define_missing(text: str, plan: ExportPlan, warnings: list[str]) -> str:
    """Give every name the module uses but cannot define a stand-in that fails with a clear message when used.

    Importing the package and everything that does not touch the name still works; a use raises
    NotImplementedError naming the notebook cell, never a NameError. Each name goes to the README's known issues.
    """
    names = [name for name in undefined_names(text) if name != "_Missing"]
    if "display" in names:
        # IPython's display() outside a kernel: print what it was given (the notebook showed it).
        names.remove("display")
        marker = "from .params import Params\n"
        head, tail = text.split(marker, 1)
        text = head + marker + "\n\n" + _DISPLAY + "\n" + tail
        warnings.append("display() is IPython's; the package defines it as print() of its arguments")
    unbound = {name: step for step in plan.steps for name in step.unbound}
    if not names and not unbound:
        return text
    plan.missing = {name: _why_missing(name, plan) for name in names}
    plan.missing.update((name, _why_missing(name, plan, step)) for name, step in unbound.items())
    lines = [MISSING_CLASS, ""]
    lines += [f"{name} = _Missing({name!r}, {plan.missing[name]!r})" for name in names]
    marker = "from .params import Params\n"
    head, tail = text.split(marker, 1)
    text = head + marker + "\n\n" + "\n".join(lines) + "\n" + tail
    tree = ast.parse(text)
    functions = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                             ast.ClassDef))}
    direct = {name: {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} for name, node in functions.items()}
    needs: dict[str, set[str]] = {name: reads & set(names) for name, reads in direct.items()}
    for step in plan.steps:
        needs[step.name] |= set(step.unbound)
    changed = True
    while changed:  # a function calling one that needs a missing name needs it too
        changed = False
        for name, reads in direct.items():
            for other in reads & set(functions):
                if not needs[other] <= needs[name]:
                    needs[name] |= needs[other]
                    changed = True
    plan.needs_missing = {name: sorted(found) for name, found in needs.items() if found}
    return text


def render_main(plan: ExportPlan, package: str) -> str:
    params = plan.params_var
    lines = [_docstring(f"Run the pipeline from a shell: `python -m {package} --help` lists the options."), "",
             "from __future__ import annotations", "", "import argparse"]
    if any(p.mutable or (p.is_literal and isinstance(p.value, tuple)) for p in plan.parameters):
        lines.append("import json")
    lines += ["", "from .params import Params", "from .pipeline import run", "", "",
              "def parse_args(argv: list[str] | None = None) -> Params:",
              f"{INDENT}defaults = Params()",
              f"{INDENT}parser = argparse.ArgumentParser(prog=\"{package}\", description={_title(plan)!r})"]
    for parameter in plan.parameters:
        option, name = parameter.option, parameter.name
        help_text = parameter.origin if parameter.computed is None else "computed from the others when not given"
        extra = ""
        if parameter.computed is None and parameter.is_literal:
            value = parameter.value
            if isinstance(value, bool):
                extra = ", action=argparse.BooleanOptionalAction"
            elif isinstance(value, int):
                extra = ", type=int"
            elif isinstance(value, float):
                extra = ", type=float"
            elif isinstance(value, (list, dict, tuple, set)):
                extra = ", type=json.loads"
                help_text += " (JSON)"
        lines.append(f"{INDENT}parser.add_argument(\"{option}\", dest=\"{name}\", default=defaults.{name}{extra}, "
                     f"help={(help_text + ' (default: %(default)s)')!r})")
    lines.append(f"{INDENT}args = parser.parse_args(argv)")
    lines.append(f"{INDENT}return Params(**vars(args))")
    lines += ["", "", "def summary(value: object, width: int = 300) -> str:",
              f"{INDENT}\"\"\"One line for a value: a frame or an array by its type and shape, anything else by its "
              "repr, cut short.\"\"\"",
              f"{INDENT}shape = getattr(value, \"shape\", None)",
              f"{INDENT}if isinstance(shape, tuple) and shape:",
              f"{INDENT * 2}columns = getattr(value, \"columns\", None)",
              f"{INDENT * 2}named = f\", columns {{list(columns)[:8]}}\" if columns is not None else \"\"",
              f"{INDENT * 2}return f\"{{type(value).__name__}} of shape {{shape}}{{named}}\"",
              f"{INDENT}text = \" \".join(repr(value).split())",
              f"{INDENT}return text if len(text) <= width else text[: width - 3] + \"...\"",
              "", "", "def main(argv: list[str] | None = None) -> int:",
              f"{INDENT}{params} = parse_args(argv)", f"{INDENT}results = run({params})",
              f"{INDENT}for name, value in results.items():", f"{INDENT * 2}print(f\"{{name}}: {{summary(value)}}\")",
              f"{INDENT}return 0", "", "",
              'if __name__ == "__main__":', f"{INDENT}raise SystemExit(main())"]
    return "\n".join(lines) + "\n"


def _title(plan: ExportPlan) -> str:
    return plan.title or f"The pipeline exported from {plan.notebook_name}"


def render_init(plan: ExportPlan, package: str) -> str:
    return "\n".join([
        _docstring(f"{_title(plan)}: exported from {plan.notebook_name} by readiness-magics."), "",
        "from .params import Params", "from .pipeline import run", "",
        '__all__ = ["Params", "run"]', '__version__ = "0.1.0"', "",
    ])


def render_pyproject(plan: ExportPlan, package: str, dependencies: list[Dependency], test_requirement: str) -> str:
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    deps = "".join(f'    "{d.requirement}",\n' for d in dependencies)
    description = _title(plan).replace('"', "'").replace("\\", "/")
    distribution = package.replace("_", "-")
    return "\n".join([
        "[build-system]",
        'requires = ["hatchling>=1.5"]',
        'build-backend = "hatchling.build"',
        "",
        "[project]",
        f'name = "{distribution}"',
        'version = "0.1.0"',
        f'description = "{description}"',
        'readme = "README.md"',
        f'requires-python = ">={python}"',
        f"dependencies = [\n{deps}]" if deps else "dependencies = []",
        "",
        "[project.optional-dependencies]",
        f'test = ["{test_requirement}"]',
        "",
        "[project.scripts]",
        f'{distribution} = "{package}.__main__:main"',
        "",
        "[tool.hatch.build.targets.wheel]",
        f'packages = ["src/{package}"]',
        "",
        "[tool.pytest.ini_options]",
        'testpaths = ["tests"]',
        "",
    ])


def render_readme(plan: ExportPlan, package: str, dependencies: list[Dependency], known_issues: list,
                  warnings: list[str], has_end_to_end: bool) -> str:
    out = [f"# {package}", "", f"{_title(plan)}. Exported from `{plan.notebook_name}` by readiness-magics "
           f"{__version__}.", ""]
    if plan.description:
        out += [plan.description, ""]
    example = " ".join(f"{p.option} {p.value}" for p in plan.parameters[:2]
                       if p.is_literal and isinstance(p.value, str))
    out += ["## Use it", "", "```bash", "pip install .", f"python -m {package} {example}".rstrip(),
            f"python -m {package} --help   # every parameter as an option", "```", "",
            "```python", f"from {package} import Params, run", "",
            "results = run(Params())  # a dict of the values the notebook ends with", "```", ""]
    out += ["## Parameters", ""]
    if plan.parameters:
        out += ["| option | default | from |", "| --- | --- | --- |"]
        for parameter in plan.parameters:
            default = parameter.default if parameter.computed is None else f"computed: `{parameter.computed}`"
            out.append(f"| `{parameter.option}` | `{default}` | {parameter.origin} |".replace("``", "`"))
    else:
        out.append("The notebook has no `parameters` cell and no hardcoded paths.")
    out += ["", "## Steps of `run()`", ""]
    for number, step in enumerate(plan.steps, start=1):
        inputs = ", ".join(step.inputs) or "-"
        outputs = ", ".join(step.outputs) or "-"
        out.append(f"{number}. `{step.name}` ({_cells_text(step.cells)}): inputs {inputs}; outputs {outputs}")
    out += ["", "## Dependencies", "",
            "Pinned from the notebook's install lines (and the files they install) where they pin them, else from "
            "a dependency file beside or above the notebook (requirements.txt, pyproject.toml, environment.yml), "
            "else from the version installed where it was exported.",
            "", "| requirement | pinned from |", "| --- | --- |"]
    for dependency in dependencies:
        out.append(f"| `{dependency.requirement}` | {dependency.source} |")
    out += ["", "## Tests", "", "```bash", "pip install '.[test]'", "pytest", "```", "",
            "`tests/test_pipeline.py` calls each function as the notebook called it and asserts the output the "
            "notebook saved; tests marked skip are TODOs with their reason. Every test runs in its own temporary "
            "folder (`tests/conftest.py`) and writes nothing beside the package."]
    if has_end_to_end:
        out.append("`tests/data/` holds a small sample of the notebook's data (at most 100 rows): the pipeline runs "
                   "end to end on it, and each function it reaches is tested on what it was given there.")
    if plan.reproduces:
        out.append("To compare `run()` with the outputs the notebook saved, on the notebook's own data: "
                   "`NOTEBOOK_DATA_DIR=/path/to/the/notebook/folder pytest`.")
    if known_issues or plan.missing:
        out += ["", "## Known issues", ""]
    if plan.missing:
        out += ["These names are used by the code but could not be made part of the package; `pipeline.py` "
                "defines each as a stand-in that raises NotImplementedError when used:", ""]
        out += [f"- `{name}`: {why}" for name, why in plan.missing.items()]
        out.append("")
    if known_issues:
        out += ["The notebook was exported with `--force` although these findings were at the fail level:", ""]
        for finding in known_issues:
            where = f"cell {finding.cell_index}, line {finding.line}" if finding.cell_index is not None else "notebook"
            out.append(f"- {finding.code} ({where}): {finding.message}")
    if warnings:
        out += ["", "## Notes from the export", ""]
        out += [f"- {warning}" for warning in warnings]
    return "\n".join(out) + "\n"
