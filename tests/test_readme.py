"""The README's rule table is generated from the rules' docs, so it cannot drift from them."""
from pathlib import Path

from readiness_magics.cli.docs import END, START, rules_section
from readiness_magics.rules import all_rules

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_rule_table_matches_the_rules():
    text = README.read_text(encoding="utf-8")
    section = text[text.index(START):text.index(END) + len(END)]
    assert section == rules_section(), "run `make docs` to regenerate the README's rule table"
    for rule in all_rules():
        assert f"| {rule.code} | `{rule.name}` |" in section
