"""How the magics show things: a report as an HTML table (JupyterLab's theme colours) and as text."""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from itertools import groupby

from ..findings import Finding, Severity
from ..report import NotebookReport, score_explanation

# JupyterLab's own variables keep the colours readable in light and dark themes; the fallbacks
# are for classic Notebook, VS Code and nbconvert's HTML.
_COLOURS = {
    "error": "var(--jp-error-color1, #d32f2f)",
    "warning": "var(--jp-warn-color1, #e65100)",
    "info": "var(--jp-info-color1, #0277bd)",
    "ok": "var(--jp-success-color1, #2e7d32)",
}
_BORDER = "var(--jp-border-color2, #e0e0e0)"
_MUTED = "var(--jp-ui-font-color2, #616161)"
_HEAD = "var(--jp-layout-color2, #eeeeee)"
_MONO = "var(--jp-code-font-family, monospace)"


@dataclass
class CellView:
    """How to name a cell to the person reading: "cell 4 [12]", "In [12]", plus its first line."""

    label: str
    first_line: str = ""


@dataclass
class ReadinessReport(NotebookReport):
    """What `%readiness` returns: the engine's report, plus what was checked and how to show it.

    `r = %readiness` keeps it: `r.findings`, `r.summary()`, `r.blocking("warning")`, `r.to_dict()`."""

    notes: list[str] = field(default_factory=list)
    cells: dict[int, CellView] = field(default_factory=dict)
    display_format: str = "html"  # html, text or json
    fail_on: Severity = Severity.ERROR
    title: str = "readiness"

    @classmethod
    def from_report(cls, report: NotebookReport, **extra) -> ReadinessReport:
        return cls(path=report.path, findings=list(report.findings), error=report.error,
                   checked=report.checked, **extra)

    # -- values ------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        out = super().to_dict()
        out["checked"] = self.checked
        out["notes"] = list(self.notes)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    # -- text ----------------------------------------------------------------------------------
    def to_text(self) -> str:
        lines = [f"{self.title}: {self.checked or self.path or 'notebook'}"]
        if self.error is not None:
            lines.append(f"  cannot check it: {self.error.message}")
        else:
            lines.append(f"  {self._counts_text()}")
        lines.extend(f"  note: {note}" for note in self.notes)
        for where, findings in self._groups():
            lines.append("")
            lines.append(where)
            for finding in findings:
                position = f"{finding.line}:{finding.column}" if finding.cell_index is not None else "-"
                lines.append(f"  {position:>7}  {finding.severity.value:<7}  {finding.code:<6} {finding.message}")
                if finding.fix is not None:
                    lines.append(f"  {'':>7}  {'':<7}  {'':<6} fix ({finding.fix.applicability}): "
                                 f"{finding.fix.description}")
        return "\n".join(lines)

    def _counts_text(self) -> str:
        summary = self.summary()
        score = f"score {summary['score']} ({score_explanation(summary['score_breakdown'])})"
        if not self.findings:
            return f"no findings · {score}"
        parts = [f"{summary[level]} {level}{'s' if summary[level] != 1 and level != 'info' else ''}"
                 for level in ("error", "warning", "info")]
        return f"{score} · " + " · ".join(parts)

    def _groups(self):
        ordered = sorted(self.findings, key=lambda f: f.sort_key)
        for index, findings in groupby(ordered, key=lambda f: f.cell_index):
            yield self._where(index), list(findings)

    def _where(self, index: int | None) -> str:
        if index is None:
            return "notebook"
        view = self.cells.get(index)
        return view.label if view else f"cell {index + 1}"

    def __repr__(self) -> str:
        if self.display_format == "json":
            return self.to_json()
        return self.to_text()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self) if not cycle else "ReadinessReport(...)")

    def _repr_json_(self):
        return self.to_dict() if self.display_format == "json" else None

    # -- HTML ----------------------------------------------------------------------------------
    def _repr_html_(self) -> str | None:
        if self.display_format != "html":
            return None
        escape = html.escape
        out = ['<div class="readiness-report" style="font-family: var(--jp-ui-font-family, inherit)">']
        out.append(f'<div style="margin-bottom: 4px"><b>{escape(self.title)}</b> · '
                   f'{escape(self.checked or str(self.path or "notebook"))}</div>')
        if self.error is not None:
            out.append(f'<div style="color: {_COLOURS["error"]}">Cannot check it: {escape(self.error.message)}</div>')
        else:
            out.append(self._summary_html())
        for note in self.notes:
            out.append(f'<div style="color: {_COLOURS["warning"]}; margin: 2px 0">⚠ {escape(note)}</div>')
        if self.findings:
            out.append(self._table_html())
        out.append("</div>")
        return "\n".join(out)

    def _summary_html(self) -> str:
        summary = self.summary()
        explained = html.escape(score_explanation(summary["score_breakdown"]))
        score = (f'<span title="readiness score: {explained}">score <b>{summary["score"]}</b></span> '
                 f'<span style="color: {_MUTED}">({explained})</span>')
        if not self.findings:
            return f'<div style="color: {_COLOURS["ok"]}">✓ No findings · {score}</div>'
        badges = []
        for level in ("error", "warning", "info"):
            count = summary[level]
            style = f'color: {_COLOURS[level]}; font-weight: bold' if count else f"color: {_MUTED}"
            badges.append(f'<span style="{style}">{count} {level}{"s" if count != 1 and level != "info" else ""}</span>')
        return f'<div>{score} · ' + " · ".join(badges) + "</div>"

    def _table_html(self) -> str:
        escape = html.escape
        cell = f"border-top: 1px solid {_BORDER}; padding: 2px 8px; text-align: left; vertical-align: top"
        rows = [
            '<table style="border-collapse: collapse; margin-top: 6px; width: auto">',
            f'<thead><tr style="background: {_HEAD}">'
            + "".join(f'<th style="{cell}">{name}</th>' for name in ("Line", "Severity", "Rule", "Message"))
            + "</tr></thead><tbody>",
        ]
        for where, findings in self._groups():
            view = self.cells.get(findings[0].cell_index) if findings[0].cell_index is not None else None
            hint = ""
            if view and view.first_line and not any(f.category == "hardcoded-secret" for f in findings):
                hint = (f' <code style="font-family: {_MONO}; color: {_MUTED}">'
                        f"{escape(view.first_line)}</code>")
            rows.append(f'<tr><td colspan="4" style="{cell}; background: {_HEAD}"><b>{escape(where)}</b>{hint}</td></tr>')
            for finding in findings:
                rows.append(self._row_html(finding, cell))
        rows.append("</tbody></table>")
        return "\n".join(rows)

    @staticmethod
    def _row_html(finding: Finding, cell: str) -> str:
        escape = html.escape
        level = finding.severity.value
        colour = _COLOURS.get(level, _MUTED)
        where = f"{finding.line}:{finding.column}" if finding.cell_index is not None else ""
        fix = ""
        if finding.fix is not None:
            fix = (f'<br><span style="color: {_MUTED}">fix ({escape(finding.fix.applicability)}): '
                   f"{escape(finding.fix.description)}</span>")
        title = f"{finding.name} ({finding.category})" if finding.name else finding.category
        return (
            f'<tr style="border-left: 3px solid {colour}">'
            f'<td style="{cell}; font-family: {_MONO}; white-space: nowrap">{escape(where)}</td>'
            f'<td style="{cell}; color: {colour}; font-weight: bold">{escape(level)}</td>'
            f'<td style="{cell}; font-family: {_MONO}; white-space: nowrap" title="{escape(title)}">'
            f"{escape(finding.code)}</td>"
            f'<td style="{cell}">{escape(finding.message)}{fix}</td>'
            "</tr>"
        )


