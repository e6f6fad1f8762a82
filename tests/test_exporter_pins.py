"""The exporter pins what the RP2xx dependency rules count as pinned: the same install-line and
dependency-file parsing (requirements.py), so the generated pyproject.toml and the linter agree."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from readiness_magics.exporter import build_package
from readiness_magics.notebook import notebook_from_sources
from readiness_magics.requirements import installed_version

from .helpers import findings_for

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _write(tmp_path: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)


def _build(tmp_path: Path, cells: list):
    notebook = notebook_from_sources(cells, path=tmp_path / "nb.ipynb")
    return build_package(notebook, "nb", format_code=False)


def _pinned(build) -> dict[str, tuple[str, str]]:
    """name -> (requirement in the generated pyproject.toml, where the README says it came from)."""
    listed = tomllib.loads(build.files["pyproject.toml"].decode())["project"]["dependencies"]
    by_name = {d.name: (d.requirement, d.source) for d in build.dependencies}
    assert sorted(listed) == sorted(requirement for requirement, _ in by_name.values())
    return by_name


def _dependency_codes(tmp_path: Path, cells: list) -> list[str]:
    return [f.code for f in findings_for(cells, ("RP201", "RP203"), path=tmp_path / "nb.ipynb")]


# --- dependencies: the pins RP201/RP203 accept are the pins in pyproject.toml ---------------------------

IMPORTS = ("import numpy as np\nimport pandas as pd\nfrom sklearn.linear_model import LinearRegression\n\n"
           "model = LinearRegression().fit(pd.DataFrame({'x': np.arange(3)}), [0, 1, 2])")

USES_PANDAS = "import pandas as pd\n\ndf = pd.DataFrame({'x': [1, 2]})"


def test_pip_lines_of_every_form_are_pinned(tmp_path):
    cells = ['!pip install "pandas==2.1.0" scikit-learn==1.3.2', "%pip install -q numpy==1.26.4", IMPORTS]
    assert _dependency_codes(tmp_path, cells) == []  # RP202 may dislike `!pip`; RP201/RP203 count all pinned
    pinned = _pinned(_build(tmp_path, cells))
    assert pinned["pandas"] == ("pandas==2.1.0", "notebook")
    assert pinned["scikit-learn"] == ("scikit-learn==1.3.2", "notebook")
    assert pinned["numpy"] == ("numpy==1.26.4", "notebook")


@pytest.mark.parametrize("line", [
    "!{sys.executable} -m pip install pandas==2.1.0",
    "!python3 -m pip install --progress-bar off pandas==2.1.0",
    "!uv pip install pandas==2.1.0",
    "!pip install -q numpy==1.26.4 && pip install pandas==2.1.0",
    "%pip install --index-url https://pypi.org/simple pandas==2.1.0",
    "%pip install 'pandas[excel]==2.1.0'",
])
def test_install_line_forms_the_engine_parses(tmp_path, line):
    cells = [line, USES_PANDAS]
    assert _dependency_codes(tmp_path, cells) == []
    assert _pinned(_build(tmp_path, cells))["pandas"] == ("pandas==2.1.0", "notebook")


def test_conda_pins(tmp_path):
    cells = ["%conda install -c conda-forge numpy=1.26.4 scipy==1.11.4", "%conda install --file specs.txt",
             "import numpy as np\nimport scipy\nimport xarray\n\nxs = xarray.DataArray(np.ones(3) * scipy.pi)"]
    files = {"specs.txt": "# conda specs\nxarray=2023.12.0=pyhd8ed1ab_0\n"}
    _write(tmp_path, files)
    assert _dependency_codes(tmp_path, cells) == []
    pinned = _pinned(_build(tmp_path, cells))
    assert pinned["numpy"] == ("numpy==1.26.4", "notebook")
    assert pinned["scipy"] == ("scipy==1.11.4", "notebook")
    assert pinned["xarray"] == ("xarray==2023.12.0", "specs.txt")


def test_requirements_file_with_an_include_and_continuation_lines(tmp_path):
    files = {
        "requirements.txt": "-r base.txt\nrequests==2.31.0 \\\n    --hash=sha256:" + "0" * 64 + "\n",
        "base.txt": "pandas==2.1.0  # the data frames\npyarrow==14.0.1\n",
    }
    cells = ["%pip install -r requirements.txt",
             "import pandas as pd\nimport requests\n\ndf = pd.DataFrame(requests.get('https://example.com').json())"]
    _write(tmp_path, files)
    assert _dependency_codes(tmp_path, cells) == []
    pinned = _pinned(_build(tmp_path, cells))
    assert pinned["pandas"] == ("pandas==2.1.0", "base.txt")
    assert pinned["requests"] == ("requests==2.31.0", "requirements.txt")
    assert pinned["pyarrow"] == ("pyarrow==14.0.1", "base.txt")  # installed by the notebook, imported by none


def test_constraints_file_pins_a_bare_name(tmp_path):
    files = {"constraints.txt": "pandas==2.1.0\n"}
    cells = ["%pip install pandas -c constraints.txt", USES_PANDAS]
    _write(tmp_path, files)
    assert _dependency_codes(tmp_path, cells) == []
    assert _pinned(_build(tmp_path, cells))["pandas"] == ("pandas==2.1.0", "constraints.txt")


def test_pyproject_and_environment_beside_the_notebook(tmp_path):
    files = {
        "pyproject.toml": '[project]\nname = "analysis"\nversion = "0"\ndependencies = ["pandas==2.1.0"]\n',
        "environment.yml": "name: analysis\ndependencies:\n  - python=3.11\n  - numpy=1.26.4\n"
                           "  - pip:\n    - scikit-learn==1.3.2\n",
    }
    cells = [IMPORTS]
    _write(tmp_path, files)
    assert _dependency_codes(tmp_path, cells) == []
    pinned = _pinned(_build(tmp_path, cells))
    assert pinned["pandas"] == ("pandas==2.1.0", "pyproject.toml")
    assert pinned["numpy"] == ("numpy==1.26.4", "environment.yml")
    assert pinned["scikit-learn"] == ("scikit-learn==1.3.2", "environment.yml")


def test_the_notebook_pin_wins_over_a_file(tmp_path):
    files = {"requirements.txt": "pandas==2.0.3\n"}
    cells = ["%pip install pandas==2.1.0", USES_PANDAS]
    _write(tmp_path, files)
    assert _pinned(_build(tmp_path, cells))["pandas"] == ("pandas==2.1.0", "notebook")


@pytest.mark.parametrize("line", [
    "%pip install 'pandas>=2'",
    "%pip install pandas==2.*",
    "%pip install pandas",
    "%conda install 'pandas>=2'",
])
def test_what_the_engine_does_not_count_as_pinned_takes_the_installed_version(tmp_path, line):
    cells = [line, USES_PANDAS]
    assert "RP201" in _dependency_codes(tmp_path, cells)
    assert _pinned(_build(tmp_path, cells))["pandas"] == (f"pandas=={installed_version('pandas')}", "installed")


def test_a_pin_whose_marker_excludes_this_python_is_not_used(tmp_path):
    # Pinned for RP201, but not for this interpreter: pinned_version() says so, as RP731 reads it too.
    cells = ["%pip install 'pandas==2.1.0; python_version < \"3\"'", USES_PANDAS]
    assert _pinned(_build(tmp_path, cells))["pandas"] == (f"pandas=={installed_version('pandas')}", "installed")
