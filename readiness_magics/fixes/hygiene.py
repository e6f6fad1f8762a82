"""Structure fixes: delete an empty cell (RP709), add a title from the file name (RP705). Both safe.

`churn_model-v2.ipynb` gets a first markdown cell `# Churn model v2` (tagged `readiness-fix`); a
notebook still called `Untitled` gets advice instead, since its name says nothing. (Moving scattered
imports up, RP711, is the rule's own fix.)
"""
from __future__ import annotations

import re

from ..analysis import NotebookModel
from ..findings import Edit, Finding, Fix, NewCell
from .common import FIX_TAG

CODES = ("RP705", "RP709")


def title_from_file_name(stem: str) -> str | None:
    words = re.sub(r"[_\-\s.]+", " ", stem).strip()
    if not re.search(r"[A-Za-z]", words) or re.match(r"(?i)untitled\d*$", words.replace(" ", "")):
        return None
    return words[0].upper() + words[1:]


def make_fix(model: NotebookModel, finding: Finding) -> Fix | None:
    if finding.code == "RP709":
        index = finding.cell_index
        if index is None or model.cells[index].cell.source.strip() or model.cells[index].cell.outputs:
            return None  # outputs under an emptied cell are what it printed: not ours to drop
        lines = model.cells[index].cell.source.splitlines(keepends=True)
        return Fix("Delete the empty cell", "safe",
                   (Edit(index, 1, 1, len(lines) + 1, 1, "", delete_cell=True),))
    if model.path is None or not model.cells:
        return None
    title = title_from_file_name(model.path.stem)
    if title is None:
        return None
    new = NewCell("before", 0, "markdown", f"# {title}", (FIX_TAG,))
    return Fix(f"Add a title cell '# {title}' from the file name", "safe",
               (Edit(0, 1, 1, 1, 1, "", insert_cell=new),))
