"""`mloop serve --deployment`: canary split, shadows, sticky keys, live updates and rollback."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from mloop.client.context import get_store
from tests.client.conftest import FluentEnv
from tests.server.inference.conftest import Churn, LiveInference, LoadGenerator


def test_a_canary_gets_its_share_and_shadows_never_answer(
    churn: Churn, serve: Callable[..., LiveInference], fluent: FluentEnv
) -> None:
    get_store().deployments.create(
        "churn-api", "churn", routes={"champion": 90, "2": 10}, actor="test"
    )
    live = serve(deployment="churn-api")
    versions = Counter(
        live.client.post("/predict", json=churn.body(slice(0, 1))).json()["version"]
        for _ in range(500)
    )
    assert abs(versions["2"] / 500 - 0.10) <= 0.01
    assert versions["1"] + versions["2"] == 500
    # OIP: the deployment's name routes too; a version in the path pins it
    infer = {"inputs": [{"name": "f0", "shape": [1], "datatype": "FP64", "data": [0.0]}]}
    assert live.client.post("/v2/models/churn-api/infer", json=infer).status_code == 400
    assert live.client.get("/v2/models/churn-api/versions/2/ready").status_code == 200


def test_shadow_answers_are_logged_and_compared_but_never_returned(
    churn: Churn, serve: Callable[..., LiveInference], fluent: FluentEnv
) -> None:
    get_store().deployments.create(
        "churn-api", "churn", routes={"champion": 100}, shadows=["2"], actor="test"
    )
    live = serve(deployment="churn-api", log_predictions=True, log_flush_interval_s=0.1)
    for _ in range(20):
        answer = live.client.post("/predict", json=churn.body()).json()
        assert answer["version"] == "1"
        assert answer["predictions"] == churn.expected[1][:5].tolist()
    deadline = time.monotonic() + 10
    metric = 'mloop_inference_shadow_rows_total{agreed="false",model="churn",shadow_version="2"'
    while metric not in live.client.get("/metrics").text:
        assert time.monotonic() < deadline, "the shadow never answered"
        time.sleep(0.05)
    live.stop()  # flushes the prediction log
    folder = Path(fluent.artifact_root) / "predictions" / "churn"
    rows = ds.dataset(folder, partitioning="hive").to_table().to_pylist()
    live_rows = [r for r in rows if r["role"] == "primary"]
    shadow_rows = [r for r in rows if r["role"] == "shadow"]
    assert len(live_rows) == 100
    assert {r["version"] for r in live_rows} == {"1"}
    assert {r["version"] for r in shadow_rows} == {"2"}
    assert len(shadow_rows) == 100
    by_request = {r["request_id"]: r for r in live_rows}
    for row in shadow_rows:  # the same request, answered the other way by the shadow
        assert row["request_id"] in by_request
    assert {r["prediction"] for r in shadow_rows} <= {0, 1}
    assert sum(r["prediction"] for r in shadow_rows) == 100 - sum(
        r["prediction"] for r in live_rows
    )


def test_sticky_keys_pin_callers_to_one_version(
    churn: Churn, serve: Callable[..., LiveInference]
) -> None:
    get_store().deployments.create(
        "churn-api",
        "churn",
        routes={"champion": 50, "2": 50},
        sticky_key="x-user",
        actor="test",
    )
    live = serve(deployment="churn-api")
    body = churn.body(slice(0, 1))
    first = {}
    for user in range(40):
        answers = {
            live.client.post("/predict", json=body, headers={"X-User": f"u{user}"}).json()[
                "version"
            ]
            for _ in range(3)
        }
        assert len(answers) == 1
        first[user] = answers.pop()
    assert set(first.values()) == {"1", "2"}
    # the key may also come as a top-level field of the body
    for user in range(10):
        answer = live.client.post("/predict", json={**body, "x-user": f"u{user}"}).json()
        assert answer["version"] == first[user]


@pytest.mark.slow
def test_a_split_change_and_its_rollback_take_effect_under_load_without_failures(
    churn: Churn, serve: Callable[..., LiveInference]
) -> None:
    deployments = get_store().deployments
    deployments.create("churn-api", "churn", routes={"champion": 100}, actor="test")
    live = serve(deployment="churn-api", watch_interval_s=0.1)
    expected = {str(v): churn.expected[v][:3].tolist() for v in (1, 2)}
    with LoadGenerator(live.url, churn.body(slice(0, 3)), expected) as load:
        time.sleep(0.2)
        changed = time.monotonic()
        deployments.update("churn-api", routes={"2": 100}, actor="test")
        to_new = load.wait_for("2", changed)
        rolled = time.monotonic()
        deployments.rollback("churn-api", actor="test")
        back = load.wait_for("1", rolled)
    assert load.failures == []
    assert to_new < 1.0
    assert back < 1.0
