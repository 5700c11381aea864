"""Live changes: an alias moved under load switches versions within a second, no request fails."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from mloop.client.registry import set_model_alias
from tests.server.inference.conftest import Churn, LiveInference, LoadGenerator


@pytest.mark.slow
def test_flipping_the_alias_under_load_fails_no_request(
    churn: Churn, serve: Callable[..., LiveInference]
) -> None:
    live = serve(reference="models:/churn@champion", watch_interval_s=0.1)
    expected = {str(v): churn.expected[v][:3].tolist() for v in (1, 2)}
    delays = []
    with LoadGenerator(live.url, churn.body(slice(0, 3)), expected) as load:
        for flip in range(10):
            version = 2 if flip % 2 == 0 else 1
            flipped = time.monotonic()
            set_model_alias("churn", "champion", version)
            delays.append(load.wait_for(str(version), flipped))
    assert load.failures == []
    assert len(load.seen) > 100
    assert max(delays) < 1.0, delays
    assert live.app.service.swaps >= 11


def test_a_missing_alias_keeps_the_version_that_serves(
    churn: Churn, serve: Callable[..., LiveInference]
) -> None:
    from mloop.client.context import get_store

    live = serve(reference="models:/churn@champion", watch_interval_s=0.05)
    get_store().registry.delete_alias("churn", "champion", actor="test")
    deadline = time.monotonic() + 5
    while live.app.service.last_refresh_error is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    answer = live.client.post("/predict", json=churn.body())
    assert answer.status_code == 200
    assert answer.json()["version"] == "1"
    assert "champion" in str(live.app.service.last_refresh_error)
