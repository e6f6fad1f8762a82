"""Reading notebooks: every nbformat version, broken files reported clearly, files never written."""
import hashlib
import json

import nbformat
import pytest

from readiness_magics.engine import check_file
from readiness_magics.notebook import NotebookError, parse_notebook, read_notebook


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_v4(path, cells):
    nb = nbformat.v4.new_notebook(cells=cells)
    nbformat.write(nb, str(path))
    return path


@pytest.mark.parametrize(
    "content, kind",
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b'{"cells": [', "not-json"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not-json"),
        (b"[1, 2, 3]", "not-a-notebook"),
        (b'{"hello": "world"}', "not-a-notebook"),
        (b'{"nbformat": 4, "cells": {"a": 1}}', "invalid-notebook"),
        (b'{"nbformat": "four", "cells": []}', "invalid-notebook"),
        (b'{"nbformat": 5, "cells": []}', "unsupported-version"),
    ],
)
def test_unreadable_files_get_a_clear_error_and_are_left_untouched(tmp_path, content, kind):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(content)
    before = digest(path)
    with pytest.raises(NotebookError) as caught:
        read_notebook(path)
    assert caught.value.kind == kind
    assert caught.value.message
    report = check_file(path, use_ruff=False)
    assert report.error is not None and report.error.kind == kind
    assert report.findings == []
    assert report.to_dict()["error"] == {"kind": kind, "message": caught.value.message}
    assert digest(path) == before


def test_missing_file_and_folder_are_errors(tmp_path):
    with pytest.raises(NotebookError) as caught:
        read_notebook(tmp_path / "nope.ipynb")
    assert caught.value.kind == "not-found"
    with pytest.raises(NotebookError) as caught:
        read_notebook(tmp_path)
    assert caught.value.kind == "not-a-file"


def test_nbformat3_is_upgraded_and_checked(tmp_path):
    v3 = nbformat.v3.new_notebook(worksheets=[nbformat.v3.new_worksheet(cells=[
        nbformat.v3.new_text_cell("markdown", source="# Title"),
        nbformat.v3.new_code_cell(input="import os\nx = 1", prompt_number=1),
        nbformat.v3.new_code_cell(input="print x", prompt_number=2),
    ])])
    path = tmp_path / "old.ipynb"
    path.write_text(nbformat.writes(v3, version=3))
    before = digest(path)
    notebook = read_notebook(path)
    assert [cell.kind for cell in notebook.cells] == ["markdown", "code", "code"]
    assert notebook.cells[1].source == "import os\nx = 1"
    assert notebook.cells[1].execution_count == 1
    report = check_file(path, use_ruff=False)
    assert report.error is None
    assert [(f.code, f.cell_index) for f in report.findings if f.code == "RP001"] == [("RP001", 2)]
    assert digest(path) == before


def test_a_syntax_error_is_a_finding_on_its_cell_and_other_cells_are_still_checked(tmp_path):
    path = write_v4(tmp_path / "nb.ipynb", [
        nbformat.v4.new_markdown_cell("# Analysis"),
        nbformat.v4.new_code_cell("x = (1,\n"),
        nbformat.v4.new_code_cell("def f(:\n    pass"),
        nbformat.v4.new_code_cell("y = 2"),
    ])
    report = check_file(path, use_ruff=False)
    syntax = [(f.cell_index, f.line) for f in report.findings if f.code == "RP001"]
    assert syntax == [(1, 1), (2, 1)]
    assert all(f.category == "notebook-format" for f in report.findings if f.code == "RP001")


def test_invalid_cells_are_reported_and_the_rest_is_read():
    notebook = parse_notebook({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "kode", "source": "x = 1", "metadata": {}},
        {"cell_type": "code", "source": 42, "metadata": {}, "outputs": []},
        "not a cell",
        {"cell_type": "code", "source": ["import os\n", "print(os.sep)"], "metadata": {}, "outputs": [],
         "execution_count": 1},
    ]})
    assert [cell.problem is not None for cell in notebook.cells] == [True, True, True, False]
    assert notebook.cells[3].source == "import os\nprint(os.sep)"
    from readiness_magics.engine import check_notebook
    report = check_notebook(notebook, use_ruff=False)
    assert sorted(f.cell_index for f in report.findings if f.code == "RP002") == [0, 1, 2]


def test_outputs_are_summarised_without_decoding_images():
    big_png = "iVBORw0KGgo" * 100_000
    notebook = parse_notebook({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "source": "plot()", "metadata": {}, "execution_count": 3, "outputs": [
            {"output_type": "display_data", "data": {"image/png": big_png, "text/plain": ["<Figure>"]},
             "metadata": {}},
            {"output_type": "error", "ename": "KeyError", "evalue": "'x'", "traceback": []},
        ]},
    ]})
    cell = notebook.cells[0]
    assert [out.output_type for out in cell.outputs] == ["display_data", "error"]
    assert cell.outputs[0].text == "<Figure>"
    assert cell.error_outputs[0].ename == "KeyError"


def test_bom_and_list_sources_are_read(tmp_path):
    data = {"nbformat": 4, "nbformat_minor": 2, "metadata": {"kernelspec": {"language": "python"}},
            "cells": [{"cell_type": "code", "source": ["a = 1\n", "b = a"], "metadata": {}, "outputs": [],
                       "execution_count": None}]}
    path = tmp_path / "bom.ipynb"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(data).encode())
    assert read_notebook(path).cells[0].source == "a = 1\nb = a"


def test_json_that_only_pythons_reader_accepts_is_read_the_same(tmp_path):
    """NaN, infinities and integers beyond 64 bits are written by Python's json and by widgets'
    state; the fast reader refuses them, and the notebook must still be read as json reads it."""
    cell = {"cell_type": "code", "metadata": {"score": float("nan"), "tags": ["parameters"]},
            "source": "x = 1\n", "outputs": [], "execution_count": 1}
    metadata = {"widgets": {"seed": 2**70, "limit": float("inf")}}
    path = tmp_path / "odd_numbers.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": metadata, "cells": [cell]}))
    notebook = read_notebook(path)
    assert notebook.cells[0].source == "x = 1\n" and notebook.cells[0].tags == ("parameters",)
    assert notebook.metadata["widgets"] == {"seed": 2**70, "limit": float("inf")}


def test_invalid_json_is_described_with_line_and_column(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text('{"nbformat": 4,\n "cells": [}\n')
    with pytest.raises(NotebookError) as caught:
        read_notebook(path)
    assert caught.value.kind == "not-json"
    assert "line 2, column" in str(caught.value)


def test_a_big_notebook_is_read_by_the_frugal_path_to_the_same_result(tmp_path, monkeypatch):
    """Above FAST_JSON_LIMIT the bytes are let go before json parses the text (peak memory); what is
    read must not depend on which path read it."""
    from readiness_magics import notebook as notebook_module

    path = write_v4(tmp_path / "big.ipynb", [nbformat.v4.new_code_cell("import pandas as pd\ndf = pd.read_csv('x.csv')"),
                                             nbformat.v4.new_markdown_cell("# Title")])
    fast = read_notebook(path)
    monkeypatch.setattr(notebook_module, "FAST_JSON_LIMIT", 10)
    frugal = read_notebook(path)
    assert [(c.kind, c.source, c.id) for c in frugal.cells] == [(c.kind, c.source, c.id) for c in fast.cells]
    assert frugal.metadata == fast.metadata
