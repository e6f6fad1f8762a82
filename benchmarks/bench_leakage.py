"""What the data-leakage rules (RP801-RP803) add to `readiness check` on a folder of notebooks.

Usage: python benchmarks/bench_leakage.py [FOLDER] [--repeat N]
FOLDER defaults to ../shared/corpus/real. The check runs in this process as the CLI runs it with
`--no-ruff --jobs 1` (`engine.check_paths`; without ruff the share is the larger), once with every rule
and once without the three leakage rules, interleaved, N runs each; then the leakage rules' own time,
summed over every notebook (the flow they share is built by the first of them). Prints Markdown tables:
median and spread of wall and CPU time, and the added share.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from unittest import mock

from _shared import DEFAULT_CORPUS, machine, median, spread, table

from readiness_magics import engine
from readiness_magics.analysis import NotebookModel
from readiness_magics.config import settings_for
from readiness_magics.notebook import NotebookError, read_notebook
from readiness_magics.rules import all_rules
from readiness_magics.rules.dispatch import findings_of

LEAKAGE = ("RP801", "RP802", "RP803")


def without_leakage():
    return tuple(rule for rule in all_rules() if rule.code not in LEAKAGE)


def run(paths, leakage: bool) -> tuple[float, float]:
    engine.clear_caches()
    start, cpu = time.perf_counter(), time.process_time()
    if leakage:
        engine.check_paths(paths, use_ruff=False, jobs=1)
    else:
        with mock.patch("readiness_magics.rules.all_rules", without_leakage):
            engine.check_paths(paths, use_ruff=False, jobs=1)
    return time.perf_counter() - start, time.process_time() - cpu


def rules_alone(paths) -> tuple[float, int]:
    """CPU seconds inside the three rules' check(), and their findings, over every notebook."""
    rules = [rule for rule in all_rules() if rule.code in LEAKAGE]
    spent, found = 0.0, 0
    for path in paths:
        try:
            notebook = read_notebook(path)
        except NotebookError:
            continue
        model = NotebookModel(notebook, settings_for(path))
        start = time.process_time()
        for rule in rules:
            found += len(findings_of(rule, model))
        spent += time.process_time() - start
    return spent, found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=str(DEFAULT_CORPUS))
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args(argv)
    paths = engine.collect_notebooks([options.folder])
    all_rules()
    run(paths[:20], True)  # imports and first-call costs out of the way
    timings = {True: [], False: []}
    for _ in range(options.repeat):
        for leakage in (False, True):
            timings[leakage].append(run(paths, leakage))
    rows = []
    for leakage, label in ((False, "readiness check --no-ruff --jobs 1, without RP801-RP803"),
                           (True, "readiness check --no-ruff --jobs 1, every rule")):
        walls = [wall for wall, _ in timings[leakage]]
        cpus = [cpu for _, cpu in timings[leakage]]
        rows.append([label, f"{median(walls):.2f}", spread(walls), f"{median(cpus):.2f}", spread(cpus)])
    base = median([cpu for _, cpu in timings[False]])
    added = median([cpu for _, cpu in timings[True]]) - base
    alone, found = rules_alone(paths)
    print(f"{len(paths)} notebooks in {options.folder}; {machine()}\n")
    print(table(["what", "wall median (s)", "min-max (s)", "CPU median (s)", "min-max (s)"], rows))
    print()
    print(table(["measure", "value"], [
        ["CPU added by the leakage rules (difference of medians)", f"{added:.3f} s ({100 * added / base:.1f}%)"],
        ["CPU inside the three rules' check(), summed", f"{alone:.3f} s ({100 * alone / base:.1f}%)"],
        ["findings", str(found)],
    ]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
