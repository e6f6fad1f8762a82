"""No failure crosses a boundary (issue 13): the process pool and every way in.

A folder mixing hostile files with good notebooks, checked with `--jobs 2`, reports every file
exactly once, in order, with the exit code of the contract; a worker that raises or is killed costs
only its own notebook; each adapter reports an internal failure in one line and exits 2, not 1.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from readiness_magics.cli.main import main
from readiness_magics.engine import collect_notebooks

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork, FIFOs and signals")

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_notebooks"
BIN = Path(sys.executable).parent
READINESS = BIN / "readiness"
FAULT = "READINESS_TEST_WORKER_FAULT"
EXAMPLES = int(os.environ.get("READINESS_FUZZ_EXAMPLES", "150"))

GOOD = sorted(path.name for path in SAMPLES.glob("*.ipynb"))


def _cell(source: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None}


def _notebook(*cells, **top) -> bytes:
    body = {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5, **top}
    return json.dumps(body).encode()


# The hardening suite's hostile shapes, as files: each is "cannot read" or findings, never a crash.
HOSTILE: dict[str, bytes] = {
    "empty": b"",
    "truncated": SAMPLES.joinpath("churn_model.ipynb").read_bytes()[:700],
    "random-bytes": bytes(random.Random(13).randrange(256) for _ in range(3000)),
    "not-utf8": b'{"cells": [], "metadata": {"x": "\xff\xfe"}, "nbformat": 4, "nbformat_minor": 5}',
    "json-list": b"[1, 2, 3]",
    "no-cells": b'{"metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
    "nbformat3": json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [
        {"cells": [{"cell_type": "code", "input": "import os\nprint(os.getcwd())", "outputs": [],
                    "language": "python"}]}]}).encode(),
    "invalid-cell": _notebook({"cell_type": "sorcery", "source": 3}, _cell("x = 1")),
    "syntax-error": _notebook(_cell("print 'hello'\ndef broken(:\n")),
    "null-bytes": _notebook(_cell("x = '\x00'\n\x00\n")),
    "half-magics": _notebook(_cell("%%time\n%\n!\nx = !\n%pip install"), _cell("?")),
    "deep-nesting": _notebook(_cell("x = " + "[" * 400 + "]" * 400)),
    "long-line": _notebook(_cell("y = '" + "a" * 20_000 + "'")),
    "crlf-tabs": _notebook(_cell("if True:\r\n\tx = 1\r\n        y = 2\r\n")),
    "duplicate-ids": _notebook({**_cell("a = 1"), "id": "same"}, {**_cell("b = 2"), "id": "same"}),
    "wrong-types": _notebook({"cell_type": "code", "source": ["a", 3, None], "outputs": "no",
                              "metadata": [], "execution_count": "7"}),
    "huge-count": _notebook({**_cell("z = 1"), "execution_count": 10**30}),
}


def write_entry(folder: Path, name: str, kind: str) -> None:
    """A file (or an odd entry) called `name` of the given kind: a sample notebook's name or a hostile shape."""
    target = folder / name
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "dangling-link":
        os.symlink("nowhere.ipynb", target)
    elif kind in HOSTILE:
        target.write_bytes(HOSTILE[kind])
    else:
        shutil.copy(SAMPLES / kind, target)


KINDS = [*GOOD, *HOSTILE, "fifo", "dangling-link"]


