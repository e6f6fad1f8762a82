"""unpinned-dependency: RP201 unpinned-install, RP202 shell-pip-install, RP203 unpinned-import."""
import pytest

from tests.helpers import codes_for, findings_for

SHA = "0123456789abcdef0123456789abcdef01234567"


def rp201(cells, path=None):
    return codes_for(cells, select="RP201", path=path)


def rp203(cells, path=None):
    return codes_for(cells, select="RP203", path=path)


# --- RP201 unpinned-install --------------------------------------------------------------------------


@pytest.mark.parametrize("line", [
    "%pip install pandas scikit-learn",
    "%pip install pandas==2.2.0 scikit-learn",  # one unpinned package is enough
    "!pip install numpy",
    "!pip3 install numpy",
    "!python -m pip install numpy",
    "!{sys.executable} -m pip install numpy",
    "%pip install 'numpy>=1.26'",
    "%pip install numpy>=1.26",
    "%pip install numpy~=1.26.0",
    "%pip install numpy==1.*",
    "%pip install -U numpy",
    "%pip install --upgrade pip",
    "%pip install git+https://github.com/org/lib.git",
    "%pip install git+https://github.com/org/lib.git@main",
    "%pip install -e git+https://github.com/org/lib.git@v1.0#egg=lib",
    "%conda install numpy",
    "%conda install -c conda-forge numpy>=1.26",
    "!conda install -y numpy",
    "%mamba install numpy",
    "!pip install -q pandas==2.2.0 && pip install numpy",
    "%pip install https://github.com/org/lib/archive/refs/heads/main.zip",
])
def test_unpinned_installs(line):
    assert rp201([line]) == [("RP201", 0, 1)]


@pytest.mark.parametrize("line", [
    "%pip install pandas==2.2.0 scikit-learn==1.5.0 numpy==1.26.4",
    "%pip install -q pandas===2.2.0",
    "!pip install -qU pandas==2.2.0",  # upgrading to an exact pin is still exact
    f"%pip install git+https://github.com/org/lib.git@{SHA}",
    f"%pip install 'lib @ git+https://github.com/org/lib.git@{SHA}'",
    "%pip install ./wheels/mylib-0.3.0-py3-none-any.whl",
    "%pip install -e .",
    "%conda install numpy=1.26.4 scipy==1.13.0",
    "%conda install -c conda-forge numpy=1.26.4=py311h64a7726_0",
    "# %pip install pandas",  # commented out
    "# !pip install pandas",
    "%pip list",
    "!pip freeze > requirements-lock.txt",
    "!pip show pandas",
    "%pip uninstall -y pandas",
    "!pip download pandas -d wheels",
    "!ls -l",
    "print('pip install pandas')",
    "%pip install {package}",  # what a variable holds is not known here
])
def test_pinned_or_no_installs(line):
    assert rp201([line]) == []


def test_install_instructions_in_markdown_are_not_installs():
    cells = [{"cell_type": "markdown", "source": "Run `pip install pandas` first.\n\n    %pip install pandas\n"}]
    assert rp201(cells) == []


def test_one_finding_per_line_listing_every_unpinned_package():
    [finding] = findings_for(["x = 1\n%pip install pandas==2.2.0 numpy 'scipy>=1.11'\n"], select="RP201")
    assert (finding.line, finding.column, finding.end_column) == (2, 28, 33)  # `numpy`
    assert "numpy (no version)" in finding.message
    assert "scipy>=1.11 (a range" in finding.message
    assert "pandas" not in finding.message.split(";")[0]
    assert finding.fix.applicability == "unsafe"


def test_position_on_a_shell_line_and_on_a_continuation_line():
    [shell] = findings_for(["!pip install -q numpy"], select="RP201")
    assert (shell.line, shell.column) == (1, 17)
    source = "%pip install -qU \\\n    anthropic==0.54.0 \\\n    duckduckgo-search \\\n    backoff==2.2.1\n"
    [continued] = findings_for([source], select="RP201")
    assert (continued.line, continued.column, continued.end_column) == (3, 5, 22)
    assert "duckduckgo-search" in continued.message and "anthropic" not in continued.message


def test_each_install_line_is_its_own_finding():
    cells = ["%pip install pandas\n%pip install numpy==1.26.4\n%pip install scipy", "!pip install requests"]
    assert rp201(cells) == [("RP201", 0, 1), ("RP201", 0, 3), ("RP201", 1, 1)]


def test_install_inside_a_cell_magic_and_an_indented_block():
    cells = ["%%capture\n%pip install pandas\n", "try:\n    import lib\nexcept ImportError:\n    !pip install lib\n"]
    assert rp201(cells) == [("RP201", 0, 2), ("RP201", 1, 4)]


def test_fix_pins_the_version_the_notebooks_output_shows():
    cell = {"source": "%pip install packaging", "execution_count": 1, "outputs": [
        {"output_type": "stream", "name": "stdout", "text": "Collecting packaging\nSuccessfully installed packaging-21.3\n"}]}
    [finding] = findings_for([cell], select="RP201")
    [edit] = finding.fix.edits
    assert edit.content == "packaging==21.3"
    assert (edit.line, edit.column, edit.end_column) == (1, 14, 23)
    assert "versions shown in the notebook's outputs: packaging==21.3" in finding.message


