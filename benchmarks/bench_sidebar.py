"""The sidebar's re-check: a notebook of 300 code cells, one cell edited, checked again in the server.

Usage: python benchmarks/bench_sidebar.py [--cells N] [--repeat N]
What the server does for the sidebar's POST /readiness/check with unsaved content:
`engine.check_content(notebook_dict, path=..., use_ruff=...)` and `report.to_dict()`. Timed in this
process: the first check (every cell new to the per-cell cache), a re-check with nothing changed,
and a re-check after one cell was edited (a different cell and a new text each time, so its cache
entry misses, as when someone types). Prints a Markdown table: median, p90 and spread in
milliseconds, wall time and this thread's CPU time (robust on a busy machine). Target:
at most 10 ms for the edited case (issue 18).
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _shared import generated_notebook, machine, spread, table, write_notebook

from readiness_magics import engine

TARGET_MS = 10.0  # issue 18 (it was 20 in issue 6)


def timed(function) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.thread_time()
    function()
    return time.perf_counter() - wall, time.thread_time() - cpu


def clear_caches() -> None:
    from readiness_magics import analysis

    analysis.analyse_source.cache_clear()
    if hasattr(engine, "clear_caches"):  # the per-cell rule caches, where there are any
        engine.clear_caches()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    notebook = generated_notebook(args.cells)
    code_positions = [index for index, cell in enumerate(notebook["cells"]) if cell["cell_type"] == "code"]
    with tempfile.TemporaryDirectory() as folder:
        path = write_notebook(notebook, Path(folder) / "sidebar.ipynb")
        engine.check_content(copy.deepcopy(notebook), path=str(path), use_ruff=False)  # imports, rules registry

        def check(content, use_ruff):
            return lambda: engine.check_content(content, path=str(path), use_ruff=use_ruff).to_dict()

        results: dict[str, tuple[list[float], list[float]]] = {}

        def record(name, sample):
            walls, cpus = results.setdefault(name, ([], []))
            walls.append(sample[0])
            cpus.append(sample[1])

        edits = 0
        for _ in range(args.repeat):
            for use_ruff in (False, True):
                label = "with ruff" if use_ruff else "use_ruff=False"
                clear_caches()
                record(f"first check ({label})", timed(check(copy.deepcopy(notebook), use_ruff)))
                record(f"re-check, nothing changed ({label})", timed(check(copy.deepcopy(notebook), use_ruff)))
                edits += 1
                edited = copy.deepcopy(notebook)
                cell = edited["cells"][code_positions[(edits * 37) % len(code_positions)]]
                cell["source"] = cell["source"] + [f"\nprint('edit {edits}')  # typed"]
                record(f"re-check, one cell edited ({label})", timed(check(edited, use_ruff)))
    print(f"{args.cells} code cells ({len(notebook['cells'])} cells); {args.repeat} runs each; {machine()}")
    print()
    rows = []
    for name, (walls, cpus) in results.items():
        p90 = statistics.quantiles(walls, n=10)[-1] if len(walls) > 1 else walls[0]
        rows.append([name, f"{statistics.median(walls) * 1000:.1f}", f"{p90 * 1000:.1f}",
                     spread(walls, 1000, 1), f"{statistics.median(cpus) * 1000:.1f}"])
    print(table(["engine.check_content + to_dict", "median (ms)", "p90 (ms)", "min-max (ms)", "CPU median (ms)"],
                rows))
    print()
    print(f"Target: one cell edited, use_ruff=False, at most {TARGET_MS:.0f} ms.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
