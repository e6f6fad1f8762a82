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


def test_fix_pins_from_the_notebooks_evidence_not_this_environment():
    # The version this linter's environment has is not evidence (DESIGN.md): without evidence, advice only.
    [finding] = findings_for(["%pip install packaging"], select="RP201")
    assert finding.fix.edits == ()
    installed = {"cell_type": "code", "source": "%pip install packaging", "outputs": [
        {"output_type": "stream", "name": "stdout", "text": "Successfully installed packaging-23.1\n"}]}
    [finding] = findings_for([installed], select="RP201")
    [edit] = finding.fix.edits
    assert edit.content == "packaging==23.1" and finding.fix.applicability == "safe"
    assert (edit.line, edit.column, edit.end_column) == (1, 14, 23)


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


def test_pinned_under_a_distribution_name_only_the_environment_knows():
    # argon2-cffi provides `argon2`; the table of usual mismatches does not list it.
    cells = ["%pip install argon2-cffi==23.1.0", "import argon2"]
    assert rp203(cells) == []
    assert rp203(["%pip install pandas==2.2.0", "import argon2"]) == [("RP203", 1, 1)]


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
