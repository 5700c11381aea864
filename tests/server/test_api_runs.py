"""`/api/v1/runs`: lifecycle, logging, history and search over a real server, both backends."""

from __future__ import annotations

import math
import uuid
from typing import Any

from mloop.server.config import ServerConfig
from tests.server.conftest import LiveServer

RUNS = "/api/v1/runs"


def _run(live: LiveServer, **fields: Any) -> dict[str, Any]:
    answer = live.client.post(RUNS, json={"experiment_id": "0", "run_name": "r", **fields})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_create_get_update_and_retry_a_run(live_server: LiveServer) -> None:
    http = live_server.client
    run_id = uuid.uuid4().hex
    run = _run(live_server, run_id=run_id, tags=[{"key": "t", "value": "1"}], user_id="ann")
    assert run["run_id"] == run_id
    assert run["status"] == "RUNNING"
    assert run["tags"] == {"t": "1"}
    # Retrying a create with the same id returns the run and creates nothing new.
    assert _run(live_server, run_id=run_id)["start_time_ms"] == run["start_time_ms"]
    assert http.patch(f"{RUNS}/{run_id}", json={"status": "FINISHED"}).status_code == 204
    got = http.get(f"{RUNS}/{run_id}").json()
    assert got["status"] == "FINISHED"
    assert got["end_time_ms"] >= got["start_time_ms"]
    assert got["user_id"] == "ann"
    page = http.post(f"{RUNS}/search", json={}).json()
    assert [r["run_id"] for r in page["runs"]] == [run_id]


def test_batch_single_values_and_latest_metrics(live_server: LiveServer) -> None:
    http = live_server.client
    run_id = _run(live_server)["run_id"]
    batch = {
        "metrics": [
            {"key": "loss", "value": 0.5, "timestamp_ms": 10, "step": 0},
            {"key": "loss", "value": "NaN", "timestamp_ms": 11, "step": 1},
            {"key": "acc", "value": "Infinity", "timestamp_ms": 10, "step": 0},
        ],
        "params": [{"key": "lr", "value": "0.1"}],
        "tags": [{"key": "team", "value": "a"}],
    }
    assert http.post(f"{RUNS}/{run_id}/batch", json=batch).status_code == 204
    assert http.post(f"{RUNS}/{run_id}/batch", json=batch).status_code == 204  # idempotent
    single = {"key": "f1", "value": 0.75}
    assert http.post(f"{RUNS}/{run_id}/metrics", json=single).status_code == 204
    assert http.post(f"{RUNS}/{run_id}/params", json={"key": "k", "value": "v"}).status_code == 204
    assert http.post(f"{RUNS}/{run_id}/tags", json={"key": "x", "value": "y"}).status_code == 204
    run = http.get(f"{RUNS}/{run_id}").json()
    assert run["metrics"] == {"loss": "NaN", "acc": "Infinity", "f1": 0.75}
    assert run["params"] == {"lr": "0.1", "k": "v"}
    assert run["tags"] == {"team": "a", "x": "y"}
    assert http.delete(f"{RUNS}/{run_id}/tags", params={"key": "x"}).status_code == 204
    assert http.get(f"{RUNS}/{run_id}").json()["tags"] == {"team": "a"}
    missing = http.delete(f"{RUNS}/{run_id}/tags", params={"key": "x"})
    assert missing.status_code == 400


def test_metric_history_in_both_forms(live_server: LiveServer) -> None:
    http = live_server.client
    run_id = _run(live_server)["run_id"]
    points = [
        {"key": "loss", "value": v, "timestamp_ms": 100 + i, "step": i}
        for i, v in enumerate([1.0, "NaN", "-Infinity", 0.25])
    ]
    http.post(f"{RUNS}/{run_id}/batch", json={"metrics": points})
    history = http.get(f"{RUNS}/{run_id}/metrics/history", params={"key": "loss"}).json()
    assert history == {
        "key": "loss",
        "metrics": [
            {"value": p["value"], "timestamp_ms": p["timestamp_ms"], "step": p["step"]}
            for p in points
        ],
    }
    columns = http.get(f"{RUNS}/{run_id}/metrics/history/columns", params={"key": "loss"})
    assert columns.json() == {
        "key": "loss",
        "steps": [0, 1, 2, 3],
        "timestamps_ms": [100, 101, 102, 103],
        "values": [1.0, "NaN", "-Infinity", 0.25],
    }
    empty = http.get(f"{RUNS}/{run_id}/metrics/history/columns", params={"key": "none"})
    assert empty.json()["values"] == []
    assert math.isnan(float(columns.json()["values"][1]))


