"""Live changes: an alias moved under load switches versions within a second, no request fails."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
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
    writes = []  # of each delay, the part the alias write took (for a failure's message)
    with LoadGenerator(live.url, churn.body(slice(0, 3)), expected) as load:
        for flip in range(10):
            version = 2 if flip % 2 == 0 else 1
            flipped = time.monotonic()
            set_model_alias("churn", "champion", version)
            writes.append(round(time.monotonic() - flipped, 3))
            delays.append(load.wait_for(str(version), flipped))
    assert load.failures == []
    assert len(load.seen) > 100
    assert max(delays) < 1.0, f"delays {delays}, alias writes {writes}"
    assert live.app.service.swaps >= 11
    # Each version was loaded once: a flip back serves the swapped-out version kept warm.
    assert live.app.service.loads == 2
    assert live.app.service.standby() == ["churn/2"]


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


def test_swapped_out_versions_stay_warm_for_a_way_back_and_the_oldest_is_let_go(
    churn: Churn, serve: Callable[..., LiveInference]
) -> None:
    from sklearn.linear_model import LogisticRegression

    import mloop

    x = np.column_stack(list(churn.columns.values()))
    for _version in (3, 4):
        with mloop.start_run():
            model = LogisticRegression().fit(x, churn.expected[1])
            mloop.log_model(model, "model", registered_model_name="churn")
    live = serve(reference="models:/churn@champion", watch_interval_s=0)
    service = live.app.service

    def move_to(version: int) -> None:
        set_model_alias("churn", "champion", version)
        assert service.refresh()
        answer = live.client.post("/predict", json=churn.body())
        assert answer.status_code == 200
        assert answer.json()["version"] == str(version)

    move_to(2)
    move_to(3)
    assert service.standby() == ["churn/1", "churn/2"]
    assert service.loads == 3
    move_to(1)  # back from standby: not loaded again
    assert service.loads == 3
    assert service.standby() == ["churn/2", "churn/3"]
    move_to(4)  # version 1 is set aside, version 2 (the oldest kept) is let go
    assert service.loads == 4
    assert service.standby() == ["churn/3", "churn/1"]
    move_to(2)  # let go: loaded again
    assert service.loads == 5
    assert service.standby() == ["churn/1", "churn/4"]
