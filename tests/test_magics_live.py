"""The live-kernel rules (RP730-RP732) through a real IPython shell: what only the kernel that runs a
notebook can tell (what it ran as In[N], what it has installed), with the near misses that must stay quiet."""
from __future__ import annotations

import importlib.metadata
import os
import sys
import time
from pathlib import Path

import nbformat
import pytest

from readiness_magics.config import Settings
from readiness_magics.engine import check_file, run_rules
from readiness_magics.live import kernel_facts
from readiness_magics.magics import magics_for
from readiness_magics.notebook import notebook_from_sources

from .test_magics import run

LIVE = ("RP730", "RP731", "RP732")
PACKAGING = importlib.metadata.version("packaging")  # installed here: the tests' package of choice
YAML = importlib.metadata.version("PyYAML")


def save(path: Path, cells: list, counts: list | None = None, outputs: dict | None = None) -> Path:
    """A notebook file: code cells (a dict for a markdown cell), with these execution counts."""
    notebook = nbformat.v4.new_notebook()
    for number, source in enumerate(cells):
        if isinstance(source, dict):
            notebook.cells.append(nbformat.v4.new_markdown_cell(source["markdown"]))
            continue
        cell = nbformat.v4.new_code_cell(source)
        cell.execution_count = counts[number] if counts else None
        if outputs and number in outputs:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=outputs[number])]
        notebook.cells.append(cell)
    nbformat.write(notebook, path)
    return path


def live(ip, line: str = "") -> list[tuple[str, int | None, int]]:
    report = ip.run_line_magic("readiness", f"{line} --no-ruff".strip())
    return [(f.code, f.cell_index, f.line) for f in report.findings if f.code in LIVE]


def live_findings(ip, line: str = ""):
    report = ip.run_line_magic("readiness", f"{line} --no-ruff".strip())
    return [f for f in report.findings if f.code in LIVE]


# --- RP732 stale-output -------------------------------------------------------------------------

def ran_three_cells(ip):
    run(ip, "a = 1")  # In[2]
    run(ip, "b = a + 1\nprint(b)")  # In[3]
    run(ip, "c = b * 2")  # In[4]


def test_an_edited_cell_is_reported_at_the_first_line_that_differs(ip, tmp_path):
    ran_three_cells(ip)
    save(tmp_path / "sales.ipynb", ["%load_ext readiness_magics", "a = 1", "b = a + 2\nprint(b)", "c = b * 2"],
         counts=[1, 2, 3, 4], outputs={2: "2\n"})
    ip.user_ns["__session__"] = "sales.ipynb"
    findings = live_findings(ip)
    assert [(f.code, f.cell_index, f.line) for f in findings] == [("RP732", 2, 1)]
    assert "In [3]" in findings[0].message and "`b = a + 1`" in findings[0].message
    assert "saved output" in findings[0].message
    assert findings[0].severity.value == "warning" and findings[0].category == "notebook-hygiene"


def test_a_line_added_below_is_pointed_at(ip, tmp_path):
    ran_three_cells(ip)
    save(tmp_path / "sales.ipynb", ["%load_ext readiness_magics", "a = 1", "b = a + 1\nprint(b)", "c = b * 2\nc"],
         counts=[1, 2, 3, 4])
    ip.user_ns["__session__"] = "sales.ipynb"
    assert live(ip) == [("RP732", 3, 2)]


def test_unchanged_cells_and_whitespace_are_not_stale(ip, tmp_path):
    ran_three_cells(ip)
    save(tmp_path / "sales.ipynb",
         [{"markdown": "# Sales"}, "%load_ext readiness_magics", "a = 1  ", "b = a + 1\nprint(b)\n\n", "c = b * 2",
          "d = 4"],  # the last one never ran: no count, nothing to compare
         counts=[None, 1, 2, 3, 4, None])
    ip.user_ns["__session__"] = "sales.ipynb"
    assert live(ip) == []


def test_only_the_notebook_of_this_session_is_compared(ip, tmp_path):
    ran_three_cells(ip)
    path = save(tmp_path / "other.ipynb", ["%load_ext readiness_magics", "a = 1", "b = a + 2\nprint(b)", "c = b * 2"],
                counts=[1, 2, 3, 4])
    assert live(ip, str(path)) == []  # its counts came from some other kernel
    ip.user_ns["__session__"] = "other.ipynb"
    assert live(ip, str(path)) == [("RP732", 2, 1)]  # the same file named by the session: compared


def test_counts_from_before_a_restart_are_not_compared(ip, tmp_path):
    ran_three_cells(ip)
    # Count 40 was given by an earlier kernel: the saved counts are not this kernel's.
    save(tmp_path / "sales.ipynb", ["%load_ext readiness_magics", "a = 1", "b = a + 2\nprint(b)", "z = 0"],
         counts=[1, 2, 3, 40])
    ip.user_ns["__session__"] = "sales.ipynb"
    assert live(ip) == []