def test_no_version_is_suggested_from_the_machine_the_check_runs_on():
    # packaging is installed where the tests run; the notebook says nothing of its version
    [finding] = findings_for(["%pip install packaging"], select="RP201")
    assert finding.fix.edits == () and "versions" not in finding.message


def test_requirements_file_that_pins_everything(tmp_path):
    (tmp_path / "requirements.txt").write_text("pandas==2.2.0\nnumpy==1.26.4  # for pandas\n")
    assert rp201(["%pip install -r requirements.txt"], path=tmp_path / "nb.ipynb") == []


def test_requirements_file_with_an_unpinned_package(tmp_path):
    (tmp_path / "requirements.txt").write_text("pandas==2.2.0\nnumpy>=1.26\n")
    [finding] = findings_for(["%pip install -q -r requirements.txt"], select="RP201", path=tmp_path / "nb.ipynb")
    assert "numpy>=1.26 in requirements.txt" in finding.message
    assert (finding.line, finding.column) == (1, 20)


def test_requirements_file_that_is_not_there(tmp_path):
    [finding] = findings_for(["%pip install -r requirements.txt"], select="RP201", path=tmp_path / "nb.ipynb")
    assert "not found" in finding.message


def test_requirements_file_is_read_beside_the_notebook(tmp_path):
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "reqs.txt").write_text("pandas==2.2.0\n")
    assert rp201(["%pip install -r env/reqs.txt"], path=tmp_path / "nb.ipynb") == []


def test_constraints_file_pins_bare_names(tmp_path):
    (tmp_path / "constraints.txt").write_text("pandas==2.2.0\n")
    assert rp201(["%pip install pandas -c constraints.txt"], path=tmp_path / "nb.ipynb") == []
    assert rp201(["%pip install numpy -c constraints.txt"], path=tmp_path / "nb.ipynb") == [("RP201", 0, 1)]


def test_conda_file(tmp_path):
    (tmp_path / "spec.txt").write_text("numpy=1.26.4\nscipy\n")
    assert rp201(["%conda install --file spec.txt"], path=tmp_path / "nb.ipynb") == [("RP201", 0, 1)]


# --- RP202 shell-pip-install -------------------------------------------------------------------------


@pytest.mark.parametrize("line, magic", [
    ("!pip install pandas==2.2.0", "%pip"),
    ("!pip3 install pandas==2.2.0", "%pip"),
    ("!python -m pip install pandas==2.2.0", "%pip"),
    ("!python3 -m pip install -q pandas==2.2.0", "%pip"),
    ("!conda install -y numpy=1.26.4", "%conda"),
    ("!mamba install -y numpy=1.26.4", "%mamba"),
])
def test_shell_installs_are_reported_with_a_safe_fix(line, magic):
    [finding] = findings_for([line], select="RP202")
    assert finding.code == "RP202" and magic in finding.message
    assert finding.fix.applicability == "safe"
    [edit] = finding.fix.edits
    fixed = edit.content + line[edit.end_column - 1:]
    assert line[: edit.column - 1] == "" and fixed.startswith(magic + " install")


def test_the_fix_keeps_indentation():
    source = "if True:\n    !pip install pandas==2.2.0\n"
    [finding] = findings_for([source], select="RP202")
    [edit] = finding.fix.edits
    assert (edit.line, edit.column, edit.end_column, edit.content) == (2, 5, 9, "%pip")
    assert (finding.line, finding.column) == (2, 6)


@pytest.mark.parametrize("line", [
    "%pip install pandas==2.2.0",
    "%conda install numpy=1.26.4",
    "!{sys.executable} -m pip install pandas==2.2.0",  # the kernel's own interpreter
    "!pip list",
    "!pip freeze",
    "# !pip install pandas==2.2.0",
    "!echo pip install pandas",
    "!apt-get install -y graphviz",
])
def test_not_shell_installs(line):
    assert codes_for([line], select="RP202") == []


def test_captured_or_chained_shell_installs_have_no_fix():
    for line in ("out = !pip install pandas==2.2.0", "!pip install pandas==2.2.0 && pip list"):
        [finding] = findings_for([line], select="RP202")
        assert finding.fix is None


# --- RP203 unpinned-import ---------------------------------------------------------------------------


def test_third_party_imports_pinned_nowhere():
    cells = ["import os\nimport pandas as pd", "import numpy as np\nfrom sklearn.linear_model import Ridge"]
    assert rp203(cells) == [("RP203", 0, 2), ("RP203", 1, 1), ("RP203", 1, 2)]


def test_reported_once_per_package_on_the_first_cell():
    cells = ["import json", "from sklearn.model_selection import train_test_split",
             "import sklearn\nfrom sklearn import metrics"]
    assert rp203(cells) == [("RP203", 1, 1)]


