"""Which findings the user switched off: selection, `# readiness: ignore[...]`, `# noqa`, cell tags."""
from __future__ import annotations

import re
from functools import lru_cache

from .findings import Finding

IGNORE_TAG = "readiness-ignore"
_DIRECTIVE = re.compile(
    r"#\s*(?:readiness:\s*ignore|noqa)(?:\s*(?:\[(?P<bracket>[^\]]*)\]|:\s*(?P<colon>[A-Za-z0-9_\-, ]+)))?",
    re.IGNORECASE,
)
ALL = "*"


@lru_cache(maxsize=8192)
def directives(source: str) -> dict[int, frozenset[str]]:
    """Line number -> codes switched off there (ALL for a bare directive); line 0 means the whole cell."""
    if "#" not in source:
        return {}
    found: dict[int, frozenset[str]] = {}
    for number, text in enumerate(source.splitlines(), start=1):
        if "#" not in text:
            continue
        codes: set[str] = set()
        for match in _DIRECTIVE.finditer(text):
            listed = match["bracket"] if match["bracket"] is not None else match["colon"]
            if listed is None or not listed.strip():
                codes.add(ALL)
            else:
                codes.update(code.strip().upper() for code in re.split(r"[,\s]+", listed) if code.strip())
        if codes:
            found[number] = frozenset(codes)
            # On the first line of a cell a directive covers the whole cell.
            if number == 1:
                found[0] = frozenset(codes)
    return found


def _covers(codes: frozenset[str], finding: Finding) -> bool:
    return ALL in codes or finding.code.upper() in codes or finding.name.upper() in codes


def is_suppressed(finding: Finding, source: str, tags: tuple[str, ...]) -> bool:
    if IGNORE_TAG in tags:
        return True
    marks = directives(source)
    if not marks:
        return False
    whole_cell = marks.get(0)
    if whole_cell and _covers(whole_cell, finding):
        return True
    on_line = marks.get(finding.line)
    return bool(on_line and _covers(on_line, finding))


def matches(finding: Finding, selectors: tuple[str, ...]) -> bool:
    """A selector is ALL, a code or code prefix (RP1, F4), a rule name or a category."""
    for selector in selectors:
        wanted = selector.strip()
        if not wanted:
            continue
        if wanted.upper() == "ALL" or finding.code.upper().startswith(wanted.upper()):
            return True
        if wanted.lower() in (finding.name, finding.category):
            return True
    return False


def is_selected(finding: Finding, select: tuple[str, ...], ignore: tuple[str, ...]) -> bool:
    if select and not matches(finding, select):
        return False
    return not (ignore and matches(finding, ignore))
