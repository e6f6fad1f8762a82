"""The readiness score's distribution over a folder of notebooks, as a histogram (docs/score-histogram.png).

    python benchmarks/score_histogram.py [FOLDER] [-o docs/score-histogram.png] [--jobs N] [--before JSON]

FOLDER defaults to ../shared/corpus/real (from the repository's root). Beside the score it plots the
score as it was before: from `--before`, the JSON output of an older `readiness check` over the same
folder; without it, the old formula (each finding kept a share of what was left: 0.88 per error, 0.96
per warning, 0.995 per info) on today's findings. A third panel puts each score against the
notebook's number of code cells. It prints the spread per top-level folder and the sample notebooks'
ranking.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from readiness_magics.engine import check_paths  # noqa: E402

_OLD_KEEP = {"error": 0.88, "warning": 0.96, "info": 0.995}


def old_score(report) -> int:
    score = 100.0
    for finding in report.findings:
        score *= _OLD_KEEP[finding.severity.value]
    return int(round(score))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default="../shared/corpus/real")
    parser.add_argument("-o", "--output", default=str(ROOT / "docs" / "score-histogram.png"))
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--before", help="JSON of an older `readiness check --format json FOLDER`")
    args = parser.parse_args()

    folder = Path(args.folder).resolve()
    if not folder.is_dir():
        parser.error(f"no folder {folder}")
    reports = [r for r in check_paths([folder], jobs=args.jobs) if r.error is None]
    new = [r.score for r in reports]
    if args.before:
        import json

        earlier = {str(Path(entry["path"]).resolve()): entry["summary"]["score"]
                   for entry in json.loads(Path(args.before).read_text())["notebooks"] if not entry["error"]}
        old = [earlier.get(str(Path(r.path).resolve()), old_score(r)) for r in reports]
        before_title = "before (the previous version)"
    else:
        old = [old_score(r) for r in reports]
        before_title = "before: each finding takes a share"
    cells = [_code_cells(Path(r.path)) for r in reports]

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = list(range(0, 105, 5))
    figure, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    for axis, values, title, colour in (
        (axes[0], old, before_title, "#9e9e9e"),
        (axes[1], new, "now: a rubric over the categories", "#1565c0"),
    ):
        axis.hist(values, bins=bins, color=colour, edgecolor="white")
        axis.set_title(f"{title}\nmedian {statistics.median(values):.0f}, "
                       f"IQR {_quantile(values, .25):.0f}-{_quantile(values, .75):.0f}", fontsize=10)
        axis.set_xlabel("readiness score")
        axis.set_ylabel("notebooks")
        axis.set_xlim(0, 100)
    axes[2].scatter(cells, old, s=6, color="#9e9e9e", alpha=0.6, label="before")
    axes[2].scatter(cells, new, s=6, color="#1565c0", alpha=0.6, label="now")
    axes[2].set_xscale("log")
    axes[2].set_xlabel("code cells (log)")
    axes[2].set_ylabel("readiness score")
    axes[2].set_ylim(0, 102)
    axes[2].set_title("score against length: no saturation", fontsize=10)
    axes[2].legend(loc="lower left", fontsize=8)
    figure.suptitle(f"Readiness score of {len(reports)} notebooks ({folder.name})", fontsize=11)
    figure.tight_layout()
    figure.savefig(args.output, dpi=100)
    print(f"wrote {args.output}: {len(reports)} notebooks")

    by_source: dict[str, list[int]] = defaultdict(list)
    for report in reports:
        relative = Path(report.path).resolve().relative_to(folder)
        by_source[relative.parts[0] if len(relative.parts) > 1 else "."].append(report.score)
    print("\n| folder | notebooks | min | median | max |\n|---|---|---|---|---|")
    for source, values in sorted(by_source.items()):
        print(f"| {source} | {len(values)} | {min(values)} | {statistics.median(values):.0f} | {max(values)} |")

    samples = sorted(check_paths([ROOT / "sample_notebooks"], jobs=1), key=lambda r: -r.score)
    print("\n| sample notebook | score | before | what the score is made of |\n|---|---|---|---|")
    from readiness_magics.report import score_explanation

    for report in samples:
        print(f"| {Path(report.path).name} | {report.score} | {old_score(report)} | "
              f"{score_explanation(report.score_breakdown())} |")


def _code_cells(path: Path) -> int:
    import json

    try:
        return max(1, sum(cell.get("cell_type") == "code" for cell in json.loads(path.read_text())["cells"]))
    except (OSError, ValueError, KeyError, TypeError):
        return 1


def _quantile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


if __name__ == "__main__":
    main()
