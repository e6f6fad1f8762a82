"""nbconvert exporters for CI: the notebook with each finding under its cell (HTML, Markdown) and an exit code.

`jupyter nbconvert --to readiness-report NB.ipynb` writes `NB.readiness.html`: the notebook as
JupyterLab renders it (nbconvert's `lab` template), a summary at the top (score, counts per
severity and category, every finding linked to its cell and line) and, under each cell, its
findings with the rule's "why" and "use instead". `--to readiness-report-md` writes
`NB.readiness.md`, the same findings as a pull-request comment.

The gate: when `jupyter nbconvert` runs either exporter and a notebook has findings at or above
`fail_on` (default: `fail-on` of `[tool.readiness]`, else `error`), the command exits 1 AFTER the
report is written, so one call both fails the build and leaves the artifact for the reviewer.
nbconvert has no exit-code hook for exporters; its documented after-writing hook is the
postprocessor, so the exporter installs `ReadinessGate` as the app's postprocessor (chaining any
postprocessor already set). A notebook or configuration that cannot be read exits 2, as
`readiness check` does. Called from Python (`exporter.from_filename(...)`) nothing exits: the
result is in `resources["readiness"]`.
"""
from __future__ import annotations

import html
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import DictLoader
from nbconvert.exporters import Exporter, HTMLExporter
from nbconvert.postprocessors import PostProcessorBase
from traitlets import Any as AnyTrait
from traitlets import Bool, CaselessStrEnum, Unicode, default
from traitlets.config import LoggingConfigurable

from .findings import Finding, Severity
from .report import score_band, score_explanation

FAIL_LEVELS = ("error", "warning", "info")
EXIT_FINDINGS, EXIT_USAGE = 1, 2
_CELL_KEY = "readiness_report_cell"  # cell metadata stamped before nbconvert's preprocessors run
_SEVERITY_MARK = {"error": "\N{LARGE RED CIRCLE}", "warning": "\N{LARGE ORANGE CIRCLE}",
                  "info": "\N{LARGE BLUE CIRCLE}"}
_RUFF_DOCS = "https://docs.astral.sh/ruff/rules/{name}/"


# -- what the reports show, computed once per notebook ------------------------------------------

@dataclass
class FindingView:
    """A finding with what a reader needs beside it: where it is, the line it is on, the rule's docs."""

    number: int  # 1-based position in the report; the anchor is readiness-finding-<number>
    finding: Finding
    source_line: str = ""
    summary: str = ""
    why: str = ""  # Markdown, from the rule's docstring
    use_instead: str = ""
    docs_url: str = ""  # ruff's page for its codes

    @property
    def anchor(self) -> str:
        return f"readiness-finding-{self.number}"

    @property
    def where(self) -> str:
        finding = self.finding
        if finding.cell_index is None:
            return "notebook"
        return f"cell {finding.cell_index}, line {finding.line}"

    def to_dict(self) -> dict:
        return {**self.finding.to_dict(), "number": self.number, "anchor": self.anchor, "where": self.where,
                "source_line": self.source_line, "summary": self.summary, "why": self.why,
                "use_instead": self.use_instead, "docs_url": self.docs_url}


@dataclass
class ReportView:
    """One notebook's report as the exporters show it."""

    path: str | None
    fail_on: Severity
    summary: dict
    findings: list[FindingView] = field(default_factory=list)
    error: str | None = None  # why the notebook (or its configuration) could not be checked
    cell_sources: list[str] = field(default_factory=list)

    @property
    def blocking(self) -> list[FindingView]:
        return [view for view in self.findings if view.finding.severity.rank >= self.fail_on.rank]

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return EXIT_USAGE
        return EXIT_FINDINGS if self.blocking else 0

    @property
    def notebook_findings(self) -> list[FindingView]:
        return [view for view in self.findings if view.finding.cell_index is None]

    def for_cell(self, index: int) -> list[FindingView]:
        return [view for view in self.findings if view.finding.cell_index == index]

    def worst_in_cell(self, index: int) -> str:
        views = self.for_cell(index)
        if not views:
            return ""
        return max((view.finding.severity for view in views), key=lambda severity: severity.rank).value

    def first_of_category(self) -> dict[str, str]:
        anchors: dict[str, str] = {}
        for view in self.findings:
            anchors.setdefault(view.finding.category, view.anchor)
        return anchors

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "error": self.error,
            "summary": self.summary,
            "fail_on": self.fail_on.value,
            "blocking": len(self.blocking),
            "exit_code": self.exit_code,
            "findings": [view.to_dict() for view in self.findings],
        }