def test_param_conflicts_and_deleted_runs_answer_with_their_error_class(
    live_server: LiveServer,
) -> None:
    http = live_server.client
    run_id = _run(live_server)["run_id"]
    http.post(f"{RUNS}/{run_id}/params", json={"key": "lr", "value": "1"})
    conflict = http.post(f"{RUNS}/{run_id}/params", json={"key": "lr", "value": "2"})
    assert conflict.status_code == 400
    assert conflict.json()["error"]["details"]["error_type"] == "ParamConflictError"
    assert http.delete(f"{RUNS}/{run_id}", params={"actor": "ann"}).status_code == 204
    refused = http.post(f"{RUNS}/{run_id}/metrics", json={"key": "m", "value": 1})
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["error_type"] == "RunNotActiveError"
    assert http.post(f"{RUNS}/{run_id}/restore", params={"actor": "bob"}).status_code == 204
    events = http.get("/api/v1/audit", params={"entity_type": "run", "entity_id": run_id})
    assert [(e["action"], e["actor"]) for e in events.json()["events"]] == [
        ("run.delete", "ann"),
        ("run.restore", "bob"),
    ]


def test_unknown_runs_are_404_on_every_route(live_server: LiveServer) -> None:
    http = live_server.client
    unknown = uuid.uuid4().hex
    for method, path, body in [
        ("GET", f"{RUNS}/{unknown}", None),
        ("PATCH", f"{RUNS}/{unknown}", {"status": "FINISHED"}),
        ("POST", f"{RUNS}/{unknown}/batch", {"metrics": [{"key": "m", "value": 1}]}),
        ("POST", f"{RUNS}/{unknown}/inputs", {"inputs": [{"name": "d", "digest": "x"}]}),
        ("DELETE", f"{RUNS}/{unknown}", None),
    ]:
        answer = http.request(method, path, json=body)
        assert answer.status_code == 404, (method, path)
        assert answer.json()["error"]["details"]["error_type"] == "RunNotFoundError"
    history = http.get(f"{RUNS}/{unknown}/metrics/history", params={"key": "m"})
    assert history.status_code == 404


def test_inputs_are_recorded_once(live_server: LiveServer) -> None:
    http = live_server.client
    run_id = _run(live_server)["run_id"]
    inputs = {"inputs": [{"name": "iris", "digest": "abc", "source": "s", "context": "training"}]}
    assert http.post(f"{RUNS}/{run_id}/inputs", json=inputs).status_code == 204
    assert http.post(f"{RUNS}/{run_id}/inputs", json=inputs).status_code == 204
    assert http.get(f"{RUNS}/{run_id}").json()["inputs"] == inputs["inputs"]


def test_search_filters_orders_and_pages(live_server: LiveServer) -> None:
    http = live_server.client
    made = []
    for i in range(5):
        run_id = _run(live_server, run_name=f"r{i}", start_time_ms=1000 + i)["run_id"]
        metrics = [{"key": "acc", "value": i / 10, "timestamp_ms": 1, "step": 0}]
        http.post(f"{RUNS}/{run_id}/batch", json={"metrics": metrics})
        made.append(run_id)
    query: dict[str, Any] = {
        "experiment_ids": ["0"],
        "filter": "metrics.acc >= 0.1",
        "order_by": ["metrics.acc DESC"],
        "max_results": 2,
    }
    seen: list[str] = []
    while True:
        page = http.post(f"{RUNS}/search", json=query).json()
        seen += [r["run_id"] for r in page["runs"]]
        if page["next_page_token"] is None:
            break
        query["page_token"] = page["next_page_token"]
    assert seen == made[:0:-1]
    bad = http.post(f"{RUNS}/search", json={"filter": "metrics.acc >"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "INVALID_FILTER"
    assert bad.json()["error"]["details"]["position"] == 13


def test_pages_larger_than_the_server_allows_are_400(server_config: ServerConfig) -> None:
    from dataclasses import replace

    from mloop.server.app import create_app
    from tests.server.conftest import serve_in_thread

    app = create_app(replace(server_config, max_page_size=10))
    url, stop = serve_in_thread(app)
    try:
        import httpx

        answer = httpx.post(f"{url}{RUNS}/search", json={"max_results": 11})
        assert answer.status_code == 400
        assert answer.json()["error"]["details"]["field"] == "max_results"
        assert httpx.post(f"{url}{RUNS}/search", json={"max_results": 10}).status_code == 200
    finally:
        stop()


def test_batch_limits_are_400_and_write_nothing(live_server: LiveServer) -> None:
    http = live_server.client
    run_id = _run(live_server)["run_id"]
    too_many = {"metrics": [{"key": "m", "value": 1, "step": i} for i in range(1001)]}
    answer = http.post(f"{RUNS}/{run_id}/batch", json=too_many)
    assert answer.status_code == 400
    assert answer.json()["error"]["details"]["field"] == "metrics"
    long_value = {"params": [{"key": "p", "value": "x" * 6001}]}
    assert http.post(f"{RUNS}/{run_id}/batch", json=long_value).status_code == 400
    long_key = {"tags": [{"key": "k" * 251, "value": "v"}]}
    assert http.post(f"{RUNS}/{run_id}/batch", json=long_key).status_code == 400
    bad_key = {"metrics": [{"key": "../up", "value": 1}]}
    assert http.post(f"{RUNS}/{run_id}/batch", json=bad_key).status_code == 400
    run = http.get(f"{RUNS}/{run_id}").json()
    assert (run["metrics"], run["params"], run["tags"]) == ({}, {}, {})
