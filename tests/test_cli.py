"""The `readiness` command as CI runs it: exit codes, the JSON contract, SARIF, JUnit, GitHub annotations."""
import hashlib
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import jsonschema
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"

# DESIGN.md's findings contract, as a schema: a change here is a contract change.
CONTRACT = {
    "type": "object",
    "required": ["tool", "notebooks"],
    "properties": {
        "tool": {"type": "object", "required": ["name", "version"],
                 "properties": {"name": {"const": "readiness-magics"}, "version": {"type": "string"}}},
        "notebooks": {"type": "array", "items": {
            "type": "object",
            "required": ["path", "error", "summary", "findings"],
            "properties": {
                "path": {"type": "string"},
                "error": {"oneOf": [{"type": "null"}, {"type": "object", "required": ["kind", "message"],
                                                         "properties": {"kind": {"type": "string"},
                                                                        "message": {"type": "string"}}}]},
                "summary": {"type": "object", "required": ["error", "warning", "info", "score", "by_category"],
                            "properties": {"error": {"type": "integer", "minimum": 0},
                                           "warning": {"type": "integer", "minimum": 0},
                                           "info": {"type": "integer", "minimum": 0},
                                           "score": {"type": "integer", "minimum": 0, "maximum": 100},
                                           # additive: each category's place in the score's rubric
                                           "score_breakdown": {"type": "object", "additionalProperties": {
                                               "enum": ["pass", "partial", "fail"]}},
                                           "by_category": {"type": "object",
                                                           "additionalProperties": {"type": "integer"}}}},
                "findings": {"type": "array", "items": {
                    "type": "object",
                    "required": ["code", "category", "severity", "message", "cell_index", "cell_id", "line",
                                 "column", "end_line", "end_column", "fix"],
                    "properties": {
                        "code": {"type": "string", "minLength": 1},
                        "category": {"enum": ["hardcoded-path", "unpinned-dependency", "missing-data-check",
                                              "untestable-code", "hidden-state", "hardcoded-secret",
                                              "code-quality", "notebook-format", "notebook-hygiene",
                                              "data-leakage"]},
                        "severity": {"enum": ["error", "warning", "info"]},
                        "message": {"type": "string", "minLength": 1},
                        "cell_index": {"type": ["integer", "null"], "minimum": 0},
                        "cell_id": {"type": ["string", "null"]},
                        "line": {"type": "integer", "minimum": 1},
                        "column": {"type": "integer", "minimum": 1},
                        "end_line": {"type": "integer", "minimum": 1},
                        "end_column": {"type": "integer", "minimum": 1},
                        "fix": {"oneOf": [{"type": "null"}, {
                            "type": "object", "required": ["description", "applicability"],
                            "properties": {"applicability": {"enum": ["safe", "unsafe"]}}}]},
                    },
                }},
            },
        }},
    },
}


def readiness(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "readiness_magics", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env={**os.environ, "NO_COLOR": "1"})


def notebook(path, *sources, markdown_first=True):
    cells = [nbformat.v4.new_markdown_cell("# Notebook")] if markdown_first else []
    cells += [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), str(path))
    return path


@pytest.fixture
def project(tmp_path):
    """A folder with a syntax-broken notebook, a clean one and an unreadable one."""
    notebook(tmp_path / "broken.ipynb", "import os\nprint(os.sep)", "print 'hi'")
    notebook(tmp_path / "clean.ipynb", "total = 1 + 2\nprint(total)")
    checkpoints = tmp_path / ".ipynb_checkpoints"
    checkpoints.mkdir()
    notebook(checkpoints / "broken-checkpoint.ipynb", "print 'hi'")
    return tmp_path


def test_exit_0_when_clean_1_with_errors_2_for_unreadable_or_usage(project):
    assert readiness("check", "--no-ruff", str(project / "clean.ipynb")).returncode == 0
    broken = readiness("check", "--no-ruff", str(project / "broken.ipynb"))
    assert broken.returncode == 1
    assert "broken.ipynb:cell 2:1:" in broken.stdout and "RP001" in broken.stdout
    (project / "bad.ipynb").write_text("{not json")
    unreadable = readiness("check", "--no-ruff", str(project / "bad.ipynb"), str(project / "clean.ipynb"))
    assert unreadable.returncode == 2
    assert "bad.ipynb: cannot read: not valid JSON" in unreadable.stdout
    assert readiness("check", str(project / "missing.ipynb")).returncode == 2
    assert readiness("check", "--format", "yaml", str(project)).returncode == 2
    assert readiness("explain", "RP999").returncode == 2


