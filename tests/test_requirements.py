"""Install commands, requirement lines, dependency files and import names, as the dependency rules read them."""
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from readiness_magics import requirements
from readiness_magics.requirements import (
    canonicalize_name,
    distributions_for_import,
    environment_dependencies,
    import_key,
    is_kernel_provided,
    is_standard_library,
    likely_distributions,
    parse_conda_spec,
    parse_install_commands,
    parse_pip_requirement,
    pinned_version,
    project_dependencies,
    read_environment_yml,
    read_lock_file,
    read_pyproject,
    read_requirements_txt,
    tokenize,
)

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize("text, name", [
    ("pandas==2.2.0", "pandas"),
    ("scikit_learn===1.5.0", "scikit-learn"),
    ("transformers[torch]==4.41.2; python_version >= '3.9'", "transformers"),
    ("numpy==1.26.4,!=1.26.3", "numpy"),
    (f"git+https://github.com/org/lib.git@{SHA}#egg=lib", "lib"),
    (f"lib @ git+https://github.com/org/lib.git@{SHA}", "lib"),
    (f"git+ssh://git@github.com/org/lib.git@{SHA}", "lib"),  # no #egg=: the repository name
    ("./dist/mylib-0.3.0-py3-none-any.whl", "mylib"),
    ("mylib-0.3.0-py3-none-any.whl", "mylib"),
    ("https://files.pythonhosted.org/packages/x/pandas-2.2.0.tar.gz", ""),
    ("../shared_code", ""),
])
def test_pinned_pip_requirements(text, name):
    requirement = parse_pip_requirement(text)
    assert requirement.pinned, requirement
    assert requirement.name == name


@pytest.mark.parametrize("text, problem", [
    ("pandas", "no version"),
    ("pandas>=2.0", "range"),
    ("pandas~=2.2", "range"),
    ("pandas!=2.1", "range"),
    ("pandas>=2,<3", "range"),
    ("pandas==2.*", "wildcard"),
    ("git+https://github.com/org/lib.git", "without a commit"),
    ("git+https://github.com/openai/whisper.git", "without a commit"),
    ("git+https://github.com/org/lib.git@main#egg=lib", "'main'"),
    ("git+https://github.com/org/lib.git@v1.2.0", "'v1.2.0'"),
    ("git+https://github.com/org/lib.git@0123abc", "'0123abc'"),  # a short hash can become ambiguous
    ("https://github.com/org/lib/archive/refs/heads/main.zip", "URL"),
])
def test_unpinned_pip_requirements(text, problem):
    requirement = parse_pip_requirement(text)
    assert not requirement.pinned
    assert problem in requirement.problem


@pytest.mark.parametrize("text", ["{package}", "$PKG", "", "  "])
def test_variables_and_blanks_are_not_requirements(text):
    assert parse_pip_requirement(text) is None


@pytest.mark.parametrize("text, pinned", [
    ("numpy=1.26.4", True),
    ("numpy==1.26.4", True),
    ("numpy=1.26.4=py311h64a7726_0", True),
    ("conda-forge::numpy=1.26.4", True),
    ("numpy 1.26.4", True),
    ("numpy", False),
    ("numpy>=1.26", False),
    ("numpy=1.26.*", False),
    ("numpy[version='>=1.26']", False),
    ("conda-forge::numpy", False),
])
def test_conda_specs(text, pinned):
    requirement = parse_conda_spec(text)
    assert requirement.name == "numpy"
    assert requirement.pinned is pinned


def test_tokens_keep_positions_and_drop_quotes_comments_and_redirections():
    words = tokenize(['pip install "numpy>=1.26,<2" pandas>=2 -q 2>&1 > /dev/null # pandas'])
    assert [w.text for w in words] == ["pip", "install", "numpy>=1.26,<2", "pandas>=2", "-q"]
    assert (words[2].start, words[2].end) == (12, 28)


def test_tokens_across_continuation_lines():
    words = tokenize(["pip install -qU \\", "    pandas==2.2.0 \\", "  numpy"])
    assert [(w.text, w.piece, w.start) for w in words][-2:] == [("pandas==2.2.0", 1, 4), ("numpy", 2, 2)]


def test_pip_magic_command():
    [command] = parse_install_commands(["install -qU pandas==2.2.0 numpy"], program="pip")
    assert command.tool == "pip" and command.upgrade and not command.chained
    assert [(r.name, r.pinned) for r, _ in command.packages] == [("pandas", True), ("numpy", False)]


