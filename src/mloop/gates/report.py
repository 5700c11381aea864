"""The validation report: one result per gate, with its numbers, as typed data and as JSON.

The JSON form (`ValidationReport.to_dict`) is what is stored and documented
(docs/validation-gates.md, "The report JSON"); its `schema` field names the format version.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

SCHEMA = "mloop.validation-report/v1"
Status = Literal["pass", "fail", "error"]


@dataclass(frozen=True)
class GateResult:
    """The outcome of one gate.

    Attributes:
        gate: the gate's name (`schema`, `metrics`, `champion`, `fairness`, `drift`, `latency`,
            `size`, `approval`).
        status: "pass", "fail", or "error" (it could not be evaluated; counts as not passed).
        summary: one line with the deciding numbers, e.g. "roc_auc 0.91 >= 0.85".
        failures: one line per violated limit (empty when it passed).
        details: the numbers behind the verdict (per-metric values, per-group tables, the
            bootstrap interval, per-column drift ...), JSON-ready.
    """

    gate: str
    status: Status
    summary: str
    failures: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when the status is "pass"."""
        return self.status == "pass"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "gate": self.gate,
            "status": self.status,
            "passed": self.passed,
            "summary": self.summary,
            "failures": list(self.failures),
            "details": clean(self.details),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GateResult:
        """Read the form `to_dict` writes."""
        return cls(
            gate=data["gate"],
            status=data["status"],
            summary=data["summary"],
            failures=tuple(data.get("failures", ())),
            details=dict(data.get("details", {})),
        )


@dataclass(frozen=True)
class ValidationReport:
    """Every gate's result for one model version on one policy and its data.

    Attributes:
        model: the registered model's name.
        version: the version validated.
        passed: True when every gate passed.
        gates: the gates' results, in evaluation order.
        policy: the policy as parsed.
        policy_digest: its SHA-256.
        inputs: what the verdict depended on besides the policy (holdout and training data
            versions with digests, the champion version, the approval state).
        inputs_digest: SHA-256 of `inputs`.
        actor: who ran it.
        created_at_ms: when it finished, milliseconds since the epoch.
        duration_s: how long evaluating the gates took.
        schema: the JSON format id.
        reused_from: when this report reuses the evaluated gates of an earlier one (the same
            model, data and champion, another target alias or approval state), that report's
            id; None for a report whose gates were all evaluated.
    """

    model: str
    version: int
    passed: bool
    gates: tuple[GateResult, ...]
    policy: dict[str, Any]
    policy_digest: str
    inputs: dict[str, Any]
    inputs_digest: str
    actor: str
    created_at_ms: int
    duration_s: float
    schema: str = SCHEMA
    reused_from: int | None = None

    def gate(self, name: str) -> GateResult:
        """The result of gate `name`.

        Raises:
            KeyError: the report has no such gate.
        """
        for result in self.gates:
            if result.gate == name:
                return result
        raise KeyError(name)

    @property
    def failures(self) -> list[str]:
        """One line per failing limit, prefixed with its gate's name."""
        lines: list[str] = []
        for result in self.gates:
            if result.passed:
                continue
            lines.extend(f"{result.gate}: {line}" for line in result.failures or (result.summary,))
        return lines

    def statuses(self) -> dict[str, str]:
        """Gate name -> status, in evaluation order."""
        return {result.gate: result.status for result in self.gates}

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON form."""
        data = {
            "schema": self.schema,
            "model": self.model,
            "version": self.version,
            "passed": self.passed,
            "gates": [result.to_dict() for result in self.gates],
            "policy": clean(self.policy),
            "policy_digest": self.policy_digest,
            "inputs": clean(self.inputs),
            "inputs_digest": self.inputs_digest,
            "actor": self.actor,
            "created_at_ms": self.created_at_ms,
            "duration_s": round(self.duration_s, 3),
        }
        if self.reused_from is not None:
            data["reused_from"] = self.reused_from
        return data

    def to_json(self, *, indent: int | None = 2) -> str:
        """The JSON text of `to_dict`."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        """Read the form `to_dict` writes."""
        return cls(
            model=data["model"],
            version=int(data["version"]),
            passed=bool(data["passed"]),
            gates=tuple(GateResult.from_dict(g) for g in data["gates"]),
            policy=data["policy"],
            policy_digest=data["policy_digest"],
            inputs=data["inputs"],
            inputs_digest=data["inputs_digest"],
            actor=data["actor"],
            created_at_ms=int(data["created_at_ms"]),
            duration_s=float(data["duration_s"]),
            schema=data.get("schema", SCHEMA),
            reused_from=data.get("reused_from"),
        )

    def to_markdown(self) -> str:
        """A short Markdown summary for CI job pages (`--summary-md`)."""
        verdict = "passed" if self.passed else "FAILED"
        lines = [
            f"## Validation of {self.model}/{self.version}: {verdict}",
            "",
            f"Holdout `{self.inputs.get('holdout', {}).get('uri', '-')}`, policy digest "
            f"`{self.policy_digest[:12]}`.",
            "",
            "| gate | status | numbers |",
            "|---|---|---|",
        ]
        icons = {"pass": "✅ pass", "fail": "❌ fail", "error": "⚠️ error"}
        for result in self.gates:
            lines.append(f"| {result.gate} | {icons[result.status]} | {_cell(result.summary)} |")
        if self.failures:
            lines += ["", "**Failing limits**", ""]
            lines += [f"- {_cell(line)}" for line in self.failures]
        return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def clean(value: Any) -> Any:
    """JSON-ready copy: tuples become lists, non-finite floats become None."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return clean(value.item())  # numpy scalars
    return value
