"""Big notebooks are checked with bounded memory: 10,000 cells, and 50 MB of image outputs.

The CLI runs in a subprocess measured by benchmarks/bench_memory.py (peak RSS from
getrusage(RUSAGE_CHILDREN) in a fresh parent). Bounds are generous and proportional to the file;
nothing here asserts a time, but each run has a timeout, so a quadratic path fails instead of hanging.
"""
from __future__ import annotations

import base64
import binascii
import importlib.util
import json
import os
import sys
from collections import Counter
from pathlib import Path

import pytest

from readiness_magics.engine import check_file

ROOT = Path(__file__).resolve().parents[2]
MB = 1_000_000


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_memory", ROOT / "benchmarks" / "bench_memory.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_bench()

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="resource.getrusage is POSIX")


def bound(path: Path) -> int:
    return 6 * os.path.getsize(path) + 200 * MB


def measured_check(path: Path, *extra: str, timeout: float = 600) -> tuple[dict, dict]:
    before = path.read_bytes()
    result = bench.peak_rss(bench.readiness_command(path, *extra), timeout=timeout)
    assert path.read_bytes() == before  # checked, never written
    assert result["returncode"] in (0, 1), result["stderr"][-2000:]
    assert "Traceback" not in result["stderr"]
    return result, json.loads(result["stdout"])["notebooks"][0]


@pytest.fixture(scope="module")
def many_cells(tmp_path_factory):
    return bench.write_many_cells(tmp_path_factory.mktemp("big") / "many_cells.ipynb", 10_000)


@pytest.fixture(scope="module")
def image_outputs(tmp_path_factory):
    return bench.write_image_notebook(tmp_path_factory.mktemp("big") / "image_outputs.ipynb", 50)


@pytest.mark.parametrize("ruff", [False, True], ids=["no-ruff", "ruff"])
def test_ten_thousand_cells(many_cells, ruff):
    result, entry = measured_check(many_cells, *([] if ruff else ["--no-ruff"]))
    print(f"10,000 cells ({os.path.getsize(many_cells) / MB:.1f} MB), ruff={ruff}: "
          f"peak RSS {result['peak_bytes'] / MB:.0f} MB")
    assert result["peak_bytes"] < bound(many_cells)
    assert entry["error"] is None
    codes = Counter(f["code"] for f in entry["findings"])
    # Every cell kind was analysed, to the end of the notebook.
    assert codes["RP101"] >= 1000 and codes["RP601"] >= 1000
    assert max(f["cell_index"] for f in entry["findings"] if f["cell_index"] is not None) > 9_900


@pytest.mark.parametrize("ruff", [False, True], ids=["no-ruff", "ruff"])
def test_fifty_megabytes_of_images(image_outputs, ruff):
    assert os.path.getsize(image_outputs) > 45 * MB
    result, entry = measured_check(image_outputs, *([] if ruff else ["--no-ruff"]))
    print(f"images ({os.path.getsize(image_outputs) / MB:.1f} MB), ruff={ruff}: "
          f"peak RSS {result['peak_bytes'] / MB:.0f} MB")
    assert result["peak_bytes"] < bound(image_outputs)
    assert entry["error"] is None


def test_ten_thousand_copies_of_one_cell(tmp_path):
    # Identical cells share their parsed statements (the cache is by source): two rules once went
    # quadratic here (RP301's event heap, RP711's movable check) and took minutes; it takes about two
    # seconds now, so the timeout (a hang guard, not a benchmark) leaves a wide margin.
    source = "import pandas as pd\ndf = pd.read_csv('/home/a/x.csv')\ndf.mean()\n"
    cells = [{"cell_type": "code", "source": source, "metadata": {}, "outputs": [], "execution_count": None,
              "id": f"c{i}"} for i in range(10_000)]
    path = tmp_path / "copies.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}))
    result, entry = measured_check(path, "--no-ruff", timeout=120)
    assert result["peak_bytes"] < bound(path)
    codes = Counter(f["code"] for f in entry["findings"])
    assert codes["RP101"] == 10_000 and codes["RP301"] == 10_000


def test_image_outputs_are_never_decoded(tmp_path, monkeypatch):
    path = bench.write_image_notebook(tmp_path / "plots.ipynb", 3)

    def refuse(*args, **kwargs):
        raise AssertionError("an output was decoded")

    for module, name in ((base64, "b64decode"), (base64, "standard_b64decode"), (binascii, "a2b_base64")):
        monkeypatch.setattr(module, name, refuse)
    report = check_file(path, use_ruff=False)
    assert report.error is None
