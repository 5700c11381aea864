"""The request classification table and the scope a request names."""

from __future__ import annotations

import pytest

from mloop.entities.auth import Role
from mloop.server.auth_rules import (
    AUTHENTICATED,
    GLOBAL_ADMIN,
    OPEN,
    READ,
    WRITE,
    Need,
    parse_json_body,
    requirement_for,
    scope_of,
)

RUN = "a" * 32
OTHER_RUN = "b" * 32


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/health", OPEN),
        ("GET", "/ready", OPEN),
        ("POST", "/health", WRITE),
        ("GET", "/api/v1/auth/whoami", AUTHENTICATED),
        ("GET", "/api/v1/users", GLOBAL_ADMIN),
        ("POST", "/api/v1/tokens/abc/revoke", GLOBAL_ADMIN),
        ("POST", "/api/v1/runs/search", READ),
        ("POST", "/api/2.0/mlflow/runs/search", READ),
        ("POST", "/ajax-api/2.0/mlflow/experiments/search", READ),
        ("POST", "/api/2.0/mlflow/metrics/get-history-bulk-interval", READ),
        ("GET", "/api/v1/experiments", READ),
        ("HEAD", "/metrics", READ),
        ("GET", "/", READ),
        ("POST", "/api/v1/experiments", WRITE),
        ("DELETE", "/api/v1/runs/" + RUN, WRITE),
        ("PUT", "/api/2.0/mlflow-artifacts/artifacts/1/" + RUN + "/artifacts/m.pkl", WRITE),
        ("POST", "/api/2.0/mlflow/runs/log-batch", WRITE),
        ("POST", "/api/v1/models/churn/aliases/champion/override", GLOBAL_ADMIN),
        ("POST", "/api/v1/models/team/churn/aliases/champion/override", GLOBAL_ADMIN),
        ("PUT", "/api/v1/models/churn/aliases/champion", WRITE),
    ],
)
def test_requests_are_classified_by_method_and_path(
    method: str, path: str, expected: object
) -> None:
    assert requirement_for(method, path) == expected


def test_requirements_name_their_role() -> None:
    assert (READ.need, READ.role) == (Need.ROLE, Role.READER)
    assert (WRITE.need, WRITE.role) == (Need.ROLE, Role.EDITOR)
    assert GLOBAL_ADMIN.role is Role.ADMIN


def test_scope_from_the_path() -> None:
    scope = scope_of(f"/api/v1/experiments/7/runs/{RUN}/x", b"", None)
    assert (scope.experiment_ids, scope.run_ids) == ({"7"}, {RUN})
    artifact = scope_of(f"/api/2.0/mlflow-artifacts/artifacts/3/{RUN}/artifacts/a.txt", b"", None)
    assert (artifact.experiment_ids, artifact.run_ids) == ({"3"}, {RUN})
    model = f"m-{'c' * 32}"
    logged = scope_of(
        f"/api/2.0/mlflow-artifacts/artifacts/4/models/{model}/artifacts/x", b"", None
    )
    assert (logged.experiment_ids, logged.run_ids, logged.model_ids) == ({"4"}, set(), {model})
    assert scope_of(f"/api/2.0/mlflow/logged-models/{model}/tags", b"", None).model_ids == {model}
    assert scope_of(
        "/api/2.0/mlflow/logged-models/x", b"model_id=" + model.encode(), None
    ).model_ids == {model}
    # A run-like segment outside an artifact path is not a run id.
    assert scope_of(f"/api/2.0/mlflow/other/{RUN}", b"", None).is_empty


def test_scope_from_the_query_string() -> None:
    scope = scope_of(
        "/api/2.0/mlflow/x",
        f"experiment_ids=1&experiment_ids=2&run_uuid={RUN}&experiment_name=churn".encode(),
        None,
    )
    assert scope.experiment_ids == {"1", "2"}
    assert scope.run_ids == {RUN}
    assert scope.experiment_names == {"churn"}


def test_scope_from_a_json_body() -> None:
    body = {"experiment_ids": ["4", 5], "run_id": OTHER_RUN, "experiment_id": True, "x": "1"}
    scope = scope_of("/api/v1/runs/search", b"", body)
    assert scope.experiment_ids == {"4", "5"}
    assert scope.run_ids == {OTHER_RUN}


def test_mloops_get_by_name_is_scoped_by_its_name_parameter() -> None:
    assert scope_of("/api/v1/experiments/by-name", b"name=churn", None).experiment_names == {
        "churn"
    }
    assert scope_of("/api/v1/runs", b"name=churn", None).is_empty


def test_values_that_cannot_be_ids_name_nothing() -> None:
    scope = scope_of("/api/v1/x", b"experiment_id=abc&run_id=short", ["not", "a", "dict"])
    assert scope.is_empty


def test_non_json_bodies_parse_to_none() -> None:
    assert parse_json_body(b"") is None
    assert parse_json_body(b"{not json") is None
    assert parse_json_body(b"\xff\xfe") is None
    assert parse_json_body(b'{"a": 1}') == {"a": 1}