def test_pinned_by_the_notebook():
    cells = ["%pip install pandas==2.2.0 scikit-learn==1.5.0 numpy==1.26.4 opencv-python-headless==4.10.0.84",
             "import pandas as pd\nimport numpy as np\nfrom sklearn import metrics\nimport cv2"]
    assert rp203(cells) == []


def test_pinned_install_later_in_the_notebook_still_counts():
    assert rp203(["import pandas", "%pip install pandas==2.2.0"]) == []


def test_dependency_only_arrives_through_another_package():
    cells = ["%pip install pandas==2.2.0", "import pandas as pd\nimport numpy as np"]
    assert rp203(cells) == [("RP203", 1, 2)]


def test_not_again_when_the_unpinned_install_is_reported():
    cells = ["%pip install pandas scikit-learn", "!pip install numpy",
             "import pandas as pd\nimport numpy as np\nfrom sklearn import svm\nimport scipy"]
    assert codes_for(cells, select=("RP201", "RP203")) == [
        ("RP201", 0, 1), ("RP201", 1, 1), ("RP203", 2, 4)]


def test_standard_library_relative_future_and_kernel_modules_are_not_reported():
    cells = [("from __future__ import annotations\nimport os, sys, json\nfrom collections import Counter\n"
             "import cPickle\nfrom . import sibling\nfrom .helpers import load\n"
             "from IPython.display import display\nfrom google.colab import drive")]
    assert rp203(cells) == []


def test_optional_imports_are_not_reported():
    cells = ["try:\n    import ujson as json\nexcept ImportError:\n    import json\n",
             "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pandas\n"]
    assert rp203(cells) == []


def test_fallback_in_the_handler_is_still_a_dependency():
    cells = ["try:\n    from tqdm.notebook import tqdm\nexcept ImportError:\n    from tqdm import tqdm\n"]
    assert rp203(cells) == [("RP203", 0, 4)]


def test_imports_inside_functions_count():
    assert rp203(["def plot(df):\n    import seaborn as sns\n    return sns.histplot(df)\n"]) == [("RP203", 0, 2)]


def test_local_modules_beside_the_notebook(tmp_path):
    (tmp_path / "loaders.py").write_text("def load(): ...\n")
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "__init__.py").write_text("")
    (tmp_path / "scoring").mkdir()  # a namespace package: Python files, no __init__.py
    (tmp_path / "scoring" / "metrics.py").write_text("")
    (tmp_path / "data").mkdir()  # a folder without Python is not a module
    cells = ["import loaders\nfrom features.build import make\nfrom scoring.metrics import auc\nimport data\n"]
    assert rp203(cells, path=tmp_path / "nb.ipynb") == [("RP203", 0, 4)]


def test_local_package_at_the_project_root_and_on_sys_path(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "src" / "churn").mkdir(parents=True)
    (tmp_path / "src" / "churn" / "__init__.py").write_text("")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "plotting.py").write_text("")
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    cells = ["import sys\nsys.path.append('../lib')\nimport churn\nimport plotting\n"]
    assert rp203(cells, path=notebooks / "nb.ipynb") == []


