"""Every MLflow route answers malformed requests with a 4xx in MLflow's shape, never a 5xx."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute

from mloop.server.mlflow import (
    artifacts,
    experiments,
    logged_models,
    metrics,
    registry,
    run_data,
    runs,
)
from tests.server.conftest import LiveServer

_BODIES: list[Any] = [
    {},
    [],
    "text",
    {
        "run_id": "x" * 32,
        "experiment_id": "abc",
        "experiment_ids": ["-1"],
        "name": 5,
        "key": "",
        "value": None,
        "version": "0",
        "metrics": [{"key": "k"}],
        "params": "nope",
        "tags": [{"value": "v"}],
        "filter": "metrics.a ===",
        "max_results": -3,
        "status": "BOGUS",
        "model_json": 7,
        "source": "",
        "alias": "",
    },
]
# PostgreSQL text cannot hold NUL: a NUL anywhere must be a 400, not a database error.
_BODIES.append(
    {
        "run_id": "a" * 32,
        "experiment_id": "0",
        "name": "n\x00ul",
        "key": "k",
        "value": "v\x00",
        "source": "s\x00",
        "tags": [{"key": "t", "value": "\x00"}],
        "params": [{"key": "p", "value": "\x00"}],
        "filter": "name = '\x00'",
    }
)
# Longer than the columns that hold them: PostgreSQL refuses, so the API must refuse first.
_LONG = "x" * 9000
_BODIES.append(
    {
        "run_id": "a" * 32,
        "experiment_id": "0",
        "name": _LONG,
        "new_name": _LONG,
        "artifact_location": _LONG,
        "user_id": _LONG,
        "run_name": _LONG,
        "model_type": _LONG,
        "source_run_id": _LONG,
        "description": _LONG,
        "source": _LONG,
        "alias": _LONG,
        "version": "1",
        "key": _LONG,
        "value": _LONG,
        "tags": [{"key": "k", "value": _LONG}],
        "params": [{"key": "k", "value": _LONG}],
        "datasets": [{"dataset": {"name": _LONG, "digest": _LONG, "source": _LONG}}],
        "models": [{"model_id": _LONG}],
        "model_json": "{}",
        "status": "FINISHED",
    }
)
_QUERIES: list[dict[str, Any]] = [
    {},
    {
        "run_id": "not-hex",
        "experiment_id": "-1",
        "experiment_name": "",
        "metric_key": "",
        "name": "",
        "version": "x",
        "alias": "",
        "max_results": "many",
        "page_token": "%%%",
        "run_ids": "nope",
        "path": "../..",
    },
    {"experiment_name": "a\x00", "name": "a\x00", "run_id": "a" * 32, "metric_key": "\x00"},
]


def _routes() -> list[tuple[str, str]]:
    groups = [
        ("/api/2.0/mlflow", module.router)
        for module in (experiments, runs, run_data, metrics, artifacts, logged_models, registry)
    ]
    groups.append(("/api/2.0/mlflow-artifacts", artifacts.proxy_router))
    found: list[tuple[str, str]] = []
    for prefix, group in groups:
        for route in group.routes:
            assert isinstance(route, APIRoute)
            path = route.path.replace("{model_id}", "m-nope").replace("{tag_key:path}", "k")
            path = path.replace("{path:path}", "0/abc/artifacts/f")
            found.extend((method, prefix + path) for method in sorted(route.methods or ()))
    found.append(("POST", "/api/2.0/mlflow/unknown/route"))
    return found


def test_malformed_requests_never_answer_5xx(live_server: LiveServer) -> None:
    http = live_server.client
    routes = _routes()
    assert len(routes) >= 60
    for method, path in routes:
        attempts = (
            [{"params": q} for q in _QUERIES] if method == "GET" else [{"json": b} for b in _BODIES]
        )
        for kwargs in attempts:
            answer = http.request(method, path, **kwargs)
            assert answer.status_code < 500, (method, path, kwargs, answer.text)
            if answer.status_code >= 400:
                body = answer.json()
                assert set(body) == {"error_code", "message"}, (method, path, body)


def test_nul_characters_are_refused_but_artifact_bytes_may_hold_them(
    live_server: LiveServer,
) -> None:
    http = live_server.client
    created = http.post("/api/2.0/mlflow/experiments/create", json={"name": "bad\u0000name"})
    assert (created.status_code, created.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    found = http.get("/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": "\x00"})
    assert found.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    # A backslash followed by "u0000" is text, not a NUL.
    literal = http.post("/api/2.0/mlflow/experiments/create", json={"name": "a\\u0000"})
    assert literal.status_code == 200
    run_id = http.post("/api/2.0/mlflow/runs/create", json={}).json()["run"]["info"]["run_id"]
    path = f"/api/2.0/mlflow-artifacts/artifacts/0/{run_id}/artifacts/data.json"
    content = b'{"a": "\\u0000"}\x00'
    assert (
        http.put(path, content=content, headers={"content-type": "application/json"}).json() == {}
    )
    assert http.get(path).content == content


def test_values_past_their_column_limits_are_invalid_parameters(live_server: LiveServer) -> None:
    http = live_server.client
    base = "/api/2.0/mlflow"
    run_id = http.post(f"{base}/runs/create", json={}).json()["run"]["info"]["run_id"]
    http.post(f"{base}/registered-models/create", json={"name": "rm"})
    dataset = {"name": "d", "digest": "g"}
    probes: list[tuple[str, dict[str, Any]]] = [
        ("experiments/create", {"name": "e", "artifact_location": "/" + "x" * 950}),
        ("runs/create", {"user_id": "u" * 300}),
        ("runs/create", {"start_time": 2**64}),
        ("runs/update", {"run_id": run_id, "end_time": -1}),
        (
            "runs/log-batch",
            {"run_id": run_id, "metrics": [{"key": "m", "value": 1, "step": 2**63}]},
        ),
        ("logged-models", {"experiment_id": "0", "name": "m", "model_type": "t" * 300}),
        ("logged-models", {"experiment_id": "0", "name": "m", "source_run_id": "r" * 40}),
        (
            "runs/log-inputs",
            {"run_id": run_id, "datasets": [{"dataset": {**dataset, "source": "s" * 1001}}]},
        ),
        (
            "runs/log-inputs",
            {"run_id": run_id, "datasets": [{"dataset": {**dataset, "digest": "g" * 129}}]},
        ),
        (
            "runs/log-inputs",
            {
                "run_id": run_id,
                "datasets": [
                    {
                        "tags": [{"key": "mlflow.data.context", "value": "c" * 251}],
                        "dataset": dataset,
                    }
                ],
            },
        ),
        ("runs/outputs", {"run_id": run_id, "models": [{"model_id": "m" * 65}]}),
        ("model-versions/create", {"name": "rm", "source": "s", "run_id": "not-a-run"}),
    ]
    for path, body in probes:
        answer = http.post(f"{base}/{path}", json=body)
        assert (answer.status_code, answer.json()["error_code"]) == (
            400,
            "INVALID_PARAMETER_VALUE",
        ), (path, answer.text)
    run = http.get(f"{base}/runs/get", params={"run_id": run_id}).json()["run"]
    assert run["inputs"]["dataset_inputs"] == []
    assert run["data"]["metrics"] == []