def test_option_values_are_not_packages():
    [command] = parse_install_commands(
        [("pip install -i https://pypi.example/simple --extra-index-url=https://x.example -t ./lib "
         "-r requirements.txt -c constraints.txt --no-deps pandas==2.2.0")])
    assert [r.name for r, _ in command.packages] == ["pandas"]
    assert [t.text for t in command.requirement_files] == ["requirements.txt"]
    assert [t.text for t in command.constraint_files] == ["constraints.txt"]


def test_combined_short_options_with_a_value():
    [command] = parse_install_commands(["pip install -qr requirements.txt"])
    assert [t.text for t in command.requirement_files] == ["requirements.txt"]
    assert command.packages == ()


def test_editable_vcs_url_is_a_package():
    [command] = parse_install_commands(["pip install -e git+https://github.com/org/lib.git#egg=lib"])
    [(requirement, _)] = command.packages
    assert requirement.name == "lib" and not requirement.pinned


@pytest.mark.parametrize("line", [
    "python -m pip install pandas", "python3 -m pip install pandas", "pip3 install pandas",
    "{sys.executable} -m pip install pandas", "/opt/conda/bin/pip install pandas", "sudo pip install pandas",
    "pip -q install pandas", "uv pip install pandas",
])
def test_ways_to_call_pip(line):
    [command] = parse_install_commands([line])
    assert [r.name for r, _ in command.packages] == ["pandas"]


@pytest.mark.parametrize("line", [
    "pip list", "pip freeze > requirements.txt", "pip show pandas", "pip uninstall -y pandas",
    "pip download pandas", "ls -l", "python train.py install", "apt-get install -y graphviz",
    "conda list", "conda env export",
])
def test_commands_that_install_nothing(line):
    assert parse_install_commands([line]) == []


def test_chained_commands():
    commands = parse_install_commands(["pip install pandas==2.2.0 && pip list; pip install numpy"])
    assert [c.chained for c in commands] == [True, True]
    assert [[r.name for r, _ in c.packages] for c in commands] == [["pandas"], ["numpy"]]


def test_conda_command():
    [command] = parse_install_commands(
        ["install -y -c conda-forge -n base numpy=1.26.4 scipy --file extra.txt"], program="conda")
    assert command.tool == "conda"
    assert [(r.name, r.pinned) for r, _ in command.packages] == [("numpy", True), ("scipy", False)]
    assert [t.text for t in command.requirement_files] == ["extra.txt"]


def test_requirements_txt(tmp_path):
    (tmp_path / "base.txt").write_text("numpy==1.26.4\n")
    (tmp_path / "requirements.txt").write_text(
        "# pinned for the report\n"
        "-r base.txt\n"
        "--index-url https://pypi.org/simple\n"
        "pandas==2.2.0 \\\n    --hash=sha256:abc\n"
        "requests>=2  # any recent one\n"
        "-e ./mylib\n"
        "-r missing.txt\n"
    )
    parsed = read_requirements_txt(tmp_path / "requirements.txt")
    assert [(r.name, r.pinned) for r in parsed.requirements] == [
        ("numpy", True), ("pandas", True), ("requests", False), ("", True)]
    assert parsed.unreadable == (str(tmp_path / "missing.txt"),)
    assert parsed.requirements[2].source == "requirements.txt"


def test_missing_requirements_txt_is_unreadable(tmp_path):
    assert read_requirements_txt(tmp_path / "nope.txt").unreadable