def test_requirements_file_beside_or_above_the_notebook(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["pandas==2.2.0"]\n')
    (tmp_path / "requirements.txt").write_text("numpy==1.26.4\nscikit-learn>=1.3\n")
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (notebooks / "environment.yml").write_text("dependencies:\n  - pip:\n    - PyYAML==6.0.1\n")
    cells = ["import pandas\nimport numpy\nimport yaml\nimport sklearn\nimport requests"]
    findings = findings_for(cells, select="RP203", path=notebooks / "nb.ipynb")
    assert [(f.line) for f in findings] == [4, 5]
    assert "requirements.txt lists it as 'scikit-learn>=1.3'" in findings[0].message
    assert "pin it exactly in requirements.txt" in findings[0].message
    assert "pinned nowhere" in findings[1].message


def test_files_above_the_project_root_do_not_count(tmp_path):
    (tmp_path / "requirements.txt").write_text("pandas==2.2.0\n")
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    assert rp203(["import pandas"], path=project / "nb.ipynb") == [("RP203", 0, 1)]


def test_requirements_file_installed_by_the_notebook_pins_its_packages(tmp_path):
    folder = tmp_path / "analysis"
    folder.mkdir()
    (tmp_path / ".git").mkdir()
    (folder / "reqs" ).mkdir()
    (folder / "reqs" / "pinned.txt").write_text("pandas==2.2.0\n")
    cells = ["%pip install -r reqs/pinned.txt", "import pandas"]
    assert codes_for(cells, select=("RP201", "RP203"), path=folder / "nb.ipynb") == []


def test_the_project_itself_is_not_a_dependency(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "churn-model"\n')
    assert rp203(["import churn_model"], path=tmp_path / "nb.ipynb") == []


def test_namespace_packages_are_told_apart():
    cells = ["%pip install google-cloud-storage==2.17.0", "from google.cloud import storage, bigquery"]
    findings = findings_for(cells, select="RP203")
    assert [(f.cell_index, f.line) for f in findings] == [(1, 1)]
    assert "google-cloud-bigquery" in findings[0].message


def test_message_and_position():
    [finding] = findings_for(["import os, sklearn as sk"], select="RP203")
    assert (finding.line, finding.column, finding.end_column) == (1, 12, 25)
    assert "'sklearn' (distribution scikit-learn)" in finding.message
    assert "%pip install scikit-learn==" in finding.message
    assert finding.severity.value == "error" and finding.category == "unpinned-dependency"


def test_pins_in_sample_notebook_style_are_clean(tmp_path):
    (tmp_path / "requirements.txt").write_text("pandas==2.2.2\nscikit-learn==1.5.0\nnumpy==1.26.4\n")
    cells = ["%pip install pandas==2.2.2 scikit-learn==1.5.0 numpy==1.26.4",
             "import numpy as np\nimport pandas as pd\nfrom sklearn.ensemble import RandomForestClassifier"]
    assert codes_for(cells, select="RP2", path=tmp_path / "clean.ipynb") == []


def test_modules_the_notebook_brings_along():
    cells = [
        "%%writefile mprun_demo.py\ndef f():\n    return 1\n",
        "import requests\nopen('chains.py', 'w').write(requests.get(URL + '/chains.py').text)",
        "!git clone https://github.com/facebookresearch/inversecooking.git\n!wget -q https://x.org/w2v.py",
        "import mprun_demo\nfrom chains import VectorDBChain\nfrom inversecooking.src import args\nimport w2v",
    ]
    assert rp203(cells) == [("RP203", 1, 1)]  # requests


def test_modules_fetched_at_run_time_are_not_dependencies():
    cells = [("import httpimport\nwith httpimport.github_repo('org', 'examples', module=['jeopardy']):\n"
             "    from jeopardy import helper as h\n")]
    assert rp203(cells) == [("RP203", 0, 1)]  # httpimport itself


@pytest.mark.parametrize("module", ["utils", "helpers", "model_evaluation_utils", "data_helpers", "helper_05",
                                    "my_functions", "config"])
def test_names_of_local_helper_modules_are_not_reported(module):
    assert rp203([f"from {module} import load"]) == []


def test_a_computed_sys_path_makes_unknown_modules_local():
    cells = ["import sys\nsys.path.insert(0, path_to_stocker)\nfrom stocker import Stocker\nimport pandas"]
    assert rp203(cells) == [("RP203", 0, 4)]
    assert rp203(["from stocker import Stocker"]) == [("RP203", 0, 1)]


def test_one_finding_per_distribution():
    cells = ["import matplotlib.pyplot as plt\nfrom pylab import *\nfrom mpl_toolkits.mplot3d import Axes3D"]
    assert rp203(cells) == [("RP203", 0, 1)]


def test_vcs_install_without_egg_still_names_its_package():
    cells = ["%pip install git+https://github.com/naver/splade.git", "from splade.models import Splade"]
    assert codes_for(cells, select=("RP201", "RP203")) == [("RP201", 0, 1)]


@pytest.mark.parametrize("install, module", [
    ("argon2-cffi==23.1.0", "argon2"),  # in the table of odd names
    ("pinecone-client==3.1.0", "pinecone"),  # the distribution's name says it: -client, python-, -sdk ...
    ("python-dotenv==1.0.0", "dotenv"),
    ("langchain-openai==0.1.0", "langchain_openai"),
    ("PyYAML==6.0.1", "yaml"),
])
def test_pinned_under_another_distribution_name(install, module):
    assert rp203([f"%pip install {install}", f"import {module}"]) == []


@pytest.mark.parametrize("install, module", [
    ("pandas==2.2.0", "argon2"),
    ("pandas==2.2.0", "numpy"),  # installed with pandas, but pinned by nobody
    ("protobuf==4.25.0", "google.cloud.storage"),
    ("google-cloud-storage==2.1.0", "google.cloud.bigquery"),
])
def test_a_pin_of_another_distribution_does_not_cover_the_import(install, module):
    assert rp203([f"%pip install {install}", f"import {module}"]) == [("RP203", 1, 1)]


@pytest.mark.parametrize("module", ["mysql.connector", "mypy", "toolz", "configparser2", "utilsforecast"])
def test_third_party_names_that_only_resemble_helper_modules(module):
    assert rp203([f"import {module}"]) == [("RP203", 0, 1)]


def test_installs_in_shell_cells():
    source = "%%bash\ncd /tmp\n# pip install commented\npip install -q \\\n    pandas==2.2.0 \\\n    numpy\n"
    findings = findings_for([source], select=("RP201", "RP202"))
    assert [(f.code, f.line, f.column) for f in findings] == [("RP202", 4, 1), ("RP201", 6, 5)]
    assert "in a shell cell" in findings[0].message and findings[0].fix is None
    assert codes_for(["%%bash\npip install pandas==2.2.0\n"], select="RP201") == []
    assert codes_for(["%%script bash\npip install pandas\n"], select="RP201") == [("RP201", 0, 2)]


def test_a_kernel_interpreter_install_chained_with_a_shell_pip():
    [finding] = findings_for(["!{sys.executable} -m pip install a==1 && pip install b==2"], select="RP202")
    assert finding.fix is None


# --- Evidence, not this machine ------------------------------------------------------------------------


@pytest.mark.parametrize("source, distribution", [
    ("import google.cloud.storage", "google-cloud-storage"),
    ("from google.cloud import bigquery", "google-cloud-bigquery"),
    ("from google.cloud.bigquery import Client", "google-cloud-bigquery"),
    ("import cv2", "opencv-python"),
    ("from sklearn.svm import SVC", "scikit-learn"),
    ("from PIL import Image", "Pillow"),
    ("from azure.ai.ml import MLClient", "azure-ai-ml"),
    ("from azureml.core import Workspace", "azureml-core"),
    ("import sagemaker", "sagemaker"),
    ("import vertexai", "google-cloud-aiplatform"),
    ("import scrapbook as sb", "nteract-scrapbook"),
    ("from mpl_toolkits.basemap import Basemap", "basemap"),
])
def test_an_import_names_its_distribution_by_its_full_dotted_name(source, distribution):
    [finding] = findings_for([source], select="RP203")
    assert f"`{distribution}==<version>`" in finding.message


def test_the_namespace_alone_is_not_the_distribution():
    [finding] = findings_for(["import google.cloud.storage"], select="RP203")
    assert "`google==" not in finding.message and "`google-cloud-storage==<version>`" in finding.message


def test_versions_in_messages_come_from_the_notebooks_outputs():
    cells = [
        {"source": "%pip install -q pandas==1.5.3", "execution_count": 1, "outputs": [{
            "output_type": "stream", "name": "stdout",
            "text": "Requirement already satisfied: numpy in /usr/lib/python3/dist-packages (1.23.5)\n"}]},
        {"source": "import numpy as np\nimport pandas as pd\nimport scipy", "execution_count": 2, "outputs": []},
        {"source": "print(scipy.__version__)", "execution_count": 3,
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "1.9.3\n"}]},
    ]
    messages = [f.message for f in findings_for(cells, select="RP203")]
    assert len(messages) == 2
    assert "`numpy==1.23.5`" in messages[0] and "`scipy==1.9.3`" in messages[1]


