"""Every rule documents itself in ruff's sections, and its examples behave as the docs say."""
import pytest

from readiness_magics.rules import all_rules, get_rule
from tests.helpers import findings_for

RULES = all_rules()


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_rule_has_complete_docs(rule):
    docs = rule.docs()
    assert rule.code and rule.name and rule.category
    assert docs.summary and docs.why and docs.example and docs.use_instead, f"{rule.code} docs incomplete"
    assert get_rule(rule.code) is rule and get_rule(rule.name) is rule


@pytest.mark.parametrize("rule", [r for r in RULES if getattr(r, "docs_are_runnable", True)],
                         ids=lambda rule: rule.code)
def test_rule_examples_do_what_the_docs_say(rule, tmp_path):
    docs = rule.docs()
    example, use_instead = docs.code_examples("example"), docs.code_examples("use_instead")
    assert example and use_instead, f"{rule.code}: Example and Use instead need ```python blocks"
    notebook_path = tmp_path / "example.ipynb"
    flagged = findings_for(example, select=rule.code, path=notebook_path)
    assert flagged, f"{rule.code}: its own Example is not flagged"
    clean = findings_for(use_instead, select=rule.code, path=notebook_path)
    assert not clean, f"{rule.code}: its own 'Use instead' is flagged: {clean}"
