"""`validate_version`: evaluate every gate of a policy on a model version and store the report.

A gate that cannot be evaluated (its data is missing, the holdout does not fit the model) gets
the status "error" with the reason, and counts as not passed; the other gates still run.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mloop.entities.clock import now_ms
from mloop.errors import MloopError
from mloop.gates import evaluation
from mloop.gates.approval import approval_gate
from mloop.gates.budget import latency_gate, size_gate
from mloop.gates.champion import champion_gate
from mloop.gates.drift import compare, drift_gate
from mloop.gates.fairness import fairness_gate
from mloop.gates.inputs import Inputs, resolve_inputs
from mloop.gates.metrics import metrics_gate
from mloop.gates.report import GateResult, ValidationReport, clean
from mloop.gates.schema import schema_gate

Progress = Callable[[str, int, int], None]
"""Called with the step about to run, the steps done and the steps in all."""

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mloop.entities import ModelVersion
    from mloop.entities.gates import StoredValidation
    from mloop.gates.evaluation import ModelLoader, Predictions
    from mloop.gates.policy import Policy
    from mloop.models import LoadedModel
    from mloop.storage import Store


@dataclass(frozen=True)
class Validation:
    """A validation report and the row that links it to the model version.

    Attributes:
        report: the report.
        record: the stored row (its `report_digest` and `html_digest` name the blobs).
        reused: True when the gates of an earlier report for the same version, policy, data
            and champion were reused instead of evaluated again (the approval gate is always
            checked afresh; see `validate_version`).
    """

    report: ValidationReport
    record: StoredValidation
    reused: bool

    @property
    def passed(self) -> bool:
        """True when every gate passed."""
        return self.report.passed


def resolve_version(store: Store, reference: str | ModelVersion) -> ModelVersion:
    """A model version from `NAME/N`, `models:/NAME/N`, `NAME@alias`, or as given.

    Raises:
        InvalidModelReferenceError: the text is not a model reference.
        ModelNotFoundError, ModelVersionNotFoundError, AliasNotFoundError: nothing matches.
    """
    if not isinstance(reference, str):
        return reference
    from mloop.registry import parse_model_uri, resolve

    return resolve(store.registry, parse_model_uri(reference, require_scheme=False))


def validate_version(
    store: Store,
    reference: str | ModelVersion,
    policy: Policy,
    *,
    actor: str,
    alias: str | None = None,
    reuse: bool = False,
    loader: ModelLoader | None = None,
    trusted: bool = False,
    progress: Progress | None = None,
) -> Validation:
    """Evaluate every gate of `policy` on a model version, store and return the report.

    Args:
        store: the metadata store (the report blobs go to its blob store).
        reference: the version: `NAME/N`, `models:/NAME/N`, `NAME@alias` or a `ModelVersion`.
        policy: the parsed policy (`load_policy`).
        actor: who validates (recorded and audited).
        alias: the alias the version is to take (for the approval gate); by default the
            champion gate's alias.
        reuse: reuse the newest stored report for the same version, policy digest and inputs
            digest (model, holdout, training data, champion: not the target alias) instead of
            evaluating again, when there is one. Its approval gate is checked again for
            `alias`; when that or the approval state differs, a new report with the stored
            gates and the fresh approval gate is stored.
        loader: loads a version's package (default: download it from the store).
        trusted: allow loading pickled models (with the default loader).
        progress: called as `progress(step, done, total)` before each step (the CLI draws a
            progress bar with it).

    Returns:
        The validation: report, stored row, whether it was reused.

    Raises:
        NotFoundError: the version or the holdout does not exist.
        InvalidInputError: a reference is malformed, or the holdout is not a table.
        ModelPackageNotFoundError, UntrustedModelError: the version's package cannot be loaded.
    """
    version = resolve_version(store, reference)
    inputs = resolve_inputs(store, version, policy, alias=alias)
    if reuse:
        found = store.validation_reports.find_reusable(
            version.name, version.version, policy_digest=policy.digest, inputs_digest=inputs.digest
        )
        if found is not None:
            return _reuse(store, found, inputs, policy, actor=actor)
    started = time.perf_counter()
    with ExitStack() as stack:
        load = loader or evaluation.store_loader(store, stack, trusted=trusted)
        gates = _evaluate(store, inputs, policy, load, progress)
    report = ValidationReport(
        model=version.name,
        version=version.version,
        passed=all(g.passed for g in gates),
        gates=tuple(gates),
        policy=clean(policy.to_dict()),
        policy_digest=policy.digest,
        inputs=inputs.to_dict(),
        inputs_digest=inputs.digest,
        actor=actor,
        created_at_ms=now_ms(),
        duration_s=round(time.perf_counter() - started, 3),
    )
    return Validation(report, _store(store, report), reused=False)


def _reuse(
    store: Store, found: StoredValidation, inputs: Inputs, policy: Policy, *, actor: str
) -> Validation:
    """A stored report's evaluated gates, with the approval gate checked again now.

    The evaluated gates do not depend on the target alias or the approvals (see `inputs`), so
    they are taken as stored. When the approval gate or the approval state recorded differs
    from now (another target alias, a new approval), a new report is stored with the stored
    gates and the fresh approval gate, pointing back at the one it reuses (`reused_from`).
    """
    stored = read_report(store, found)
    approval = approval_gate(
        policy.approval, inputs.version, alias=inputs.alias, is_protected=inputs.is_protected
    )
    gates = [g for g in stored.gates if g.gate != "approval"]
    gates += [approval] if approval is not None else []
    now = clean(inputs.to_dict())
    if [g.to_dict() for g in gates] == [g.to_dict() for g in stored.gates] and now == clean(
        stored.inputs
    ):
        return Validation(stored, found, reused=True)
    report = dataclasses.replace(
        stored,
        passed=all(g.passed for g in gates),
        gates=tuple(gates),
        inputs=now,
        actor=actor,
        created_at_ms=now_ms(),
        duration_s=0.0,
        reused_from=stored.reused_from or found.id,
    )
    return Validation(report, _store(store, report), reused=True)


def _store(store: Store, report: ValidationReport) -> StoredValidation:
    from mloop.gates.report_html import render_html

    blobs = store.artifacts.blobs
    report_blob = blobs.put_bytes(report.to_json().encode("utf-8"))
    html_blob = blobs.put_bytes(render_html(report).encode("utf-8"))
    return store.validation_reports.create(
        report.model,
        report.version,
        policy_digest=report.policy_digest,
        inputs_digest=report.inputs_digest,
        holdout=str(report.inputs["holdout"]["uri"]),
        passed=report.passed,
        gates=report.statuses(),
        report_digest=report_blob.digest,
        html_digest=html_blob.digest,
        actor=report.actor,
    )


def read_report(store: Store, record: StoredValidation) -> ValidationReport:
    """The JSON report a stored validation points at.

    Raises:
        BlobNotFoundError: the report's blob is gone from the blob store.
    """
    import json

    data = json.loads(store.artifacts.blobs.read_bytes(record.report_digest))
    return ValidationReport.from_dict(data)


def read_report_html(store: Store, record: StoredValidation) -> str:
    """The HTML page of a stored validation.

    Raises:
        BlobNotFoundError: the page's blob is gone from the blob store.
    """
    return store.artifacts.blobs.read_bytes(record.html_digest).decode("utf-8")


@dataclass
class _Evaluated:
    """What the gates share: the holdout, the candidate's predictions."""

    frame: pd.DataFrame
    model: LoadedModel
    truth: np.ndarray[Any, Any] | None = None
    predictions: Predictions | None = None
    blocker: str | None = None