def test_versions_are_never_read_from_the_environment_the_check_runs_in(monkeypatch):
    from readiness_magics import requirements

    def refuse(*_args, **_kwargs):
        raise AssertionError("the check read this machine's installed packages")

    for name in ("installed_version", "is_installed", "_installed_packages", "modules_of", "providing",
                 "installed_distributions"):
        monkeypatch.setattr(requirements, name, refuse)
    import importlib.metadata
    monkeypatch.setattr(importlib.metadata, "version", refuse)
    monkeypatch.setattr(importlib.metadata, "distribution", refuse)
    cells = ["%pip install pandas\n!pip install requests==2.31.0", "import sys\nsys.path.insert(0, root)",
             "import pandas, numpy, requests, packaging, my_thing"]
    codes = [f.code for f in findings_for(cells, select=("RP201", "RP202", "RP203", "RP720"))]
    assert codes == ["RP201", "RP202", "RP203", "RP203"]  # numpy and packaging; my_thing may be on the path


def test_automagic_pip_install_without_percent():
    # IPython runs `pip install x` as `%pip install x`; the cell is no Python, but the install is real
    assert rp201(["pip install torch diffusers"]) == [("RP201", 0, 1)]
    assert rp201(["pip install torch==2.2.0"]) == []
    assert rp201(["x = 1\nprint('pip install torch')"]) == []


# --- The project's own files ------------------------------------------------------------------------------


def test_conda_environment_file_under_any_name(tmp_path):
    (tmp_path / "conda-gpu.yaml").write_text(
        "name: gpu\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11\n  - numpy=1.26.4\n"
        "  - pip:\n    - pandas==2.2.0\n")
    assert rp203(["import numpy\nimport pandas"], path=tmp_path / "nb.ipynb") == []


def test_a_yaml_with_dependencies_of_mappings_is_not_an_environment(tmp_path):
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\ndependencies:\n  - name: numpy\n    version: 1.2.3\n")
    (tmp_path / "ci.yml").write_text("jobs:\n  test:\n    steps: []\n")
    assert sorted(codes_for(["import numpy"], select=("RP203", "RP720"), path=tmp_path / "nb.ipynb"),
                  key=str) == [("RP203", 0, 1), ("RP720", None, 1)]


def test_requirements_folder(tmp_path):
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "base.txt").write_text("pandas==2.2.0\n")
    (tmp_path / "requirements" / "dev.txt").write_text("-r base.txt\nnumpy>=1.26\n")
    findings = findings_for(["import pandas\nimport numpy"], select="RP203", path=tmp_path / "nb.ipynb")
    assert [f.line for f in findings] == [2] and "dev.txt lists it as 'numpy>=1.26'" in findings[0].message


