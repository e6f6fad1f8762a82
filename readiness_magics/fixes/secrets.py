"""Replace a hardcoded secret (RP601, RP602, RP603) with `os.environ["NAME"]`.

`API_KEY = "sk-live-..."` becomes `API_KEY = os.environ["API_KEY"]`, and `import os` joins the
imports when the notebook lacks it. The name comes from what holds the literal (the variable, the
keyword, the dict key), else from the kind of token (`OPENAI_API_KEY`, `GITHUB_TOKEN`, `DATABASE_URL`).
Unsafe: the notebook now needs that variable set. The secret stays in the notebook's history (git,
checkpoints, outputs), so the fix's description says to rotate it.

Left as advice: a secret that is part of a longer string, inside an f-string, on a magic line, or
held by a name that is already an environment lookup.
"""
from __future__ import annotations

import ast
import re

from ..analysis import NotebookModel
from ..findings import Finding, Fix
from ..rules.literals import holder_name
from .common import identifier, import_os, plain_string_at, replace_node

CODES = ("RP601", "RP602", "RP603")

_BY_SHAPE = (
    (re.compile(r"^(?:AKIA|ASIA|ABIA|ACCA)"), "AWS_ACCESS_KEY_ID"),
    (re.compile(r"^(?:gh[pousr]_|github_pat_)"), "GITHUB_TOKEN"),
    (re.compile(r"^glpat-"), "GITLAB_TOKEN"),
    (re.compile(r"^xox"), "SLACK_TOKEN"),
    (re.compile(r"^https://hooks\.slack\.com/"), "SLACK_WEBHOOK_URL"),
    (re.compile(r"^https://(?:\w+\.)?discord"), "DISCORD_WEBHOOK_URL"),
    (re.compile(r"^[rs]k_(?:live|test)_"), "STRIPE_API_KEY"),
    (re.compile(r"^sk-ant-"), "ANTHROPIC_API_KEY"),
    (re.compile(r"^sk-"), "OPENAI_API_KEY"),
    (re.compile(r"^AIza"), "GOOGLE_API_KEY"),
    (re.compile(r"^hf_"), "HF_TOKEN"),
    (re.compile(r"^SG\."), "SENDGRID_API_KEY"),
    (re.compile(r"^eyJ"), "API_TOKEN"),
    (re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE), "DATABASE_URL"),
)

ROTATE = "rotate it: the old value stays in the notebook's history (git, checkpoints)"


def variable_name(holder: str | None, value: str) -> str:
    if holder:
        name = identifier(holder.split(".")[-1])
        if name != "DATA":
            return name
    for shape, name in _BY_SHAPE:
        if shape.search(value):
            return name
    return "API_SECRET"


def make_fix(model: NotebookModel, finding: Finding) -> Fix | None:
    found = plain_string_at(model, finding)
    if found is None:
        return None
    cell, node, parent = found
    if isinstance(parent, ast.arguments):
        return None  # a default of a parameter: `def f(key="...")` reads the environment at definition time
    holder = holder_name(cell.facts, node, model.resolve)
    if isinstance(parent, ast.Call) and node in parent.args and model.resolve(parent.func) in (
            "os.getenv", "os.environ.get"):
        return None  # the fallback of an environment lookup: drop it by hand
    scheme = re.match(r"(?i)^(bearer|token|basic)\s+\S+$", node.value)
    if scheme:  # an Authorization header: the scheme stays, the credential comes from the environment
        name = "API_TOKEN"
        content = f'"{scheme.group(1)} " + os.environ["{name}"]'
    else:
        name = variable_name(holder, node.value)
        content = f'os.environ["{name}"]'
    edits = (*import_os(model, cell), replace_node(cell, node, content))
    return Fix(f'Read it from os.environ["{name}"] and {ROTATE}', "unsafe", edits)
