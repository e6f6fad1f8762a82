"""The readiness-report nbconvert exporters: content against the CLI's JSON, exit codes, a real browser."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup

from readiness_magics.cli.main import main as readiness_main
from readiness_magics.report_exporter import (
    ReadinessReportExporter,
    ReadinessReportMarkdownExporter,
    mark_lines,
    mask_secrets,
)
from readiness_magics.rules import get_rule

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_notebooks"
JUPYTER = Path(sys.executable).with_name("jupyter")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
# Notebooks with findings of every kind (cell-level, ruff's, markdown-free ends) and a nearly clean one.
REPORTED = ["churn_model", "sensor_cleaning", "text_classifier", "sales_forecast", "clean_web_funnel"]


def cli_json(path: Path, tmp_path: Path) -> dict:
    """What `readiness check --format json` says about one notebook (its entry in the contract)."""
    out = tmp_path / f"{path.stem}.json"
    code = readiness_main(["check", "--format", "json", "--no-progress", "-o", str(out), str(path)])
    assert code in (0, 1)
    return json.loads(out.read_text())["notebooks"][0]


def render_html(path: Path, **traits) -> tuple[str, dict]:
    return ReadinessReportExporter(**traits).from_filename(str(path))


def words(text: str) -> str:
    """Text as a reader sees it: no Markdown markup, whitespace collapsed."""
    return " ".join(re.sub(r"[`*_]", "", text).split())


@pytest.fixture(scope="module", params=REPORTED)
def rendered(request, tmp_path_factory):
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.chdir(ROOT)  # paths in the report and in the JSON are relative to the same folder
    try:
        path = SAMPLES / f"{request.param}.ipynb"
        expected = cli_json(path, tmp_path_factory.mktemp(request.param))
        body, resources = render_html(path)
    finally:
        monkeypatch.undo()
    notebook = json.loads(path.read_text())
    return {"path": path, "expected": expected, "body": body, "resources": resources,
            "soup": BeautifulSoup(body, "html.parser"), "notebook": notebook}


def test_summary_counts_equal_the_json_output(rendered):
    expected, soup = rendered["expected"], rendered["soup"]
    summary = soup.select_one("section#readiness-summary")
    assert json.loads(summary["data-summary"]) == expected["summary"]
    for severity in ("error", "warning", "info"):
        shown = summary.select_one(f".readiness-count[data-severity={severity}] b").get_text()
        assert int(shown) == expected["summary"][severity]
    assert summary.select_one(".readiness-score-value").get_text() == str(expected["summary"]["score"])
    rows = {row["data-category"]: int(row.select("td")[1].get_text())
            for row in summary.select("table.readiness-categories tbody tr")}
    assert rows == expected["summary"]["by_category"]
    assert rendered["resources"]["readiness"]["summary"] == expected["summary"]


def test_every_finding_is_under_its_cell_and_line(rendered):
    expected, soup, notebook = rendered["expected"], rendered["soup"], rendered["notebook"]
    boxes = soup.select("div.readiness-finding")
    assert len(boxes) == len(expected["findings"])  # each once: no duplicates, none missing
    cells = notebook["cells"]
    # Detected secrets are shown masked (tests/hardening/test_secrets_masked.py); the rest verbatim.
    shown_sources = mask_secrets(["".join(cell["source"]) for cell in cells],
                                 [SimpleNamespace(**finding) for finding in expected["findings"]])
    for finding in expected["findings"]:
        matches = [box for box in boxes
                   if box["data-code"] == finding["code"] and box["data-line"] == str(finding["line"])
                   and box["data-column"] == str(finding["column"])
                   and box["data-cell-index"] == ("" if finding["cell_index"] is None else str(finding["cell_index"]))]
        assert len(matches) == 1, finding
        box = matches[0]
        assert box["data-severity"] == finding["severity"]
        assert finding["message"] in box.select_one(".readiness-message").get_text()
        if finding["cell_index"] is None:
            assert box.find_parent("section", id="readiness-summary") is not None
            continue
        index = finding["cell_index"]
        # The nearest cell anchor above the box is its cell's, and the cell after that anchor is the
        # notebook's cell (same id, same source).
        anchor = box.find_previous("a", class_="readiness-cell-anchor")
        assert anchor["data-cell-index"] == str(index)
        assert f"readiness-{finding['severity']}" in anchor["class"] or "readiness-flagged" in anchor["class"]
        cell_div = anchor.find_next_sibling("div")
        assert "jp-Cell" in cell_div["class"]
        if cells[index].get("id"):
            assert cell_div.get("id") == f"cell-id={cells[index]['id']}"
        source = shown_sources[index]
        if cells[index]["cell_type"] == "code":
            assert box in cell_div.descendants  # under the input, inside the cell
            shown = cell_div.select_one(".jp-InputArea-editor").get_text()
            assert shown.strip() == source.strip()
            line = soup.find(id=f"readiness-cell-{index}-line-{finding['line']}")
            assert line is not None and line.get_text() == source.splitlines()[finding["line"] - 1]
            assert "readiness-line" in line["class"]
        # the line quoted in the box is the line the finding is on
        quoted = box.select_one(".readiness-source")
        source_line = source.splitlines()[finding["line"] - 1] if source.splitlines() else ""
        if source_line.strip():
            assert quoted.get_text().endswith(source_line)


def test_each_finding_carries_its_rules_docs(rendered):
    for finding in rendered["expected"]["findings"]:
        box = rendered["soup"].select_one(
            f"div.readiness-finding[data-code='{finding['code']}'][data-line='{finding['line']}']")
        rule = get_rule(finding["code"])
        if rule is not None and rule.code == finding["code"]:
            docs = rule.docs()
            why = box.select_one(".readiness-why").get_text()
            assert words(docs.why)[:80] in words(why)
            if docs.use_instead:
                use_instead = box.select_one("details.readiness-use-instead").get_text()
                first_code_line = next(line for line in docs.use_instead.splitlines()
                                       if line.strip() and not line.startswith("```"))
                assert words(first_code_line) in words(use_instead)
        else:  # ruff's own codes link to ruff's documentation
            assert finding["category"] == "code-quality"
            link = box.select_one(".readiness-docs a")
            assert link["href"].startswith("https://docs.astral.sh/ruff/rules/")


def test_links_from_the_summary_reach_every_finding_and_cell(rendered):
    soup = rendered["soup"]
    ids = {element["id"] for element in soup.select("[id]")}
    internal = [a["href"][1:] for a in soup.select("a[href^='#']")]
    summary_links = [a["href"][1:] for a in soup.select("ol.readiness-index-list a")]
    assert len(summary_links) == len(rendered["expected"]["findings"])
    missing = [target for target in internal if target not in ids and not target.startswith("cell-id=")]
    assert missing == []
    anchors = soup.select("a.readiness-cell-anchor")
    assert [int(a["data-cell-index"]) for a in anchors] == list(range(len(rendered["notebook"]["cells"])))


def test_report_is_self_contained(rendered):
    soup = rendered["soup"]
    external = [tag.get("src") for tag in soup.select("script[src], img[src], link[href][rel=stylesheet]")
                if not (tag.get("src") or "").startswith("data:")]
    assert external == []
    assert "cdnjs.cloudflare.com/ajax/libs/require.js" not in rendered["body"]


def test_cdn_scripts_come_back_on_request():
    body, _ = render_html(SAMPLES / "clean_web_funnel.ipynb", include_cdn_scripts=True)
    assert "require.min.js" in body and "mathjax" in body.lower()


def test_marked_lines_survive_blank_leading_lines_and_multiline_strings():
    from nbconvert.filters.highlight import Highlight2HTML

    from readiness_magics.findings import Finding, Severity
    from readiness_magics.report_exporter import FindingView, ReportView

    source = '\n\nquery = """\nselect 1\n"""\nopen("/home/ana/x.csv")\n'
    finding = Finding("RP101", "hardcoded-path", Severity.ERROR, "path", cell_index=0, line=6, column=6)
    view = ReportView("x.ipynb", Severity.ERROR, {}, [FindingView(1, finding)])
    marked = mark_lines(Highlight2HTML()(source), source, 0, view)
    soup = BeautifulSoup(marked, "html.parser")
    assert soup.find(id="readiness-cell-0-line-6").get_text() == 'open("/home/ana/x.csv")'
    assert "readiness-error" in soup.find(id="readiness-cell-0-line-6")["class"]
    assert soup.find(id="readiness-cell-0-line-4").get_text() == "select 1"
    assert soup.find(id="readiness-cell-0-line-1") is None  # pygments dropped the blank lines


def test_markdown_flavour_lists_every_finding(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    path = SAMPLES / "sensor_cleaning.ipynb"
    expected = cli_json(path, tmp_path)
    body, resources = ReadinessReportMarkdownExporter(report_url="https://ci.example/run/7").from_filename(str(path))
    summary = expected["summary"]
    assert body.startswith(f"### Readiness of `{expected['path']}`: {summary['score']}/100")
    def counted(n, word):
        return f"**{n}** {word}{'s' if n != 1 else ''}"
    assert f"{counted(summary['error'], 'error')} · {counted(summary['warning'], 'warning')} · " \
           f"**{summary['info']}** info" in body
    assert "Score: fails hardcoded-path" in body  # what the score is made of, as the magics say it
    assert "[Full report with the notebook](https://ci.example/run/7)" in body
    for category, count in summary["by_category"].items():
        assert f"| {category} | {count} |" in body
    for finding in expected["findings"]:
        message = finding["message"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert f"**{finding['code']}** line {finding['line']}: {message}" in body
    for index in {f["cell_index"] for f in expected["findings"]}:
        assert f"#### Cell {index}" in body
    assert resources["readiness"]["blocking"] == summary["error"]
    assert "<script" not in body


def test_markdown_flavour_keeps_messages_literal():
    from readiness_magics.findings import Finding, Severity
    from readiness_magics.report_exporter import (
        FindingView,
        ReportView,
        markdown_report,
    )

    finding = Finding("RP999", "notebook-hygiene", Severity.WARNING, "uses <b>html</b> & `code`", cell_index=3,
                      line=2)
    view = ReportView("x.ipynb", Severity.ERROR, {"error": 0, "warning": 1, "info": 0, "score": 96,
                                                  "by_category": {"notebook-hygiene": 1}},
                      [FindingView(1, finding, source_line="x = `y`")])
    text = markdown_report(view)
    assert "uses &lt;b&gt;html&lt;/b&gt; &amp; `code`" in text
    assert "`` x = `y` ``" in text
    assert "No finding at or above `fail-on = error`" in text


# -- exit codes, for real: `jupyter nbconvert` in a subprocess ---------------------------------------

def nbconvert(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(JUPYTER), "nbconvert", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=240, check=False)


@pytest.fixture()
def project(tmp_path):
    """A project folder with a dirty and a clean sample notebook (and their data and requirements)."""
    for name in ("sensor_cleaning.ipynb", "clean_churn_pipeline.ipynb", "requirements.txt"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    shutil.copytree(SAMPLES / "data", tmp_path / "data")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    return tmp_path


def blocking_of(expected: dict, level: str = "error") -> list[dict]:
    rank = {"info": 0, "warning": 1, "error": 2}
    return [f for f in expected["findings"] if rank[f["severity"]] >= rank[level]]


def test_exit_code_1_after_writing_every_report(project):
    expected = cli_json(project / "sensor_cleaning.ipynb", project)
    blocking = blocking_of(expected)
    assert blocking, "the dirty sample lost its errors"
    result = nbconvert("--to", "readiness-report", "sensor_cleaning.ipynb", "clean_churn_pipeline.ipynb",
                       "--output-dir", "reports", cwd=project)
    assert result.returncode == 1, result.stderr
    # both artifacts are written, the failing one first: the gate waits for the last notebook
    for name in ("sensor_cleaning", "clean_churn_pipeline"):
        page = (project / "reports" / f"{name}.readiness.html").read_text()
        assert 'id="readiness-summary"' in page
    assert f"readiness: sensor_cleaning.ipynb: {len(blocking)} findings at or above fail-on=error" in result.stderr
    for finding in blocking:
        assert f"cell {finding['cell_index']}, line {finding['line']}: {finding['code']} " in result.stderr
    assert "clean_churn_pipeline.ipynb:" not in result.stderr


def test_exit_code_0_for_a_clean_notebook_and_with_the_gate_off(project):
    clean = nbconvert("--to", "readiness-report", "clean_churn_pipeline.ipynb", cwd=project)
    assert clean.returncode == 0, clean.stderr
    assert (project / "clean_churn_pipeline.readiness.html").is_file()
    ungated = nbconvert("--to", "readiness-report-md", "sensor_cleaning.ipynb",
                        "--ReadinessReportMarkdownExporter.gate=False", cwd=project)
    assert ungated.returncode == 0, ungated.stderr
    assert "**RP102**" in (project / "sensor_cleaning.readiness.md").read_text()


def test_fail_on_from_the_flag_and_from_tool_readiness(project):
    # Only hygiene and top-level-loop findings of a dirty sample: warnings and infos, no error.
    shutil.copy(SAMPLES / "sales_forecast.ipynb", project / "sales_forecast.ipynb")
    (project / "pyproject.toml").write_text('[tool.readiness]\nfail-on = "warning"\nselect = ["RP704", "RP404"]\n')
    expected = cli_json(project / "sales_forecast.ipynb", project)
    warnings, everything = blocking_of(expected, "warning"), blocking_of(expected, "info")
    assert blocking_of(expected) == [] and warnings and len(everything) > len(warnings)
    from_config = nbconvert("--to", "readiness-report", "sales_forecast.ipynb", cwd=project)
    assert from_config.returncode == 1, from_config.stderr
    noun = "findings" if len(warnings) > 1 else "finding"
    assert f"{len(warnings)} {noun} at or above fail-on=warning" in from_config.stderr
    stricter = nbconvert("--to", "readiness-report", "sales_forecast.ipynb", "--stdout",
                         "--ReadinessReportExporter.fail_on=info", cwd=project)
    assert stricter.returncode == 1
    assert 'data-fail-on="info"' in stricter.stdout
    assert f"{len(everything)} findings at or above fail-on=info" in stricter.stderr
    lenient = nbconvert("--to", "readiness-report", "sales_forecast.ipynb",
                        "--ReadinessReportExporter.fail_on=error", cwd=project)
    assert lenient.returncode == 0, lenient.stderr


def test_exit_code_2_when_the_configuration_cannot_be_read(project):
    (project / "pyproject.toml").write_text('[tool.readiness]\nfail-on = "sometimes"\n')
    result = nbconvert("--to", "readiness-report", "clean_churn_pipeline.ipynb", cwd=project)
    assert result.returncode == 2
    assert "fail-on must be one of error, warning, info" in result.stderr
    page = (project / "clean_churn_pipeline.readiness.html").read_text()
    assert "Cannot check this notebook" in page


def test_python_api_never_exits(project):
    expected = cli_json(project / "sensor_cleaning.ipynb", project)
    _, resources = ReadinessReportExporter().from_filename(str(project / "sensor_cleaning.ipynb"))
    assert resources["readiness"]["exit_code"] == 1
    assert resources["readiness"]["blocking"] == len(blocking_of(expected))
    assert "readiness_view" not in resources  # only plain data is handed back


# -- a real browser -----------------------------------------------------------------------------

class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (no extra package, no download)."""

    def __init__(self, executable: str):
        to_browser, self._write = os.pipe()
        self._read, from_browser = os.pipe()
        # The browser reads commands on fd 3 and answers on fd 4: a small Python moves the pipes there
        # (dash's redirections only take one-digit descriptors) and becomes the browser.
        wire = ("import os, sys; a, b = os.dup(int(sys.argv[1])), os.dup(int(sys.argv[2])); "
                "os.dup2(a, 3); os.dup2(b, 4); os.set_inheritable(3, True); os.set_inheritable(4, True); "
                "os.execv(sys.argv[3], sys.argv[3:])")
        self.process = subprocess.Popen(
            [sys.executable, "-c", wire, str(to_browser), str(from_browser), executable, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", "--remote-debugging-pipe", "about:blank"],
            pass_fds=(to_browser, from_browser), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=True)

    def send(self, method: str, params: dict | None = None, session: bool = False) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def _receive(self) -> dict:
        while b"\0" not in self._buffer:
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def open(self, url: str) -> list[str]:
        """Load a page; the console errors, uncaught exceptions and failed loads it produced."""
        self.events.clear()
        self.send("Page.navigate", {"url": url}, session=True)
        while not any(event.get("method") == "Page.loadEventFired" for event in self.events):
            self.events.append(self._receive())
        self.evaluate("new Promise(resolve => setTimeout(resolve, 300))")  # late errors
        problems = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                problems.append(" ".join(str(arg.get("value", arg.get("description"))) for arg in params["args"]))
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                problems.append(details.get("exception", {}).get("description") or details.get("text"))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                problems.append(f"{params['entry']['text']} {params['entry'].get('url', '')}")
        return problems

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True}, session=True)
        return result.get("result", {}).get("value")

    def screenshot(self, path: Path, width: int = 1200, height: int = 1500) -> None:
        import base64

        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=True)
        data = self.send("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._read)
        os.close(self._write)


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH (apt-get install -y chromium)")
    chromium = Chromium(CHROMIUM)
    yield chromium
    chromium.close()


def test_the_browser_harness_sees_console_errors(browser, tmp_path):
    page = tmp_path / "broken.html"
    page.write_text('<p>x</p><script>console.error("boom"); notAFunction();</script><img src="missing.png">')
    problems = browser.open(page.as_uri())
    assert any("boom" in problem for problem in problems)
    assert any("notAFunction" in problem for problem in problems)
    assert any("missing.png" in problem or "ERR_FILE_NOT_FOUND" in problem for problem in problems)


def test_report_opens_in_chromium_without_console_errors(browser, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    body, _ = render_html(SAMPLES / "churn_model.ipynb")
    page = tmp_path / "churn_model.readiness.html"
    page.write_text(body, encoding="utf-8")
    assert browser.open(page.as_uri()) == []
    shown = browser.evaluate("""({
        findings: document.querySelectorAll('.readiness-finding').length,
        visible: [...document.querySelectorAll('.readiness-finding')].every(box => box.offsetHeight > 0),
        score: document.querySelector('.readiness-score-value').textContent,
        cells: document.querySelectorAll('.jp-Cell').length,
    })""")
    expected = cli_json(SAMPLES / "churn_model.ipynb", tmp_path)
    assert shown == {"findings": len(expected["findings"]), "visible": True,
                     "score": str(expected["summary"]["score"]), "cells": len(json.loads(
                         (SAMPLES / "churn_model.ipynb").read_text())["cells"])}
    # a link of the summary jumps to the finding under its cell
    target = browser.evaluate("""(() => {
        document.querySelector('ol.readiness-index-list a[href="#readiness-finding-3"]').click();
        const box = document.querySelector(':target');
        return [box.id, box.dataset.code, box.getBoundingClientRect().top < 50];
    })()""")
    assert target == ["readiness-finding-3", expected["findings"][2]["code"], True]
    browser.evaluate("window.scrollTo(0, 0)")
    shot = tmp_path / "report-screenshot.png"
    browser.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    if os.environ.get("READINESS_SCREENSHOT"):  # `READINESS_SCREENSHOT=docs/report-screenshot.png pytest ...`
        shutil.copy(shot, ROOT / os.environ["READINESS_SCREENSHOT"])


def test_entry_points_are_registered():
    from importlib.metadata import entry_points

    exporters = {ep.name: ep.value for ep in entry_points(group="nbconvert.exporters")}
    assert exporters["readiness-report"] == "readiness_magics.report_exporter:ReadinessReportExporter"
    assert exporters["readiness-report-md"] == "readiness_magics.report_exporter:ReadinessReportMarkdownExporter"
    from nbconvert.exporters import get_exporter

    assert get_exporter("readiness-report") is ReadinessReportExporter