def _evaluate(
    store: Store, inputs: Inputs, policy: Policy, load: ModelLoader, progress: Progress | None
) -> list[GateResult]:
    from mloop.data.loading import load as load_table

    names = [name for name, wanted in _wanted(policy) if wanted]
    total = len(names) + 2
    tick = progress or _quiet
    tick("loading the holdout and the model", 0, total)
    frame = load_table(store, inputs.holdout.uri)
    state = _Evaluated(frame, load(inputs.version))
    tick("checking the schema and predicting", 1, total)
    fit = schema_gate(frame, state.model.signature, policy)
    _predict(state, policy, fit)
    runners = _runners(store, state, inputs, policy, load)
    gates = [fit] if policy.schema else []
    for done, name in enumerate(names, start=2):
        tick(name, done, total)
        run, needs_predictions = runners[name]
        blocker = state.blocker if needs_predictions else None
        if name == "latency" and not fit.passed:
            blocker = state.blocker
        gates.append(_guarded(name, run, blocker=blocker))
    tick("done", total, total)
    approval = approval_gate(
        policy.approval, inputs.version, alias=inputs.alias, is_protected=inputs.is_protected
    )
    return [*gates, approval] if approval is not None else gates


def _quiet(step: str, done: int, total: int) -> None:
    """No progress display."""


def _wanted(policy: Policy) -> list[tuple[str, bool]]:
    """The gates after `schema`, in evaluation order, and whether the policy names each."""
    return [
        ("metrics", bool(policy.metrics)),
        ("champion", policy.champion is not None),
        ("fairness", policy.fairness is not None),
        ("drift", policy.drift is not None),
        ("latency", policy.latency is not None),
        ("size", policy.max_size_mb is not None),
    ]