def test_fail_on_and_select_change_the_exit_code(project):
    path = notebook(project / "untidy.ipynb", "import os")  # only ruff's F401, a warning
    assert readiness("check", str(path)).returncode == 0
    assert readiness("check", "--fail-on", "warning", str(path)).returncode == 1
    broken = str(project / "broken.ipynb")
    assert readiness("check", "--no-ruff", "--ignore", "RP001", broken).returncode == 0
    assert readiness("check", "--no-ruff", "--select", "notebook-format", broken).returncode == 1
    assert readiness("check", "--no-ruff", "--select", "hardcoded-secret", broken).returncode == 0


def test_folders_are_searched_recursively_without_checkpoints(project):
    result = readiness("check", "--no-ruff", "--format", "json", str(project))
    paths = sorted(Path(entry["path"]).name for entry in json.loads(result.stdout)["notebooks"])
    assert paths == ["broken.ipynb", "clean.ipynb"]


def test_json_output_follows_the_contract(project):
    (project / "bad.ipynb").write_bytes(b"")
    result = readiness("check", "--format", "json", str(project))
    report = json.loads(result.stdout)
    jsonschema.validate(report, CONTRACT)
    by_name = {Path(entry["path"]).name: entry for entry in report["notebooks"]}
    assert by_name["bad.ipynb"]["error"]["kind"] == "empty"
    broken = by_name["broken.ipynb"]
    syntax = [f for f in broken["findings"] if f["code"] == "RP001"]
    assert syntax and syntax[0]["cell_index"] == 2 and syntax[0]["category"] == "notebook-format"
    ruff_codes = [f for f in broken["findings"] if f["category"] == "code-quality"]
    assert ruff_codes == [] or all(f["cell_index"] is not None for f in ruff_codes)
    summary = broken["summary"]
    assert summary["error"] == sum(f["severity"] == "error" for f in broken["findings"])
    assert sum(summary["by_category"].values()) == len(broken["findings"])


def test_ruff_diagnostics_are_mapped_to_cells(project):
    path = notebook(project / "imports.ipynb", "x = 1", "import os\nimport sys\nprint(sys.argv)")
    result = json.loads(readiness("check", "--format", "json", "--select", "F401", str(path)).stdout)
    [finding] = result["notebooks"][0]["findings"]
    assert (finding["code"], finding["cell_index"], finding["line"], finding["column"]) == ("F401", 2, 1, 8)
    assert finding["category"] == "code-quality"


def sarif_schema():
    """The official SARIF 2.1.0 schema, as Microsoft ships it in an npm package (fetched once)."""
    target = CACHE / "sarif-schema-2.1.0.json"
    if not target.exists():
        CACHE.mkdir(exist_ok=True)
        subprocess.run(["npm", "pack", "@microsoft/jest-sarif@1.0.0-beta.0", "--silent"], cwd=CACHE,
                       check=True, capture_output=True)
        archive = CACHE / "microsoft-jest-sarif-1.0.0-beta.0.tgz"
        with tarfile.open(archive) as tar:
            member = tar.extractfile("package/lib/schemas/sarif-2.1.0-rtm.5.json")
            target.write_bytes(member.read())
        archive.unlink()
    return json.loads(target.read_text())