class Snippet(str):
    """Text to copy (a data check, a requirements file): shown as-is, highlighted where a front end can."""

    language = "python"

    def __new__(cls, text: str, language: str = "python"):
        obj = super().__new__(cls, text)
        obj.language = language
        return obj

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))

    def _repr_markdown_(self) -> str:
        fence = "````" if "```" in self else "```"
        return f"{fence}{self.language}\n{self}{'' if self.endswith(chr(10)) else chr(10)}{fence}\n"


@dataclass
class RuleHelp:
    """`%readiness explain CODE`: a rule's docs, as Markdown in a notebook and as text in a terminal."""

    code: str
    name: str
    category: str
    severity: str
    sections: list[tuple[str, str]]

    def to_markdown(self) -> str:
        lines = [f"### {self.code} `{self.name}`", f"*{self.category}* · default severity **{self.severity}**", ""]
        for title, body in self.sections:
            if body:
                lines += [f"#### {title}", body, ""]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __repr__(self) -> str:
        lines = [f"{self.code} {self.name} ({self.category}, {self.severity})"]
        for title, body in self.sections:
            if body:
                lines += ["", f"{title}:", *("  " + line if line else "" for line in body.splitlines())]
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self))


@dataclass
class RuleTable:
    """`%readiness rules`: every rule with its code, name, category, severity and one line of what it does."""

    rows: list[tuple[str, str, str, str, str]]

    def _repr_html_(self) -> str:
        escape = html.escape
        cell = f"border-top: 1px solid {_BORDER}; padding: 2px 8px; text-align: left; vertical-align: top"
        head = "".join(f'<th style="{cell}">{name}</th>' for name in ("Code", "Name", "Category", "Severity", "What it does"))
        body = "".join(
            "<tr>" + "".join(
                f'<td style="{cell}{"; color: " + _COLOURS.get(value, "inherit") if index == 3 else ""}">{escape(value)}</td>'
                for index, value in enumerate(row)) + "</tr>"
            for row in self.rows
        )
        return (f'<table style="border-collapse: collapse"><thead><tr style="background: {_HEAD}">{head}</tr>'
                f"</thead><tbody>{body}</tbody></table>")

    def __repr__(self) -> str:
        return "\n".join(f"{code:<7} {name:<28} {category:<20} {severity:<8} {summary}"
                         for code, name, category, severity, summary in self.rows)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self))
