"""The persistent cache of `readiness check` (issue 18): an unchanged notebook comes from disk, a changed
notebook, dependency file or ruff configuration is checked again, and a damaged cache or two runs
writing at once change nothing but the time.

A run answers from the cache when it does not need to check: with READINESS_TEST_WORKER_FAULT set
on a notebook, checking it fails, so an answer without the failure came from the cache.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
FAULT = "READINESS_TEST_WORKER_FAULT"


def notebook(*sources: str) -> str:
    cells = [{"cell_type": "markdown", "id": "title", "metadata": {}, "source": "# Prices\n\nLoads prices."}]
    cells += [{"cell_type": "code", "id": f"c{n}", "metadata": {}, "execution_count": n + 1, "outputs": [],
               "source": source} for n, source in enumerate(sources)]
    cells.append({"cell_type": "markdown", "id": "end", "metadata": {}, "source": "Done."})
    return json.dumps({"cells": cells, "metadata": {"language_info": {"name": "python"}},
                       "nbformat": 4, "nbformat_minor": 5}, indent=1)


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    (folder / "prices.ipynb").write_text(notebook("import os\nimport pandas as pd\n",
                                                  "frame = pd.DataFrame({'a': [1]})\nprint(frame)\n"))
    (folder / "other.ipynb").write_text(notebook("import json\n", "print(json.dumps({}))\n"))
    (folder / "requirements.txt").write_text("pandas>=2.2\n")
    return folder


def check(folder: Path, *args: str, fault: str | None = None, **env) -> tuple[int, dict]:
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("READINESS_RAISE_RULE_ERRORS", FAULT, "READINESS_CACHE_DIR")}
    environment.update(env)
    if fault:
        environment[FAULT] = f"raise:{fault}"
    done = subprocess.run([str(BIN / "readiness"), "check", "--format", "json", "--no-progress", *args, "."],
                          cwd=folder, capture_output=True, text=True, env=environment, timeout=300, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def codes(answer: dict, name: str = "prices.ipynb") -> set[str]:
    (entry,) = [entry for entry in answer["notebooks"] if Path(entry["path"]).name == name]
    assert entry["error"] is None, entry["error"]
    return {finding["code"] for finding in entry["findings"]}


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("v*/*/*.json"))


def test_an_unchanged_notebook_comes_from_the_cache(project):
    cold = check(project)
    assert "RP201" in codes(cold[1]) or "RP203" in codes(cold[1])  # pandas>=2.2 is not a pin
    cache = project / ".readiness_cache"
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"  # ignores itself in git, as .ruff_cache
    assert (cache / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert len(entries(cache)) == 2
    # checking prices.ipynb now fails: an answer without the failure is the cached one
    assert check(project, fault="prices.ipynb") == cold
    failed = check(project, "--no-cache", fault="prices.ipynb")
    assert failed[0] == 2
    assert [e["error"]["kind"] for e in failed[1]["notebooks"] if e["error"]] == ["internal-error"]
    # the JSON of a warm run is the cold run's, byte for byte, in every format's source data
    assert check(project) == cold


def test_git_ignores_the_cache_folder(project):
    check(project)
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=project,
                            capture_output=True, text=True, check=True).stdout
    assert ".readiness_cache" not in status and "prices.ipynb" in status


def test_no_cache_neither_reads_nor_writes(project):
    check(project, "--no-cache")
    assert not (project / ".readiness_cache").exists()


def test_cache_dir_option_and_environment_variable(project, tmp_path):
    check(project, "--cache-dir", str(tmp_path / "by-option"))
    assert len(entries(tmp_path / "by-option")) == 2
    check(project, READINESS_CACHE_DIR=str(tmp_path / "by-variable"))
    assert len(entries(tmp_path / "by-variable")) == 2
    assert not (project / ".readiness_cache").exists()


def test_default_folder_is_the_project_root_from_a_subfolder(project):
    (project / "sub").mkdir()
    shutil.copy(project / "other.ipynb", project / "sub" / "third.ipynb")
    environment = {key: value for key, value in os.environ.items() if key not in ("READINESS_CACHE_DIR",)}
    subprocess.run([str(BIN / "readiness"), "check", "--no-progress", "."], cwd=project / "sub",
                   capture_output=True, env=environment, check=False)
    assert len(entries(project / ".readiness_cache")) == 1 and not (project / "sub" / ".readiness_cache").exists()


def test_a_changed_dependency_file_beside_it_is_never_stale(project):
    before = codes(check(project)[1])
    assert "RP203" in before
    # the same size, written at once: only the content and the mtime differ
    (project / "requirements.txt").write_text("pandas==2.2\n")
    after = check(project)
    assert "RP203" not in codes(after[1])
    assert after == check(project, "--no-cache")


def test_a_dependency_file_added_above_it_is_seen(tmp_path):
    root = tmp_path / "repo"
    (root / "analysis").mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    (root / "analysis" / "prices.ipynb").write_text(notebook("import pandas as pd\n", "print(pd.__name__)\n"))
    first = codes(check(root / "analysis")[1])
    assert "RP720" in first  # no dependency file in the project
    (root / "requirements.txt").write_text("pandas==2.2.2\n")
    second = codes(check(root / "analysis")[1])
    assert "RP720" not in second and "RP203" not in second


def test_a_local_module_added_beside_it_is_seen(project):
    (project / "prices.ipynb").write_text(notebook("import pricing\n", "print(pricing.__name__)\n"))
    assert "RP203" in codes(check(project)[1])  # an unknown third-party import, unpinned
    (project / "pricing.py").write_text("RATE = 1\n")
    assert "RP203" not in codes(check(project)[1])  # a module of the project


def test_an_edit_keeping_size_and_mtime_is_seen(project):
    path = project / "prices.ipynb"
    cold = check(project)
    mtime = path.stat().st_mtime_ns
    text = path.read_text()
    path.write_text(text.replace("import os\\n", "import io\\n"))  # same size
    os.utime(path, ns=(mtime, mtime))  # and the same mtime: it was written just before the cached run
    warm = check(project)
    assert warm != cold and warm == check(project, "--no-cache")


def test_ruff_configuration_is_part_of_the_key(project):
    with_f401 = check(project)
    assert "F401" in codes(with_f401[1])  # `import os` unused
    (project / "ruff.toml").write_text('[lint.per-file-ignores]\n"*.ipynb" = ["F401"]\n')
    assert "F401" not in codes(check(project)[1])
    (project / "ruff.toml").unlink()
    assert check(project) == with_f401


def test_the_selection_on_the_command_line_is_part_of_the_key(project):
    everything = codes(check(project)[1])
    only = codes(check(project, "--select", "RP203")[1])
    assert only == {"RP203"} and everything > only
    assert codes(check(project)[1]) == everything


def test_damaged_cache_files_are_ignored_and_rebuilt(project):
    cold = check(project)
    cache = project / ".readiness_cache"
    damaged = entries(cache)
    damaged[0].write_bytes(damaged[0].read_bytes()[: damaged[0].stat().st_size // 2])  # truncated
    damaged[1].write_bytes(b"\x00\xff not json")
    assert check(project) == cold
    for entry in entries(cache):
        json.loads(entry.read_text())  # written again, whole
    shutil.rmtree(cache / "v1")
    (cache / "v1").write_text("a file where the entries' folder should be")  # nothing can be written
    assert check(project) == cold


def test_two_runs_writing_at_once(project):
    for number in range(12):
        shutil.copy(project / "prices.ipynb", project / f"copy{number}.ipynb")
    expected = check(project, "--no-cache")
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: check(project), range(4)))
    assert all(answer == expected for answer in answers)
    assert len(entries(project / ".readiness_cache")) == 14
    assert check(project, fault="copy3.ipynb") == expected  # all served from whole entries


def test_concurrent_writers_and_readers_of_one_entry(tmp_path):
    """Many writers of one entry and a reader: the reader sees a whole entry or none, never a torn one."""
    from readiness_magics.cache import ReportCache
    from readiness_magics.config import Settings

    path = tmp_path / "nb.ipynb"
    path.write_text(notebook("x = 1\n"))
    old = time.time() - 60
    os.utime(path, (old, old))
    cache = ReportCache(tmp_path / "cache", use_ruff=False, overrides={})
    settings = Settings(ruff=False)
    report = {"error": None, "summary": {"score": 100}, "findings": [{"code": "X", "message": "y" * 5000}]}

    def write(_):
        _, state = cache.get(path, settings)
        cache.put(path, state, report)

    def read(_):
        found, _ = cache.get(path, settings)
        return found

    with ThreadPoolExecutor(8) as pool:
        writes = [pool.submit(write, n) for n in range(200)]
        reads = [pool.submit(read, n) for n in range(200)]
    assert all(w.result() is None for w in writes)
    assert all(r.result() in (None, report) for r in reads)
    assert read(0) == report
    assert not list((tmp_path / "cache").rglob(".tmp-*"))  # no temporary file left behind


def test_part_cached_part_checked_in_parallel_keeps_the_order(project):
    for number in range(20):
        (project / f"n{number:02d}.ipynb").write_text(notebook(f"value_{number} = {number}\n", "print(1)\n"))
    check(project, "--jobs", "2")
    for number in range(20):
        if number % 7:  # 17 change (checked by two workers); 3 and the first two notebooks come from the cache
            (project / f"n{number:02d}.ipynb").write_text(notebook(f"value_{number} = {number} + 1\n", "print(1)\n"))
    warm = check(project, "--jobs", "2")
    assert warm == check(project, "--no-cache", "--jobs", "1")
    names = [Path(entry["path"]).name for entry in warm[1]["notebooks"]]
    assert names == sorted(names) and len(names) == 22


def test_fixes_that_add_cells_come_back_whole_from_the_cache(tmp_path):
    # A cached report must carry the same fixes as a fresh one, cells a fix inserts included.
    from readiness_magics.findings import Edit, Finding, Fix, NewCell, Severity

    added = Edit(2, 1, 1, 1, 1, "", NewCell("after", 1, "code", "SEED = 42\n", ("parameters", "readiness-fix")))
    gone = Edit(3, 1, 1, 2, 1, "", delete_cell=True)
    finding = Finding("RP407", "untestable-code", Severity.WARNING, "m", 2, None, 1, 1, 1, 9, Fix("seed", "unsafe", (added, gone)))
    assert Finding.from_dict(finding.to_dict()) == finding
