"""Cold and warm (cached) `readiness check` beside ruff with and without its cache, on a folder and on one notebook.

Usage: python benchmarks/bench_cache.py [FOLDER] [--repeat N] [--one NOTEBOOK]
FOLDER defaults to ../shared/corpus/real. ruff runs with the rule selection readiness gives it (read
from `ruff_bridge` and the folder's settings at run time, so a change of readiness's default is
measured as it is). Cold: `readiness check --no-cache` and `ruff check --no-cache`; warm: both with
their cache filled by an earlier run of the same command and nothing changed since. One notebook:
as pre-commit calls the hook (the `readiness` console script on one file), beside ruff on that file
and the interpreter's own start (`python -c pass`). Candidates are interleaved; median and spread of
wall time, and CPU time (user + system, children included), the steadier figure on a busy machine.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from _shared import DEFAULT_CORPUS, ROOT, machine, ruff_command, table
from bench_check import notebooks_in, timed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=str(DEFAULT_CORPUS))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--one", default=str(ROOT / "sample_notebooks" / "churn_model.ipynb"),
                        help="the notebook of the pre-commit case")
    args = parser.parse_args()
    folder, one = Path(args.folder), Path(args.one)
    if not folder.is_dir():
        print(f"no folder {folder}; pass one", file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    try:
        return run(folder, one, scratch, args.repeat)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run(folder: Path, one: Path, scratch: Path, repeat: int) -> int:
    bin_dir = Path(sys.executable).parent
    script = bin_dir / "readiness"
    readiness = [str(script)] if script.exists() else [sys.executable, "-m", "readiness_magics"]
    check = [*readiness, "check", "--no-progress"]
    ruff = ruff_command(folder)
    ruff_cached = [part for part in ruff if part != "--no-cache"]
    selection = " ".join(ruff[ruff.index("--quiet") + 1:]) or "ruff's default rules"
    corpus = {
        "ruff check --no-cache": ruff + [str(folder)],
        "ruff check, cached": ruff_cached + ["--cache-dir", str(scratch / "ruff-folder"), str(folder)],
        "readiness check --no-cache (cold)": check + ["--no-cache", str(folder)],
        "readiness check, cached (warm)": check + ["--cache-dir", str(scratch / "readiness-folder"), str(folder)],
    }
    single = {
        "floor: python -c pass": [sys.executable, "-c", "pass"],
        "ruff check --no-cache, one notebook": ruff + [str(one)],
        "ruff check, cached, one notebook": ruff_cached + ["--cache-dir", str(scratch / "ruff-one"), str(one)],
        "readiness check --no-cache, one notebook": check + ["--no-cache", str(one)],
        "readiness check, cached, one notebook": check + ["--cache-dir", str(scratch / "readiness-one"), str(one)],
    }
    print(f"{len(notebooks_in(folder))} notebooks in {folder}; one notebook: {one.name}; {repeat} runs each; "
          f"ruff with {selection} ({Path(ruff[0]).name} {' '.join(ruff[1:])}); {machine()}")
    for title, candidates, baseline in (("the folder", corpus, "ruff check --no-cache"),
                                        ("one notebook, as pre-commit runs the hook", single,
                                         "ruff check --no-cache, one notebook")):
        for command in candidates.values():  # warm-up: file cache, bytecode, and both tools' caches filled
            timed(command)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in candidates}
        for _ in range(repeat):
            for name, command in candidates.items():  # interleaved: a noisy moment hurts all alike
                times[name].append(timed(command))
        base = statistics.median(wall for wall, _ in times[baseline])
        base_cpu = statistics.median(cpu for _, cpu in times[baseline])
        scale, unit = (1, "s") if title == "the folder" else (1000, "ms")
        digits = 2 if unit == "s" else 0
        rows = []
        for name, values in times.items():
            walls, cpus = [wall for wall, _ in values], [cpu for _, cpu in values]
            rows.append([name, f"{statistics.median(walls) * scale:.{digits}f}",
                         f"{min(walls) * scale:.{digits}f}-{max(walls) * scale:.{digits}f}",
                         f"{statistics.median(walls) / base:.1f}", f"{statistics.median(cpus) * scale:.{digits}f}",
                         f"{statistics.median(cpus) / base_cpu:.1f}"])
        print()
        print(f"{title}:")
        print()
        print(table(["what", f"wall median ({unit})", f"min-max ({unit})", "x ruff --no-cache (wall)",
                     f"CPU median ({unit})", "x ruff --no-cache (CPU)"], rows))
    print()
    print("Targets (issue 18): cold at most 3x ruff --no-cache; warm at most ruff's cached run; "
          "one notebook at most 100 ms wall.")
    return 0


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.exit(main())
