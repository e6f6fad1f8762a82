"""What the benchmark scripts share: timing statistics, the machine line, and generated notebooks.

Not a benchmark itself (`make bench` runs the bench_*.py scripts beside it).
"""
from __future__ import annotations

import base64
import json
import os
import platform
import random
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# ../shared/corpus/real beside the checkout (or beside the folder of worktrees it sits in)
DEFAULT_CORPUS = next((base / "shared" / "corpus" / "real" for base in (ROOT.parent, ROOT.parent.parent)
                       if (base / "shared" / "corpus" / "real").is_dir()), ROOT.parent / "shared" / "corpus" / "real")


def ruff_command(folder: Path) -> list[str]:
    """ruff as readiness runs it on this folder (same binary, rule selection and options), read from
    `ruff_bridge` at run time so that a change of readiness's default selection is measured as it is."""
    from readiness_magics import ruff_bridge
    from readiness_magics.config import settings_for

    first = next((p for p in sorted(folder.rglob("*.ipynb"))), folder) if folder.is_dir() else folder
    settings = settings_for(first)
    if hasattr(ruff_bridge, "selection_arguments"):  # the options readiness derives (project config included)
        return ruff_bridge._command(ruff_bridge.selection_arguments(settings, first))
    return ruff_bridge._command(settings.ruff_select)


