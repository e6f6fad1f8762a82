"""Fixes: turn findings into edits of the notebook (one module per kind), and apply them to a file.

`attach_fixes` runs after the rules (engine.rule_findings) and gives each finding a fixes module
knows its edits and applicability; a finding whose fix has no edits is advice. `apply` writes them
(keeping every byte no edit touches) and `run.fix_file` loops like `ruff check --fix`.
"""
from __future__ import annotations

import dataclasses
import os
import sys

from ..analysis import NotebookModel
from ..findings import Finding
from . import data_check, hygiene, parameters, pins, secrets, seeds

MAKERS = {code: module.make_fix for module in (parameters, seeds, secrets, data_check, pins, hygiene)
          for code in module.CODES}


def attach_fixes(model: NotebookModel, findings: list[Finding]) -> list[Finding]:
    """The findings, each with the fix its module makes (advice stays when none can be made)."""
    out = []
    for finding in findings:
        maker = MAKERS.get(finding.code)
        if maker is not None:
            try:
                fix = maker(model, finding)
            except Exception:  # a fix that cannot be made must never hide the finding
                if os.environ.get("READINESS_RAISE_RULE_ERRORS"):
                    raise
                import traceback

                print(f"readiness: internal error making a fix for {finding.code}:\n{traceback.format_exc()}",
                      file=sys.stderr)
                fix = None
            if fix is not None:
                finding = dataclasses.replace(finding, fix=fix)
        out.append(finding)
    return out
