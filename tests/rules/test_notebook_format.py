"""notebook-format: RP001 syntax errors as the kernel would meet them, RP002 malformed cells."""
import pytest

from tests.helpers import codes_for, findings_for


@pytest.mark.parametrize("source, line", [
    ('print "accuracy", score', 1),  # Python 2
    ("y_true_val = list(y_true.values()\nfor y in results:\n    pass", 1),  # half-written
    ("// define listener\nclass MyListener extends StreamingListener {\n}", 1),  # Scala in a Python cell
    ("http://localhost:4040/", 1),  # a URL pasted as code
    ("x = 1\n    y = 2", 2),  # an indented line that is not the first
    ('!export X=$(aws sts get-caller-identity)\naws s3 ls $X', 2),  # a shell line without its `!`
])
def test_code_the_kernel_cannot_run(source, line):
    found = findings_for([source], select="RP001")
    assert [(f.code, f.line) for f in found] == [("RP001", line)]
    assert found[0].message.startswith("Syntax error: ")


@pytest.mark.parametrize("source", [
    "pip install diffusers==0.30.0 torch==2.4.0",  # automagic: IPython runs it as %pip
    "conda install -y numpy=1.26.4",
    "cd data\nls -la",
    " model.display_metrics()",  # IPython removes a first line's indentation from the whole cell
    "    x = 1\n    y = x + 1",
    "%%bash\necho $HOME | awk '{print $1}'",  # another language
    "%%time\nx = sum(range(10))",
    "df?",
])
def test_code_the_kernel_runs(source):
    assert codes_for([source], select="RP001") == []


def test_an_automagic_install_is_still_checked_as_an_install():
    assert codes_for(["pip install diffusers torch"], select=("RP001", "RP201")) == [("RP201", 0, 1)]


def test_invalid_cell_is_reported():
    cells = [{"cell_type": "kode", "source": "x = 1"}]
    found = findings_for(cells, select="RP002")
    assert [f.code for f in found] == ["RP002"]