def test_no_match_at_all_means_the_counts_are_not_evidence(ip, tmp_path):
    ran_three_cells(ip)
    save(tmp_path / "sales.ipynb", ["x = 1", "y = 2", "z = 3"], counts=[2, 3, 4])
    ip.user_ns["__session__"] = "sales.ipynb"
    assert live(ip) == []


def test_a_repeated_count_is_left_alone(ip, tmp_path):
    ran_three_cells(ip)
    save(tmp_path / "sales.ipynb", ["%load_ext readiness_magics", "a = 1", "b = a + 2\nprint(b)", "q = 9"],
         counts=[1, 2, 3, 3])
    ip.user_ns["__session__"] = "sales.ipynb"
    assert live(ip) == []


def test_an_emptied_cell_with_outputs_is_stale_but_an_empty_one_without_is_not(ip, tmp_path):
    ran_three_cells(ip)
    save(tmp_path / "sales.ipynb", ["%load_ext readiness_magics", "a = 1", "", "c = b * 2"],
         counts=[1, 2, 3, 4], outputs={2: "2\n"})
    ip.user_ns["__session__"] = "sales.ipynb"
    assert live(ip) == [("RP732", 2, 1)]
    save(tmp_path / "sales.ipynb", ["%load_ext readiness_magics", "a = 1", "", "c = b * 2"], counts=[1, 2, 3, 4])
    assert live(ip) == []


def test_the_cli_never_reports_live_rules(ip, tmp_path):
    ran_three_cells(ip)
    path = save(tmp_path / "sales.ipynb", ["%load_ext readiness_magics", "a = 1", "b = a + 2\nprint(b)"],
                counts=[1, 2, 3])
    (tmp_path / "requirements.txt").write_text("packaging==1.0\n")
    assert not [f for f in check_file(path, use_ruff=False).findings if f.code in LIVE]


# --- RP731 installed-version-differs -----------------------------------------------------------

def test_a_pip_pin_that_differs_from_the_installed_version(ip, tmp_path):
    path = save(tmp_path / "nb.ipynb", ["%pip install packaging==1.0 requests", "import packaging"])
    findings = live_findings(ip, str(path))
    assert [(f.code, f.cell_index, f.line, f.column) for f in findings] == [("RP731", 0, 1, 14)]
    assert f"pins packaging 1.0, but this kernel has {PACKAGING} installed" in findings[0].message


def test_a_pip_pin_that_matches_is_quiet(ip, tmp_path):
    path = save(tmp_path / "nb.ipynb", [f"%pip install packaging=={PACKAGING} nosuch-package-xyz==1.0",
                                        "import packaging"])
    assert live(ip, str(path)) == []  # a package not installed here is not "a different version"


def test_a_requirements_pin_is_reported_on_the_first_import(ip, tmp_path):
    (tmp_path / "requirements.txt").write_text(
        "packaging==1.0\n"
        f"PyYAML=={YAML}\n"
        'pyyaml-include==1.0 ; python_version < "3"\n'  # not for this interpreter
        "nosuch-package-xyz==2.0\n"  # not imported by the notebook
    )
    path = save(tmp_path / "nb.ipynb", ["x = 1", "import yaml\nfrom packaging import version"])
    findings = live_findings(ip, str(path))
    assert [(f.code, f.cell_index, f.line) for f in findings] == [("RP731", 1, 2)]
    assert findings[0].message.startswith("requirements.txt pins packaging 1.0")


def test_the_notebooks_own_pin_wins_over_the_files(ip, tmp_path):
    (tmp_path / "requirements.txt").write_text("packaging==1.0\n")
    path = save(tmp_path / "nb.ipynb", [f"%pip install packaging=={PACKAGING}", "import packaging"])
    assert live(ip, str(path)) == []


def test_a_module_imported_before_an_install_needs_a_restart(ip, tmp_path, monkeypatch):
    import packaging

    monkeypatch.setattr(packaging, "__version__", "0.1", raising=False)  # what the kernel imported earlier
    path = save(tmp_path / "nb.ipynb", [f"%pip install packaging=={PACKAGING}", "import packaging"])
    findings = live_findings(ip, str(path))
    assert [(f.code, f.cell_index) for f in findings] == [("RP731", 0)]
    assert "still runs the 0.1" in findings[0].message and "restart the kernel" in findings[0].message
    monkeypatch.setattr(packaging, "__version__", PACKAGING.rsplit(".", 1)[0], raising=False)  # a shorter form
    assert live(ip, str(path)) == []


def test_a_cell_checked_before_it_runs_is_not_blamed_for_its_own_install(ip, tmp_path, capsys):
    # --no-run: the %pip line must not run here. Its install has not happened: no RP731.
    run(ip, "%%readiness --no-run --no-ruff\n%pip install packaging==1.0\nimport packaging")
    shown = capsys.readouterr().out
    assert "RP731" not in shown


