"""The `readiness` pre-commit hook, for real: `pre-commit try-repo` installs it from this repository."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_notebooks"
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")


def test_hook_definition():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook, fix) = hooks
    assert hook["id"] == "readiness"
    assert hook["entry"].split()[:2] == ["readiness", "check"]
    assert hook["language"] == "python"
    assert hook["types"] == ["jupyter"]  # identify's type for .ipynb
    assert fix["id"] == "readiness-fix" and fix["entry"].split()[:3] == ["readiness", "check", "--fix"]
    assert "--unsafe-fixes" not in fix["entry"] and fix["types"] == ["jupyter"]


@pytest.fixture()
def throwaway_repo(tmp_path):
    """A git repository with a dirty and a clean notebook (and the clean one's pins and data) and a README."""
    repo = tmp_path / "analysis"
    repo.mkdir()
    for name in ("sensor_cleaning.ipynb", "clean_churn_pipeline.ipynb", "requirements.txt"):
        shutil.copy(SAMPLES / name, repo / name)
    shutil.copytree(SAMPLES / "data", repo / "data")
    (repo / "README.md").write_text("# Analysis\n\nNot a notebook: the hook must not be given this file.\n")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    return repo


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, env=clean_env(repo.parent))


def clean_env(tmp: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GIT_", "PRE_COMMIT"))}
    env["PRE_COMMIT_HOME"] = str(tmp / "pre-commit-home")  # nothing shared with the user's cache
    # The hook needs the Python package only. A clone of this repository has no built sidebar, and
    # building it needs Node and the npm registry; the wheel is complete without it for the CLI.
    env["SKIP_JUPYTER_BUILDER"] = "1"
    return env


def try_repo(repo: Path, *args: str, hook: str = "readiness", env: dict | None = None) -> subprocess.CompletedProcess:
    # The committed HEAD of this repository: the same code in both runs, so pre-commit installs the
    # hook's environment once and reuses it (try-repo without --ref would commit the working tree).
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    return subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(ROOT), hook, "--ref", head, "--verbose", "--color", "never",
         *args],
        cwd=repo, capture_output=True, text=True, env=env or clean_env(repo.parent), timeout=1200, check=False,
    )


@pytest.mark.skipif(not PRE_COMMIT.exists(), reason="pre-commit is not installed in this environment")
def test_try_repo_fails_on_the_dirty_notebook_and_passes_the_clean_one(throwaway_repo):
    everything = try_repo(throwaway_repo, "--all-files")
    output = everything.stdout + everything.stderr
    assert everything.returncode == 1, output
    assert "readiness (notebooks ready for production)" in output and "Failed" in output
    assert "- exit code: 1" in output
    assert re.search(r"^sensor_cleaning\.ipynb:cell 2:1:\d+: RP102 Cloud URI", output, re.MULTILINE), output
    assert "clean_churn_pipeline.ipynb:" not in output  # no finding at all in the clean one
    # both notebooks and nothing else were handed to `readiness check` (README.md would be unreadable)
    assert "in 2 notebooks." in output and "could not be read" not in output

    clean_only = try_repo(throwaway_repo, "--files", "clean_churn_pipeline.ipynb", "README.md")
    output = clean_only.stdout + clean_only.stderr
    assert clean_only.returncode == 0, output
    assert "Passed" in output
    assert "Found 0 findings (0 error, 0 warning, 0 info) in 1 notebook" in output


def without_node(tmp: Path) -> dict:
    """The environment of a machine with Python and git but no Node.js, and no flag to skip the build."""
    env = clean_env(tmp)
    del env["SKIP_JUPYTER_BUILDER"]
    tools = tmp / "bin-without-node"
    tools.mkdir()
    # Every program on PATH (git's helpers need sed, basename, ...) but Node.js and its package managers.
    for folder in env.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(folder):
            continue
        for entry in os.scandir(folder):
            if entry.name in ("node", "nodejs", "npm", "npx", "yarn", "corepack", "jlpm") or \
                    (tools / entry.name).exists():
                continue
            (tools / entry.name).symlink_to(entry.path)
    env["PATH"] = os.pathsep.join([str(tools), str(Path(sys.executable).parent)])
    assert shutil.which("node", path=env["PATH"]) is None and shutil.which("jlpm", path=env["PATH"])
    return env


@pytest.mark.skipif(not PRE_COMMIT.exists(), reason="pre-commit is not installed in this environment")
def test_fix_hook_installs_without_node_and_applies_the_safe_fixes(tmp_path):
    repo = tmp_path / "analysis"
    repo.mkdir()
    shutil.copy(SAMPLES / "customer_segments.ipynb", repo / "segments.ipynb")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    before = (repo / "segments.ipynb").read_text()
    result = try_repo(repo, "--all-files", hook="readiness-fix", env=without_node(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output  # files were modified, as pre-commit reports any fixer
    assert "files were modified by this hook" in output, output
    after = (repo / "segments.ipynb").read_text()
    assert "!pip install numpy" in before and "!pip install" not in after and "%pip install numpy" in after
    assert "readiness: fixed" in output


# -- docs/ci.md: the copy-paste setups stay valid ------------------------------------------------

def ci_doc_blocks(language: str) -> list[str]:
    text = (ROOT / "docs" / "ci.md").read_text()
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def shell_commands(blocks: list) -> list[str]:
    """Every shell command line of the workflows, continuation lines joined."""
    scripts: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("run", "script") and isinstance(value, str):
                    scripts.append(value)
                elif key == "script" and isinstance(value, list):
                    scripts.extend(str(item) for item in value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for block in blocks:
        walk(block)
    lines = []
    for script in scripts:
        lines.extend(line.strip() for line in script.replace("\\\n", " ").splitlines() if line.strip())
    return lines


def test_ci_doc_yaml_is_valid_and_names_the_real_hook():
    blocks = [yaml.safe_load(block) for block in ci_doc_blocks("yaml")]
    workflow, steps, gitlab, precommit = blocks
    assert [step.get("name") for step in workflow["jobs"]["readiness"]["steps"]][-1] == "Keep the HTML reports"
    assert workflow["permissions"]["security-events"] == "write"
    assert isinstance(steps, list) and all("run" in step for step in steps)
    assert gitlab["readiness"]["artifacts"]["reports"]["junit"] == "readiness-junit.xml"
    hook_ids = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert precommit["repos"][0]["hooks"][0]["id"] in hook_ids


def test_ci_doc_commands_use_real_options():
    import shlex

    from nbconvert.exporters import get_exporter

    from readiness_magics.cli.main import build_parser

    commands = shell_commands([yaml.safe_load(block) for block in ci_doc_blocks("yaml")])
    commands += [line for block in ci_doc_blocks("sh") for line in block.splitlines() if line.strip()]
    checked = nbconverted = 0
    for line in commands:
        line = line.split(" || ")[0].split("  #")[0]
        words = shlex.split(line.replace("$(", "").replace(")", ""))
        if words[:2] == ["readiness", "check"]:
            build_parser().parse_args(words[1:])  # exits (fails the test) on an unknown option
            checked += 1
        elif words[:2] == ["jupyter", "nbconvert"]:
            exporter = get_exporter(words[words.index("--to") + 1])
            for word in words:
                if word.startswith("--Readiness"):
                    cls, trait = word[2:].split("=")[0].split(".")
                    assert cls in {klass.__name__ for klass in exporter.__mro__}, word
                    assert exporter.class_traits(config=True).get(trait) is not None, word
            nbconverted += 1
    assert checked >= 3 and nbconverted >= 3
