"""Every way in reports a failure of the tool the same way (issue 13): one line naming what failed,
the traceback only with --verbose or READINESS_DEBUG=1, and exit code 2, never 1 (which means findings).

Failures are forced with the test hook READINESS_TEST_WORKER_FAULT=raise:<file name> (the check of
that notebook raises, as a bug in a rule would), or by monkeypatching in this process.
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from readiness_magics.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_notebooks"
BIN = Path(sys.executable).parent
FAULT = "READINESS_TEST_WORKER_FAULT"
NAME = "clean_churn_pipeline.ipynb"  # no finding at the fail level: only the fault can fail it

pytest_plugins = ["pytester"]


@pytest.fixture
def project(tmp_path):
    for name in (NAME, "requirements.txt"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    shutil.copytree(SAMPLES / "data", tmp_path / "data")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    return tmp_path


def run(command: list[str], cwd: Path, fault: str | None = f"raise:{NAME}", **env) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("READINESS_RAISE_RULE_ERRORS", "READINESS_DEBUG")}
    if fault:
        environment[FAULT] = fault
    environment.update(env)
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=environment, timeout=300,
                          check=False)


def only_line_about_it(text: str, needle: str) -> str:
    lines = [line for line in text.splitlines() if needle in line]
    assert len(lines) == 1, text
    assert "Traceback" not in text, text
    return lines[0]


# -- readiness check, explain, export -------------------------------------------------------------

def test_check_without_the_fault_passes(project):
    done = run([str(BIN / "readiness"), "check", "--no-progress", NAME], project, fault=None)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("output", ["text", "json", "sarif", "github", "junit"])
def test_check_reports_the_failure_in_every_format_and_exits_2(project, output):
    done = run([str(BIN / "readiness"), "check", "--no-progress", "--format", output, NAME], project)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    assert "internal error while checking it: RuntimeError: fault injected" in done.stdout
    if output == "json":
        (entry,) = json.loads(done.stdout)["notebooks"]
        assert entry["error"]["kind"] == "internal-error" and "detail" not in entry["error"]


def test_check_with_verbose_or_debug_shows_the_traceback(project):
    for extra, env in (["--verbose"], {}), ([], {"READINESS_DEBUG": "1"}):
        done = run([str(BIN / "readiness"), "check", "--no-progress", *extra, NAME], project, **env)
        assert done.returncode == 2
        assert "Traceback (most recent call last)" in done.stderr and "inject_test_fault" in done.stderr


def test_explain_failing_inside_is_one_line_and_exit_2(monkeypatch, capsys):
    from readiness_magics import rules

    def broken(code):
        raise KeyError("registry damaged")

    monkeypatch.setattr(rules, "get_rule", broken)
    monkeypatch.setenv("READINESS_DEBUG", "0")  # off; restored after --verbose sets it below
    assert main(["explain", "RP101"]) == 2
    err = capsys.readouterr().err
    assert only_line_about_it(err, "internal error") == (
        "readiness explain: internal error: KeyError: 'registry damaged' "
        "(READINESS_DEBUG=1 or --verbose shows the traceback)")
    assert main(["explain", "RP101", "--verbose"]) == 2
    assert "Traceback (most recent call last)" in capsys.readouterr().err


@pytest.mark.parametrize("output", ["text", "json"])
def test_export_failing_inside_names_the_notebook_in_one_line(project, output):
    done = run([str(BIN / "readiness"), "export", "--force", "--format", output, NAME], project)
    assert done.returncode == 2
    line = only_line_about_it(done.stderr, "readiness export")
    assert line.startswith(f"readiness export: cannot write a package for {NAME}: internal error: RuntimeError")
    assert not (project / "clean_churn_pipeline").exists()
    if output == "json":
        answer = json.loads(done.stdout)
        assert answer["status"] == "error" and answer["exit_code"] == 2 and NAME in answer["message"]


def test_export_that_cannot_render_says_why_in_one_line(project, monkeypatch, capsys):
    from readiness_magics.exporter import api
    from readiness_magics.exporter.render import RenderError

    def garbled(plan, package):
        raise RenderError("pipeline.py would not parse (invalid syntax, line 12):\n  x = params.a_pathparams.b_path")

    monkeypatch.setattr(api, "render_pipeline", garbled)
    monkeypatch.setenv("READINESS_DEBUG", "0")
    assert main(["export", "--force", str(project / NAME)]) == 2
    err = capsys.readouterr().err
    # Even the exporter's fallback (functions left reading globals) would not parse: a refusal that says why.
    assert only_line_about_it(err, "readiness export") == (
        f"readiness export: {NAME}: the exporter could not write valid Python for this notebook "
        "(pipeline.py would not parse (invalid syntax, line 12)); please report it")
    assert not (project / "clean_churn_pipeline").exists()


# -- nbconvert --------------------------------------------------------------------------------------

def test_nbconvert_to_readiness_failing_inside_exits_2_in_one_line(project):
    done = run([str(BIN / "jupyter"), "nbconvert", "--to", "readiness", "--ReadinessExporter.force=True", NAME],
               project)
    assert done.returncode == 2, done.stderr
    line = only_line_about_it(done.stderr, "cannot write a package")
    assert f"readiness: cannot write a package for {NAME}: internal error: RuntimeError: fault injected" in line


def test_nbconvert_to_readiness_that_cannot_render_raises_from_python(project, monkeypatch):
    from nbconvert.nbconvertapp import NbConvertApp

    from readiness_magics.exporter import api
    from readiness_magics.exporter.nbconvert_exporter import (
        ExportRefused,
        ReadinessExporter,
    )
    from readiness_magics.exporter.render import RenderError

    def garbled(plan, package):
        raise RenderError("pipeline.py would not parse: invalid syntax, line 3")

    monkeypatch.setattr(api, "render_pipeline", garbled)
    assert not NbConvertApp.initialized()
    with pytest.raises(ExportRefused, match=f"^{NAME}: the exporter could not write valid Python .*pipeline.py would not parse"):
        ReadinessExporter(force=True).from_filename(str(project / NAME))


@pytest.mark.parametrize(("to", "suffix"), [("readiness-report", ".readiness.html"),
                                             ("readiness-report-md", ".readiness.md")])
def test_nbconvert_reports_failing_inside_write_the_report_and_exit_2(project, to, suffix):
    done = run([str(BIN / "jupyter"), "nbconvert", "--to", to, NAME], project)
    assert done.returncode == 2, done.stderr
    line = only_line_about_it(done.stderr, "internal error")
    assert "cannot check it: internal error while checking it: RuntimeError: fault injected" in line
    written = (project / NAME.replace(".ipynb", suffix)).read_text()
    assert "internal error while checking it" in written


# -- the pytest plugin and the pre-commit hook ------------------------------------------------------

def test_pytest_plugin_failing_inside_is_one_line_and_exits_2(pytester, monkeypatch):
    shutil.copy(SAMPLES / NAME, pytester.path / NAME)
    shutil.copy(SAMPLES / "requirements.txt", pytester.path / "requirements.txt")
    monkeypatch.setenv(FAULT, f"raise:{NAME}")
    monkeypatch.delenv("READINESS_DEBUG", raising=False)
    result = pytester.runpytest_subprocess("--readiness", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    assert result.ret == 2
    text = result.stdout.str()
    assert f"{NAME}: internal error while checking it: RuntimeError: fault injected" in text
    assert "Traceback" not in text and "inject_test_fault" not in text


def test_pre_commit_entry_failing_inside_is_one_line_and_exits_2(project):
    [hook] = [h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text()) if h["id"] == "readiness"]
    command = shlex.split(hook["entry"])
    command[0] = str(BIN / command[0])
    shutil.copy(SAMPLES / "sensor_cleaning.ipynb", project / "sensor_cleaning.ipynb")
    done = run([*command, "sensor_cleaning.ipynb", NAME], project)  # as pre-commit passes the staged files
    assert done.returncode == 2
    line = only_line_about_it(done.stdout, "internal error while")
    assert line.startswith(f"{NAME}: internal error while checking it: RuntimeError")
    assert "sensor_cleaning.ipynb:cell" in done.stdout  # the other notebook is still reported


# -- the server -----------------------------------------------------------------------------------

@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": {"readiness_magics": True}}}


@pytest.fixture
def served(jp_root_dir):
    shutil.copy(SAMPLES / NAME, jp_root_dir / NAME)
    return jp_root_dir


async def post(jp_fetch, endpoint: str, payload: dict):
    return await jp_fetch("readiness", endpoint, method="POST", body=json.dumps(payload), raise_error=False)


@pytest.mark.parametrize("payload", [{"path": NAME}, {"path": NAME, "content": "from-file"}],
                         ids=["saved", "unsaved"])
async def test_server_check_failing_inside_is_a_500_with_a_json_message(jp_fetch, served, monkeypatch, caplog,
                                                                         payload):
    if payload.get("content") == "from-file":
        payload = {**payload, "content": json.loads((served / NAME).read_text())}
    monkeypatch.setenv(FAULT, f"raise:{NAME}")
    response = await post(jp_fetch, "check", {**payload, "ruff": False})
    assert response.code == 500
    body = json.loads(response.body)
    assert body == {"message": f"readiness: internal error: RuntimeError: fault injected by {FAULT} on {NAME}"}
    logged = "\n".join(record.getMessage() + (str(record.exc_info) if record.exc_info else "")
                       for record in caplog.records)
    assert "fault injected" in logged
    assert any(record.exc_info for record in caplog.records)  # the traceback is in the server's log
    monkeypatch.delenv(FAULT)
    assert (await post(jp_fetch, "check", {**payload, "ruff": False})).code == 200


async def test_server_export_failing_inside_is_a_500_with_a_json_message(jp_fetch, served, monkeypatch):
    monkeypatch.setenv(FAULT, f"raise:{NAME}")
    response = await post(jp_fetch, "export", {"path": NAME, "force": True})
    assert response.code == 500
    assert json.loads(response.body)["message"].startswith("readiness: internal error: RuntimeError: fault injected")
    assert not (served / "clean_churn_pipeline").exists()
