"""The approval gate: a human sign-off recorded in the registry (`mloop models approve`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mloop.gates.report import GateResult

if TYPE_CHECKING:
    from mloop.entities import ModelVersion
    from mloop.gates.policy import ApprovalRule


def approval_gate(
    rule: ApprovalRule, version: ModelVersion, *, alias: str | None, is_protected: bool
) -> GateResult | None:
    """Whether the version has the approval the rule asks for (None: the rule asks nothing).

    Args:
        rule: "always", "protected" (only for a protected alias) or "never".
        version: the version, with its approvals.
        alias: the alias it is to take, when known.
        is_protected: whether that alias is protected.
    """
    if rule == "never" or (rule == "protected" and alias is None):
        return None
    approvals = [
        {"actor": a.actor, "at_ms": a.at_ms, "comment": a.comment} for a in version.approvals
    ]
    details = {"rule": rule, "alias": alias, "protected": is_protected, "approvals": approvals}
    if rule == "protected" and not is_protected:
        return GateResult(
            "approval", "pass", f"@{alias} is not protected: no approval needed", (), details
        )
    if version.approvals:
        last = version.approvals[-1]
        return GateResult(
            "approval",
            "pass",
            f"approved by {last.actor} ({len(approvals)} approval(s))",
            (),
            details,
        )
    why = f"@{alias} is protected" if rule == "protected" else "the policy requires one"
    failure = (
        f"{version.name}/{version.version} has no approval ({why}); approve it with "
        f"`mloop models approve {version.name}/{version.version} --comment ...`"
    )
    return GateResult("approval", "fail", f"no approval ({why})", (failure,), details)
