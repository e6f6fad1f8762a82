"""Re-checks reuse what was computed per cell (the sidebar's case): they must say exactly what a cold check says.

Each step edits the notebook the way a person does (a cell's text, an import alias, a tag, a cell
moved or duplicated) and compares the findings of a check with every cache warm against a check after
`engine.clear_caches()`.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from readiness_magics import engine

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "sample_notebooks").glob("*.ipynb"))


def _findings(content: dict, path: Path) -> list[dict]:
    return engine.check_content(copy.deepcopy(content), path=path, use_ruff=False).to_dict()["findings"]


def _cold(content: dict, path: Path) -> list[dict]:
    engine.clear_caches()
    return _findings(content, path)


def _code_cells(content: dict) -> list[dict]:
    return [cell for cell in content["cells"] if cell.get("cell_type") == "code"]


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _edits(content: dict):
    """(what, edited notebook) pairs: each a small change to the notebook before it."""
    current = copy.deepcopy(content)
    cells = _code_cells(current)
    if not cells:
        return
    middle = cells[len(cells) // 2]
    middle["source"] = _source(middle) + "\nextra_value = 1\n"
    yield "a line typed at the end of a cell", copy.deepcopy(current)
    middle["source"] = _source(middle).replace("extra_value = 1", "extra_value = data_frame.mean()")
    yield "the line changed", copy.deepcopy(current)
    cells[0]["source"] = "import pandas as pd\nimport numpy as np\nimport os\n" + _source(cells[0])
    yield "imports added on top", copy.deepcopy(current)
    cells[0]["source"] = _source(cells[0]).replace("import pandas as pd", "import polars as pd", 1)
    yield "an import alias now means another module", copy.deepcopy(current)
    cells[-1]["source"] = _source(cells[-1]) + "\npath = '/home/ana/data.csv'\napi_key = 'sk-live-4f9a8b7c6d5e4f3a2b1c'\n"
    yield "a path and a secret typed", copy.deepcopy(current)
    cells[-1].setdefault("metadata", {})["tags"] = ["parameters"]
    yield "the cell tagged as parameters", copy.deepcopy(current)
    current["cells"].append(copy.deepcopy(cells[-1]))
    current["cells"][-1].pop("id", None)
    yield "a cell duplicated", copy.deepcopy(current)
    current["cells"].insert(0, current["cells"].pop())
    yield "the copy moved to the top", copy.deepcopy(current)
    cells[0]["source"] = _source(cells[0]).replace("import polars as pd", "import pandas as pd", 1)
    yield "the alias back as it was", copy.deepcopy(current)
    current["cells"].append(_code("for i in range(3):\n    row = helper(i)\n    rows = load_rows(i)\n"))
    yield "a loop calling names the notebook does not define", copy.deepcopy(current)
    current["cells"].insert(1, _code("def helper(x):\n    return x\n\n\ndef load_rows(i):\n"
                                     "    return pd.read_csv(f'part{i}.csv')\n"))
    yield "those names defined as functions in another cell", copy.deepcopy(current)
    current["cells"].insert(1, _code("from helpers import *\n"))
    yield "a star import above", copy.deepcopy(current)


def _code(source: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": source}


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.stem)
def test_warm_re_checks_say_what_cold_checks_say(sample):
    content = json.loads(sample.read_text(encoding="utf-8"))
    engine.clear_caches()
    _findings(content, sample)  # everything cached, as after the sidebar's first check
    for what, edited in _edits(content):
        warm = _findings(edited, sample)
        assert warm == _cold(edited, sample), what
        _findings(edited, sample)  # warm the caches again for the next step
