"""Model validation gates and the promotion policy (lifecycle stage 4).

A policy file (`load_policy`) names the holdout data, the label, the sensitive attributes and
the gates; `validate_version` evaluates them on a model version and stores the report (JSON and
a self-contained HTML page) linked to it; `promote_version` moves an alias only for a version
that passed (reusing a stored report when nothing changed), or on an audited admin override.

The fluent forms on the default store are `mloop.models.validate` and `mloop.models.promote`.
"""

from __future__ import annotations

from mloop.gates.policy import Policy as Policy
from mloop.gates.policy import load_policy as load_policy
from mloop.gates.policy import parse_policy as parse_policy
from mloop.gates.promote import Promotion as Promotion
from mloop.gates.promote import promote_version as promote_version
from mloop.gates.report import GateResult as GateResult
from mloop.gates.report import ValidationReport as ValidationReport
from mloop.gates.report_html import render_html as render_html
from mloop.gates.validate import Validation as Validation
from mloop.gates.validate import read_report as read_report
from mloop.gates.validate import read_report_html as read_report_html
from mloop.gates.validate import validate_version as validate_version

__all__ = [
    "GateResult",
    "Policy",
    "Promotion",
    "Validation",
    "ValidationReport",
    "load_policy",
    "parse_policy",
    "promote_version",
    "read_report",
    "read_report_html",
    "render_html",
    "validate_version",
]
