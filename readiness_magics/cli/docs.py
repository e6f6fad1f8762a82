"""Regenerate the README's rule table from the rules' own docs: `python -m readiness_magics.cli.docs README.md`."""
from __future__ import annotations

import sys
from pathlib import Path

START, END = "<!-- rules:start -->", "<!-- rules:end -->"


def rules_section() -> str:
    from ..rules import all_rules
    from .main import rules_markdown_table

    return f"{START}\n{rules_markdown_table(all_rules())}\n{END}"


def update(readme: Path) -> bool:
    """Rewrite the section between the markers; True when the file changed."""
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{readme}: no {START} ... {END} markers")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    new = before + rules_section() + after
    if new != text:
        readme.write_text(new, encoding="utf-8")
        return True
    return False


if __name__ == "__main__":  # pragma: no cover
    changed = update(Path(sys.argv[1] if len(sys.argv) > 1 else "README.md"))
    print("README rule table updated" if changed else "README rule table already up to date")
