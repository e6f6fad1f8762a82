"""`readiness check|rules|explain|export`: exit 0 clean, 1 findings at the fail level, 2 usage or unreadable input."""
from __future__ import annotations

import argparse
import gc
import os
import sys

from .. import __version__

# The rest is imported where it is used, after main() has set the collector for a one-off run.

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _codes(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's own, set up when help or an error is printed: argparse makes one for every argument it
    registers (to check the metavar, which needs no set-up), and each asked shutil for the terminal's
    width: the import and the 40 questions cost a fortieth of a one-notebook check."""

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        self._setup = (prog, indent_increment, max_help_position, width)

    def __getattr__(self, name):
        if name == "_setup":
            raise AttributeError(name)
        super().__init__(*self._setup)  # sets every attribute: later lookups do not come here
        return getattr(self, name)


def _command_parser(**options) -> argparse.ArgumentParser:
    options.setdefault("formatter_class", _HelpFormatter)
    return argparse.ArgumentParser(**options)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="readiness",
        description="Find what keeps Jupyter notebooks from production.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"readiness-magics {__version__}")
    parser.add_argument("--verbose", "-v", action="store_true", default=False, help=_VERBOSE_HELP)
    # prog given: argparse would lay out the usage line to find it ("readiness": no positionals before)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", prog="readiness",
                                     parser_class=_command_parser)
    commands.required = True

    check = commands.add_parser("check", help="check notebooks (files or folders, recursively)")
    check.add_argument("paths", nargs="+", metavar="PATH")
    check.add_argument("--format", choices=("text", "json", "sarif", "github", "junit"), default="text")
    check.add_argument("--select", type=_codes, help="only these codes, prefixes, rule names or categories")
    check.add_argument("--ignore", type=_codes, help="leave out these codes, prefixes, rule names or categories")
    check.add_argument("--extend-select", type=_codes, help="add to the selection from the config file")
    check.add_argument("--fail-on", choices=("error", "warning", "info"),
                       help="lowest severity that makes the exit code 1 (default: error)")
    check.add_argument("--jobs", "-j", type=int, help="processes to use (default: all cores for many notebooks)")
    check.add_argument("--no-ruff", action="store_true", help="leave out ruff's code-quality diagnostics")
    check.add_argument("--output", "-o", help="write the report to this file instead of standard output")
    check.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")
    check.add_argument("--no-cache", action="store_true",
                       help="check every notebook again, without reading or writing the cache")
    check.add_argument("--cache-dir", metavar="DIR",
                       help="where to keep the cache (default: $READINESS_CACHE_DIR, else .readiness_cache "
                            "in the project root)")
    check.set_defaults(handler=run_check)
    from .fix import add_fix_arguments

    add_fix_arguments(check)

    rules = commands.add_parser("rules", help="list the rules")
    rules.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    rules.add_argument("--looks-at", action="store_true",
                       help="what each rule is handed by the dispatcher: node types, cells, the whole notebook")
    rules.set_defaults(handler=run_rules)

    explain = commands.add_parser("explain", help="show a rule's documentation")
    explain.add_argument("code", help="a rule code (RP101) or name (hardcoded-local-path)")
    explain.set_defaults(handler=run_explain)

    try:
        from ..exporter.cli import add_export_command
    except ImportError:
        pass
    else:
        add_export_command(commands)
    for command in commands.choices.values():
        # SUPPRESS: `readiness --verbose check` and `readiness check --verbose` both work.
        command.add_argument("--verbose", "-v", action="store_true", default=argparse.SUPPRESS, help=_VERBOSE_HELP)
    return parser


_VERBOSE_HELP = "show the traceback of an internal failure (as READINESS_DEBUG=1 does)"


def main(argv: list[str] | None = None) -> int:
    """The `readiness` command; `argv` None: this process's own command line (the console script)."""
    if argv is None:
        # Most objects a run makes live until it ends (modules, rules, the cells' trees): the collector,
        # started every 700 allocations, would walk them again and again (mypy's main does the same).
        gc.set_threshold(_ONE_RUN_THRESHOLD)
    try:
        return _run(argv)
    finally:
        if argv is None:
            # They go back to the system with the process: frozen, they spare the interpreter the full
            # collection it runs over all of them at exit (a tenth of a one-notebook check).
            gc.freeze()


_ONE_RUN_THRESHOLD = 50_000  # a one-notebook check ends with about 20,000 objects the collector tracks


def _run(argv: list[str] | None) -> int:
    from ..config import ConfigError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose:
        os.environ["READINESS_DEBUG"] = "1"  # worker processes inherit it
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f"readiness: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("readiness: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_CLEAN
    except Exception as exc:  # a bug of ours: one line, never exit 1 (which means findings)
        return report_internal_failure(exc, f"readiness {args.command}")


def report_internal_failure(exc: BaseException, where: str) -> int:
    """One line on stderr (the traceback too with --verbose or READINESS_DEBUG=1); exit code 2."""
    import traceback

    from ..failures import debug_enabled, hint, one_line

    if debug_enabled():
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    print(f"{where}: internal error: {one_line(exc)}{hint()}", file=sys.stderr)
    return EXIT_USAGE


def run_check(args) -> int:
    from ..config import parse_severity
    from ..engine import check_paths

    missing = [path for path in args.paths if not os.path.exists(path)]
    if missing:
        print(f"readiness: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    overrides = {}
    if args.select:
        overrides["select"] = args.select
    if args.ignore:
        overrides["ignore"] = args.ignore
    if args.no_ruff:
        overrides["ruff"] = False
    if args.fail_on:
        overrides["fail_on"] = args.fail_on
    if args.extend_select:
        overrides["extend_select"] = args.extend_select
    from .fix import fixing, run_fix

    if fixing(args):
        return run_fix(args, overrides)
    progress = None
    if not args.no_progress and sys.stderr.isatty() and args.output is None:
        progress = _progress_bar
    cache = None
    if not args.no_cache:
        from ..cache import ReportCache, default_cache_dir

        cache = ReportCache(args.cache_dir or default_cache_dir(), use_ruff=not args.no_ruff, overrides=overrides)
    reports = check_paths(args.paths, overrides=overrides, use_ruff=not args.no_ruff,
                          jobs=args.jobs, progress=progress, cache=cache)
    if progress:
        print("\r\x1b[K", end="", file=sys.stderr)
    if not reports:
        print("readiness: no notebooks found", file=sys.stderr)
        return EXIT_USAGE
    fail_on = parse_severity(args.fail_on) if args.fail_on else _fail_on_from_config(args.paths)
    write_report(reports, args, fail_on,
                 color=args.output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ)
    _show_internal_errors(reports)
    if any(report.error for report in reports):
        return EXIT_USAGE
    blocking = any(report.blocking(fail_on) for report in reports)
    return EXIT_FINDINGS if blocking else EXIT_CLEAN


def write_report(reports, args, fail_on, *, color: bool) -> None:
    """The reports in `--format`, to `--output` (replaced whole, never half written) or standard output."""
    from .formats import FORMATTERS

    formatter = FORMATTERS[args.format]
    if args.format == "text":
        body = formatter(reports, color=color)
    elif args.format == "junit":
        body = formatter(reports, fail_on=fail_on.value)
    else:
        body = formatter(reports)
    if args.output:
        _write_atomically(args.output, body)
    else:
        sys.stdout.write(body)


def _show_internal_errors(reports) -> None:
    """The report already says which notebooks failed, in one line each; with --verbose, stderr
    gets each one's traceback (from the worker that had it)."""
    from ..failures import debug_enabled

    if not debug_enabled():
        return
    for report in reports:
        detail = getattr(report.error, "detail", "") if report.error is not None else ""
        if detail:
            print(f"readiness: traceback of the internal error on {report.path}:\n{detail}", file=sys.stderr)


def _fail_on_from_config(paths):
    from ..config import settings_for

    return settings_for(paths[0]).fail_on


def _write_atomically(path: str, body: str) -> None:
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".readiness-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(body)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _progress_bar(done: int, total: int) -> None:
    if total < 20:
        return
    width = 30
    filled = int(width * done / total)
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} notebooks", end="", file=sys.stderr)


def run_rules(args) -> int:
    import json

    from ..rules import all_rules

    rules = all_rules()
    if args.looks_at:
        print_looks_at(rules, args.format)
    elif args.format == "json":
        print(json.dumps([rule.to_dict() for rule in rules], indent=2))
    elif args.format == "markdown":
        print(rules_markdown_table(rules))
    else:
        for rule in rules:
            summary = rule.docs().summary.split("\n\n")[0].replace("\n", " ")
            print(f"{rule.code:7} {rule.name:34} {rule.category:20} {rule.severity.value:8} {summary}")
    return EXIT_CLEAN


def print_looks_at(rules, form: str) -> None:
    import json

    from ..rules.dispatch import looks_at

    if form == "json":
        print(json.dumps({rule.code: looks_at(rule) for rule in rules}, indent=2))
    elif form == "markdown":
        print("| Code | Name | Looks at |\n|---|---|---|")
        for rule in rules:
            print(f"| {rule.code} | `{rule.name}` | {', '.join(looks_at(rule))} |")
    else:
        for rule in rules:
            print(f"{rule.code:7} {rule.name:34} {', '.join(looks_at(rule))}")


def rules_markdown_table(rules) -> str:
    from ..rules.dispatch import looks_at

    lines = ["| Code | Name | Category | Severity | What it does | Looks at |", "|---|---|---|---|---|---|"]
    for rule in rules:
        summary = rule.docs().summary.split("\n\n")[0].replace("\n", " ").replace("|", "\\|")
        lines.append(f"| {rule.code} | `{rule.name}` | {rule.category} | {rule.severity.value} | {summary} | "
                     f"{', '.join(looks_at(rule))} |")
    return "\n".join(lines)


def run_explain(args) -> int:
    from ..rules import get_rule

    rule = get_rule(args.code)
    if rule is None:
        print(f"readiness: no rule {args.code!r}; `readiness rules` lists them", file=sys.stderr)
        return EXIT_USAGE
    print(explain_text(rule))
    return EXIT_CLEAN


def explain_text(rule) -> str:
    import textwrap

    docs = rule.docs()
    parts = [f"{rule.code} {rule.name} ({rule.category}, {rule.severity.value})", "", docs.summary]
    for title, body in (("Why is this bad?", docs.why), ("Example", docs.example), ("Use instead", docs.use_instead)):
        if body:
            parts += ["", title, textwrap.indent(body, "  ")]
    return "\n".join(parts)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