def notebook_path(resources: dict | None) -> Path | None:
    """The notebook nbconvert is converting, from the resources it passes to exporters."""
    metadata = (resources or {}).get("metadata") or {}
    name = metadata.get("name")
    if not name:
        return None
    folder = Path(metadata.get("path") or ".")
    for candidate in (folder / f"{name}.ipynb", folder / name):
        if candidate.is_file():
            return candidate
    return folder / f"{name}.ipynb"  # not on disk (stdin): its folder still finds [tool.readiness]


def build_report(nb: dict, path: Path | None, fail_on: str | None = None) -> ReportView:
    """Check the notebook nbconvert read (before its preprocessors run) and attach each rule's docs."""
    from .config import ConfigError, parse_severity, settings_for
    from .engine import check_content

    sources = [_source_text(cell) for cell in nb.get("cells", [])]
    try:
        settings = settings_for(path)
        if fail_on:
            settings = settings.with_overrides(fail_on=fail_on)
    except ConfigError as exc:
        level = parse_severity(fail_on) if fail_on in FAIL_LEVELS else Severity.ERROR
        return ReportView(str(path) if path else None, level, _empty_summary(), error=str(exc),
                          cell_sources=sources)
    try:
        report = check_content(dict(nb), path=path, settings=settings)
    except Exception as exc:  # a failure of ours: the report says so in one line and the gate exits 2
        from .failures import debug_enabled, internal_error

        error = internal_error(exc)
        if debug_enabled():
            print(error.detail, file=sys.stderr)
        return ReportView(str(path) if path else None, settings.fail_on, _empty_summary(), error=error.message,
                          cell_sources=sources)
    if report.error is not None:
        return ReportView(report.path, settings.fail_on, report.summary(), error=report.error.message,
                          cell_sources=sources)
    sources = mask_secrets(sources, report.findings)
    views = [_view(number, finding, sources) for number, finding in enumerate(report.findings, start=1)]
    return ReportView(report.path, settings.fail_on, report.summary(), views, cell_sources=sources)


def mask_secrets(sources: list[str], findings: list[Finding]) -> list[str]:
    """Cell sources with every detected secret cut to its first characters: a report is an artifact
    that CI uploads and reviewers forward, so it must not carry the secret it warns about."""
    masked = list(sources)
    for finding in findings:
        if finding.category != "hardcoded-secret" or finding.cell_index is None:
            continue
        if not 0 <= finding.cell_index < len(masked) or finding.end_line not in (None, finding.line):
            continue
        lines = masked[finding.cell_index].split("\n")
        if not 1 <= finding.line <= len(lines):
            continue
        text = lines[finding.line - 1]
        start, end = finding.column - 1, (finding.end_column or finding.column) - 1
        secret = text[start:end]
        if len(secret) < 2:
            continue
        quote = secret[0] if secret[0] in "'\"" else ""
        kept = secret[len(quote):len(quote) + 4]
        lines[finding.line - 1] = text[:start] + f"{quote}{kept}…{quote}" + text[end:]
        masked[finding.cell_index] = "\n".join(lines)
    return masked


def _empty_summary() -> dict:
    return {"error": 0, "warning": 0, "info": 0, "score": 0, "score_breakdown": {}, "by_category": {}}


def _source_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _view(number: int, finding: Finding, sources: list[str]) -> FindingView:
    from .rules import get_rule

    view = FindingView(number, finding)
    if finding.cell_index is not None and 0 <= finding.cell_index < len(sources):
        lines = sources[finding.cell_index].splitlines()
        if 1 <= finding.line <= len(lines):
            view.source_line = lines[finding.line - 1]
    rule = get_rule(finding.code)
    if rule is not None and rule.code == finding.code:
        docs = rule.docs()
        view.summary = docs.summary.split("\n\n")[0]
        view.why, view.use_instead = docs.why, docs.use_instead
    elif finding.category == "code-quality" and finding.name:
        view.docs_url = _RUFF_DOCS.format(name=finding.name)
    return view


# -- the gate -----------------------------------------------------------------------------------