def test_pyproject_project_and_poetry(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text(
        '[project]\nname = "Churn_Model"\ndependencies = ["pandas==2.2.0", "numpy>=1.26"]\n'
        '[project.optional-dependencies]\nplots = ["matplotlib==3.9.0"]\n'
        '[tool.poetry.dependencies]\npython = "^3.11"\nrequests = "2.32.3"\nhttpx = "^0.27"\n'
        f'lib = {{git = "https://github.com/org/lib.git", rev = "{SHA}"}}\nyaml2 = {{version = "==1.0"}}\n'
    )
    parsed = read_pyproject(path)
    assert {r.name: r.pinned for r in parsed.requirements} == {
        "pandas": True, "numpy": False, "matplotlib": True, "requests": True, "httpx": False, "lib": True,
        "yaml2": True}
    assert parsed.project_name == "churn-model"


def test_environment_yml_without_a_yaml_library(tmp_path):
    text = (
        "name: churn\nchannels:\n  - conda-forge\n"
        "dependencies:\n  - python=3.11\n  - numpy=1.26.4  # fast\n  - 'scipy>=1.11'\n  - pip\n"
        "  - pip:\n      - pandas==2.2.0\n      - requests\n"
        "variables:\n  - not_a_dep\n"
    )
    assert environment_dependencies(text) == [
        ("conda", "python=3.11"), ("conda", "numpy=1.26.4"), ("conda", "scipy>=1.11"), ("conda", "pip"),
        ("pip", "pandas==2.2.0"), ("pip", "requests")]
    (tmp_path / "environment.yml").write_text(text)
    parsed = read_environment_yml(tmp_path / "environment.yml")
    assert {r.name: r.pinned for r in parsed.requirements} == {
        "numpy": True, "scipy": False, "pandas": True, "requests": False}


def test_environment_yml_with_unindented_list():
    text = "dependencies:\n- numpy=1.26.4\n- pip:\n  - pandas==2.2.0\nprefix: /opt/env\n"
    assert environment_dependencies(text) == [("conda", "numpy=1.26.4"), ("pip", "pandas==2.2.0")]


def test_lock_files_pin_everything(tmp_path):
    (tmp_path / "uv.lock").write_text(
        'version = 1\n[[package]]\nname = "Pandas"\nversion = "2.2.0"\n[[package]]\nname = "numpy"\nversion = "1.26.4"\n')
    parsed = read_lock_file(tmp_path / "uv.lock")
    assert [(r.name, r.pinned) for r in parsed.requirements] == [("pandas", True), ("numpy", True)]


def test_project_dependencies_stop_at_the_project_root(tmp_path):
    (tmp_path / "requirements.txt").write_text("scipy==1.13.0\n")  # above the project: not read
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    (project / "requirements.txt").write_text("pandas==2.2.0\nrequests\n")
    notebooks = project / "notebooks"
    notebooks.mkdir()
    (notebooks / "environment.yml").write_text("dependencies:\n  - numpy=1.26.4\n")
    found = project_dependencies(notebooks / "churn.ipynb")
    assert found.root == project
    assert found.pinned == {"pandas", "numpy"}
    assert found.declared["requests"].problem == "no version"
    assert project_dependencies(None).pinned == frozenset()


def test_project_dependencies_see_edits(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["pandas>=2"]\n')
    assert "pandas" not in project_dependencies(tmp_path / "nb.ipynb").pinned
    (tmp_path / "requirements.txt").write_text("pandas==2.2.0\n")
    assert "pandas" in project_dependencies(tmp_path / "nb.ipynb").pinned


@pytest.mark.parametrize("module, key, first", [
    ("sklearn.model_selection", "sklearn", "scikit-learn"),
    ("cv2", "cv2", "opencv-python"),
    ("PIL.Image", "PIL", "pillow"),
    ("yaml", "yaml", "pyyaml"),
    ("bs4", "bs4", "beautifulsoup4"),
    ("skimage.io", "skimage", "scikit-image"),
    ("dateutil.parser", "dateutil", "python-dateutil"),
    ("dotenv", "dotenv", "python-dotenv"),
    ("Crypto.Cipher", "Crypto", "pycryptodome"),
    ("google.cloud.storage", "google.cloud.storage", "google-cloud-storage"),
    ("google.cloud.bigquery.job", "google.cloud.bigquery", "google-cloud-bigquery"),
    ("google.protobuf.text_format", "google.protobuf", "protobuf"),
    ("azure.storage.blob", "azure.storage.blob", "azure-storage-blob"),
    ("torch.nn", "torch", "torch"),
    ("xgboost", "xgboost", "xgboost"),
    ("sentence_transformers", "sentence_transformers", "sentence-transformers"),
])
def test_import_names_to_distributions(module, key, first):
    assert import_key(module) == key
    assert likely_distributions(module)[0] == first


def test_installed_metadata_is_consulted():
    assert "pyyaml" in distributions_for_import("yaml")
    assert "packaging" in distributions_for_import("packaging.version")


@pytest.mark.parametrize("module", ["os", "os.path", "json", "collections.abc", "__future__", "cPickle",
                                    "urllib2", "distutils.core", "tomllib"])
def test_standard_library(module):
    assert is_standard_library(module)


@pytest.mark.parametrize("module", ["pandas", "numpy", "sklearn", "tf", "requests"])
def test_not_standard_library(module):
    assert not is_standard_library(module)


def test_kernel_provided_modules():
    assert is_kernel_provided("IPython.display") and is_kernel_provided("google.colab")
    assert not is_kernel_provided("google.cloud.storage") and not is_kernel_provided("ipywidgets")


def test_modules_of_installed_distributions():
    from readiness_magics.requirements import modules_of, providing

    assert "yaml" in modules_of("pyyaml")
    assert modules_of("surely-not-installed-here") == frozenset()
    assert providing("yaml.loader", ["pandas", "pyyaml"]) == ("pyyaml",)
    assert providing("numpy", ["pandas"]) == ()
    assert providing("google.cloud.storage", ["protobuf"]) == ()


# --- Simple lines are read without packaging, exactly as packaging reads them -----------------------


_SPACE = st.sampled_from(["", "", " ", "\t", "  "])
_NAMES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,6}", fullmatch=True) | st.sampled_from(
    ["pandas", "scikit_learn", "Jupyter.Server", "a", "x-", "_x", "a..b", "foo.zip", "torch-2.1.whl"])
