"""Output formats of `readiness check`: text (as ruff prints), json (the contract), sarif, github, junit."""
from __future__ import annotations

import json
from collections import Counter

from .. import __version__
from ..findings import Finding
from ..report import NotebookReport

TOOL = {"name": "readiness-magics", "version": __version__}
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _where(report: NotebookReport, finding: Finding) -> str:
    if finding.cell_index is None:
        return f"{report.path}"
    return f"{report.path}:cell {finding.cell_index}:{finding.line}:{finding.column}"


def format_text(reports: list[NotebookReport], *, color: bool = False) -> str:
    def paint(text, code):
        return f"\x1b[{code}m{text}\x1b[0m" if color else text

    lines: list[str] = []
    totals: Counter = Counter()
    errors = failed = 0
    for report in reports:
        if report.error:
            errors += 1
            if report.error.kind == "internal-error":  # the message says so itself
                failed += 1
                lines.append(f"{paint(report.path, '1')}: {paint(report.error.message, '31')}")
            else:
                lines.append(f"{paint(report.path, '1')}: {paint('cannot read', '31')}: {report.error.message}")
            continue
        for finding in _production_first(report.findings):
            severity_colour = {"error": "31", "warning": "33", "info": "36"}[finding.severity.value]
            lines.append(
                f"{paint(_where(report, finding), '1')}: {paint(finding.code, severity_colour)} {finding.message}"
            )
        totals.update(finding.severity.value for finding in report.findings)
    found = sum(totals.values())
    checked = len(reports) - errors
    summary = (
        f"Found {found} finding{'s' if found != 1 else ''} "
        f"({totals['error']} error, {totals['warning']} warning, {totals['info']} info) "
        f"in {checked} notebook{'s' if checked != 1 else ''}"
    )
    if errors - failed:
        summary += f"; {errors - failed} could not be read"
    if failed:
        summary += f"; {failed} failed with an internal error"
    if len(reports) == 1 and not reports[0].error:
        summary += f"; readiness score {reports[0].score}/100"
    lines.append(summary + ".")
    return "\n".join(lines) + "\n"


def _production_first(findings: list) -> list:
    """Errors and warnings in cell order, then the info notes (names, markdown, version control), so a
    reader meets what blocks production first."""
    notes = [f for f in findings if f.severity.value == "info"]
    return [f for f in findings if f.severity.value != "info"] + notes


def to_json(reports: list[NotebookReport]) -> dict:
    return {"tool": dict(TOOL), "notebooks": [report.to_dict() for report in reports]}


def format_json(reports: list[NotebookReport]) -> str:
    import io

    # json.dump writes the indented encoder's small pieces as they come; json.dumps would hold them
    # all in one list first (several times the output's size for reports with many fixes' edits).
    out = io.StringIO()
    json.dump(to_json(reports), out, indent=2)
    out.write("\n")
    return out.getvalue()


def format_github(reports: list[NotebookReport]) -> str:
    """GitHub Actions workflow commands: annotations on the notebook file."""
    lines = []
    for report in reports:
        if report.error:
            lines.append(f"::error file={report.path},title=readiness::{_gh(report.error.message)}")
            continue
        for finding in report.findings:
            level = {"error": "error", "warning": "warning", "info": "notice"}[finding.severity.value]
            where = f"cell {finding.cell_index}, line {finding.line}" if finding.cell_index is not None else "notebook"
            lines.append(f"::{level} file={report.path},title={finding.code} ({where})::{_gh(finding.message)}")
    return "\n".join(lines) + ("\n" if lines else "")


