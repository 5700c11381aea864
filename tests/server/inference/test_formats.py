"""One model over every protocol: the same predictions as loading it, errors naming the field."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import mloop
from tests.server.inference.conftest import Churn, LiveInference


@pytest.fixture
def live(churn: Churn, serve: Callable[..., LiveInference]) -> LiveInference:
    return serve(reference="models:/churn@champion")


def test_every_format_answers_what_the_loaded_model_predicts(
    churn: Churn, live: LiveInference
) -> None:
    rows = slice(0, 40)
    loaded = mloop.load_model("models:/churn@champion").predict(
        {k: v[rows] for k, v in churn.columns.items()}
    )
    expected = loaded.tolist()
    assert expected == churn.expected[1][rows].tolist()
    names = list(churn.columns)
    matrix = np.column_stack([churn.columns[n][rows] for n in names])
    records = [dict(zip(names, row, strict=True)) for row in matrix.tolist()]
    http = live.client
    answer = http.post("/predict", json=churn.body(rows))
    assert answer.status_code == 200
    assert answer.json() == {"predictions": expected, "model": "churn", "version": "1"}
    assert answer.headers["x-mloop-model-version"] == "churn/1"
    assert http.post("/predict", json={"inputs": records}).json()["predictions"] == expected
    mlflow_bodies = [
        {"dataframe_split": {"columns": names, "data": matrix.tolist()}},
        {"dataframe_records": records},
        {"instances": records},
        {"inputs": {n: churn.columns[n][rows].tolist() for n in names}},
    ]
    for body in mlflow_bodies:
        assert http.post("/invocations", json=body).json() == {"predictions": expected}
    csv = ",".join(names) + "\n" + "\n".join(",".join(repr(v) for v in r) for r in matrix.tolist())
    answer = http.post("/invocations", content=csv, headers={"content-type": "text/csv"})
    assert answer.json() == {"predictions": expected}
    infer = {
        "id": "req-1",
        "inputs": [
            {
                "name": "x",
                "shape": list(matrix.shape),
                "datatype": "FP64",
                "data": matrix.ravel().tolist(),
            }
        ],
    }
    answer = http.post("/v2/models/churn/infer", json=infer).json()
    assert answer["id"] == "req-1"
    assert answer["model_name"] == "churn"
    assert answer["model_version"] == "1"
    assert answer["outputs"] == [
        {"name": "predict", "shape": [40], "datatype": "INT64", "data": expected}
    ]
    pinned = http.post("/v2/models/churn/versions/1/infer", json=infer).json()
    assert pinned["outputs"][0]["data"] == expected


def test_a_triton_client_gets_the_right_answer(churn: Churn, live: LiveInference) -> None:
    import tritonclient.http as triton

    client = triton.InferenceServerClient(live.url.removeprefix("http://"))
    try:
        assert client.is_server_live()
        assert client.is_server_ready()
        assert client.is_model_ready("churn")
        metadata = client.get_model_metadata("churn")
        assert [i["name"] for i in metadata["inputs"]] == ["f0", "f1", "f2", "f3"]
        inputs = []
        for name, values in churn.columns.items():
            tensor = triton.InferInput(name, [10], "FP64")
            tensor.set_data_from_numpy(values[:10], binary_data=False)
            inputs.append(tensor)
        outputs = [triton.InferRequestedOutput("predict", binary_data=False)]
        result = client.infer("churn", inputs, outputs=outputs)
        assert result.as_numpy("predict").tolist() == churn.expected[1][:10].tolist()
        # the client's defaults: binary tensors both ways
        binary = []
        for name, values in churn.columns.items():
            tensor = triton.InferInput(name, [10], "FP64")
            tensor.set_data_from_numpy(values[10:20])
            binary.append(tensor)
        result = client.infer("churn", binary, outputs=[triton.InferRequestedOutput("predict")])
        assert result.as_numpy("predict").tolist() == churn.expected[1][10:20].tolist()
    finally:
        client.close()


def test_wrong_missing_or_malformed_input_gets_a_400_naming_it(
    churn: Churn, live: LiveInference
) -> None:
    http = live.client
    body = churn.body()
    body["inputs"]["f9"] = body["inputs"].pop("f3")
    answer = http.post("/predict", json=body)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["details"]["column"] == "f9"
    assert "'f9' is not an input" in error["message"]
    answer = http.post(
        "/invocations",
        json={"dataframe_split": {"columns": ["f0", "f1", "f2"], "data": [[1, 2, 3]]}},
    )
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "BAD_REQUEST"
    assert "'f3' is missing" in answer.json()["message"]
    strings = churn.body()
    strings["inputs"]["f2"] = ["a"] * 5
    answer = http.post("/predict", json=strings)
    assert answer.status_code == 400
    assert answer.json()["error"]["details"]["column"] == "f2"
    bad_tensor = {"inputs": [{"name": "f0", "shape": [1], "datatype": "FP64", "data": ["x"]}]}
    answer = http.post("/v2/models/churn/infer", json=bad_tensor)
    assert answer.status_code == 400
    assert "f0" in answer.json()["error"]
    for path, content in (("/predict", b"{"), ("/invocations", b""), ("/predict", b"[1]")):
        assert http.post(path, content=content).status_code == 400
    assert http.post("/v2/models/other/infer", json=bad_tensor).status_code == 404
    assert http.post("/v2/models/churn/versions/9/infer", json=bad_tensor).status_code == 404
    assert http.get("/nothing").status_code == 404
    assert http.post("/nothing").status_code == 404


def test_a_known_path_asked_with_another_method_is_405_with_allow(
    churn: Churn, live: LiveInference
) -> None:
    http = live.client
    for method, path, allowed in (
        ("PUT", "/predict", "POST"),
        ("GET", "/predict", "POST"),
        ("DELETE", "/v2/models/churn/infer", "POST"),
        ("GET", "/v2/models/churn/versions/1/infer", "POST"),
        ("POST", "/health", "GET, HEAD"),
        ("POST", "/v2/models/churn/ready", "GET, HEAD"),
        ("PUT", "/metrics", "GET, HEAD"),
    ):
        answer = http.request(method, path)
        assert answer.status_code == 405, (method, path)
        assert answer.headers["allow"] == allowed
        error = answer.json()["error"]
        if path.startswith("/v2"):  # the Open Inference Protocol's shape: a message
            assert f"use {allowed}" in error
        else:
            assert error["code"] == "METHOD_NOT_ALLOWED"
    # MLflow's scoring-server route answers in MLflow's error shape.
    answer = http.get("/invocations")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    assert answer.json()["error_code"] == "METHOD_NOT_ALLOWED"
    # HEAD answers like GET, without a body.
    head = http.head("/health")
    assert head.status_code == 200
    assert head.content == b""


def test_health_metadata_and_metrics(churn: Churn, live: LiveInference) -> None:
    http = live.client
    assert http.get("/health").json() == {"status": "ok"}
    assert http.get("/ping").status_code == 200
    assert http.get("/ready").json()["models"] == {"models:/churn@champion": "churn/1"}
    assert http.get("/v2/health/live").status_code == 200
    assert http.get("/v2/health/ready").status_code == 200
    assert http.get("/v2/models/churn/ready").json() == {"name": "churn", "ready": True}
    assert http.get("/v2").json()["name"] == "mloop"
    metadata = http.get("/v2/models/churn").json()
    assert metadata["versions"] == ["1"]
    assert metadata["platform"] == "mloop-sklearn-onnx"
    assert metadata["inputs"][0] == {"name": "f0", "datatype": "FP64", "shape": [-1]}
    for _ in range(3):
        http.post("/predict", json=churn.body())
    http.post("/predict", json={"inputs": {"nope": [1]}})
    text = http.get("/metrics").text
    labels = 'endpoint="predict",model="churn",status="200",version="1"'
    assert f"mloop_inference_requests_total{{{labels}}} 3.0" in text
    assert 'mloop_inference_batch_rows_count{model="churn",version="1"}' in text
    assert 'mloop_inference_request_duration_seconds_bucket{endpoint="predict"' in text
    assert 'status="400"' in text
