"""The exporter lifts into Params the paths RP101/RP102 report (rules/paths.py decides), plus relative
data file paths, which RP101 leaves alone."""
from __future__ import annotations

from pathlib import Path

import pytest

from readiness_magics.analysis import NotebookModel
from readiness_magics.config import Settings
from readiness_magics.exporter import build_package
from readiness_magics.notebook import notebook_from_sources
from readiness_magics.rules.paths import is_reported, path_sightings

from .helpers import findings_for


def _build(tmp_path: Path, cells: list):
    notebook = notebook_from_sources(cells, path=tmp_path / "nb.ipynb")
    return build_package(notebook, "nb", format_code=False)


def _lifted(tmp_path: Path, cells: list):
    build = _build(tmp_path, cells)
    pipeline = build.files["src/nb/pipeline.py"].decode()
    return {p.default: p.name for p in build.plan.parameters}, pipeline


def _reported_paths(cells: list) -> list[str]:
    return [f.code for f in findings_for(cells, ("RP101", "RP102"))]


@pytest.mark.parametrize("source, value, name", [
    ('df = pd.read_csv("C:\\\\Users\\\\me\\\\data.csv")', "C:\\Users\\me\\data.csv", "data_path"),
    ('df = pd.read_csv("/home/me/x.csv")', "/home/me/x.csv", "x_path"),
    ('df = pd.read_csv("s3://bucket/x.csv")', "s3://bucket/x.csv", "x_path"),
    ('df = pd.read_csv("~/x.csv")', "~/x.csv", "x_path"),
    ('df = pd.read_csv("/opt/shared/x.csv")', "/opt/shared/x.csv", "x_path"),  # a root the old regex missed
    ('df = pd.read_csv("/tmp/x.csv")', "/tmp/x.csv", "x_path"),  # absolute and read: RP101 reports it
    ('source = "/srv/exports/x.csv"\ndf = pd.read_csv(source)', "/srv/exports/x.csv", "source"),
])
def test_a_path_the_rules_report_becomes_a_params_field(tmp_path, source, value, name):
    cells = ["import pandas as pd", source]
    assert _reported_paths(cells), "the rules report it"
    fields, pipeline = _lifted(tmp_path, cells)
    assert fields.get(repr(value)) == name
    assert repr(value) not in pipeline and f"params.{name}" in pipeline


@pytest.mark.parametrize("source, value", [
    ('df = pd.read_csv("https://example.com/x.csv")', "https://example.com/x.csv"),  # a URL, not a path
    ('name = str(base).replace("/home/me/", "")', "/home/me/"),  # a fragment for a string method
    ('pattern = re.compile(r"/home/\\w+/")', "/home/\\w+/"),  # a regular expression
    ('df = pd.read_csv(os.path.join(base, "/raw/x.csv"))', "/raw/x.csv"),  # a piece under another root
])
def test_a_near_miss_the_rules_do_not_report_is_not_machine_specific(tmp_path, source, value):
    cells = ["import os\nimport re\n\nimport pandas as pd\n\nbase = 'data'", source]
    assert _reported_paths(cells) == []
    fields, pipeline = _lifted(tmp_path, cells)
    assert repr(value) not in fields
    assert repr(value) in pipeline or value in pipeline


def test_relative_data_paths_are_still_lifted(tmp_path):
    cells = ["import pandas as pd", 'df = pd.read_csv("data/orders.csv")']
    assert _reported_paths(cells) == []  # RP101 leaves relative paths alone; the exporter still lifts them
    fields, pipeline = _lifted(tmp_path, cells)
    assert fields == {"'data/orders.csv'": "orders_path"}
    assert "params.orders_path" in pipeline


PATH_CELLS = [
    {"source": 'data_path = "/home/ana/churn.csv"\nout_dir = "/tmp/out"\nbucket = "s3://acme/x"\n'
               'shared = "/mnt/shared"', "tags": ["parameters"]},
    'import os\nimport re\nimport pandas as pd\nfrom pathlib import Path',
    'df = pd.read_csv("/home/ana/x.csv")\nraw = pd.read_parquet("s3://acme/events/")',
    'log = "/var/log/app.log"\nwith open(log) as f:\n    pass\nroute = "/api/v1/users"',
    'cfg = "/etc/app.conf"\nroot = os.path.join("/data/proj", "raw")\nhome = Path.home()',
    'x = "~"\npattern = re.compile(r"/home/\\w+")\nname = "C:\\\\Users\\\\ana\\\\y.csv"',
    '!cp /home/ana/a.csv s3://acme/b.csv',
    'def load(path="/Volumes/ext/x.csv"):\n    return pd.read_csv(path)',
]


def test_is_reported_matches_rp101_and_rp102_findings():
    notebook = notebook_from_sources(PATH_CELLS)
    model = NotebookModel(notebook, Settings(ruff=False))
    predicted = sorted((s.cell.index, s.span.line, s.span.column) for s in path_sightings(model) if is_reported(s))
    found = sorted((f.cell_index, f.line, f.column) for f in findings_for(PATH_CELLS, ("RP101", "RP102")))
    assert predicted == found
    assert len(found) >= 8  # the case list does reach both rules, in and out of the parameters cell
