"""Peak memory of `readiness check` on big notebooks: 10,000 cells, and 50 MB of image outputs.

    python benchmarks/bench_memory.py            # prints one line per case
    python benchmarks/bench_memory.py --json     # the same as JSON (tests/hardening/test_big_inputs.py)

Each check runs as a child of a fresh process, which reads the child's peak RSS from
getrusage(RUSAGE_CHILDREN), so nothing this process did before counts. Images are never decoded:
the peak should be the JSON text and its parsed form, plus the cells' analysis.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run by a fresh interpreter: run the command, then report the largest child's peak RSS (Linux: KiB).
_MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
peak = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
print(json.dumps({"returncode": done.returncode, "peak_bytes": peak,
                  "stdout": done.stdout.decode(errors="replace"), "stderr": done.stderr.decode(errors="replace")}))
"""

_CELL_KINDS = [
    "import pandas as pd\nimport numpy as np\n",
    "df{i} = pd.read_csv('/home/ana/data/part{i}.csv')\n",
    "assert not df{i}.empty\nsummary{i} = df{i}.describe()\n",
    "def step{i}(frame):\n    return frame.assign(total=frame['a'] * {i})\n",
    "result{i} = step{i}(df{i})\nresult{i}.head()\n",
    "%pip install scikit-learn==1.5.0\n",
    "for column in df{i}.columns:\n    print(column, df{i}[column].dtype)\n",
    "API_TOKEN = 'ghp_" + "x1Y2z3" * 6 + "'\n",
]


def write_many_cells(path: Path, cells: int = 10_000) -> Path:
    """A long notebook of realistic cells (loads, checks, functions, installs, markdown), all run."""
    raw = [{"cell_type": "markdown", "metadata": {}, "source": "# A very long analysis", "id": "title"}]
    for i in range(cells - 1):
        if i % 10 == 9:
            raw.append({"cell_type": "markdown", "metadata": {}, "source": f"## Part {i}\nSome notes.", "id": f"m{i}"})
            continue
        source = _CELL_KINDS[i % len(_CELL_KINDS)].format(i=i)
        raw.append({"cell_type": "code", "metadata": {}, "source": source, "id": f"c{i}", "execution_count": i + 1,
                    "outputs": [{"output_type": "stream", "name": "stdout", "text": f"row {i}\n"}]})
    _write(path, raw)
    return path


def write_image_notebook(path: Path, megabytes: int = 50) -> Path:
    """About `megabytes` of base64 PNG outputs (incompressible bytes), a plot per cell."""
    rng = random.Random(7)
    image_bytes = 400_000  # about 530 KB of base64 per image
    raw = [{"cell_type": "markdown", "metadata": {}, "source": "# Plots", "id": "title"}]
    count = max(1, megabytes * 1_000_000 // (image_bytes * 4 // 3))
    for i in range(count):
        png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + rng.randbytes(image_bytes)).decode()
        raw.append({"cell_type": "code", "metadata": {}, "id": f"p{i}", "execution_count": i + 1,
                    "source": f"import matplotlib.pyplot as plt\nplt.plot(range({i}))\nplt.show()",
                    "outputs": [{"output_type": "display_data", "metadata": {},
                                 "data": {"image/png": png, "text/plain": ["<Figure size 640x480 with 1 Axes>"]}}]})
    _write(path, raw)
    return path


def _write(path: Path, cells: list) -> None:
    notebook = {"nbformat": 4, "nbformat_minor": 5, "cells": cells,
                "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}}
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")


def peak_rss(command: list[str], timeout: float = 900) -> dict:
    """Run `command` under a fresh measuring process; its result with `peak_bytes` and `seconds`."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True,
                          timeout=timeout, check=True)
    result = json.loads(done.stdout)
    result["seconds"] = time.perf_counter() - started
    return result


def readiness_command(notebook: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "readiness_magics", "check", "--format", "json", "--no-progress", *extra,
            str(notebook)]


# Floors in the same run: the interpreter with the engine imported, and json.load of the notebook.
_IMPORTS_ONLY = "import readiness_magics.engine, readiness_magics.rules as r; r.all_rules()"
_JSON_LOAD = "import json, sys; json.load(open(sys.argv[1], encoding='utf-8'))"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--cells", type=int, default=10_000)
    parser.add_argument("--megabytes", type=int, default=50)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        cases = [
            ("many-cells", write_many_cells(Path(folder) / "many_cells.ipynb", args.cells)),
            ("image-outputs", write_image_notebook(Path(folder) / "image_outputs.ipynb", args.megabytes)),
        ]
        imports_only = peak_rss([sys.executable, "-c", _IMPORTS_ONLY])["peak_bytes"]
        for name, notebook in cases:
            size = os.path.getsize(notebook)
            json_load = peak_rss([sys.executable, "-c", _JSON_LOAD, str(notebook)])["peak_bytes"]
            for ruff in (False, True):
                result = peak_rss(readiness_command(notebook, *([] if ruff else ["--no-ruff"])))
                rows.append({"case": name, "ruff": ruff, "file_bytes": size, "peak_bytes": result["peak_bytes"],
                             "seconds": round(result["seconds"], 2), "returncode": result["returncode"],
                             "json_load_peak_bytes": json_load, "imports_peak_bytes": imports_only})
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"Peak RSS (getrusage of a child process, largest process; ruff runs in its own); "
          f"{os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print()
    print("| notebook | file (MB) | readiness check --no-ruff (MB) | readiness check (MB) | "
          "floor: json.load (MB) | floor: Python + engine imported (MB) |")
    print("|---|---|---|---|---|---|")
    for name in dict.fromkeys(row["case"] for row in rows):
        off, on = (next(r for r in rows if r["case"] == name and r["ruff"] is ruff) for ruff in (False, True))
        label = f"{args.cells:,} code and markdown cells" if name == "many-cells" else \
            f"{args.megabytes} MB of image outputs"
        print(f"| {label} | {off['file_bytes'] / 1e6:.1f} | {off['peak_bytes'] / 1e6:.0f} | "
              f"{on['peak_bytes'] / 1e6:.0f} | {off['json_load_peak_bytes'] / 1e6:.0f} | "
              f"{off['imports_peak_bytes'] / 1e6:.0f} |")


if __name__ == "__main__":
    main()
