"""Pin an unpinned install line (RP201) from evidence, never from the environment the linter runs in.

Evidence is the version the notebook's own install output says it installed (`Successfully installed
pandas-2.2.2`, `Requirement already satisfied: pandas in ... (2.2.2)`) or an exact pin in the project's
dependency files (requirements*.txt, pyproject.toml, environment.yml, lock files), and in a kernel
(`%readiness fix`, the notebook of this kernel's session) the version this kernel has installed. When every unpinned
package of the line has such a version the fix is safe (it installs what the notebook ran with);
otherwise the finding carries advice only. In a kernel, `%readiness pin` pins from the live kernel.
"""
from __future__ import annotations

import re

from ..analysis import NotebookModel
from ..findings import Edit, Finding, Fix
from ..requirements import canonicalize_name, pinned_version, project_dependencies, versions_in_output

CODES = ("RP201",)

def canonical(name: str) -> str:
    return canonicalize_name(name)


def evidence(model: NotebookModel, cell_index: int) -> dict[str, str]:
    """Versions from the install cell's saved output, then from the project's dependency files, then
    (in a kernel, `%readiness fix`) what the kernel running this notebook has installed."""
    found: dict[str, str] = {}
    for output in model.cells[cell_index].cell.outputs:
        if output.output_type == "stream":
            found.update(versions_in_output(output.text))
    for dependency_file in project_dependencies(model.path).files:
        for requirement in dependency_file.requirements:
            version = pinned_version(requirement)
            if version and requirement.name:
                found.setdefault(canonical(requirement.name), version)
    return found


def make_fix(model: NotebookModel, finding: Finding) -> Fix | None:
    from ..rules.dependencies import notebook_installs

    line = next((line for line in notebook_installs(model).lines
                 if line.cell.index == finding.cell_index and line.unpinned
                 and (line.span(line.unpinned[0].token).line, line.span(line.unpinned[0].token).column)
                 == (finding.line, finding.column)), None)
    if line is None:
        return None
    advice = Fix("Pin each package with == to the version the notebook was run with (no evidence of it in "
                 "the notebook's output or the project's dependency files)", "unsafe")
    if line.commands[0].tool != "pip":
        return advice
    versions = evidence(model, finding.cell_index)
    edits = []
    for item in line.unpinned:
        requirement = item.requirement
        if requirement is None or not requirement.name or item.token.piece < 0:
            return advice
        version = versions.get(canonical(requirement.name))
        if version is None and model.notebook.kernel is not None and model.notebook.kernel.same_session:
            from ..live import installed_version_now

            version = installed_version_now(requirement.name)
        bare = re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?", item.token.text)
        if version is None or bare is None or "://" in item.token.text:
            return advice
        number, column, end_column = line.position(item.token)
        edits.append(Edit(line.cell.index, number, column, number, end_column, f"{bare.group(0)}=={version}"))
    pins = " ".join(edit.content for edit in edits)
    return Fix(f"Pin to the versions the notebook ran with: {pins}", "safe", tuple(edits))
