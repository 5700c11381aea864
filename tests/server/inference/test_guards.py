"""Overload answers 503 with Retry-After; with --auth only the store's tokens get through."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable

import httpx
import numpy as np

import mloop
from mloop.client.context import get_store
from mloop.entities.auth import Role
from mloop.serving.batcher import BatchOptions
from tests.server.inference.conftest import Churn, LiveInference
from tests.server.inference.models import FussyModel, SlowModel
from tests.server.live_auth import basic, bearer


def test_an_overloaded_model_answers_503_with_retry_after(
    serve: Callable[..., LiveInference],
) -> None:
    with mloop.start_run():
        example = {"x": np.asarray([1.0, 2.0])}
        mloop.log_model(
            SlowModel(0.2), "model", input_example=example, registered_model_name="slow"
        )
    live = serve(reference="models:/slow/1", trusted=True, batching=BatchOptions(max_queue_s=0.3))

    def call(_: int) -> httpx.Response:
        with httpx.Client(base_url=live.url, timeout=30) as http:
            return http.post("/predict", json={"inputs": {"x": [1.5]}})

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(call, range(8)))
    refused = [a for a in answers if a.status_code == 503]
    served = [a for a in answers if a.status_code == 200]
    assert refused
    assert served
    assert len(refused) + len(served) == 8
    assert int(refused[0].headers["retry-after"]) >= 1
    assert refused[0].json()["error"]["code"] == "OVERLOADED"
    assert served[0].json()["predictions"] == [3.0]


def test_with_auth_only_tokens_of_users_with_a_role_predict(
    churn: Churn, serve: Callable[..., LiveInference]
) -> None:
    from mloop.server.auth import auth_store_of

    auth = auth_store_of(get_store())
    auth.create_user("ana", role=Role.READER, password="correct horse 1", actor="test")
    token = auth.create_token("ana", actor="test").secret
    auth.create_user("bo", role=None, actor="test")
    scoped = auth.create_token("bo", actor="test").secret
    live = serve(reference="models:/churn@champion", auth=True)
    http = live.client
    assert http.get("/health").status_code == 200  # probes stay open
    assert http.get("/v2/health/ready").status_code == 200
    missing = http.post("/predict", json=churn.body())
    assert missing.status_code == 401
    assert "mloop tokens create" in missing.json()["error"]["message"]
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = http.post("/predict", json=churn.body(), headers=bearer(token + "x"))
    assert wrong.status_code == 401
    good = http.post("/predict", json=churn.body(), headers=bearer(token))
    assert good.status_code == 200
    assert good.json()["predictions"] == churn.expected[1][:5].tolist()
    password = http.post("/predict", json=churn.body(), headers=basic("ana", "correct horse 1"))
    assert password.status_code == 200
    assert http.post("/predict", json=churn.body(), headers=bearer(scoped)).status_code == 403
    assert http.get("/metrics", headers=bearer(token)).status_code == 200
    assert http.get("/metrics").status_code == 401


def test_a_model_that_fails_answers_a_counted_500_and_the_server_goes_on(
    serve: Callable[..., LiveInference],
) -> None:
    with mloop.start_run():
        example = {"x": np.asarray([1.0, 2.0])}
        mloop.log_model(FussyModel(), "model", input_example=example, registered_model_name="fussy")
    live = serve(reference="models:/fussy/1", trusted=True)
    failed = live.client.post("/predict", json={"inputs": {"x": [-1.0]}})
    assert failed.status_code == 500
    assert "x must not be negative" in failed.json()["error"]["message"]
    assert live.client.post("/predict", json={"inputs": {"x": [1.0]}}).json()["predictions"] == [
        2.0
    ]
    assert 'status="500"' in live.client.get("/metrics").text
