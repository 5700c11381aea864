"""Policy files: a full example parses; every mistake names the file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from mloop.errors import InvalidInputError, PolicyFileError
from mloop.gates import load_policy, parse_policy
from mloop.gates.policy import ChampionGate, FairnessGate, LatencyGate

FULL = """\
version: 1
holdout: datasets:/churn-holdout@golden   # the team's frozen holdout
label: churned
positive_label: 1
sensitive_attributes: [gender, age_band]
gates:
  schema: true
  metrics:
    - {metric: roc_auc, min: 0.8}
    - {metric: recall, min: 0.6, per_segment: country}
  champion: {alias: champion, metric: roc_auc, margin: 0.0, resamples: 500}
  fairness:
    max_demographic_parity_difference: 0.1
    min_group_recall: 0.6
  drift: {alpha: 0.01, max_drifted_columns: 1}
  latency: {p95_ms: 20}
  size: {max_mb: 50}
  approval: {required: true}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mloop-policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_policy_parses_into_typed_gates(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, FULL))
    assert policy.holdout == "datasets:/churn-holdout@golden"
    assert policy.sensitive_attributes == ("gender", "age_band")
    assert [m.metric for m in policy.metrics] == ["roc_auc", "recall"]
    assert policy.metrics[1].per_segment == "country"
    assert policy.champion == ChampionGate(resamples=500)
    assert policy.fairness == FairnessGate(
        max_demographic_parity_difference=0.1, min_group_recall=0.6
    )
    assert policy.drift is not None
    assert policy.drift.max_drifted_columns == 1
    assert policy.latency == LatencyGate(20.0)
    assert (policy.max_size_mb, policy.approval) == (50.0, "always")


def test_the_digest_ignores_comments_and_layout(tmp_path: Path) -> None:
    first = load_policy(_write(tmp_path, FULL))
    relaid = FULL.replace("   # the team's frozen holdout", "").replace(
        "size: {max_mb: 50}", "size:\n    max_mb: 50"
    )
    assert load_policy(_write(tmp_path, relaid)).digest == first.digest
    changed = FULL.replace("max_mb: 50", "max_mb: 40")
    assert load_policy(_write(tmp_path, changed)).digest != first.digest


@pytest.mark.parametrize(
    ("old", "new", "field", "line", "words"),
    [
        ("  fairness:", "  fairnes:", "gates.fairnes", 12, "unknown key"),
        ("min: 0.8}", "min: high}", "gates.metrics[0].min", 9, "expected a number"),
        ("metric: roc_auc, min", "metric: auc, min", "gates.metrics[0].metric", 9, "unknown"),
        (
            "min_group_recall: 0.6",
            "min_group_recall: 1.6",
            "gates.fairness.min_group_recall",
            14,
            "between 0 and 1",
        ),
        ("latency: {p95_ms: 20}", "latency: {p95_ms: -1}", "gates.latency.p95_ms", 16, "positive"),
        ("required: true", "required: maybe", "gates.approval.required", 18, "protected"),
        ("version: 1", "version: 2", "version", 1, "expected 1"),
        ("label: churned\n", "", "label", None, "is required"),
    ],
)
def test_a_mistake_names_the_line_and_field(
    tmp_path: Path, old: str, new: str, field: str, line: int | None, words: str
) -> None:
    path = _write(tmp_path, FULL.replace(old, new, 1))
    with pytest.raises(PolicyFileError) as caught:
        load_policy(path)
    assert caught.value.field == field
    if line is not None:
        assert caught.value.line == line
        assert f"line {line}" in str(caught.value)
    assert words in str(caught.value)
    assert str(path) in str(caught.value)
    assert isinstance(caught.value, InvalidInputError)


def test_files_that_are_not_policies_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match="cannot read the file"):
        load_policy(tmp_path / "missing.yaml")
    with pytest.raises(PolicyFileError, match="not valid YAML"):
        load_policy(_write(tmp_path, "gates: [unclosed\n"))
    with pytest.raises(PolicyFileError, match="must be a mapping"):
        parse_policy(["a", "list"])
    with pytest.raises(PolicyFileError, match="appears twice"):
        load_policy(_write(tmp_path, FULL + "label: again\n"))


def test_gates_that_cannot_apply_are_refused() -> None:
    base = {"version": 1, "holdout": "datasets:/h/1", "label": "y"}
    with pytest.raises(PolicyFileError, match="needs at least one sensitive attribute"):
        parse_policy({**base, "gates": {"fairness": {"min_group_recall": 0.5}}})
    with pytest.raises(PolicyFileError, match="need `task: classification`"):
        parse_policy(
            {
                **base,
                "task": "regression",
                "sensitive_attributes": ["g"],
                "gates": {"fairness": {"min_group_recall": 0.5}},
            }
        )
    with pytest.raises(PolicyFileError, match="unknown regression metric 'roc_auc'"):
        parse_policy(
            {**base, "task": "regression", "gates": {"metrics": [{"metric": "roc_auc", "min": 1}]}}
        )
    with pytest.raises(PolicyFileError, match="needs `min` or `max`"):
        parse_policy({**base, "gates": {"metrics": [{"metric": "f1"}]}})
    with pytest.raises(PolicyFileError, match="needs at least one of"):
        parse_policy({**base, "sensitive_attributes": ["g"], "gates": {"fairness": {}}})
