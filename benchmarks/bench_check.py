"""Time `readiness check` on a folder of notebooks beside ruff on the same files, in one run.

Usage: python benchmarks/bench_check.py [FOLDER] [--repeat N]
FOLDER defaults to ../shared/corpus/real when it is there. Prints a Markdown table: median, spread
(min-max) and the ratio to `ruff check` with its default rules, plus the floors (reading the JSON,
parsing every cell).
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "real"


def notebooks_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def floor_json(paths: list[Path]) -> float:
    start = time.perf_counter()
    for path in paths:
        json.loads(path.read_bytes())
    return time.perf_counter() - start


def floor_parse(paths: list[Path]) -> float:
    sources = []
    for path in paths:
        for cell in json.loads(path.read_bytes()).get("cells", []):
            if cell.get("cell_type") == "code":
                source = cell.get("source", "")
                sources.append("".join(source) if isinstance(source, list) else source)
    start = time.perf_counter()
    for source in sources:
        try:
            ast.parse(source)
        except (SyntaxError, ValueError):
            pass
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=str(DEFAULT_CORPUS))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    folder = Path(args.folder)
    if not folder.is_dir():
        print(f"no folder {folder}; pass one", file=sys.stderr)
        return 2
    paths = notebooks_in(folder)
    bin_dir = Path(sys.executable).parent
    ruff = str(bin_dir / "ruff") if (bin_dir / "ruff").exists() else "ruff"
    readiness = [sys.executable, "-m", "readiness_magics", "check", "--no-progress", str(folder)]
    candidates = {
        "ruff check (default rules)": [ruff, "check", "--no-cache", "--exit-zero", "--quiet", str(folder)],
        "readiness check": readiness,
        "readiness check --no-ruff": readiness + ["--no-ruff"],
        "readiness check --no-ruff --jobs 1": readiness + ["--no-ruff", "--jobs", "1"],
    }
    times: dict[str, list[float]] = {name: [] for name in candidates}
    times["floor: json.load of every file"] = []
    times["floor: ast.parse of every code cell"] = []
    for _ in range(args.repeat):
        # Interleaved, so a noisy moment hurts every candidate alike.
        for name, command in candidates.items():
            times[name].append(timed(command))
        times["floor: json.load of every file"].append(floor_json(paths))
        times["floor: ast.parse of every code cell"].append(floor_parse(paths))
    baseline = statistics.median(times["ruff check (default rules)"])
    print(f"{len(paths)} notebooks in {folder}; {args.repeat} runs each; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print()
    print("| what | median (s) | min-max (s) | x ruff |")
    print("|---|---|---|---|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.2f} | {min(values):.2f}-{max(values):.2f} | {median / baseline:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