class ReadinessGate(PostProcessorBase):
    """nbconvert postprocessor: after the last report is written, exit 1 (2) if a notebook failed.

    The readiness exporters install it; `--post readiness_magics.report_exporter.ReadinessGate`
    works too."""

    then = AnyTrait(None, allow_none=True, help="The postprocessor that was set before this one.")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.failures: list[tuple[str, ReportView]] = []
        self.written = 0

    def record(self, name: str, view: ReportView) -> None:
        if view.exit_code:
            self.failures.append((name, view))

    def postprocess(self, input: str | None) -> None:
        if self.then is not None:
            self.then(input)
        self.written += 1
        app = self.parent
        expected = 1 if getattr(app, "from_stdin", False) else len(getattr(app, "notebooks", []) or [1])
        if self.written < expected or not self.failures:
            return
        for name, view in self.failures:
            self.log.error("readiness: %s", gate_message(name, view))
        status = max(view.exit_code for _, view in self.failures)
        if app is not None and hasattr(app, "exit"):
            app.exit(status)
        raise SystemExit(status)


def gate_message(name: str, view: ReportView) -> str:
    if view.error is not None:
        return f"{name}: cannot check it: {view.error}"
    blocking = view.blocking
    lines = [(f"{name}: {len(blocking)} finding{'s' if len(blocking) != 1 else ''} at or above "
              f"fail-on={view.fail_on.value} (score {view.summary['score']}/100)")]
    for item in blocking:
        lines.append(f"  {item.where}: {item.finding.code} {item.finding.message}")
    return "\n".join(lines)


class ReadinessReportBase(LoggingConfigurable):
    """What both report exporters share: the gate's options and the check itself.

    Configure both at once as `ReadinessReportBase`, or one as `ReadinessReportExporter` /
    `ReadinessReportMarkdownExporter`."""

    fail_on = CaselessStrEnum(
        FAIL_LEVELS, default_value=None, allow_none=True,
        help="Lowest severity that fails the conversion (exit 1 once the report is written): error, "
             "warning or info. Default: `fail-on` of [tool.readiness] in the nearest pyproject.toml, "
             "else error.",
    ).tag(config=True)

    gate = Bool(
        True,
        help="When run by `jupyter nbconvert`, exit 1 after writing the report if findings reach "
             "`fail_on` (2 if the notebook or its configuration cannot be read). False: always exit 0.",
    ).tag(config=True)

    def convert_or_exit(self, convert, nb, resources, kw):
        """Run by `jupyter nbconvert`, a failure of ours is one logged line and exit code 2 (nbconvert
        itself would print a traceback and exit 1, which the gate uses for findings)."""
        try:
            return convert(nb, resources, **kw)
        except Exception as exc:
            from nbconvert.nbconvertapp import NbConvertApp

            if not NbConvertApp.initialized():
                raise
            from .failures import debug_enabled, hint, one_line

            name = notebook_path(resources)
            self.log.error("readiness: %s: internal error: %s%s", name.name if name else "notebook", one_line(exc),
                           hint(), exc_info=exc if debug_enabled() else None)
            NbConvertApp.instance().exit(EXIT_USAGE)

    def readiness_view(self, nb, resources: dict | None) -> ReportView:
        path = notebook_path(resources)
        view = build_report(nb, path, self.fail_on)
        self._arm_gate(path.name if path else "notebook", view)
        return view

    def _arm_gate(self, name: str, view: ReportView) -> None:
        if not self.gate:
            return
        from nbconvert.nbconvertapp import NbConvertApp

        if not NbConvertApp.initialized():
            return  # called from Python: resources["readiness"] carries the verdict
        app = NbConvertApp.instance()
        gate = app.postprocessor
        if not isinstance(gate, ReadinessGate):
            gate = ReadinessGate(parent=app, then=app.postprocessor)
            app.postprocessor = gate
        gate.record(name, view)


# -- HTML ---------------------------------------------------------------------------------------

_TEMPLATE_NAME = "readiness-report.html.j2"

