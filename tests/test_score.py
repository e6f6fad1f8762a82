"""The readiness score: a rubric over the categories, the same number in every adapter."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from readiness_magics.engine import check_file
from readiness_magics.findings import CATEGORIES, Finding, Severity
from readiness_magics.magics.display import ReadinessReport
from readiness_magics.report import CATEGORY_WEIGHTS, category_status, readiness_score, score_explanation
from readiness_magics.report_exporter import build_report, markdown_report

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_notebooks"


def finding(category: str, severity: Severity = Severity.ERROR, cell: int = 0) -> Finding:
    return Finding(code="RP999", name="x", category=category, severity=severity, message="m",
                   cell_index=cell, cell_id=None, line=1, column=1, end_line=1, end_column=2)


def test_weights_cover_every_category_and_sum_to_100():
    assert set(CATEGORY_WEIGHTS) == set(CATEGORIES)
    assert sum(CATEGORY_WEIGHTS.values()) == 100


def test_nothing_found_is_100_and_every_category_passes():
    assert readiness_score([]) == 100
    assert set(category_status([]).values()) == {"pass"}


def test_an_error_fails_its_category_a_warning_partly_passes_it_info_costs_nothing():
    assert readiness_score([finding("hidden-state")]) == 85
    assert readiness_score([finding("hidden-state", Severity.WARNING)]) == 92  # 92.5 rounds to even
    assert readiness_score([finding("notebook-hygiene", Severity.INFO)]) == 100
    status = category_status([finding("hidden-state"), finding("hidden-state", Severity.WARNING),
                              finding("untestable-code", Severity.WARNING)])
    assert (status["hidden-state"], status["untestable-code"], status["data-leakage"]) == ("fail", "partial", "pass")


def test_a_long_notebook_is_not_punished_for_its_length():
    one = [finding("unpinned-dependency", cell=0)]
    many = [finding("unpinned-dependency", cell=index) for index in range(80)]
    assert readiness_score(one) == readiness_score(many) == 90


def test_costlier_categories_cost_more():
    # a leaked secret or a leak into the test set costs more than untestable code or a style problem
    assert readiness_score([finding("hardcoded-secret")]) < readiness_score([finding("untestable-code")])
    assert readiness_score([finding("data-leakage")]) < readiness_score([finding("code-quality", Severity.WARNING)])


def test_an_unreadable_notebook_scores_zero_with_no_breakdown(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    report = check_file(bad, use_ruff=False)
    assert report.summary()["score"] == 0 and report.summary()["score_breakdown"] == {}


def test_explanation_names_what_fails_then_what_partly_passes():
    status = category_status([finding("hardcoded-path"), finding("untestable-code", Severity.WARNING),
                              finding("unpinned-dependency")])
    assert score_explanation(status) == "fails hardcoded-path, unpinned-dependency; partly untestable-code"
    assert score_explanation(category_status([])) == "every category passes"


def test_clean_samples_rank_above_messy_ones():
    scores = {path.stem: check_file(path).score for path in SAMPLES.glob("*.ipynb")}
    clean = [score for name, score in scores.items() if name.startswith("clean_")]
    messy = [score for name, score in scores.items() if not name.startswith("clean_")]
    assert min(clean) == 100
    assert max(messy) < min(clean)
    assert scores["sensor_cleaning"] < 60  # paths, data checks, hidden state and a secret: far from ready


@pytest.mark.parametrize("name", ["churn_model.ipynb", "clean_sales_report.ipynb"])
def test_every_adapter_shows_the_same_number(name, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    path = SAMPLES / name
    cli = subprocess.run([sys.executable, "-m", "readiness_magics", "check", "--format", "json", str(path)],
                         capture_output=True, text=True, cwd=ROOT)
    [entry] = json.loads(cli.stdout)["notebooks"]
    report = check_file(path)
    score, breakdown = entry["summary"]["score"], entry["summary"]["score_breakdown"]
    assert report.score == score and report.score_breakdown() == breakdown
    assert set(breakdown) == set(CATEGORIES)
    # the magics' text and HTML
    shown = ReadinessReport.from_report(report)
    assert f"score {score} ({score_explanation(breakdown)})" in shown.to_text()
    assert f"score <b>{score}</b>" in shown._repr_html_()
    # the pull-request comment
    view = build_report(json.loads(path.read_text()), path)
    assert view.summary["score"] == score
    assert markdown_report(view).startswith(f"### Readiness of `{entry['path']}`: {score}/100")
