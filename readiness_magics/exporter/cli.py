"""`readiness export NB.ipynb [-o DIR] [--name PKG] [--force] [--format text|json]`."""
from __future__ import annotations

import argparse
import json
import sys


def add_export_command(subparsers) -> argparse.ArgumentParser:
    """Register `export` on the `readiness` parser's sub-commands; its handler is `run_export(args) -> int`."""
    parser = subparsers.add_parser(
        "export",
        help="export a clean notebook into an installable, tested Python package",
        description="Write NOTEBOOK as a package folder OUTPUT_DIR/NAME: pyproject.toml with pinned dependencies, "
                    "params.py, pipeline.py with run(params), __main__.py and generated tests. Refused (exit 1) "
                    "when the notebook has findings at the fail level, unless --force.",
    )
    parser.add_argument("notebook", metavar="NOTEBOOK")
    parser.add_argument("-o", "--output-dir", default=None,
                        help="folder to write the package folder into (default: the notebook's folder)")
    parser.add_argument("--name", default=None, help="package name (default: from the notebook's file name)")
    parser.add_argument("--force", action="store_true",
                        help="export despite blocking findings (listed in the README as known issues) and replace "
                             "an existing package folder")
    parser.add_argument("--fail-on", choices=("error", "warning", "info"), default=None,
                        help="lowest severity that refuses the export (default: error, or the config's fail-on)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=run_export)
    return parser


def run_export(args) -> int:
    from ..config import ConfigError, settings_for
    from .api import ExportError, export_notebook

    try:
        settings = settings_for(args.notebook)
        if args.fail_on:
            settings = settings.with_overrides(fail_on=args.fail_on)
    except ConfigError as exc:
        print(f"readiness: {exc}", file=sys.stderr)
        return 2
    try:
        result = export_notebook(args.notebook, args.output_dir, name=args.name, force=args.force, settings=settings)
    except ExportError as exc:
        if args.format == "json":
            print(json.dumps(exc.to_dict(), indent=2))
        print(f"readiness export: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # the package cannot be written: one line naming the notebook, exit 2
        return _cannot_write(args, exc)
    if args.format == "json":
        print(json.dumps(result.to_dict(), indent=2))
        return result.exit_code
    if not result.written:
        print(f"readiness export: {result.message}", file=sys.stderr)
        for finding in result.blocking:
            where = f"cell {finding.cell_index}:{finding.line}:{finding.column}" if finding.cell_index is not None \
                else "notebook"
            print(f"  {where}: {finding.code} [{finding.severity.value}] {finding.message}", file=sys.stderr)
        return result.exit_code
    print(result.message)
    for finding in result.known_issues:
        print(f"  known issue: {finding.code} cell {finding.cell_index}: {finding.message}")
    for warning in result.warnings:
        print(f"  note: {warning}")
    return result.exit_code


def _cannot_write(args, exc: Exception) -> int:
    import os
    import traceback

    from ..failures import debug_enabled, hint, one_line
    from .render import RenderError

    if debug_enabled():
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    name = os.path.basename(args.notebook)
    if isinstance(exc, RenderError):  # the exporter's own refusal to write code that would not run
        reason = " ".join(str(exc).splitlines()[0].split()).rstrip(":")
        kind, message = "cannot-write", f"cannot write a package for {name}: {reason}"
    else:
        kind, message = "internal-error", f"cannot write a package for {name}: internal error: {one_line(exc)}"
    if args.format == "json":
        print(json.dumps({"status": "error", "kind": kind, "message": message, "exit_code": 2}, indent=2))
    print(f"readiness export: {message}{hint()}", file=sys.stderr)
    return 2