# Extends the `lab` template. nbconvert's Jinja environment does not autoescape, so everything that
# comes from the notebook or a finding goes through `e`; the rules' docs are trusted Markdown.
_TEMPLATE = r"""
{%- extends 'index.html.j2' -%}

{%- macro finding_box(view) -%}
{%- set f = view.finding -%}
<div class="readiness-finding readiness-{{ f.severity.value }}" id="{{ view.anchor }}" role="note"
     data-code="{{ f.code | e }}" data-severity="{{ f.severity.value }}" data-category="{{ f.category | e }}"
     data-cell-index="{{ f.cell_index if f.cell_index is not none else '' }}" data-line="{{ f.line }}"
     data-column="{{ f.column }}">
<div class="readiness-finding-head">
<span class="readiness-badge readiness-{{ f.severity.value }}">{{ f.severity.value }}</span>
<code class="readiness-code">{{ f.code | e }}</code>
{%- if f.name %} <span class="readiness-name">{{ f.name | e }}</span>{% endif %}
{%- if f.cell_index is not none %}
<a class="readiness-where" href="#readiness-cell-{{ f.cell_index }}-line-{{ f.line }}">line {{ f.line }}, column {{ f.column }}</a>
{%- endif %}
</div>
<div class="readiness-message">{{ f.message | e }}</div>
{%- if view.source_line.strip() %}
<pre class="readiness-source"><span class="readiness-lineno">{{ f.line }}</span>{{ view.source_line | e }}</pre>
{%- endif %}
{%- if f.fix %}
<div class="readiness-fix"><strong>Fix{% if f.fix.applicability == 'safe' %} (safe){% endif %}:</strong> {{ f.fix.description | e }}</div>
{%- endif %}
{%- if view.why %}
<div class="readiness-why jp-RenderedHTMLCommon"><strong>Why it matters.</strong> {{ view.why | readiness_markdown }}</div>
{%- endif %}
{%- if view.use_instead %}
<details class="readiness-use-instead"><summary>Use instead</summary>
<div class="jp-RenderedHTMLCommon">{{ view.use_instead | readiness_markdown }}</div>
</details>
{%- endif %}
{%- if view.docs_url %}
<div class="readiness-docs">ruff's documentation: <a href="{{ view.docs_url | e }}" rel="noopener">{{ f.name | e }}</a></div>
{%- endif %}
</div>
{%- endmacro -%}

{%- macro cell_findings(cell) -%}
{%- set index = cell.metadata.get('readiness_report_cell') -%}
{%- if index is not none -%}
{%- set views = resources.readiness_view.for_cell(index) -%}
{%- if views %}
<div class="readiness-cell-findings" data-cell-index="{{ index }}">
{%- for view in views %}
{{ finding_box(view) }}
{%- endfor %}
</div>
{%- endif -%}
{%- endif -%}
{%- endmacro -%}

{%- block extra_css -%}
{{ super() }}
<style type="text/css">
{{ resources.readiness_css }}
</style>
{%- endblock extra_css -%}

{%- block html_head_js_requirejs -%}
{%- if resources.readiness_cdn_scripts %}{{ super() }}{% endif -%}
{%- endblock html_head_js_requirejs -%}

{%- block html_head_js_mathjax -%}
{%- if resources.readiness_cdn_scripts %}{{ super() }}{% endif -%}
{%- endblock html_head_js_mathjax -%}

{%- block jupyter_widgets -%}
{%- if resources.readiness_cdn_scripts %}{{ super() }}{% endif -%}
{%- endblock jupyter_widgets -%}

{%- block body_header -%}
{{ super() }}
{%- set report = resources.readiness_view %}
{%- set s = report.summary %}
<section class="readiness-summary" id="readiness-summary" aria-label="Readiness report"
         data-summary="{{ resources.readiness_summary_json | e }}" data-fail-on="{{ report.fail_on.value }}"
         data-blocking="{{ report.blocking | length }}">
<div class="readiness-summary-head">
<div class="readiness-score readiness-score-{{ resources.readiness_score_band }}" title="readiness score: {{ resources.readiness_score_explained | e }}">
<span class="readiness-score-value">{{ s.score }}</span><span class="readiness-score-of">/100</span></div>
<div>
<div class="readiness-title">Readiness report: <code>{{ (report.path or 'notebook') | e }}</code></div>
{%- if report.error %}
<div class="readiness-verdict readiness-error">Cannot check this notebook: {{ report.error | e }}</div>
{%- else %}
<div class="readiness-counts">
<span class="readiness-count readiness-error" data-severity="error"><b>{{ s.error }}</b> error{{ 's' if s.error != 1 }}</span>
<span class="readiness-count readiness-warning" data-severity="warning"><b>{{ s.warning }}</b> warning{{ 's' if s.warning != 1 }}</span>
<span class="readiness-count readiness-info" data-severity="info"><b>{{ s.info }}</b> info</span>
</div>
<div class="readiness-score-explained">Score: {{ resources.readiness_score_explained | e }}</div>
{%- if report.blocking %}
<div class="readiness-verdict readiness-error">Not ready: {{ report.blocking | length }} finding{{ 's' if report.blocking | length != 1 }} at or above <code>fail-on = {{ report.fail_on.value }}</code></div>
{%- else %}
<div class="readiness-verdict readiness-ok">No finding at or above <code>fail-on = {{ report.fail_on.value }}</code></div>
{%- endif %}
{%- endif %}
</div>
</div>
{%- if s.by_category %}
<table class="readiness-categories">
<thead><tr><th>Category</th><th>Findings</th></tr></thead>
<tbody>
{%- set firsts = report.first_of_category() %}
{%- for category, count in s.by_category.items() %}
<tr data-category="{{ category | e }}"><td><a href="#{{ firsts[category] }}">{{ category | e }}</a></td><td>{{ count }}</td></tr>
{%- endfor %}
</tbody>
</table>
{%- endif %}
{%- if report.findings %}
<details class="readiness-index" open><summary>All findings</summary>
<ol class="readiness-index-list">
{%- for view in report.findings %}
{%- set f = view.finding %}
<li class="readiness-{{ f.severity.value }}"><a href="#{{ view.anchor }}"><span class="readiness-badge readiness-{{ f.severity.value }}">{{ f.severity.value }}</span>
<code>{{ f.code | e }}</code> {{ view.where }}</a> {{ f.message | e }}</li>
{%- endfor %}
</ol>
</details>
{%- endif %}
{%- if report.notebook_findings %}
<div class="readiness-notebook-findings">
{%- for view in report.notebook_findings %}
{{ finding_box(view) }}
{%- endfor %}
</div>
{%- endif %}
</section>
{%- endblock body_header -%}

{%- block any_cell -%}
{%- set index = cell.metadata.get('readiness_report_cell') -%}
{%- if index is not none -%}
<a class="readiness-cell-anchor{% if resources.readiness_view.worst_in_cell(index) %} readiness-flagged readiness-{{ resources.readiness_view.worst_in_cell(index) }}{% endif %}" id="readiness-cell-{{ index }}" data-cell-index="{{ index }}"></a>
{%- endif -%}
{{ super() }}
{%- endblock any_cell -%}

{%- block input -%}
<div class="jp-CodeMirrorEditor jp-Editor jp-InputArea-editor" data-type="inline">
     <div class="cm-editor cm-s-jupyter">
{{ cell.source | highlight_code(metadata=cell.metadata) | readiness_mark_lines(cell) | clean_html }}
     </div>
</div>
{%- endblock input -%}

{%- block input_group -%}
{{ super() }}
{{ cell_findings(cell) }}
{%- endblock input_group -%}

{%- block markdowncell -%}
{{ super() }}
{{ cell_findings(cell) }}
{%- endblock markdowncell -%}

{%- block rawcell -%}
{{ super() }}
{{ cell_findings(cell) }}
{%- endblock rawcell -%}
"""

