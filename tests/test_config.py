"""[tool.readiness] settings, flags over the file, and in-cell suppressions as ruff and flake8 users expect."""
import pytest

from readiness_magics.config import ConfigError, Settings, settings_for
from readiness_magics.engine import check_file
from readiness_magics.notebook import notebook_from_sources
from tests.helpers import codes_for

BROKEN = "print 'x'"


def test_nearest_pyproject_applies(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.readiness]\nignore = ["RP001"]\nfail-on = "warning"\nruff = false\n'
        '[tool.readiness.per-file-ignores]\n"legacy/*.ipynb" = ["RP002"]\n')
    folder = tmp_path / "notebooks"
    folder.mkdir()
    settings = settings_for(folder / "a.ipynb")
    assert settings.ignore == ("RP001",) and settings.fail_on.value == "warning" and settings.ruff is False
    assert settings.ignores_for(tmp_path / "legacy" / "old.ipynb") == ("RP002",)
    assert settings.ignores_for(folder / "a.ipynb") == ()
    nested = folder / "pyproject.toml"
    nested.write_text("[project]\nname = 'x'\n")
    assert settings_for(folder / "a.ipynb").ignore == ()  # the nearest file wins, even without the table


def test_config_ignores_are_applied_when_checking_a_file(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.readiness]\nignore = ["notebook-format"]\n')
    path = tmp_path / "nb.ipynb"
    notebook_json = notebook_from_sources([BROKEN])
    import nbformat
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(BROKEN)]), str(path))
    assert notebook_json.cells[0].source == BROKEN
    assert [f for f in check_file(path, use_ruff=False).findings if f.code == "RP001"] == []


@pytest.mark.parametrize("text, message", [
    ('[tool.readiness]\nselect = "RP1"\nbogus = 1\n', "unknown"),
    ('[tool.readiness]\nfail-on = "fatal"\n', "fail-on"),
    ('[tool.readiness]\nignore = [1, 2]\n', "list of strings"),
    ("[tool.readiness\n", "cannot read"),
])
def test_bad_settings_are_clear_errors(tmp_path, text, message):
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        settings_for(tmp_path / "a.ipynb")


def test_flags_override_the_file():
    settings = Settings(select=("RP1",), fail_on="error")
    changed = settings.with_overrides(select=("RP2",), fail_on="info", ignore=None)
    assert changed.select == ("RP2",) and changed.fail_on.value == "info"
    assert settings.with_overrides(extend_select=("RP3",)).select == ("RP1", "RP3")


def test_readiness_ignore_comment_on_a_line():
    assert codes_for(["x = 1\nprint 'x'  # readiness: ignore[RP001]"], select="RP0") == []
    assert codes_for(["x = 1\nprint 'x'  # readiness: ignore[RP101]"], select="RP0") == [("RP001", 0, 2)]
    assert codes_for(["x = 1\nprint 'x'  # noqa: RP001"], select="RP0") == []
    # A bare directive silences every code on its line, and only there.
    assert codes_for(["x = 1\nprint 'x'  # noqa"], select="RP0") == []
    assert codes_for(["x = 1\ny = 2  # noqa\nprint 'x'"], select="RP0") == [("RP001", 0, 3)]


def test_readiness_ignore_on_the_first_line_covers_the_cell():
    assert codes_for(["# readiness: ignore[RP001]\nx = 1\nprint 'x'"], select="RP0") == []
    assert codes_for(["# readiness: ignore[syntax-error]\nprint 'x'"], select="RP0") == []
    assert codes_for(["# readiness: ignore[RP001]\nprint 'x'", BROKEN], select="RP0") == [("RP001", 1, 1)]


def test_readiness_ignore_tag_skips_the_cell():
    assert codes_for([{"source": BROKEN, "tags": ["readiness-ignore"]}, BROKEN], select="RP0") == [("RP001", 1, 1)]


def test_select_by_code_prefix_name_or_category():
    cells = [BROKEN]
    assert codes_for(cells, select="RP0") == [("RP001", 0, 1)]
    assert codes_for(cells, select="syntax-error") == [("RP001", 0, 1)]
    assert codes_for(cells, select="notebook-format") == [("RP001", 0, 1)]
    assert codes_for(cells, select="hidden-state") == []