def test_a_cell_magic_reports_the_folders_pin_on_its_import(ip, tmp_path, capsys):
    (tmp_path / "requirements.txt").write_text("packaging==1.0\n")
    run(ip, "%%readiness --no-run --no-ruff\nimport packaging")
    assert "RP731" in capsys.readouterr().out


# --- RP730 import-missing-from-requirements -----------------------------------------------------

def test_a_package_the_notebook_installs_but_the_file_leaves_out(ip, tmp_path):
    (tmp_path / "requirements.txt").write_text(f"PyYAML=={YAML}\n")
    path = save(tmp_path / "nb.ipynb", [f"%pip install packaging=={PACKAGING}", "import yaml\nimport packaging"])
    findings = live_findings(ip, str(path))
    assert [(f.code, f.cell_index, f.line) for f in findings] == [("RP730", 1, 2)]
    assert findings[0].message.endswith(f"requirements.txt does not list it; add `packaging=={PACKAGING}`")


def test_what_rp203_reports_is_left_to_it_unless_rp203_is_off(ip, tmp_path):
    (tmp_path / "requirements.txt").write_text("requests==2.32.3\n")
    path = save(tmp_path / "nb.ipynb", ["import yaml"])
    report = ip.run_line_magic("readiness", f"{path} --no-ruff")
    assert [f.code for f in report.findings if f.code in ("RP203", "RP730")] == ["RP203"]
    findings = live_findings(ip, f"{path} --select notebook-hygiene")
    assert [(f.code, f.cell_index) for f in findings] == [("RP730", 0)]
    assert "'yaml' (distribution PyYAML)" in findings[0].message