# JupyterLab's own variables keep the colours right in the light and dark themes.
_CSS = """
.readiness-summary { margin: 0 0 24px 0; padding: 16px 20px; border: 1px solid var(--jp-border-color2, #e0e0e0);
  border-radius: 6px; background: var(--jp-layout-color1, #fff); font-family: var(--jp-ui-font-family, sans-serif);
  font-size: var(--jp-ui-font-size1, 13px); color: var(--jp-ui-font-color1, #212121); }
.readiness-summary-head { display: flex; gap: 20px; align-items: center; }
.readiness-title { font-size: 1.25em; font-weight: 600; margin-bottom: 6px; }
.readiness-score { min-width: 86px; text-align: center; padding: 10px 8px; border-radius: 8px; color: #fff; }
.readiness-score-value { font-size: 2.2em; font-weight: 700; line-height: 1; }
.readiness-score-of { font-size: 1em; opacity: 0.85; }
.readiness-score-explained { margin-top: 4px; opacity: 0.8; font-size: 0.9em; }
.readiness-score-good { background: var(--jp-success-color1, #2e7d32); }
.readiness-score-fair { background: var(--jp-warn-color1, #e65100); }
.readiness-score-poor { background: var(--jp-error-color1, #d32f2f); }
.readiness-counts { display: flex; gap: 14px; margin-bottom: 6px; }
.readiness-count.readiness-error b { color: var(--jp-error-color1, #d32f2f); }
.readiness-count.readiness-warning b { color: var(--jp-warn-color1, #e65100); }
.readiness-count.readiness-info b { color: var(--jp-info-color1, #0277bd); }
.readiness-verdict { font-weight: 600; }
.readiness-verdict.readiness-error { color: var(--jp-error-color1, #d32f2f); }
.readiness-verdict.readiness-ok { color: var(--jp-success-color1, #2e7d32); }
.readiness-categories { border-collapse: collapse; margin: 12px 0 4px 0; }
.readiness-categories th, .readiness-categories td { text-align: left; padding: 2px 16px 2px 0;
  border-bottom: 1px solid var(--jp-border-color2, #e0e0e0); }
.readiness-index summary { cursor: pointer; font-weight: 600; margin-top: 8px; }
.readiness-index-list { margin: 6px 0 0 0; padding-left: 28px; }
.readiness-index-list li { margin: 2px 0; }
.readiness-index-list a { text-decoration: none; color: inherit; }
.readiness-index-list a code { font-weight: 600; }
.readiness-badge { display: inline-block; min-width: 52px; text-align: center; border-radius: 3px; padding: 0 5px;
  font-size: 0.85em; font-weight: 600; color: #fff; text-transform: uppercase; letter-spacing: 0.02em; }
.readiness-badge.readiness-error { background: var(--jp-error-color1, #d32f2f); }
.readiness-badge.readiness-warning { background: var(--jp-warn-color1, #e65100); }
.readiness-badge.readiness-info { background: var(--jp-info-color1, #0277bd); }
.readiness-cell-findings { margin: 4px 0 8px calc(var(--jp-cell-prompt-width, 64px) + var(--jp-cell-collapser-width, 8px)); }
.readiness-notebook-findings { margin-top: 12px; }
.readiness-finding { border-left: 4px solid; border-radius: 3px; padding: 6px 10px; margin: 6px 0;
  font-family: var(--jp-ui-font-family, sans-serif); font-size: var(--jp-ui-font-size1, 13px);
  color: var(--jp-ui-font-color1, #212121); }
.readiness-finding.readiness-error { border-color: var(--jp-error-color1, #d32f2f); background: rgba(211, 47, 47, 0.07); }
.readiness-finding.readiness-warning { border-color: var(--jp-warn-color1, #e65100); background: rgba(230, 81, 0, 0.07); }
.readiness-finding.readiness-info { border-color: var(--jp-info-color1, #0277bd); background: rgba(2, 119, 189, 0.07); }
.readiness-finding:target { outline: 2px solid var(--jp-brand-color1, #1976d2); }
.readiness-finding-head { display: flex; gap: 8px; align-items: baseline; }
.readiness-code { font-weight: 700; }
.readiness-name { color: var(--jp-ui-font-color2, #616161); }
.readiness-where { margin-left: auto; color: var(--jp-ui-font-color2, #616161); }
.readiness-message { margin: 4px 0; }
.readiness-source { margin: 4px 0; padding: 2px 6px; background: var(--jp-cell-editor-background, #f5f5f5);
  font-family: var(--jp-code-font-family, monospace); font-size: var(--jp-code-font-size, 13px); white-space: pre-wrap; }
.readiness-lineno { color: var(--jp-ui-font-color2, #616161); margin-right: 12px; user-select: none; }
.readiness-why p, .readiness-fix { margin: 4px 0; }
.readiness-finding .jp-RenderedHTMLCommon { font-size: inherit; line-height: 1.45; padding-right: 0; }
.readiness-docs a, .readiness-use-instead summary { color: var(--jp-content-link-color, #1976d2); }
.readiness-why > p:first-of-type { display: inline; }
.readiness-use-instead summary { cursor: pointer; }
.readiness-cell-anchor.readiness-error + .jp-Cell { box-shadow: inset 4px 0 0 var(--jp-error-color1, #d32f2f); }
.readiness-cell-anchor.readiness-warning + .jp-Cell { box-shadow: inset 4px 0 0 var(--jp-warn-color1, #e65100); }
.readiness-cell-anchor.readiness-info + .jp-Cell { box-shadow: inset 4px 0 0 var(--jp-info-color1, #0277bd); }
.readiness-line { display: inline-block; min-width: 100%; }
.readiness-line.readiness-error { background: rgba(211, 47, 47, 0.14); }
.readiness-line.readiness-warning { background: rgba(230, 81, 0, 0.13); }
.readiness-line.readiness-info { background: rgba(2, 119, 189, 0.11); }
"""