def test_setup_py_install_requires_and_extras(tmp_path):
    (tmp_path / "setup.py").write_text(
        "from setuptools import setup\n"
        "install_requires = ['pandas>2.0.0,<3.0.0', 'numpy==1.26.4']\n"
        "extras = {'gpu': ['torch==2.2.0']}\n"
        "extras['all'] = ['scipy==1.13.0']\n"
        "setup(name='mylib', install_requires=install_requires, extras_require=extras)\n")
    (tmp_path / "mylib").mkdir()
    (tmp_path / "mylib" / "__init__.py").write_text("")
    notebooks = tmp_path / "examples" / "quick_start"
    notebooks.mkdir(parents=True)
    findings = findings_for(["import pandas, numpy, torch, scipy\nfrom mylib.data import load"], select="RP203",
                            path=notebooks / "nb.ipynb")
    [finding] = findings
    assert "setup.py lists it as 'pandas>2.0.0,<3.0.0'" in finding.message and "`pandas==<version>`" in finding.message
    assert "for the notebook in a requirements or lock file" in finding.message  # not in setup.py itself


def test_setup_cfg_and_pipfile(tmp_path):
    (tmp_path / "setup.cfg").write_text(
        "[metadata]\nname = mylib\n[options]\ninstall_requires =\n    pandas==2.2.0\n"
        "[options.extras_require]\nplot =\n    seaborn==0.13.2\n")
    assert rp203(["import pandas, seaborn"], path=tmp_path / "nb.ipynb") == []
    other = tmp_path / "other"
    other.mkdir()
    (other / "Pipfile").write_text('[packages]\nrequests = "==2.31.0"\nnumpy = "*"\n')
    (other / ".git").mkdir()
    assert [f.line for f in findings_for(["import requests\nimport numpy"], select="RP203",
                                         path=other / "nb.ipynb")] == [2]


