"""`readiness check --fix | --unsafe-fixes | --diff | --fix-only`, with ruff's meanings."""
from __future__ import annotations

import sys

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def add_fix_arguments(check) -> None:
    check.add_argument("--fix", action="store_true", help="apply the safe fixes and report what remains")
    check.add_argument("--unsafe-fixes", action="store_true",
                       help="with --fix, --diff or --fix-only: apply the unsafe fixes too")
    check.add_argument("--diff", action="store_true",
                       help="print a diff of the cells the fixes would change, and write nothing")
    check.add_argument("--fix-only", action="store_true", help="apply fixes and report nothing else")


def fixing(args) -> bool:
    return bool(getattr(args, "fix", False) or getattr(args, "diff", False) or getattr(args, "fix_only", False))


def run_fix(args, overrides: dict) -> int:
    """Fix each notebook in turn (no cache, no worker processes), then report what remains."""
    from ..config import parse_severity, settings_for
    from ..engine import collect_notebooks
    from ..fixes.run import cell_diff, fix_file
    from ..report import display_path

    notebooks = collect_notebooks(args.paths)
    if not notebooks:
        print("readiness: no notebooks found", file=sys.stderr)
        return EXIT_USAGE
    outcomes = []
    for path in notebooks:
        settings = settings_for(path).with_overrides(**overrides)
        try:
            outcome = fix_file(path, settings=settings, unsafe=args.unsafe_fixes, use_ruff=not args.no_ruff,
                               write=not args.diff)
        except OSError as exc:
            print(f"readiness: {path}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
        outcomes.append(outcome)
        if outcome.problem:
            print(f"readiness: {display_path(path)}: {outcome.problem}", file=sys.stderr)
    reports = [outcome.report for outcome in outcomes]
    fixed = sum(len(outcome.applied) for outcome in outcomes)
    changed = sum(outcome.changed for outcome in outcomes)
    if args.diff:
        diff = "".join(cell_diff(o.before, o.after, display_path(o.path)) for o in outcomes if o.changed)
        sys.stdout.write(diff)
        print(f"readiness: {fixed} fix(es) would change {changed} notebook(s)", file=sys.stderr)
        if any(report.error for report in reports):
            return EXIT_USAGE
        return EXIT_FINDINGS if changed else EXIT_CLEAN
    print(f"readiness: fixed {fixed} finding(s) in {changed} notebook(s)", file=sys.stderr)
    if any(report.error for report in reports):
        for report in reports:
            if report.error:
                print(f"readiness: {report.path}: {report.error.message}", file=sys.stderr)
        return EXIT_USAGE
    if args.fix_only:
        return EXIT_CLEAN
    fail_on = parse_severity(args.fail_on) if args.fail_on else settings_for(args.paths[0]).fail_on
    from .main import write_report

    write_report(reports, args, fail_on, color=False)
    return EXIT_FINDINGS if any(report.blocking(fail_on) for report in reports) else EXIT_CLEAN