def build_folder(folder: Path, kinds: list[str]) -> list[str]:
    """Files 00_<kind>.ipynb, 01_... in the order given (the order a check reports them in)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLES / "requirements.txt", folder / "requirements.txt")
    names = []
    for number, kind in enumerate(kinds):
        name = f"{number:02d}_{kind.removesuffix('.ipynb')}.ipynb"
        write_entry(folder, name, kind)
        names.append(name)
    return names


def run_cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, **(env or {})}
    environment.pop("READINESS_RAISE_RULE_ERRORS", None)  # as users run it
    return subprocess.run([str(READINESS), *args], capture_output=True, text=True, timeout=600, cwd=cwd,
                          env=environment, check=False)


def expected_exit(entries: list[dict], fail_on: str = "error") -> int:
    if any(entry["error"] for entry in entries):
        return 2
    levels = {"error": 2, "warning": 1, "info": 0}
    blocking = [f for entry in entries for f in entry["findings"] if levels[f["severity"]] >= levels[fail_on]]
    return 1 if blocking else 0


def assert_each_once_in_order(entries: list[dict], names: list[str]) -> None:
    assert [Path(entry["path"]).name for entry in entries] == names


# -- the fixed folder of 40 --------------------------------------------------------------------------

FORTY = (KINDS * 3)[:40]


@pytest.fixture(scope="module")
def forty(tmp_path_factory):
    folder = tmp_path_factory.mktemp("forty") / "notebooks"
    names = build_folder(folder, FORTY)
    return folder, names


@pytest.fixture(scope="module")
def forty_serial(forty):
    """The same folder checked in one process: the answer the pool must give."""
    folder, _ = forty
    done = run_cli("check", "--format", "json", "--jobs", "1", "--no-progress", "--no-cache", "notebooks", cwd=folder.parent)
    return done, json.loads(done.stdout)["notebooks"]


def test_forty_files_with_jobs_2_each_reported_once_in_order(forty, forty_serial):
    folder, names = forty
    assert len(names) == 40 and len(collect_notebooks([folder])) == 40
    done = run_cli("check", "--format", "json", "--jobs", "2", "--no-progress", "--no-cache", "notebooks", cwd=folder.parent)
    assert "Traceback" not in done.stderr, done.stderr
    entries = json.loads(done.stdout)["notebooks"]
    assert_each_once_in_order(entries, names)
    assert done.returncode == expected_exit(entries) == 2
    serial_done, serial = forty_serial
    assert serial_done.returncode == 2 and entries == serial  # the pool changes nothing but the speed
    by_name = {Path(entry["path"]).name: entry for entry in entries}
    assert by_name["00_churn_model.ipynb"]["error"] is None and by_name["00_churn_model.ipynb"]["findings"]
    assert by_name[names[FORTY.index("empty")]]["error"]["kind"] == "empty"
    assert by_name[names[FORTY.index("fifo")]]["error"]["kind"] == "not-a-file"
    assert not [entry for entry in entries if entry["error"] and entry["error"]["kind"] == "internal-error"]


@pytest.mark.parametrize("fault", ["raise", "memory", "kill"])
def test_a_worker_that_fails_mid_batch_costs_only_its_notebook(forty, forty_serial, fault):
    folder, names = forty
    victim = names[FORTY.index("customer_segments.ipynb")]
    done = run_cli("check", "--format", "json", "--jobs", "2", "--no-progress", "--no-cache", "notebooks",
                   cwd=folder.parent, env={FAULT: f"{fault}:{victim}"})
    assert "Traceback" not in done.stderr, done.stderr
    entries = json.loads(done.stdout)["notebooks"]
    assert_each_once_in_order(entries, names)
    assert done.returncode == 2
    failed = {Path(entry["path"]).name: entry["error"] for entry in entries
              if entry["error"] and entry["error"]["kind"] == "internal-error"}
    assert list(failed) == [victim]
    message = failed[victim]["message"]
    assert "\n" not in message and message.startswith("internal error while checking it: ")
    assert ("SIGKILL" in message) if fault == "kill" else (f"fault injected by {FAULT}" in message)
    # every other notebook is reported as if nothing had happened
    _, serial = forty_serial
    assert [e for e in entries if Path(e["path"]).name != victim] == \
        [e for e in serial if Path(e["path"]).name != victim]


def test_text_output_and_verbose_traceback_of_a_failing_worker(forty):
    folder, names = forty
    victim = names[3]
    env = {FAULT: f"raise:{victim}"}
    plain = run_cli("check", "--jobs", "2", "--no-progress", "--no-cache", "notebooks", cwd=folder.parent, env=env)
    assert plain.returncode == 2
    assert f"notebooks/{victim}: internal error while checking it: RuntimeError: fault injected" in plain.stdout
    assert "failed with an internal error" in plain.stdout and "Traceback" not in plain.stderr
    verbose = run_cli("check", "--jobs", "2", "--no-progress", "--no-cache", "--verbose", "notebooks", cwd=folder.parent, env=env)
    assert verbose.returncode == 2
    assert "Traceback (most recent call last)" in verbose.stderr and "inject_test_fault" in verbose.stderr


# -- the property: any mix, any order --------------------------------------------------------------

@settings(max_examples=max(EXAMPLES // 15, 6), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kinds=st.lists(st.sampled_from(KINDS), min_size=16, max_size=30),
       fault=st.one_of(st.none(), st.tuples(st.sampled_from(["raise", "kill"]), st.integers(0, 29))))
def test_any_mix_with_jobs_2_reports_each_file_once_in_order(tmp_path_factory, kinds, fault):
    folder = tmp_path_factory.mktemp("mix")
    names = build_folder(folder, kinds)
    env = dict(os.environ)
    victim = None
    if fault is not None:
        victim = names[fault[1] % len(names)]
        env[FAULT] = f"{fault[0]}:{victim}"
    output = folder / "report.json"
    old = os.environ.copy()
    os.environ.clear()
    os.environ.update(env)
    try:
        code = main(["check", "--format", "json", "--jobs", "2", "--no-ruff", "--no-progress", "--no-cache", "-o", str(output),
                     str(folder)])
    finally:
        os.environ.clear()
        os.environ.update(old)
    entries = json.loads(output.read_text())["notebooks"]
    assert_each_once_in_order(entries, names)
    assert code == expected_exit(entries)
    failed = [Path(e["path"]).name for e in entries if e["error"] and e["error"]["kind"] == "internal-error"]
    # the fault strikes before the file is read: whatever the file, its entry is the failure
    assert failed == ([] if victim is None else [victim])


def test_a_failure_after_the_rules_costs_only_its_notebook(tmp_path, monkeypatch):
    """ruff's mapping or the suppression failing for one notebook of a batch (in this process, --jobs 1)."""
    from readiness_magics import engine

    folder = tmp_path / "notebooks"
    names = build_folder(folder, GOOD[:5])
    expected = [report.to_dict() for report in engine.check_paths([folder], use_ruff=False, jobs=1)]
    real = engine.keep_wanted

    def failing(notebook, settings, found):
        if notebook.path.name == names[2]:
            raise ValueError("suppression failed")
        return real(notebook, settings, found)

    monkeypatch.setattr(engine, "keep_wanted", failing)
    answer = [report.to_dict() for report in engine.check_paths([folder], use_ruff=False, jobs=1)]
    assert [Path(entry["path"]).name for entry in answer] == names
    assert answer[2]["error"] == {"kind": "internal-error",
                                  "message": "internal error while checking it: ValueError: suppression failed"}
    assert answer[:2] + answer[3:] == expected[:2] + expected[3:]
