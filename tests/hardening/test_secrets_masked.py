"""A detected secret never appears unmasked in a finding, a log line or any output format."""
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

SECRETS = {
    "API_KEY": "sk-live-9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "DB_URL": "postgresql://analyst:Wq8vN3zLp5Rt@db.internal:5432/sales",
    "AWS_ID": "AKIA4QWERTY7UIOPL2ZX",
}
SECRET_PARTS = ["9f8e7d6c5b4a39281706", "Wq8vN3zLp5Rt", "QWERTY7UIOPL2ZX"]


@pytest.fixture
def leaky(tmp_path):
    source = "\n".join(f'{name} = "{value}"' for name, value in SECRETS.items())
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Leaky"),
                                         nbformat.v4.new_code_cell(source)])
    path = tmp_path / "leaky.ipynb"
    nbformat.write(nb, str(path))
    return path


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "NO_COLOR": "1"})


def assert_masked(text: str):
    for part in SECRET_PARTS:
        assert part not in text


@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "github", "junit"])
def test_cli_formats_mask_secrets(leaky, output_format):
    result = run("readiness_magics", "check", "--format", output_format, str(leaky), cwd=leaky.parent)
    assert result.returncode == 1
    codes = ("RP601", "RP602", "RP603")
    assert any(code in result.stdout for code in codes), result.stdout
    assert_masked(result.stdout)
    assert_masked(result.stderr)


def test_explain_and_json_findings_mask_secrets(leaky):
    from readiness_magics.engine import check_file

    report = check_file(leaky)
    secrets = [f for f in report.findings if f.category == "hardcoded-secret"]
    assert len(secrets) >= 3
    assert_masked(json.dumps(report.to_dict()))
    assert all("…" in f.message for f in secrets)


def test_markdown_report_masks_secrets(leaky):
    result = run("jupyter", "nbconvert", "--to", "readiness-report-md", "--stdout",
                 "--ReadinessReportExporter.gate=False", str(leaky), cwd=leaky.parent)
    assert "RP60" in result.stdout, result.stderr[-2000:]
    assert_masked(result.stdout)


def test_html_report_masks_secrets_in_the_rendered_notebook(leaky):
    result = run("jupyter", "nbconvert", "--to", "readiness-report", "--stdout",
                 "--ReadinessReportExporter.gate=False", str(leaky), cwd=leaky.parent)
    assert "RP60" in result.stdout, result.stderr[-2000:]
    assert "sk-l" in result.stdout  # the masked value is still shown, so the reader finds the line
    assert_masked(result.stdout)


def test_magics_report_masks_secrets(leaky):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "readiness_magics")
    report = shell.run_line_magic("readiness", f"--no-ruff {leaky}")
    assert any(f.category == "hardcoded-secret" for f in report.findings)
    assert_masked(report._repr_html_())
    assert_masked(repr(report))
