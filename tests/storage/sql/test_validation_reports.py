"""The validation report rows: recorded with an audit event, listed newest first, reusable."""

from __future__ import annotations

import pytest

from mloop.errors import InvalidInputError, ModelVersionNotFoundError
from mloop.storage.sql.store import SqlStore

DIGEST = "a" * 64


def _record(store: SqlStore, *, inputs: str = DIGEST, passed: bool = True) -> int:
    return store.validation_reports.create(
        "churn",
        1,
        policy_digest="p" * 64,
        inputs_digest=inputs,
        holdout="datasets:/holdout/1",
        passed=passed,
        gates={"schema": "pass", "fairness": "pass" if passed else "fail"},
        report_digest="r" * 64,
        html_digest="h" * 64,
        actor="ana",
    ).id


def test_a_validation_is_listed_newest_first_and_audited(store: SqlStore) -> None:
    store.registry.create_version("churn", "s3://b/m", actor="ana")
    first = _record(store, passed=False)
    second = _record(store, inputs="b" * 64)
    listed = store.validation_reports.list("churn", 1)
    assert [v.id for v in listed] == [second, first]
    assert listed[1].gates == {"schema": "pass", "fairness": "fail"}
    assert (listed[1].name, listed[1].version, listed[1].passed) == ("churn", 1, False)
    latest = store.validation_reports.find_latest("churn", 1)
    assert latest is not None
    assert latest.id == second
    events = store.audit.list(entity=("model_version", "churn/1"))
    validations = [e for e in events if e.action == "model_version.validate"]
    assert len(validations) == 2
    assert validations[-1].details["gates"] == {"schema": "pass", "fairness": "pass"}


def test_a_report_is_reused_only_for_the_same_policy_and_inputs(store: SqlStore) -> None:
    store.registry.create_version("churn", "s3://b/m", actor="ana")
    recorded = _record(store)
    found = store.validation_reports.find_reusable(
        "churn", 1, policy_digest="p" * 64, inputs_digest=DIGEST
    )
    assert found is not None
    assert found.id == recorded
    assert (
        store.validation_reports.find_reusable(
            "churn", 1, policy_digest="p" * 64, inputs_digest="c" * 64
        )
        is None
    )
    assert store.validation_reports.find_latest("churn", 1) is not None


def test_bad_input_changes_nothing(store: SqlStore) -> None:
    store.registry.create_version("churn", "s3://b/m", actor="ana")
    with pytest.raises(ModelVersionNotFoundError):
        store.validation_reports.list("churn", 2)
    with pytest.raises(ModelVersionNotFoundError):
        _record_version(store, 5)
    with pytest.raises(InvalidInputError, match="holdout"):
        store.validation_reports.create(
            "churn",
            1,
            policy_digest="p" * 64,
            inputs_digest=DIGEST,
            holdout="x" * 1001,
            passed=True,
            gates={},
            report_digest="r",
            html_digest="h",
            actor="ana",
        )
    assert store.validation_reports.list("churn", 1) == []


def _record_version(store: SqlStore, version: int) -> None:
    store.validation_reports.create(
        "churn",
        version,
        policy_digest="p" * 64,
        inputs_digest=DIGEST,
        holdout="datasets:/holdout/1",
        passed=True,
        gates={},
        report_digest="r",
        html_digest="h",
        actor="ana",
    )


def test_gc_keeps_the_report_blobs() -> None:
    from mloop.storage.sql.gc import reference_columns
    from mloop.storage.sql.schema_gates import validation_reports

    columns = reference_columns()
    assert any(c is validation_reports.c.report_digest for c in columns)
    assert any(c is validation_reports.c.html_digest for c in columns)