def test_the_projects_own_package_above_the_notebook(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "recsys"\n')
    (tmp_path / "recsys" / "models").mkdir(parents=True)
    (tmp_path / "recsys" / "__init__.py").write_text("")
    notebooks = tmp_path / "examples" / "00_quick_start"
    notebooks.mkdir(parents=True)
    assert rp203(["from recsys.models import sar"], path=notebooks / "nb.ipynb") == []


def test_a_package_above_without_a_project_root_is_not_the_notebooks(tmp_path):
    # no .git, pyproject.toml, setup.py or setup.cfg: nothing says the folder above is the notebook's project
    (tmp_path / "recsys").mkdir()
    (tmp_path / "recsys" / "__init__.py").write_text("")
    notebooks = tmp_path / "examples"
    notebooks.mkdir()
    assert rp203(["import recsys"], path=notebooks / "nb.ipynb") == [("RP203", 0, 1)]


def test_modules_the_notebook_writes_itself():
    cells = ["%%writefile src/scoring/train.py\nimport numpy\n", "from scoring.train import main\nimport train"]
    assert rp203(cells) == []


def test_a_requirements_file_the_notebook_writes_pins_what_it_pins():
    written = "%%writefile requirements.txt\npandas==2.2.0\nnumpy==1.26.4\n"
    assert codes_for([written, "%pip install -r requirements.txt", "import pandas, numpy"],
                     select=("RP201", "RP203")) == []
    loose = "%%writefile requirements.txt\npandas\n"
    [finding] = findings_for([loose, "%pip install -r requirements.txt"], select="RP201")
    assert "pandas in requirements.txt (no version)" in finding.message


# --- One problem, one finding -----------------------------------------------------------------------------


def test_shell_installs_of_one_cell_are_one_finding_with_every_fix():
    [finding] = findings_for(["!pip install a==1\n!pip install b==2\nx = 1\n!conda install -y c=3"],
                             select="RP202")
    assert "lines 1, 2, 4" in finding.message and (finding.line, finding.column) == (1, 2)
    assert [(e.line, e.content) for e in finding.fix.edits] == [(1, "%pip"), (2, "%pip"), (4, "%conda")]
    assert codes_for(["!pip install a==1", "!pip install b==2"], select="RP202") == [("RP202", 0, 1), ("RP202", 1, 1)]


# --- RP720 no-dependency-file ------------------------------------------------------------------------------


def test_no_dependency_file_lists_only_third_party_packages_the_notebook_does_not_pin(tmp_path):
    (tmp_path / "helpers_local.py").write_text("")
    cells = ["%pip install pandas==2.2.0", ("import pandas, numpy, os\nfrom IPython.display import display\n"
                                           "import helpers_local")]
    [finding] = findings_for(cells, select="RP720", path=tmp_path / "nb.ipynb")
    assert "(numpy)" in finding.message


def test_no_dependency_file_needed_when_the_notebook_pins_every_import(tmp_path):
    cells = ["%pip install pandas==2.2.0 pinecone-client==3.1.0", "import pandas, pinecone"]
    assert codes_for(cells, select="RP720", path=tmp_path / "nb.ipynb") == []
    (tmp_path / "conda.yml").write_text("dependencies:\n  - numpy=1.26.4\n")
    assert codes_for(["import numpy"], select="RP720", path=tmp_path / "nb.ipynb") == []


def test_a_name_no_table_knows_may_be_a_missing_local_module():
    [unknown] = findings_for(["import text_normalizer"], select="RP203")
    assert "neither a module beside the notebook nor pinned" in unknown.message
    assert "`text-normalizer==<version>`" in unknown.message
    [known] = findings_for(["import geoviews"], select="RP203")
    assert "pinned nowhere" in known.message and "module beside" not in known.message


def test_a_package_installed_from_its_repository_provides_its_imports():
    cells = ["!pip install git+https://github.com/IBM/tsfm.git", "from tsfm_public.toolkit import dataset"]
    assert codes_for(cells, select=("RP201", "RP203")) == [("RP201", 0, 1)]
    # a PyPI name is matched exactly: pandas does not provide pandas_datareader
    assert rp203(["%pip install pandas==2.2.0", "import pandas_datareader"]) == [("RP203", 1, 1)]


def test_a_labelled_printed_version_is_found_among_other_printed_versions():
    cell = {"source": ('import sys\nimport numpy as np\nimport pandas as pd\nprint(f"System version: {sys.version}")\n'
                       'print(f"NumPy version: {np.__version__}")\nprint("Pandas version:", pd.__version__)'),
            "execution_count": 1, "outputs": [{"output_type": "stream", "name": "stdout", "text":
                                               "System version: 3.9.16 (main)\nNumPy version: 1.24.3\nPandas version: 1.5.3\n"}]}
    messages = [f.message for f in findings_for([cell], select="RP203")]
    assert "`numpy==1.24.3`" in messages[0] and "`pandas==1.5.3`" in messages[1]


def test_unlabelled_printed_versions_pair_with_the_attributes_in_the_order_they_are_written():
    """`str(np.__version__)` sits deeper in the tree than `pd.__version__`: the order is the text's, as printed."""
    cell = {"source": 'import numpy as np\nimport pandas as pd\nprint(str(np.__version__), pd.__version__)',
            "execution_count": 1, "outputs": [{"output_type": "stream", "name": "stdout", "text": "1.24.3 1.5.3\n"}]}
    messages = [f.message for f in findings_for([cell], select="RP203")]
    assert "`numpy==1.24.3`" in messages[0] and "`pandas==1.5.3`" in messages[1]


def test_what_the_rules_share_is_read_once_per_notebook(monkeypatch, tmp_path):
    """The install lines, the project's dependency files and the third-party imports are read once for
    RP201-RP203 (and RP720) together, not once by each."""
    from readiness_magics import requirements
    from readiness_magics.rules import dependencies

    calls = []
    real = requirements.project_dependencies
    monkeypatch.setattr(dependencies, "project_dependencies", lambda path: calls.append(path) or real(path))
    cells = ["%pip install pandas", "import pandas as pd\nimport numpy as np", "!pip install requests"]
    found = findings_for(cells, select=("RP201", "RP202", "RP203", "RP720"), path=tmp_path / "nb.ipynb")
    assert {f.code for f in found} == {"RP201", "RP202", "RP203", "RP720"}
    assert calls == [tmp_path / "nb.ipynb"]


def test_shell_installs_are_one_finding_per_cell_whatever_the_other_cells_install():
    cells = ["!pip install pandas==2.2.2\n!pip install numpy==1.26.4", "x = 1", "!pip3 install -r requirements.txt"]
    assert codes_for(cells, select="RP202") == [("RP202", 0, 1), ("RP202", 2, 1)]


# --- Repositories the notebook clones ----------------------------------------------------------------------


def test_installing_a_folder_cloned_at_no_fixed_commit_is_unpinned():
    cells = ["%cd /content\n!git clone -b rl https://github.com/huggingface/diffusers.git\n!pip install -q /content/diffusers"]
    [finding] = findings_for(cells, select="RP201")
    assert "cloned from https://github.com/huggingface/diffusers at no fixed commit" in finding.message
    assert finding.line == 3


def test_a_clone_checked_out_at_a_commit_is_pinned():
    sha = "2ab75add4b30c2fc44a8bf575156d448d9ed87a7"
    cells = [f"!git clone https://github.com/org/lib.git\n!cd lib && git checkout {sha}\n!pip install -e ./lib"]
    assert rp201(cells) == []
    assert rp201(["%pip install -e ."]) == []  # the project's own folder, not a clone


def test_requirements_of_a_cloned_repository_and_the_imports_they_bring(tmp_path):
    cells = [("!git clone https://github.com/InstantID/InstantID\n%cd InstantID\n"
              "!pip install -r gradio_demo/requirements.txt\n!pip install timm==0.6.7"),
             "import cv2\nimport insightface\nfrom pipeline_instantid import Pipeline"]
    findings = findings_for(cells, select=("RP201", "RP203", "RP720"), path=tmp_path / "nb.ipynb")
    assert [(f.code, f.line) for f in findings] == [("RP201", 3)]
    assert "a file of the repository cloned from https://github.com/InstantID/InstantID" in findings[0].message


def test_requirements_a_job_installs_from_its_source_dir(tmp_path):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "requirements.txt").write_text("peft==0.4.0\nsafetensors>=0.3.1\n")
    cell = "est = HuggingFace(entry_point='train.py',\n    source_dir='scripts', instance_count=1)"
    [finding] = findings_for([cell], select="RP201", path=tmp_path / "nb.ipynb")
    assert "scripts/requirements.txt, which leaves safetensors>=0.3.1 unpinned" in finding.message
    assert (finding.cell_index, finding.line, finding.column) == (0, 2, 16)
    (tmp_path / "scripts" / "requirements.txt").write_text("peft==0.4.0\n")
    assert rp201([cell], path=tmp_path / "nb.ipynb") == []