_PRE = re.compile(r"(<pre[^>]*>(?:<span></span>)?)(.*?)(</pre>)", re.DOTALL)


class ReadinessReportExporter(ReadinessReportBase, HTMLExporter):
    """The notebook as JupyterLab renders it, each finding under its cell, a summary at the top."""

    export_from_notebook = "Readiness report (HTML)"

    include_cdn_scripts = Bool(
        False,
        help="Load require.js, MathJax and the widget manager from their CDNs as nbconvert's lab template "
             "does. Off by default so that the report is self-contained: it opens offline, as a CI "
             "artifact, without a request to another site (LaTeX in Markdown then shows as typed).",
    ).tag(config=True)

    @default("file_extension")
    def _file_extension_default(self):
        return ".readiness.html"

    @default("template_name")
    def _template_name_default(self):
        return "lab"

    @default("template_file")
    def _template_file_default(self):
        return _TEMPLATE_NAME

    @default("extra_loaders")
    def _extra_loaders_default(self):
        return [DictLoader({_TEMPLATE_NAME: _TEMPLATE})]

    @default("embed_images")
    def _embed_images_default(self):
        return True  # images a Markdown cell links to travel inside the report

    _current_view: ReportView | None = None

    def default_filters(self):
        yield from super().default_filters()
        yield ("readiness_markdown", _markdown_html)
        yield ("readiness_mark_lines", self._mark_lines)

    def from_notebook_node(self, nb, resources: dict | None = None, **kw: Any):
        return self.convert_or_exit(self._report, nb, resources, kw)

    def _report(self, nb, resources: dict | None = None, **kw: Any):
        import copy

        view = self.readiness_view(nb, resources)
        stamped = copy.deepcopy(nb)
        for index, cell in enumerate(stamped.cells):
            cell.setdefault("metadata", {})[_CELL_KEY] = index
            if index < len(view.cell_sources) and view.cell_sources[index] != _source_text(cell):
                cell.source = view.cell_sources[index]  # a detected secret, masked
        resources = dict(resources or {})
        resources["readiness"] = view.to_dict()
        resources["readiness_view"] = view
        resources["readiness_summary_json"] = json.dumps(view.summary, sort_keys=True)
        resources["readiness_css"] = _CSS
        resources["readiness_cdn_scripts"] = self.include_cdn_scripts
        resources["readiness_score_band"] = score_band(view.summary["score"])
        resources["readiness_score_explained"] = score_explanation(view.summary.get("score_breakdown", {}))
        self._current_view = view
        try:
            body, resources = super().from_notebook_node(stamped, resources, **kw)
        finally:
            self._current_view = None
        for key in ("readiness_view", "readiness_css", "readiness_summary_json", "readiness_cdn_scripts",
                    "readiness_score_band", "readiness_score_explained"):
            resources.pop(key, None)
        return body, resources

    def _mark_lines(self, highlighted: str, cell) -> str:
        """Give every line of the highlighted source an id, and a severity colour where a finding is."""
        index = cell.get("metadata", {}).get(_CELL_KEY)
        return mark_lines(highlighted, _source_text(cell), index, self._current_view)


