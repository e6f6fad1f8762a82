"""Time `readiness check` on a folder of notebooks beside ruff on the same files, in one run.

Usage: python benchmarks/bench_check.py [FOLDER] [--repeat N] [--no-profile]
FOLDER defaults to ../shared/corpus/real when it is there. Prints a Markdown table: median, spread
(min-max) and the ratio to `ruff check` with the rule selection readiness gives it (both cold:
`--no-cache`), plus the floors (reading the JSON, parsing every cell); the CPU column (user + system, children included) is the steadier figure on a
busy machine. Then where the time goes: the whole check of the folder in this process (one batch,
ruff included) under cProfile, grouped by stage (load, transform, analysis, each rule family, ruff,
report), and the top entries by cumulative time.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _shared import DEFAULT_CORPUS, machine, ruff_command, table


def notebooks_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


# As an installed tool runs: with its modules' bytecode cached (some sandboxes turn that off).
_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system of the command and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=_ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def in_process(function, *args) -> tuple[float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    function(*args)
    return time.perf_counter() - start, time.process_time() - cpu


def floor_json(paths: list[Path]) -> None:
    for path in paths:
        json.loads(path.read_bytes())


def floor_parse(paths: list[Path]) -> tuple[float, float]:
    sources = []
    for path in paths:
        for cell in json.loads(path.read_bytes()).get("cells", []):
            if cell.get("cell_type") == "code":
                source = cell.get("source", "")
                sources.append("".join(source) if isinstance(source, list) else source)
    def parse_all():
        for source in sources:
            try:
                ast.parse(source)
            except (SyntaxError, ValueError):
                pass

    return in_process(parse_all)


def floor_run(folder: Path, jobs: int) -> None:
    """The least any checker written in Python on CPython's parser must do, as `readiness check` spreads
    it: ruff over the folder in its own process, and `jobs` processes reading the JSON of every notebook
    and parsing every code cell (nothing transformed, walked or checked)."""
    import multiprocessing

    ruff = subprocess.Popen(ruff_command(folder) + [str(folder)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=_ENV)
    paths = notebooks_in(folder)
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        pool.map(_read_and_parse, [paths[start::jobs] for start in range(jobs)])
    ruff.wait()


def _read_and_parse(paths: list[Path]) -> None:
    for path in paths:
        try:
            cells = json.loads(path.read_bytes()).get("cells", [])
        except (ValueError, AttributeError):
            continue
        for cell in cells if isinstance(cells, list) else ():
            if isinstance(cell, dict) and cell.get("cell_type") == "code":
                source = cell.get("source", "")
                try:
                    ast.parse("".join(source) if isinstance(source, list) else source)
                except (SyntaxError, ValueError, TypeError):
                    pass


# Where the time goes: cumulative time of each stage's entry points under cProfile.
def _stage(filename: str, function: str) -> str | None:
    path = Path(filename).as_posix()
    if "/readiness_magics/" not in path:
        return None
    module = path.rsplit("/readiness_magics/", 1)[1].removesuffix(".py")
    if module.startswith("rules/") and function in ("check", "visit", "visit_cell"):
        return "rules: " + module.split("/", 1)[1].split("/")[0]
    return {
        ("notebook", "read_notebook"): "load (read + JSON + cells)",
        ("transform", "to_python"): "transform (IPython syntax)",
        ("analysis", "analyse_source"): "analysis (parse + walk, transform included)",
        ("ruff_bridge", "__init__"): "ruff (start the process)",
        ("ruff_bridge", "result"): "ruff (wait for it, read its JSON)",
        ("ruff_bridge", "to_findings"): "ruff (map to cells)",
        ("engine", "keep_wanted"): "suppression, selection, sorting",
        ("engine", "check_batch"): "total (check_batch)",
    }.get((module, function))


def profile(paths: list[Path], top: int = 15) -> None:
    import cProfile
    import gc
    import pstats

    from readiness_magics import analysis, engine
    from readiness_magics.rules import all_rules

    all_rules()
    engine.check_batch(paths[:3], {}, True)  # imports, not profiled
    analysis.analyse_source.cache_clear()
    if hasattr(engine, "clear_caches"):
        engine.clear_caches()
    gc.collect()
    profiler = cProfile.Profile()
    profiler.enable()
    engine.check_batch(paths, {}, True)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    stages: dict[str, float] = {}
    for (filename, _line, function), (_cc, _nc, _tt, cumulative, _callers) in stats.items():
        stage = _stage(filename, function)
        if stage:
            stages[stage] = stages.get(stage, 0.0) + cumulative
    total = stages.pop("total (check_batch)", 0.0) or 1.0
    print()
    print(f"Where the time goes: {len(paths)} notebooks checked in this process as one batch with ruff, "
          f"under cProfile (which slows Python code down; read the shares)")
    print()
    rows = [[name, f"{seconds:.2f}", f"{100 * seconds / total:.0f}%"]
            for name, seconds in sorted(stages.items(), key=lambda item: -item[1])]
    rows.append(["total (check_batch)", f"{total:.2f}", "100%"])
    print(table(["stage (cumulative)", "seconds", "share"], rows))
    print()
    entries = []
    for (filename, line, function), (_cc, calls, _tt, cumulative, _callers) in stats.items():
        path = Path(filename).as_posix()
        if "/readiness_magics/" in path:
            where = "readiness_magics/" + path.rsplit("/readiness_magics/", 1)[1]
        elif filename == "~":
            where = "builtin"
        else:
            where = Path(filename).name
        entries.append((cumulative, calls, f"{where}:{line}({function})"))
    entries.sort(reverse=True)
    skip = {"check_batch", "_check_batch", "rule_findings", "<method 'extend' of 'list' objects>"}
    rows = [[name, f"{calls}", f"{cumulative:.2f}", f"{100 * cumulative / total:.0f}%"]
            for cumulative, calls, name in entries
            if not any(name.endswith(f"({s})") for s in skip)][:top]
    print(table(["top entries by cumulative time", "calls", "seconds", "share"], rows))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=str(DEFAULT_CORPUS))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-profile", action="store_true", help="skip the profile summary")
    parser.add_argument("--floor", type=int, metavar="JOBS", help=argparse.SUPPRESS)  # the floor's own run
    args = parser.parse_args()
    folder = Path(args.folder)
    if not folder.is_dir():
        print(f"no folder {folder}; pass one", file=sys.stderr)
        return 2
    if args.floor:
        floor_run(folder, args.floor)
        return 0
    paths = notebooks_in(folder)
    # Cold: without readiness's cache; ruff with the rule selection readiness gives it.
    readiness = [sys.executable, "-m", "readiness_magics", "check", "--no-progress", "--no-cache", str(folder)]
    candidates = {
        "ruff check (readiness's selection)": ruff_command(folder) + [str(folder)],
        "readiness check": readiness,
        "readiness check --no-ruff": readiness + ["--no-ruff"],
        "readiness check --no-ruff --jobs 1": readiness + ["--no-ruff", "--jobs", "1"],
        f"floor: ruff beside {os.cpu_count()} processes reading and parsing every cell":
            [sys.executable, __file__, str(folder), "--floor", str(os.cpu_count() or 1)],
    }
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in candidates}
    times["floor: json.load of every file"] = []
    times["floor: ast.parse of every code cell"] = []
    for command in candidates.values():  # warm-up: file cache, bytecode cache
        timed(command)
    for _ in range(args.repeat):
        # Interleaved, so a noisy moment hurts every candidate alike.
        for name, command in candidates.items():
            times[name].append(timed(command))
        times["floor: json.load of every file"].append(in_process(floor_json, paths))
        times["floor: ast.parse of every code cell"].append(floor_parse(paths))
    baseline = statistics.median(wall for wall, _ in times["ruff check (readiness's selection)"])
    baseline_cpu = statistics.median(cpu for _, cpu in times["ruff check (readiness's selection)"])
    print(f"{len(paths)} notebooks in {folder}; {args.repeat} runs each; {machine()}")
    print()
    rows = []
    for name, values in times.items():
        walls, cpus = [wall for wall, _ in values], [cpu for _, cpu in values]
        median, cpu = statistics.median(walls), statistics.median(cpus)
        rows.append([name, f"{median:.2f}", f"{min(walls):.2f}-{max(walls):.2f}", f"{median / baseline:.1f}",
                     f"{cpu:.2f}", f"{cpu / baseline_cpu:.1f}"])
    print(table(["what", "wall median (s)", "min-max (s)", "x ruff (wall)", "CPU median (s)", "x ruff (CPU)"],
                rows))
    print()
    print("Target (issue 18): readiness check at most 3x ruff's wall time.")
    if not args.no_profile:
        profile(paths)
    return 0


if __name__ == "__main__":
    sys.exit(main())