def test_sarif_validates_against_the_schema_and_locates_cells(project):
    (project / "bad.ipynb").write_text("[]")
    result = readiness("check", "--format", "sarif", str(project))
    log = json.loads(result.stdout)
    jsonschema.validate(log, sarif_schema())
    run = log["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    syntax = [r for r in run["results"] if r["ruleId"] == "RP001"]
    assert syntax, run["results"]
    location = syntax[0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"].endswith("broken.ipynb")
    assert location["physicalLocation"]["region"]["startLine"] == 1
    assert location["logicalLocations"][0]["index"] == 2
    assert rule_ids[syntax[0]["ruleIndex"]] == "RP001"
    assert run["invocations"][0]["toolExecutionNotifications"][0]["level"] == "error"


def test_junit_is_read_back_by_a_junit_reader(project):
    from junitparser import Failure, JUnitXml

    output = project / "out" / "report.xml"
    output.parent.mkdir()
    result = readiness("check", "--no-ruff", "--format", "junit", "-o", str(output), str(project))
    assert result.returncode == 1 and result.stdout == ""
    xml = JUnitXml.fromfile(str(output))
    cases = {Path(case.name).name: case for suite in xml for case in suite}
    assert set(cases) == {"broken.ipynb", "clean.ipynb"}
    assert any(isinstance(r, Failure) for r in cases["broken.ipynb"].result)
    assert "RP001" in cases["broken.ipynb"].result[0].text
    assert cases["clean.ipynb"].is_passed


def test_github_annotations(project):
    result = readiness("check", "--no-ruff", "--format", "github", str(project / "broken.ipynb"))
    [syntax] = [line for line in result.stdout.splitlines() if "RP001" in line]
    assert syntax.startswith("::error file=")
    assert "broken.ipynb,title=RP001 (cell 2, line 1)::Syntax error" in syntax


def test_rules_and_explain(project):
    listing = readiness("rules")
    assert listing.returncode == 0 and "RP001" in listing.stdout and "syntax-error" in listing.stdout
    rules = json.loads(readiness("rules", "--format", "json").stdout)
    assert {"code", "name", "category", "severity", "why", "example", "use_instead"} <= set(rules[0])
    explained = readiness("explain", "syntax-error")
    assert explained.returncode == 0
    assert explained.stdout.startswith("RP001 syntax-error (notebook-format, error)")
    assert "Why is this bad?" in explained.stdout and "Use instead" in explained.stdout


def test_check_never_writes_the_notebooks(project):
    digests = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in project.glob("*.ipynb")}
    readiness("check", str(project))
    assert digests == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in project.glob("*.ipynb")}
    assert not (project / ".ruff_cache").exists()


def test_parallel_jobs_give_the_same_answer(project):
    for number in range(20):
        notebook(project / f"copy{number}.ipynb", "print 'x'" if number % 2 else "y = 1")
    one = json.loads(readiness("check", "--format", "json", "--jobs", "1", str(project)).stdout)
    two = json.loads(readiness("check", "--format", "json", "--jobs", "2", str(project)).stdout)
    assert one == two
    assert len(one["notebooks"]) == 22


def test_text_output_leads_with_production_problems(tmp_path):
    # Info notes (no git, no title, no opening markdown) come after the errors and warnings.
    path = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('import pandas as pd\ndf = pd.read_csv("/home/ana/x.csv")')]), path)
    result = subprocess.run([sys.executable, "-m", "readiness_magics", "check", "--no-ruff", "--no-cache", str(path)],
                            capture_output=True, text=True)
    lines = result.stdout.splitlines()[:-1]
    codes = [line.split(": ")[1].split()[0] for line in lines]
    assert codes[:2] == ["RP203", "RP101"] and {"RP703", "RP721"} <= set(codes[2:]), codes


# What a check run by pre-commit (one notebook, a project of plain pins, no pyproject.toml) leaves out of its
# start: packaging's requirement parser (its tokenizer and the big specifier pattern), tomllib, and shutil
# (argparse's help asks it for the terminal's width; the help is not printed).
LEFT_OUT_OF_A_CHECK = ("packaging.requirements", "packaging.markers", "packaging.utils", "packaging.tags", "tomllib",
                       "shutil")


def test_a_check_of_one_notebook_starts_light(tmp_path):
    notebook(tmp_path / "model.ipynb", "%pip install pandas scikit-learn", "import pandas as pd\nimport numpy as np",
             "df = pd.read_csv('data/sales.csv')\nprint(np.mean(df['x']))")
    (tmp_path / "requirements.txt").write_text("pandas==2.2.3\nnumpy==2.1.0\nscikit-learn>=1.5,<2\n")
    script = ("import json, sys\nfrom readiness_magics.cli.main import main\nmain(sys.argv[1:])\n"
              "print(json.dumps(sorted(sys.modules)), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", script, "check", "--no-cache", "model.ipynb"], cwd=tmp_path,
                            capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}, check=False)
    assert "RP201" in result.stdout  # the install line was read, and its packages looked up in requirements.txt
    imported = set(json.loads(result.stderr.splitlines()[-1]))
    assert "readiness_magics.rules.dependencies" in imported
    assert not imported & set(LEFT_OUT_OF_A_CHECK), sorted(imported & set(LEFT_OUT_OF_A_CHECK))
