"""The leakage samples: the problem notebook carries each kind of leakage, its clean counterpart none,
and every way in (CLI JSON, the magics' report) shows the data-leakage category like any other.
(Both notebooks also run top to bottom in a real kernel: tests/test_sample_notebooks.py.)"""
import json
from pathlib import Path

from readiness_magics.cli.main import main as readiness_main
from readiness_magics.config import Settings
from readiness_magics.engine import check_file

SAMPLES = Path(__file__).resolve().parent.parent / "sample_notebooks"
LEAKAGE = ("RP801", "RP802", "RP803")


def leakage_findings(name):
    report = check_file(SAMPLES / name, Settings(ruff=False))
    return [(f.code, f.cell_index, f.line) for f in report.findings if f.category == "data-leakage"]


def test_problem_sample_has_each_kind_of_leakage_where_it_is_made():
    assert leakage_findings("leakage_problem.ipynb") == [
        ("RP801", 4, 1),  # fillna with the mean of every row
        ("RP801", 5, 1),  # StandardScaler fitted before the split
        ("RP802", 7, 4),  # minority rows copied before the split
        ("RP803", 12, 5),  # the best depth chosen on the test set
        ("RP802", 14, 2),  # the final model trained on the test rows, then scored on them
    ]


def test_clean_sample_has_no_leakage():
    assert leakage_findings("leakage_clean.ipynb") == []


def test_cli_json_lists_the_category(tmp_path):
    out = tmp_path / "report.json"
    code = readiness_main(["check", "--format", "json", "--no-progress", "--no-ruff", "--select", ",".join(LEAKAGE),
                           "-o", str(out), str(SAMPLES / "leakage_problem.ipynb")])
    assert code == 1  # overlap-leakage is an error
    entry = json.loads(out.read_text())["notebooks"][0]
    assert entry["summary"]["by_category"] == {"data-leakage": 5}
    assert {f["name"] for f in entry["findings"]} == {"preprocessing-leakage", "overlap-leakage",
                                                      "multi-test-leakage"}


def test_magics_report_shows_the_category():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    existed = InteractiveShell.initialized()
    config = Config()
    config.HistoryManager.hist_file = ":memory:"  # nothing written to ~/.ipython
    ip = InteractiveShell.instance(config=config)
    try:
        _check_report(ip)
    finally:
        if not existed:
            InteractiveShell.clear_instance()  # later test modules get no shell they did not ask for


def _check_report(ip):
    ip.run_line_magic("load_ext", "readiness_magics")
    report = ip.run_line_magic("readiness", f"{SAMPLES / 'leakage_problem.ipynb'} --no-ruff --select RP8")
    assert {f.category for f in report.findings} == {"data-leakage"}
    page = report._repr_html_()
    assert "data-leakage" in page and "RP801" in page and "RP803" in page
    assert "multi-test" in repr(report) or "RP803" in repr(report)


def test_sidebar_lists_and_shows_the_category_by_default():
    import re

    from readiness_magics.findings import CATEGORIES

    root = SAMPLES.parent / "labextension"
    schema = json.loads((root / "schema" / "plugin.json").read_text())
    setting = schema["properties"]["categories"]
    assert setting["items"]["enum"] == list(CATEGORIES) and setting["default"] == list(CATEGORIES)
    listed = re.search(r"CATEGORIES: readonly string\[\] = \[(.*?)\];", (root / "src" / "model.ts").read_text(), re.S)
    assert re.findall(r"'([a-z-]+)'", listed.group(1)) == list(CATEGORIES)
