"""Metric histories as raw columns (`mloop.storage.metric_frames`), over a real server."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mloop.entities import Metric, MetricHistory
from mloop.errors import RunNotFoundError, StorageError
from mloop.storage import metric_frames
from mloop.storage.rest import RestStore
from tests.server.conftest import LiveServer

POINTS = [
    Metric("loss", v, 1_700_000_000_000 + i, s)
    for i, (s, v) in enumerate(
        [(0, 1.5), (1, math.nan), (2, math.inf), (3, -math.inf), (-7, -0.0), (2**62, 1e-300)]
    )
]


def test_a_frame_round_trips_every_float_exactly_and_refuses_truncation() -> None:
    history = MetricHistory(
        "m",
        np.array([3, -1, 2**62], dtype=np.int64),
        np.array([0, 2**40, 5], dtype=np.int64),
        np.array([math.nan, -math.inf, -0.0]),
    )
    data = metric_frames.encode(history)
    assert len(data) == 12 + 3 * 24
    back = metric_frames.decode("m", data)
    assert back.steps.tolist() == [3, -1, 2**62]
    assert back.timestamps_ms.tolist() == [0, 2**40, 5]
    assert back.values.tobytes() == history.values.tobytes()  # NaN bits and -0.0 included
    back.values[0] = 1.0  # writable, like a SQL store's arrays
    empty = metric_frames.decode("m", metric_frames.encode(MetricHistory("m", [], [], [])))
    assert len(empty) == 0
    with pytest.raises(StorageError, match="not a column frame"):
        metric_frames.decode("m", data[:-1])
    with pytest.raises(StorageError, match="truncated"):
        metric_frames.decode("m", b"MLC")


def test_the_server_answers_raw_columns_when_asked_and_json_otherwise(
    live_server: LiveServer,
) -> None:
    store = RestStore(live_server.url)
    try:
        run_id = store.runs.create("0", run_name="frames").run_id
        store.runs.log_batch(run_id, metrics=POINTS)
        path = f"/api/v1/runs/{run_id}/metrics/history/columns"
        raw = live_server.client.get(
            path, params={"key": "loss"}, headers={"Accept": metric_frames.MEDIA_TYPE}
        )
        plain = live_server.client.get(path, params={"key": "loss"})
        columns = store.runs.get_metric_history_columns(run_id, "loss")
        entities = store.runs.get_metric_history(run_id, "loss")
        with pytest.raises(RunNotFoundError):
            store.runs.get_metric_history_columns("0" * 32, "loss")
    finally:
        store.close()
    assert raw.headers["content-type"] == metric_frames.MEDIA_TYPE
    assert plain.headers["content-type"] == "application/json"
    framed = metric_frames.decode("loss", raw.content)
    ordered = sorted(POINTS, key=lambda p: (p.step, p.timestamp_ms))
    assert framed.steps.tolist() == plain.json()["steps"] == [p.step for p in ordered]
    assert columns.timestamps_ms.tolist() == [p.timestamp_ms for p in ordered]
    expected = np.array([p.value for p in ordered])
    assert columns.values.tobytes() == expected.tobytes()
    assert [(m.step, m.timestamp_ms) for m in entities] == [
        (p.step, p.timestamp_ms) for p in ordered
    ]
    assert [repr(m.value) for m in entities] == [repr(p.value) for p in ordered]