# Mostly what the fast reading takes, some of what it must leave to packaging.
_OPERATORS = st.sampled_from(["==", "!=", "<=", ">=", "<", ">", "~="] * 4 + ["===", "=", "=>"])
_VERSIONS = st.sampled_from(["1", "2.2.0", "1.26", "0", "01.2"] * 4 + ["1.*", "2.0rc1", "1.0.post1", "1.", "v1", ""])
_EXTRAS = st.lists(st.sampled_from(["lab", "server", "a.b", "x_y"]), max_size=2).map(
    lambda names: f"[{','.join(names)}]") | st.just("")


_MARKER_TESTS = st.tuples(
    st.sampled_from(["python_version", "sys_platform", "platform_python_implementation"] * 3
                    + ["os.name", "extra", "'3.8'", "python_implementation"]),
    _SPACE, st.sampled_from(["<", "==", "!=", ">="] * 3 + ["in", "not in", "~=", "=", "==="]), _SPACE,
    st.sampled_from(["'3.11'", '"win32"', "'CPython'"] * 3
                    + ["'a\\b'", "''", "python_version", "'x y'", "3.11"]),
).map("".join)
_MARKERS = st.tuples(
    st.sampled_from([";", "; ", " ; ", ";\t"]), st.lists(_MARKER_TESTS, min_size=1, max_size=3),
    st.sampled_from([" and ", " or "] * 3 + ["and", " AND ", "  or\t"]),
).map(lambda parts: parts[0] + parts[2].join(parts[1]))


@st.composite
def requirement_lines(draw) -> str:
    comparisons = draw(st.lists(st.tuples(_OPERATORS, _SPACE, _VERSIONS), max_size=3))
    joined = (draw(_SPACE) + "," + draw(_SPACE)).join(f"{op}{space}{version}" for op, space, version in comparisons)
    tail = draw(st.sampled_from(["", "", "", "", "", " (>=1)", " @ https://x/y.whl"]) | _MARKERS)
    return f"{draw(_NAMES)}{draw(_SPACE)}{draw(_EXTRAS)}{draw(_SPACE)}{joined}{tail}"


def _through_packaging(function, text):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(requirements, "_simple", lambda _text: None)
        return function(text)


@settings(max_examples=800, deadline=None)
@given(requirement_lines())
@example("pandas==2.2.3")
@example("numpy>=1.26,<3")
@example("jupyter_server [lab] >=2.0")
@example("scipy~=1")
@example("a==1,==2")
@example("foo.zip")
@example("tomli>=2.0; python_version<'3.11'")
@example("pywin32==306 ; sys_platform == \"win32\" and platform_machine != 'arm64'")
def test_simple_lines_read_as_packaging_reads_them(text):
    parse = parse_pip_requirement.__wrapped__
    expected = _through_packaging(parse, text)
    assert parse(text) == expected
    if expected is not None and expected.pinned:
        assert pinned_version(expected) == _through_packaging(pinned_version, expected)


@pytest.mark.parametrize("name", ["Scikit_Learn", "a..b", "A-_-B", "ruamel.yaml", "x", "Foo__Bar.baz"])
def test_canonical_names_match_packaging(name):
    from packaging.utils import canonicalize_name as packaging_canonical

    assert canonicalize_name(name) == packaging_canonical(name)
