"""Shared by the exporter tests: a realistic clean notebook with its CSV, and a fresh virtual environment."""
from __future__ import annotations

import json
import os
import subprocess

import sysconfig
import venv
from importlib.metadata import version
from pathlib import Path

PANDAS = version("pandas")


def code(source: str, count: int | None, outputs: list | None = None, tags: list | None = None) -> dict:
    cell = {"cell_type": "code", "execution_count": count, "metadata": {}, "outputs": outputs or [],
            "source": source}
    if tags:
        cell["metadata"]["tags"] = tags
    return cell


def markdown(source: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def result(text: str, count: int) -> dict:
    return {"output_type": "execute_result", "execution_count": count, "metadata": {}, "data": {"text/plain": text}}


def stream(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def notebook_json(cells: list[dict]) -> str:
    for number, cell in enumerate(cells):
        cell.setdefault("id", f"cell-{number}")
    document = {"nbformat": 4, "nbformat_minor": 5, "cells": cells,
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                             "language_info": {"name": "python"}}}
    return json.dumps(document, indent=1) + "\n"


def orders_cells() -> list[dict]:
    """A clean notebook: pinned install, parameters cell, validated load, functions, sections, a written file."""
    return [
        markdown("# Order totals\n\nTotals per region, with tax, written as JSON for finance."),
        code(f"%pip install -q pandas=={PANDAS}\n\nimport json\nfrom pathlib import Path\n\nimport pandas as pd", 1),
        markdown("## Parameters"),
        code('orders_path = "orders.csv"\nsummary_path = "out/summary.json"\ntax_rate = 0.2\n'
             'regions = ["north", "south"]', 2, tags=["parameters"]),
        markdown("## Load"),
        code('REQUIRED = ["order_id", "region", "amount"]\n\n\n'
             "def load_orders(path):\n"
             '    """Orders, one row per order; refuses a file without the expected columns."""\n'
             "    df = pd.read_csv(path)\n"
             "    missing = sorted(set(REQUIRED) - set(df.columns))\n"
             "    if missing:\n"
             '        raise ValueError(f"{path}: missing columns {missing}")\n'
             "    if df.empty:\n"
             '        raise ValueError(f"{path}: no orders")\n'
             "    return df", 3),
        code("orders = load_orders(orders_path)\norders.head()", 4, [result("   order_id region  amount", 4)]),
        markdown("## Totals"),
        code("def add_tax(amount, rate):\n    return round(amount * (1 + rate), 2)", 5),
        code("add_tax(100.0, 0.2)", 6, [result("120.0", 6)]),
        code("print(add_tax(10, 0.5))", 7, [stream("15.0\n")]),
        code("def totals_by_region(df, rate, regions):\n"
             '    """Total amount with tax per region, for the regions asked for."""\n'
             '    kept = df[df["region"].isin(regions)]\n'
             '    sums = kept.groupby("region")["amount"].sum()\n'
             "    return {region: add_tax(float(sums.get(region, 0.0)), rate) for region in regions}", 8),
        code("totals = totals_by_region(orders, tax_rate, regions)\ntotals", 9,
             [result("{'north': 3060.0, 'south': 2940.0}", 9)]),  # what orders_csv() gives
        markdown("## Write"),
        code("def write_summary(totals, path):\n"
             '    """Write the totals as JSON, creating the folder."""\n'
             "    path = Path(path)\n"
             "    path.parent.mkdir(parents=True, exist_ok=True)\n"
             '    path.write_text(json.dumps(totals, indent=1, sort_keys=True) + "\\n")\n'
             "    return path", 10),
        code("written = write_summary(totals, summary_path)", 11),
    ]


def orders_csv(rows: int = 150) -> str:
    lines = ["order_id,region,amount"]
    regions = ["north", "south", "east"]
    for number in range(1, rows + 1):
        lines.append(f"{number},{regions[number % 3]},{(number * 37) % 100 + 0.5}")
    return "\n".join(lines) + "\n"


def write_orders_notebook(folder: Path, name: str = "order_totals.ipynb", cells: list[dict] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "orders.csv").write_text(orders_csv())
    path = folder / name
    path.write_text(notebook_json(cells if cells is not None else orders_cells()))
    return path


def make_venv(folder: Path) -> Path:
    """A fresh venv that sees this environment's packages (pandas, pytest, hatchling...) through a .pth file,
    so installs are fast and offline; returns its python."""
    venv.EnvBuilder(with_pip=True, clear=True).create(folder)
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    parent = sysconfig.get_paths()["purelib"]
    Path(purelib, "_readiness_parent_env.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
    return python


def run(command: list[str], cwd: Path | None = None, timeout: int = 300, pythonpath: str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PYTHONDONTWRITEBYTECODE="1", **(env or {}))
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env, check=False)


def pip_install(python: Path, package: Path) -> None:
    done = run([str(python), "-m", "pip", "install", "-q", "--no-build-isolation", str(package)])
    assert done.returncode == 0, done.stdout + done.stderr


def run_generated_tests(python: Path, package: Path) -> subprocess.CompletedProcess:
    return run([str(python), "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(package / "tests")],
               cwd=package)



