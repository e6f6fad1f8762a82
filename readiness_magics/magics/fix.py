"""`%readiness fix [CODES] [--unsafe] [--write]`: the diff the fixes make to the saved notebook, written on request."""
from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from ..config import settings_for
from ..report import display_path
from .display import Snippet


@magic_arguments()
@argument("codes", nargs="*", metavar="CODES", help="only the fixes of these codes or prefixes (RP202 RP7)")
@argument("--unsafe", action="store_true", help="the unsafe fixes too (they change what the notebook does)")
@argument("--write", action="store_true",
          help="write the fixed notebook, when the saved file is what this kernel's session has")
@argument("--path", metavar="PATH", help="a notebook other than this session's (shown, never written)")
def fix_parser():
    """Show the diff the fixes would make to the saved notebook; --write writes it."""


fix_parser.parser.prog = "%readiness fix"


def run_fix(magics, line: str) -> Snippet:
    from ..fixes.apply import write_atomically
    from ..fixes.run import cell_diff, fix_content

    try:
        args = parse_argstring(fix_parser, line)
    except ValueError as exc:
        raise UsageError(f"cannot read the options ({exc})") from None
    codes = tuple(code.strip() for part in args.codes for code in part.split(",") if code.strip())
    target = magics.target(args.path)
    if target.path is None or target.kind == "history":
        raise UsageError("no saved notebook to fix: this kernel's session names none; pass --path NOTEBOOK "
                         "to see the diff, or run `readiness check --fix NOTEBOOK` in a terminal")
    if target.notebook is None:
        raise UsageError(f"cannot read {target.description}: {target.error.message if target.error else ''}")
    raw = target.path.read_bytes()
    # The kernel's facts (its installed versions are evidence for pins) only for its own session's notebook.
    same = target.kind in ("session", "vscode")
    kernel = magics._kernel_facts(same_session=True, saved=target.path) if same else None
    outcome = fix_content(raw, target.path, settings=settings_for(target.path), unsafe=args.unsafe, codes=codes,
                          kernel=kernel)
    name = str(display_path(target.path))
    diff = cell_diff(outcome.before, outcome.after, name)
    if outcome.problem:
        print(f"readiness fix: {outcome.problem}")
    if not outcome.changed:
        hint = "" if args.unsafe else " (--unsafe for the unsafe ones)"
        print(f"readiness fix: nothing to fix in {name}{hint}")
        return Snippet("", "diff")
    if args.write:
        refusal = _why_not_written(target)
        if refusal:
            print(f"readiness fix: not written: {refusal}")
        elif target.path.read_bytes() != raw:
            print("readiness fix: not written: the file changed on disk meanwhile; run this again")
        else:
            write_atomically(target.path, outcome.after)
            print(f"readiness fix: wrote {len(outcome.applied)} fix(es) to {name}. Reload it from disk in "
                  "your editor (File > Reload Notebook from Disk) before saving, or the open copy will "
                  "overwrite them.")
    else:
        print(f"readiness fix: {len(outcome.applied)} fix(es); add --write to write them to {name}")
    return Snippet(diff, "diff")


def _why_not_written(target) -> str | None:
    """Why the saved file may not be what this kernel's session has (then a write could lose work)."""
    if target.kind not in ("session", "vscode"):
        return (f"{target.short} is not the notebook of this kernel's session; run "
                f"`readiness check --fix {target.short}` in a terminal instead")
    unsaved = [note for note in target.notes if "unsaved edits" in note]
    if unsaved:
        return "the saved file does not hold cells this kernel ran (unsaved edits); save the notebook first"
    return None
