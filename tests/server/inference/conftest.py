"""Inference-server fixtures: a registry with two churn versions, and servers on loopback."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn

import mloop
from mloop.client.registry import set_model_alias
from mloop.server.inference.app import InferenceApp
from mloop.server.inference.config import InferenceConfig
from mloop.server.inference.launch import build_app
from mloop.server.runner import BindAddress, bind_socket, uvicorn_config
from tests.client.conftest import FluentEnv, fluent_env

FEATURES = [f"f{i}" for i in range(4)]


@pytest.fixture(autouse=True)
def fluent(
    store_url: str, artifact_root: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FluentEnv]:
    """The client's default store (what `mloop serve` reads) on a fresh store, both backends."""
    yield from fluent_env(store_url, artifact_root, tmp_path, monkeypatch)


@dataclass(frozen=True)
class Churn:
    """Two registered versions of `churn` that disagree on every row; `champion` -> 1."""

    columns: dict[str, np.ndarray]
    expected: dict[int, np.ndarray]

    def body(self, rows: slice = slice(0, 5)) -> dict[str, Any]:
        return {"inputs": {k: v[rows].tolist() for k, v in self.columns.items()}}


@pytest.fixture
def churn() -> Churn:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(7)
    x = rng.normal(size=(300, 4))
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    columns = {name: x[:, i] for i, name in enumerate(FEATURES)}
    example = {k: v[:5] for k, v in columns.items()}
    expected = {}
    for version, labels in ((1, y), (2, 1 - y)):
        with mloop.start_run():
            model = LogisticRegression().fit(x, labels)
            mloop.log_model(model, "model", input_example=example, registered_model_name="churn")
        expected[version] = model.predict(x)
    set_model_alias("churn", "champion", 1)
    assert (expected[1] != expected[2]).all()
    return Churn(columns, expected)


@dataclass
class LiveInference:
    """A running inference server: URL, app and a kept-alive client."""

    url: str
    app: InferenceApp
    client: httpx.Client
    stop: Callable[[], None]


def serve_app(app: InferenceApp) -> tuple[str, Callable[[], None]]:
    """Run the app on uvicorn in a thread, on a socket bound as `mloop serve` binds it."""
    sock = bind_socket(BindAddress("127.0.0.1", 0), reuse_port=False)
    server = uvicorn.Server(uvicorn_config(app))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the inference server did not start")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()

    return f"http://127.0.0.1:{sock.getsockname()[1]}", stop


@pytest.fixture
def serve() -> Iterator[Callable[..., LiveInference]]:
    """Start inference servers for a test (`serve(reference=..., ...)`); all stop afterwards.

    The servers run in the test process, whose heap holds everything the suite made so far
    (hundreds of MB under coverage): a full collection walking it stalls the server for up to a
    second, which the timing bounds of these tests would blame on the server. `mloop serve`
    freezes what it made at start-up for the same reason (`_tune_collector`); the fixture
    freezes what the suite made, for the test's length.
    """
    gc.freeze()
    running: list[LiveInference] = []

    def start(**options: Any) -> LiveInference:
        app = build_app(InferenceConfig(**options))
        url, stop = serve_app(app)
        live = LiveInference(url, app, httpx.Client(base_url=url, timeout=30), stop)
        running.append(live)
        return live

    try:
        yield start
    finally:
        for live in running:
            live.client.close()
            live.stop()
        gc.unfreeze()


class LoadGenerator:
    """Threads posting one body to /predict until stopped; every answer and failure is kept.

    Args:
        url: the server.
        body: the request body.
        expected: the predictions each version must give, by version.
        threads: how many clients at once.
    """

    def __init__(
        self, url: str, body: dict[str, Any], expected: dict[str, list[Any]], threads: int = 3
    ) -> None:
        self.url = url
        self.body = body
        self.expected = expected
        self.failures: list[str] = []
        self.seen: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def __enter__(self) -> LoadGenerator:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as http:
            while not self._stop.is_set():
                try:
                    answer = http.post("/predict", json=self.body)
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                    continue
                self._check(answer)

    def _check(self, answer: httpx.Response) -> None:
        if answer.status_code != 200:
            self.failures.append(f"{answer.status_code} {answer.text}")
            return
        data = answer.json()
        if data["predictions"] != self.expected.get(data["version"]):
            self.failures.append(f"version {data['version']} answered {data['predictions']}")
        self.seen.append((time.monotonic(), data["version"]))

    def wait_for(self, version: str, since: float, *, timeout_s: float = 5.0) -> float:
        """Seconds from `since` to the first answer of `version`, once it answers steadily."""
        while True:
            recent = [v for at, v in self.seen[-5:] if at > since]
            if len(recent) >= 3 and set(recent) == {version}:
                break
            assert time.monotonic() - since < timeout_s, f"version {version} never took over"
            time.sleep(0.01)
        return next(at for at, v in self.seen if at > since and v == version) - since