def mark_lines(highlighted: str, source: str, index: int | None, view: ReportView | None) -> str:
    """Wrap each line of pygments' output (it closes its spans at every line end) in an addressable span."""
    if index is None:
        return highlighted
    match = _PRE.search(highlighted)
    if match is None:
        return highlighted
    worst: dict[int, Severity] = {}
    for item in view.for_cell(index) if view is not None else ():
        finding = item.finding
        for line in range(finding.line, (finding.end_line or finding.line) + 1):
            if line not in worst or finding.severity.rank > worst[line].rank:
                worst[line] = finding.severity
            break  # the first line carries the colour; a multi-line range would paint whole blocks
    source = source.replace("\r\n", "\n")
    skipped = len(source) - len(source.lstrip("\n"))  # pygments strips leading blank lines
    body = match.group(2)
    trailing = body.endswith("\n")
    lines = body[:-1].split("\n") if trailing else body.split("\n")
    marked = []
    for offset, text in enumerate(lines):
        number = offset + 1 + skipped
        classes = "readiness-line"
        if number in worst:
            classes += f" readiness-{worst[number].value}"
        marked.append(f'<span class="{classes}" id="readiness-cell-{index}-line-{number}">{text}</span>')
    joined = "\n".join(marked) + ("\n" if trailing else "")
    return highlighted[:match.start(2)] + joined + highlighted[match.end(2):]