def machine() -> str:
    """One line: CPU, cores, load, Python; the README quotes it beside the tables."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load average {os.getloadavg()[0]:.1f}"
    return f"{cpu}, {os.cpu_count()} cores{load}, {platform.system()}, Python {platform.python_version()}"


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
    return f"{min(values) * scale:.{digits}f}-{max(values) * scale:.{digits}f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# Generated notebooks: cells a data scientist writes, each one a little different (names carry the
# cell number), so no two cells share a source and the per-cell cache never hides the work.

_CELLS = [
    # imports and set-up
    "import os\nimport json\nimport numpy as np\nimport pandas as pd\nimport matplotlib.pyplot as plt\n"
    "from sklearn.model_selection import train_test_split\nfrom sklearn.linear_model import LogisticRegression\n"
    "SEED_{n} = {n}\nnp.random.seed(SEED_{n})",
    "%matplotlib inline\n%load_ext autoreload\n%autoreload 2\npd.set_option('display.max_columns', {n})",
    "!pip install pandas=={n}.0.1 scikit-learn==1.3.{n}",
    # loading with and without checks
    "raw_{n} = pd.read_csv('data/sales_{n}.csv', parse_dates=['date'])\nassert not raw_{n}.empty, 'no rows'\n"
    "raw_{n}.head()",
    "events_{n} = pd.read_parquet(os.path.join('data', 'events_{n}.parquet'))\nevents_{n}.info()",
    "with open('config_{n}.json') as handle:\n    config_{n} = json.load(handle)\nprint(config_{n}.get('name'))",
    # transformations
    "clean_{n} = raw_{n}.dropna(subset=['amount'])\nclean_{n}['month'] = clean_{n}['date'].dt.to_period('M')\n"
    "monthly_{n} = clean_{n}.groupby(['store', 'month'], as_index=False)['amount'].sum()\n"
    "monthly_{n}['share'] = monthly_{n}['amount'] / monthly_{n}['amount'].sum()\n"
    "top_{n} = monthly_{n}.sort_values('amount', ascending=False).head(10)\ntop_{n}",
    "for column in ['amount', 'price', 'quantity']:\n    if column in clean_{n}:\n"
    "        clean_{n}[column] = clean_{n}[column].fillna(clean_{n}[column].median())\n"
    "clean_{n}.describe()",
    # functions
    "def growth_{n}(frame, column='amount'):\n    \"\"\"Month-on-month growth of one column.\"\"\"\n"
    "    ordered = frame.sort_values('month')\n    return ordered[column].pct_change().fillna(0.0)\n\n"
    "monthly_{n}['growth'] = growth_{n}(monthly_{n})",
    "def summarise_{n}(frame, threshold=0.{n}):\n    counts = frame['region'].value_counts()\n"
    "    ratio = {{k: v / max(len(frame), 1) for k, v in counts.items()}}\n"
    "    return {{k: v for k, v in ratio.items() if v > threshold}}\n\nsummarise_{n}(clean_{n})",
    # plots
    "fig_{n}, ax_{n} = plt.subplots(figsize=(8, 4))\n"
    "monthly_{n}.pivot(index='month', columns='store', values='amount').plot(ax=ax_{n})\n"
    "ax_{n}.set_title('Monthly sales, step {n}')\nplt.show()",
    # modelling
    "features_{n} = clean_{n}[['amount', 'price', 'quantity']]\nlabels_{n} = clean_{n}['churned']\n"
    "X_train_{n}, X_test_{n}, y_train_{n}, y_test_{n} = train_test_split(features_{n}, labels_{n}, "
    "test_size=0.2, random_state=SEED_{n})\nmodel_{n} = LogisticRegression(max_iter={n}00)\n"
    "model_{n}.fit(X_train_{n}, y_train_{n})\nprint('accuracy', model_{n}.score(X_test_{n}, y_test_{n}))",
    "API_URL_{n} = 'https://api.example.com/v1/items/{n}'\ntoken_{n} = os.environ.get('API_TOKEN')\n"
    "headers_{n} = {{'Authorization': f'Bearer {{token_{n}}}'}}",
    "results_{n} = []\nfor seed in range({n} % 5 + 1):\n    sample = clean_{n}.sample(frac=0.5, random_state=seed)\n"
    "    results_{n}.append(sample['amount'].mean())\nnp.mean(results_{n})",
    "monthly_{n}.to_csv('output/monthly_{n}.csv', index=False)",
]

_MARKDOWN = "## Step {n}\n\nLoad, clean and summarise the sales of step {n}; see the chart below."


def generated_cells(count: int, start: int = 0) -> list[str]:
    """`count` code-cell sources; a cell reads names the cells before it bound (same step number)."""
    sources = []
    for offset in range(count):
        number = start + offset
        step, which = divmod(number, len(_CELLS))
        sources.append(_CELLS[which].format(n=step))
    return sources


def generated_notebook(code_cells: int, *, markdown_every: int = 5, outputs: bool = True) -> dict:
    """An nbformat 4 notebook as a dict: `code_cells` code cells, markdown between, saved outputs."""
    cells = []
    count = 0
    for index, source in enumerate(generated_cells(code_cells)):
        if markdown_every and index % markdown_every == 0:
            cells.append({"cell_type": "markdown", "id": f"md{index}", "metadata": {},
                          "source": _MARKDOWN.format(n=index).splitlines(keepends=True)})
        count += 1
        cell_outputs = []
        if outputs and index % 3 == 0:
            cell_outputs.append({"output_type": "stream", "name": "stdout", "text": [f"step {index} done\n"]})
        if outputs and index % 7 == 0:
            cell_outputs.append({"output_type": "execute_result", "execution_count": count, "metadata": {},
                                 "data": {"text/plain": [f"   amount  store\n0  {index}.5  a\n"]}})
        cells.append({"cell_type": "code", "id": f"code{index}", "metadata": {}, "execution_count": count,
                      "outputs": cell_outputs, "source": source.splitlines(keepends=True)})
    return {"nbformat": 4, "nbformat_minor": 5, "cells": cells,
            "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"},
                         "language_info": {"name": "python"}}}


def image_notebook(megabytes: int, image_kb: int = 500) -> dict:
    """A notebook whose size is almost all base64 PNG outputs (never decoded by the checker)."""
    rng = random.Random(6)
    blob = base64.b64encode(rng.randbytes(image_kb * 768)).decode("ascii")
    lines = [blob[start:start + 76] + "\n" for start in range(0, len(blob), 76)]
    images = max(1, megabytes * 1024 // max(len(blob) // 1024, 1))
    cells = []
    for index, source in enumerate(generated_cells(images)):
        cells.append({"cell_type": "code", "id": f"img{index}", "metadata": {}, "execution_count": index + 1,
                      "source": source.splitlines(keepends=True),
                      "outputs": [{"output_type": "display_data", "metadata": {},
                                   "data": {"image/png": lines, "text/plain": ["<Figure size 800x400>"]}}]})
    return {"nbformat": 4, "nbformat_minor": 5, "cells": cells,
            "metadata": {"language_info": {"name": "python"}}}


def write_notebook(notebook: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path