def test_imports_of_a_script_the_notebook_writes_are_the_jobs():
    assert rp203(["%%writefile code/inference.py\nimport torch\nfrom transformers import AutoModel\n"]) == []


@pytest.mark.parametrize("source, distribution", [
    ("from azure.identity import DefaultAzureCredential", "azure-identity"),
    ("from azure.common.client_factory import get_client_from_cli_profile", "azure-common"),
    ("from azure.storage import blob", "azure-storage-blob"),
    ("from azure.mgmt.cosmosdb import CosmosDBManagementClient", "azure-mgmt-cosmosdb"),
    ("from synapse.ml.lightgbm import LightGBMClassifier", "synapseml"),
])
def test_azure_names(source, distribution):
    [finding] = findings_for([source], select="RP203")
    assert f"`{distribution}==<version>`" in finding.message


def test_in_a_live_kernel_the_suggested_version_is_the_kernels():
    from importlib.metadata import version

    from readiness_magics.config import Settings
    from readiness_magics.engine import run_rules
    from readiness_magics.live import kernel_facts
    from readiness_magics.notebook import notebook_from_sources

    notebook = notebook_from_sources(["import packaging"])
    notebook.kernel = kernel_facts(["import packaging"], same_session=True)
    [finding] = [f for f in run_rules(notebook, Settings(ruff=False).with_overrides(select=("RP203",)))]
    assert f"`packaging=={version('packaging')}`" in finding.message
    # the same notebook checked from the command line: no kernel, no version from this machine
    [cli] = findings_for(["import packaging"], select="RP203")
    assert "`packaging==<version>`" in cli.message


def test_a_declaration_for_some_python_versions_only_says_so(tmp_path):
    (tmp_path / "setup.py").write_text("from setuptools import setup\n"
                                       "setup(name='x', install_requires=[\"numpy<1.25.0;python_version<='3.8'\"])\n")
    [finding] = findings_for(["import numpy"], select="RP203", path=tmp_path / "nb.ipynb")
    assert "lists it only as 'numpy<1.25.0;python_version<='3.8'', for some Python versions" in finding.message


def test_code_imported_from_a_clone_at_no_fixed_commit():
    cells = ["!git clone https://github.com/facebookresearch/inversecooking.git",
             "from inversecooking.src.model import get_model"]
    [finding] = findings_for(cells, select="RP201")
    assert (finding.cell_index, finding.line) == (0, 1)
    assert "imports inversecooking from https://github.com/facebookresearch/inversecooking" in finding.message
    sha = "fb36a272cdeecb21992cfd9271eb82baafeb316d"
    assert rp201([cells[0] + f"\n!cd inversecooking && git checkout {sha}", cells[1]]) == []
    assert rp201([cells[0]]) == []  # cloned for its data, never imported


def test_a_cloned_install_covers_its_own_import_but_not_the_others():
    cells = ["!git clone https://github.com/huggingface/diffusers.git\n!pip install -q ./diffusers",
             "from diffusers import DiffusionPipeline\nimport torch"]
    assert codes_for(cells, select=("RP201", "RP203")) == [("RP201", 0, 2), ("RP203", 1, 2)]


def test_the_distribution_the_outputs_show_is_the_one_suggested():
    cells = [{"source": "!pip show opencv-python-headless", "execution_count": 1, "outputs": [
        {"output_type": "stream", "name": "stdout", "text": "Name: opencv-python-headless\nVersion: 4.8.0.74\n"}]},
        "import cv2"]
    [finding] = findings_for(cells, select="RP203")
    assert "`opencv-python-headless==4.8.0.74`" in finding.message
    [plain] = findings_for(["import cv2"], select="RP203")
    assert "`opencv-python==<version>`" in plain.message


def test_cells_with_finds_each_cell_holding_a_word_once_in_order():
    from readiness_magics.analysis import NotebookModel
    from readiness_magics.notebook import notebook_from_sources

    sources = ["path = 1", "x = 2", "# no", "sys.path.append('a.py')\nother.py", "", "ends with path"]
    model = NotebookModel(notebook_from_sources(sources))
    assert [cell.index for cell in model.cells_with("path")] == [0, 3, 5]
    assert [cell.index for cell in model.cells_with(".py", "x =")] == [1, 3]
    assert model.cells_with("clone") == []
    assert NotebookModel(notebook_from_sources([])).cells_with("path") == []
