"""Quickstart stage 5b, serving: serve the champion, canary a challenger at 10%, roll it back.

The champion is served through a deployment by `mloop serve` in a child process on a free
loopback port, exactly as a user runs it. A second model is registered as `challenger`, the
deployment is changed to a 90/10 split while traffic flows, and then rolled back; the server
follows both changes on its own (it watches the deployment), without a restart.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import mloop
from mloop.quickstart.registry import CHAMPION, MODEL_NAME

if TYPE_CHECKING:
    import httpx

    from mloop.quickstart import QuickstartContext

DEPLOYMENT = "quickstart-api"
CHALLENGER = "challenger"
_URL = re.compile(r"on (http://127\.0\.0\.1:\d+)")


def run(ctx: QuickstartContext) -> None:
    """Serve the champion, send traffic, canary a challenger, roll it back."""
    import httpx

    from mloop.client.context import get_store

    ctx.console.rule("[bold]5b · serving, canary and rollback")
    test, features = ctx.shared["test"], ctx.shared["features"]
    challenger = _register_challenger(ctx)
    deployments = get_store().deployments
    actor = challenger.user_id
    deployments.create(DEPLOYMENT, MODEL_NAME, routes={CHAMPION: 100}, actor=actor)
    process, url = _start_server()
    records = test[features].to_dict(orient="records")
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            answers, latencies = _send(http, records[:200])
            accuracy = sum(
                int(a["predictions"][0] == t)
                for a, t in zip(answers, test["target"][:200], strict=True)
            ) / len(answers)
            median_ms = sorted(latencies)[len(latencies) // 2] * 1000
            ctx.console.print(
                f"`mloop serve --deployment {DEPLOYMENT}` on {url}: 200 requests, accuracy "
                f"{accuracy:.3f}, median {median_ms:.2f} ms per request over HTTP",
                highlight=False,
            )
            deployments.update(DEPLOYMENT, routes={CHAMPION: 90, CHALLENGER: 10}, actor=actor)
            _wait_for(http, lambda models: len(models) == 2)
            canary = (records * (1000 // len(records) + 1))[:1000]
            shares = Counter(a["version"] for a in _send(http, canary)[0])
            ctx.console.print(
                f"canary: {DEPLOYMENT} split {CHAMPION} 90 / {CHALLENGER} 10 -> of 1000 requests, "
                f"version {challenger.version} ({CHALLENGER}) answered "
                f"{shares[str(challenger.version)]}",
                highlight=False,
            )
            rolled = deployments.rollback(DEPLOYMENT, actor=actor)
            _wait_for(http, lambda models: len(models) == 1)
            after = Counter(a["version"] for a in _send(http, records[:100])[0])
            ctx.console.print(
                f"rolled back (`mloop deploy rollback {DEPLOYMENT}`, revision {rolled.revision}): "
                f"{after.most_common(1)[0][1]} of 100 requests answered by the champion, "
                "no restart, no failed request",
                highlight=False,
            )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _register_challenger(ctx: QuickstartContext) -> Any:
    """A second model (a plain logistic regression), registered and aliased `challenger`."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from mloop.client.registry import set_model_alias

    train, test, features = ctx.shared["train"], ctx.shared["test"], ctx.shared["features"]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=1000))
    with mloop.start_run(run_name="challenger"):
        model.fit(train[features], train["target"])
        info = mloop.log_model(
            model, "model", input_example=test[features].head(5), registered_model_name=MODEL_NAME
        )
    version = info.registered_version
    if version is None:  # pragma: no cover - registration was asked for above
        raise RuntimeError("log_model did not register the challenger")
    set_model_alias(MODEL_NAME, CHALLENGER, version.version)
    ctx.console.print(
        f"registered a challenger: {version.uri} (alias {CHALLENGER})", highlight=False
    )
    return version


def _start_server() -> tuple[subprocess.Popen[str], str]:
    """`mloop serve --deployment` on a free loopback port, once it is ready."""
    import httpx

    process = subprocess.Popen(  # noqa: S603 - this Python running mloop's own CLI
        [sys.executable, "-m", "mloop.cli", "serve", "--deployment", DEPLOYMENT, "--port", "0"],
        env={**os.environ, "COLUMNS": "300"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    line = process.stdout.readline() if process.stdout is not None else ""
    found = _URL.search(line)
    if found is None:
        process.kill()
        raise RuntimeError(f"mloop serve did not start: {line}")
    url = found.group(1)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/ready").status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("mloop serve did not become ready within 60 s")


def _send(http: httpx.Client, records: list[dict[str, Any]]) -> tuple[list[Any], list[float]]:
    answers, latencies = [], []
    for record in records:
        start = time.perf_counter()
        answer = http.post("/predict", json={"inputs": [record]})
        latencies.append(time.perf_counter() - start)
        answer.raise_for_status()
        answers.append(answer.json())
    return answers, latencies


def _wait_for(http: httpx.Client, loaded: Any) -> None:
    """Wait until the server's loaded versions pass `loaded` (it re-reads every 0.25 s)."""
    deadline = time.monotonic() + 10
    while not loaded(http.get("/ready").json().get("models", {})):
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not pick up the deployment change")
        time.sleep(0.05)
