"""The registry: every rule by code and by name."""
from __future__ import annotations

from functools import lru_cache

from .base import Rule, RuleDocs

# One module per rule family; each defines Rule subclasses listed in its RULES tuple.
_FAMILIES = (
    "notebook_format",
    "paths",
    "dependencies",
    "data_checks",
    "untestable",
    "hidden_state",
    "secrets",
    "hygiene",
    "live_kernel",
    "leakage",
)


@lru_cache(maxsize=1)
def all_rules() -> tuple[Rule, ...]:
    import importlib

    rules: list[Rule] = []
    for family in _FAMILIES:
        try:
            module = importlib.import_module(f"{__name__}.{family}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{family}":
                continue  # a family not written yet
            raise
        rules.extend(rule_class() for rule_class in module.RULES)
    codes = [rule.code for rule in rules]
    assert len(codes) == len(set(codes)), "two rules share a code"
    return tuple(sorted(rules, key=lambda rule: rule.code))


def get_rule(code_or_name: str) -> Rule | None:
    wanted = code_or_name.strip()
    for rule in all_rules():
        if rule.code.upper() == wanted.upper() or rule.name == wanted.lower():
            return rule
    return None


__all__ = ["Rule", "RuleDocs", "all_rules", "get_rule"]
