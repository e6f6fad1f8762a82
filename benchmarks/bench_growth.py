"""Linear growth: notebooks of 100, 1,000 and 10,000 generated code cells, checked from disk.

Usage: python benchmarks/bench_growth.py [--sizes 100,1000,10000] [--repeat N]
Each check is `engine.check_file(path, use_ruff=False)` in this process with every cache emptied
first (so each cell is loaded, transformed, parsed and walked again), and `ruff check` on the same file
as the baseline, interleaved. Prints a Markdown table: median and spread of wall and CPU time, and
the ratio to the 100-cell notebook. Target (issue 18): at most 110x for 10,000 cells (issue 6 also asked 11x for 1,000).
"""
from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _shared import generated_notebook, machine, spread, table, write_notebook

from readiness_magics import analysis, engine
from readiness_magics.ruff_bridge import ruff_binary


def clear_caches() -> None:
    analysis.analyse_source.cache_clear()
    if hasattr(engine, "clear_caches"):
        engine.clear_caches()


def check(path: Path) -> tuple[float, float]:
    clear_caches()
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    engine.check_file(path, use_ruff=False)
    return time.perf_counter() - wall, time.process_time() - cpu


def ruff(path: Path) -> tuple[float, float]:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    subprocess.run([ruff_binary(), "check", "--no-cache", "--exit-zero", "--quiet", str(path)],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        paths = {size: write_notebook(generated_notebook(size), Path(folder) / f"cells_{size}.ipynb")
                 for size in sizes}
        engine.check_file(paths[sizes[0]], use_ruff=False)  # imports and the rule registry, not timed
        ours: dict[int, list[tuple[float, float]]] = {size: [] for size in sizes}
        theirs: dict[int, list[tuple[float, float]]] = {size: [] for size in sizes}
        for _ in range(args.repeat):
            for size in sizes:  # interleaved: a busy moment hits every size alike
                ours[size].append(check(paths[size]))
                theirs[size].append(ruff(paths[size]))
    print(f"generated notebooks (code cells plus a markdown cell every 5); {args.repeat} runs each; {machine()}")
    print()
    base_wall = statistics.median(w for w, _ in ours[sizes[0]])
    base_cpu = statistics.median(c for _, c in ours[sizes[0]])
    rows = []
    for size in sizes:
        walls, cpus = [w for w, _ in ours[size]], [c for _, c in ours[size]]
        ruff_walls = [w for w, _ in theirs[size]]
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        rows.append([f"{size:,}", f"{wall:.3f}", spread(walls, digits=3), f"{wall / base_wall:.1f}x",
                     f"{cpu:.3f}", f"{cpu / base_cpu:.1f}x", f"{statistics.median(ruff_walls):.3f}"])
    print(table(["code cells", "check_file median (s)", "min-max (s)", "x 100 cells (wall)", "CPU median (s)",
                 "x 100 cells (CPU)", "ruff check median (s)"], rows))
    print()
    print("Target: 1,000 cells at most 11x, 10,000 cells at most 110x the 100-cell time.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