@pytest.mark.parametrize("cells, files", [
    (["import yaml"], {"requirements.txt": "pyyaml>=5\n"}),  # listed, even unpinned (RP203's business)
    (["import yaml"], {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["PyYAML"]\n'}),
    (["import yaml"], {}),  # no dependency file at all: RP720 says so
    (["import nosuch_module_xyz"], {"requirements.txt": "requests==2.32.3\n"}),  # not importable here
    (["import helpers"], {"requirements.txt": "requests==2.32.3\n", "helpers.py": "X = 1\n"}),  # local module
    (["try:\n    import yaml\nexcept ImportError:\n    yaml = None"], {"requirements.txt": "requests==2.32.3\n"}),
    (["import os, json, IPython"], {"requirements.txt": "requests==2.32.3\n"}),  # stdlib, the kernel itself
])
def test_near_misses_stay_quiet(ip, tmp_path, monkeypatch, cells, files):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    path = save(tmp_path / "nb.ipynb", cells)
    assert [c for c in live(ip, f"{path} --select notebook-hygiene") if c[0] == "RP730"] == []


def test_the_kernels_history_meets_the_folders_requirements(ip, tmp_path):
    (tmp_path / "requirements.txt").write_text("requests==2.32.3\npackaging==1.0\n")
    run(ip, "import yaml")  # In[2]
    run(ip, "import packaging")  # In[3]
    report = ip.run_line_magic("readiness", "--no-ruff --select notebook-hygiene")
    assert "run in this kernel" in report.checked
    found = [(f.code, report.cells[f.cell_index].label) for f in report.findings if f.code in LIVE]
    assert found == [("RP730", "In [2]"), ("RP731", "In [3]")]


# --- the facts themselves -------------------------------------------------------------------------

def test_kernel_facts_keep_only_text():
    facts = kernel_facts(["", "a = 1", None], same_session=True)
    assert facts.inputs == ("", "a = 1", "") and facts.same_session and facts.pending_cell is None


def test_without_kernel_facts_the_rules_are_silent():
    notebook = notebook_from_sources([{"source": "a = 1", "execution_count": 1},
                                      {"source": "b = 2", "execution_count": 2}], path=None)
    assert not [f for f in run_rules(notebook, Settings(ruff=False)) if f.code in LIVE]
    notebook.kernel = kernel_facts(["", "a = 1", "b = 1"], same_session=True)
    assert [f.code for f in run_rules(notebook, Settings(ruff=False)) if f.code in LIVE] == ["RP732"]


def test_live_imports_do_not_import_anything(ip, tmp_path):
    (tmp_path / "requirements.txt").write_text("requests==2.32.3\n")
    (tmp_path / "noisy_module_xyz.py").write_text("raise SystemExit('imported!')\n")
    path = save(tmp_path / "nb.ipynb", ["import noisy_module_xyz"])
    sys.modules.pop("noisy_module_xyz", None)
    assert live(ip, str(path)) == []
    assert "noisy_module_xyz" not in sys.modules


def test_a_version_that_is_not_a_version_says_nothing(ip, tmp_path, monkeypatch):
    import packaging

    monkeypatch.setattr(packaging, "__version__", "unknown", raising=False)
    path = save(tmp_path / "nb.ipynb", [f"%pip install packaging=={PACKAGING}", "import packaging"])
    assert live(ip, str(path)) == []


def test_a_count_given_after_the_last_save_is_not_the_files(ip, tmp_path):
    # The file was saved before this kernel ran In[3]: its cell counted 3 got that count from an
    # earlier session (a restart and a re-run since), so the difference says nothing about staleness.
    run(ip, "a = 1")  # In[2]
    time.sleep(0.05)
    run(ip, "b = a + 1\nprint(b)")  # In[3]
    run(ip, "c = b * 2")  # In[4]
    path = save(tmp_path / "sales.ipynb", ["%load_ext readiness_magics", "a = 1", "b = a + 2\nprint(b)", "c = b * 2"],
                counts=[1, 2, 3, 4])
    finished = magics_for(ip).finished
    saved_at = (finished[2] + finished[3]) / 2  # after In[2], before In[3]
    os.utime(path, (saved_at, saved_at))
    ip.user_ns["__session__"] = "sales.ipynb"
    assert live(ip) == []


# --- a real kernel, started by a jupyter_server session ------------------------------------------------

async def test_a_real_session_kernel_reports_a_cell_edited_after_it_ran(jp_fetch, jp_root_dir, jp_serverapp,
                                                                        monkeypatch):
    import json

    repo = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")])))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    save(jp_root_dir / "sales.ipynb", ["x = 1"], counts=[None])
    body = {"path": "sales.ipynb", "name": "sales.ipynb", "type": "notebook", "kernel": {"name": "python3"}}
    response = await jp_fetch("api", "sessions", method="POST", body=json.dumps(body))
    session = json.loads(response.body)
    manager = jp_serverapp.kernel_manager.get_kernel(session["kernel"]["id"])
    client = manager.client()
    client.start_channels()
    texts: list[str] = []

    def keep(message):
        if message["msg_type"] == "stream":
            texts.append(message["content"]["text"])
        elif message["msg_type"] == "error":
            texts.append("ERROR " + message["content"]["evalue"])

    try:
        await client.wait_for_ready(timeout=180)
        for cell in ("%load_ext readiness_magics", "a = 1", "b = a + 1\nprint(b)"):
            await client.execute_interactive(cell, output_hook=keep, timeout=180)
        # The front end saves: the third cell was edited after it ran, and not run again.
        save(jp_root_dir / "sales.ipynb", ["%load_ext readiness_magics", "a = 1", "b = a + 2\nprint(b)"],
             counts=[1, 2, 3], outputs={2: "2\n"})
        await client.execute_interactive(
            "r = %readiness --no-ruff --select stale-output\nprint(r.checked, [(f.code, f.cell_index) for f in r.findings])",
            output_hook=keep, timeout=180)
    finally:
        client.stop_channels()
        await jp_fetch("api", "sessions", session["id"], method="DELETE")
    output = "".join(texts)
    assert "ERROR" not in output, output
    assert "sales.ipynb (the notebook of this Jupyter session) [('RP732', 2)]" in output


def test_a_file_saved_before_this_session_began_holds_none_of_its_counts(ip, tmp_path):
    # Saved before the kernel (re)started; the extension's own run times do not cover In[1]. The history
    # session's start tells: nothing in the file was counted by this kernel.
    path = save(tmp_path / "sales.ipynb", ["%load_ext readiness_magics", "a = 1", "b = a + 2\nprint(b)", "c = b * 2"],
                counts=[1, 2, 3, 4])
    os.utime(path, (time.time() - 3600, time.time() - 3600))
    magics_for(ip).finished.clear()  # as if the extension had been loaded later in the session
    ran_three_cells(ip)
    magics_for(ip).finished.clear()
    ip.user_ns["__session__"] = "sales.ipynb"
    assert live(ip) == []


def test_a_save_right_after_the_run_counts_as_after_it(ip, tmp_path):
    """A file's mtime comes from a coarse clock that can lag time.time() by a few milliseconds: a notebook
    saved right after its cells ran must not look older than those runs (which hid RP732 at random)."""
    ran_three_cells(ip)
    path = save(tmp_path / "sales.ipynb", ["%load_ext readiness_magics", "a = 1", "b = a + 1\nprint(b)",
                                           "c = b * 2\nc"], counts=[1, 2, 3, 4])
    last_run = max(magics_for(ip).finished.values())
    os.utime(path, (last_run - 0.004, last_run - 0.004))  # saved, by the file's clock, 4 ms "before"
    ip.user_ns["__session__"] = "sales.ipynb"
    assert live(ip) == [("RP732", 3, 2)]