def _markdown_html(text: str) -> str:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return markdown2html_mistune(text or "")


# -- Markdown, for a pull-request comment --------------------------------------------------------

class ReadinessReportMarkdownExporter(ReadinessReportBase, Exporter):
    """The findings of a notebook as GitHub-flavoured Markdown, to post as a pull-request comment."""

    export_from_notebook = "Readiness report (Markdown)"
    output_mimetype = "text/markdown"

    report_url = Unicode(
        "",
        help="A link to the full HTML report (for example the CI run that keeps it as an artifact), "
             "added under the summary.",
    ).tag(config=True)

    @default("file_extension")
    def _file_extension_default(self):
        return ".readiness.md"

    def from_notebook_node(self, nb, resources: dict | None = None, **kw: Any):
        return self.convert_or_exit(self._report, nb, resources, kw)

    def _report(self, nb, resources: dict | None = None, **kw: Any):
        view = self.readiness_view(nb, resources)
        _, resources = super().from_notebook_node(nb, resources, **kw)  # the preprocessors' resources
        resources["readiness"] = view.to_dict()
        return markdown_report(view, report_url=self.report_url), resources


def markdown_report(view: ReportView, report_url: str = "") -> str:
    """One notebook's findings as a pull-request comment: a summary, then the findings cell by cell."""
    name = view.path or "notebook"
    summary = view.summary
    lines = [f"### Readiness of `{name}`: {summary['score']}/100", ""]
    if view.error is not None:
        lines += [f"{_SEVERITY_MARK['error']} **Cannot check this notebook:** {_md_text(view.error)}", ""]
        return "\n".join(lines)
    lines.append(f"**{summary['error']}** error{'s' if summary['error'] != 1 else ''} · "
                 f"**{summary['warning']}** warning{'s' if summary['warning'] != 1 else ''} · "
                 f"**{summary['info']}** info")
    lines.append("")
    lines.append(f"Score: {score_explanation(summary.get('score_breakdown', {}))}.")
    lines.append("")
    blocking = view.blocking
    if blocking:
        lines.append(f"{_SEVERITY_MARK['error']} **Not ready:** {len(blocking)} finding"
                     f"{'s' if len(blocking) != 1 else ''} at or above `fail-on = {view.fail_on.value}`")
    else:
        lines.append(f"\N{WHITE HEAVY CHECK MARK} No finding at or above `fail-on = {view.fail_on.value}`")
    if report_url:
        lines += ["", f"[Full report with the notebook]({report_url})"]
    lines.append("")
    if summary["by_category"]:
        lines += ["| Category | Findings |", "|---|---:|"]
        lines += [f"| {category} | {count} |" for category, count in summary["by_category"].items()]
        lines.append("")
    current: object = object()
    explained: set[str] = set()  # each rule's docs once per comment: comments have a size limit
    for item in view.findings:
        finding = item.finding
        if finding.cell_index != current:
            current = finding.cell_index
            lines += ["", "#### Notebook" if current is None else f"#### Cell {current}", ""]
        mark = _SEVERITY_MARK[finding.severity.value]
        where = f"line {finding.line}: " if finding.cell_index is not None else ""
        lines.append(f"- {mark} **{finding.code}** {where}{_md_text(finding.message)}")
        if item.source_line.strip():
            lines.append(f"  {_md_code(item.source_line.strip())}")
        if item.docs_url:
            lines.append(f"  ruff's documentation: [{finding.name}]({item.docs_url})")
        details = []
        if finding.code not in explained:
            if item.why:
                details += [item.why, ""]
            if item.use_instead:
                details += ["**Use instead**", "", item.use_instead, ""]
        explained.add(finding.code)
        if details:
            lines += ["", "  <details><summary>Why it matters</summary>", ""]
            lines += [f"  {text}" if text else "" for block in details for text in block.split("\n")]
            lines += ["  </details>", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _md_text(text: str) -> str:
    """Keep a message literal in Markdown: no HTML, no accidental emphasis outside code spans."""
    return html.escape(text, quote=False)


def _md_code(text: str) -> str:
    text = text if len(text) <= 160 else text[:157] + "..."
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


__all__ = [
    "ReadinessGate",
    "ReadinessReportExporter",
    "ReadinessReportMarkdownExporter",
    "build_report",
    "markdown_report",
    "notebook_path",
]