def _runners(
    store: Store, state: _Evaluated, inputs: Inputs, policy: Policy, load: ModelLoader
) -> dict[str, tuple[Callable[[], GateResult], bool]]:
    """Gate name -> (how to run it, whether it needs the holdout's predictions)."""
    return {
        "metrics": (lambda: _metrics(state, policy), True),
        "champion": (lambda: _champion(state, inputs, policy, load), True),
        "fairness": (lambda: _fairness(state, policy), True),
        "drift": (lambda: _drift(store, state, inputs, policy), False),
        "latency": (lambda: _latency(state, policy), False),
        "size": (lambda: _size(state, policy), False),
    }


def _predict(state: _Evaluated, policy: Policy, fit: GateResult) -> None:
    """Predict the holdout once for every gate, or record why that was impossible."""
    if not fit.passed:
        state.blocker = f"the holdout does not fit the model: {fit.summary}"
        return
    try:
        state.truth = evaluation.labels(state.frame, policy)
        state.predictions = evaluation.predict(state.model, state.frame, policy)
    except MloopError as exc:
        state.blocker = f"the model could not predict the holdout: {exc}"


def _latency(state: _Evaluated, policy: Policy) -> GateResult:
    if policy.latency is None:  # pragma: no cover - planned only with a latency gate
        raise RuntimeError("no latency gate")
    names = evaluation.feature_names(state.model, state.frame, policy)
    return latency_gate(policy.latency, state.model, state.frame[names])


def _size(state: _Evaluated, policy: Policy) -> GateResult:
    if policy.max_size_mb is None:  # pragma: no cover - planned only with a size gate
        raise RuntimeError("no size gate")
    return size_gate(policy.max_size_mb, evaluation.package_size(state.model))


def _guarded(name: str, run: Callable[[], GateResult], *, blocker: str | None) -> GateResult:
    """Run a gate; a known obstacle or an mloop error makes it an "error" result."""
    if blocker is not None:
        return GateResult(
            name, "error", f"not evaluated: {blocker}", (f"not evaluated: {blocker}",)
        )
    try:
        return run()
    except MloopError as exc:
        return GateResult(name, "error", f"not evaluated: {exc}", (f"not evaluated: {exc}",))


def _ready(state: _Evaluated) -> tuple[np.ndarray[Any, Any], Predictions]:
    if state.truth is None or state.predictions is None:  # pragma: no cover - guarded above
        raise RuntimeError("predictions are missing")
    return state.truth, state.predictions


def _metrics(state: _Evaluated, policy: Policy) -> GateResult:
    truth, predictions = _ready(state)
    return metrics_gate(state.frame, truth, predictions, policy)


def _champion(state: _Evaluated, inputs: Inputs, policy: Policy, load: ModelLoader) -> GateResult:
    gate = policy.champion
    if gate is None:  # pragma: no cover - planned only with a champion gate
        raise RuntimeError("no champion gate")
    truth, predictions = _ready(state)
    holder = inputs.champion
    if holder is not None and holder.version == inputs.version.version:
        return GateResult(
            "champion",
            "pass",
            f"{holder.uri} already holds @{gate.alias}",
            (),
            {"alias": gate.alias},
        )
    theirs = None
    if holder is not None:
        theirs = evaluation.predict(load(holder), state.frame, policy)
    return champion_gate(
        gate,
        truth,
        predictions,
        theirs,
        positive=policy.positive_label,
        champion_uri=holder.uri if holder else None,
    )


def _fairness(state: _Evaluated, policy: Policy) -> GateResult:
    gate = policy.fairness
    if gate is None:  # pragma: no cover - planned only with a fairness gate
        raise RuntimeError("no fairness gate")
    truth, predictions = _ready(state)
    return fairness_gate(
        gate,
        state.frame,
        truth,
        predictions.predicted,
        attributes=policy.sensitive_attributes,
        positive=policy.positive_label,
    )


def _drift(store: Store, state: _Evaluated, inputs: Inputs, policy: Policy) -> GateResult:
    from mloop.data.loading import load as load_table

    gate = policy.drift
    if gate is None:  # pragma: no cover - planned only with a drift gate
        raise RuntimeError("no drift gate")
    if inputs.training is None:
        reason = inputs.training_error or "no training data"
        return GateResult("drift", "error", f"not evaluated: {reason}", (reason,))
    training = load_table(store, inputs.training.uri)
    wanted = evaluation.feature_names(state.model, state.frame, policy)
    columns = [c for c in wanted if c in training.columns and c in state.frame.columns]
    report = compare(gate, training, state.frame, columns)
    return drift_gate(gate, report, training_uri=inputs.training.uri)