def _gh(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def to_sarif(reports: list[NotebookReport]) -> dict:
    from ..rules import all_rules

    rules = {rule.code: rule for rule in all_rules()}
    used: dict[str, dict] = {}
    results = []
    notifications = []
    for report in reports:
        uri = (report.path or "notebook.ipynb").replace("\\", "/")
        if report.error:
            notifications.append({
                "level": "error",
                "message": {"text": f"{uri}: {report.error.message}"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
            })
            continue
        for finding in report.findings:
            if finding.code not in used:
                used[finding.code] = _sarif_rule(finding, rules.get(finding.code))
            results.append(_sarif_result(uri, finding))
    codes = sorted(used)
    index = {code: number for number, code in enumerate(codes)}
    for result in results:
        result["ruleIndex"] = index[result["ruleId"]]
    run = {
        "tool": {"driver": {
            "name": TOOL["name"], "version": TOOL["version"], "semanticVersion": TOOL["version"],
            "informationUri": "https://pypi.org/project/readiness-magics/",
            "rules": [used[code] for code in codes],
        }},
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if notifications:
        run["invocations"] = [{"executionSuccessful": True, "toolExecutionNotifications": notifications}]
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    }


def _sarif_rule(finding: Finding, rule) -> dict:
    entry = {"id": finding.code, "name": finding.name or finding.code,
             "properties": {"category": finding.category}}
    if rule is not None:
        docs = rule.docs()
        entry["shortDescription"] = {"text": docs.summary.splitlines()[0] if docs.summary else rule.name}
        entry["fullDescription"] = {"text": docs.summary}
        entry["help"] = {"text": f"{docs.why}\n\nUse instead:\n{docs.use_instead}",
                         "markdown": f"{docs.summary}\n\n**Why:** {docs.why}\n\n**Use instead:**\n{docs.use_instead}"}
        entry["defaultConfiguration"] = {"level": _SARIF_LEVEL[rule.severity.value]}
    else:  # ruff's codes
        entry["helpUri"] = f"https://docs.astral.sh/ruff/rules/{finding.name}" if finding.name else None
        entry = {key: value for key, value in entry.items() if value is not None}
    return entry


def _sarif_result(uri: str, finding: Finding) -> dict:
    location: dict = {"physicalLocation": {"artifactLocation": {"uri": uri}}}
    if finding.cell_index is not None:
        # Notebooks are JSON: a line number in the file would mean nothing to a reader, so the region
        # is given within the cell, and the cell is named as a logical location.
        location["physicalLocation"]["region"] = {
            "startLine": finding.line, "startColumn": finding.column,
            "endLine": finding.end_line or finding.line,
            "endColumn": max(finding.end_column or finding.column, 1),
        }
        location["logicalLocations"] = [{"name": f"cell {finding.cell_index}", "kind": "notebookCell",
                                         "index": finding.cell_index}]
    result = {
        "ruleId": finding.code,
        "level": _SARIF_LEVEL[finding.severity.value],
        "message": {"text": finding.message},
        "locations": [location],
        "properties": {"category": finding.category, "cellIndex": finding.cell_index,
                       "cellId": finding.cell_id},
    }
    if finding.fix:
        result["properties"]["fix"] = finding.fix.to_dict()
    return result


def format_sarif(reports: list[NotebookReport]) -> str:
    return json.dumps(to_sarif(reports), indent=2) + "\n"


def escape(text: str) -> str:
    """XML text escaping (xml.sax.saxutils would pull in urllib at start-up)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoteattr(text: str) -> str:
    return '"' + escape(text).replace('"', "&quot;").replace("\n", "&#10;") + '"'


def format_junit(reports: list[NotebookReport], fail_on: str = "error") -> str:
    """One testsuite, one testcase per notebook; a notebook with findings at the fail level fails."""
    cases = []
    failures = errors = 0
    for report in reports:
        name = quoteattr(report.path or "notebook")
        if report.error:
            errors += 1
            cases.append(f'  <testcase classname="readiness" name={name}>\n'
                         f'    <error type={quoteattr(report.error.kind)} message={quoteattr(report.error.message)}/>\n'
                         f"  </testcase>")
            continue
        blocking = report.blocking(fail_on)
        if blocking:
            failures += 1
            body = "\n".join(f"cell {f.cell_index}, line {f.line}, column {f.column}: {f.code} {f.message}"
                             for f in report.findings)
            cases.append(f'  <testcase classname="readiness" name={name}>\n'
                         f'    <failure type="readiness" message={quoteattr(f"{len(blocking)} blocking finding(s)")}>'
                         f"{escape(body)}</failure>\n  </testcase>")
        else:
            cases.append(f'  <testcase classname="readiness" name={name}/>')
    header = (f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n<testsuite name="readiness" '
              f'tests="{len(reports)}" failures="{failures}" errors="{errors}" skipped="0">')
    return "\n".join([header, *cases, "</testsuite>\n</testsuites>"]) + "\n"


FORMATTERS = {
    "text": format_text,
    "json": format_json,
    "sarif": format_sarif,
    "github": format_github,
    "junit": format_junit,
}
