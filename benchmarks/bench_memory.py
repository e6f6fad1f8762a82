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
        for name, notebook in cases:
            size = os.path.getsize(notebook)
            for ruff in (False, True):
                result = peak_rss(readiness_command(notebook, *([] if ruff else ["--no-ruff"])))
                rows.append({"case": name, "ruff": ruff, "file_bytes": size, "peak_bytes": result["peak_bytes"],
                             "seconds": round(result["seconds"], 2), "returncode": result["returncode"]})
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        print(f"{row['case']:<14} ruff={'on ' if row['ruff'] else 'off'}  file {row['file_bytes'] / 1e6:6.1f} MB  "
              f"peak RSS {row['peak_bytes'] / 1e6:6.1f} MB  ({row['peak_bytes'] / row['file_bytes']:.1f}x)  "
              f"{row['seconds']:.1f} s  exit {row['returncode']}")


if __name__ == "__main__":
    main()
