"""The run view of the MLflow API: each latest metric with the step and time it was logged at."""

from __future__ import annotations

from typing import Any


def _latest(run: Any) -> dict[str, tuple[float, int, int]]:
    return {m.key: (m.value, m.step, m.timestamp) for m in run.data._metric_objs}


def test_latest_metrics_carry_their_step_and_timestamp(client: Any) -> None:
    from mlflow.entities import Metric

    run_id = client.create_run("0").info.run_id
    client.log_batch(
        run_id,
        metrics=[
            Metric("loss", 0.9, 1_700_000_000_100, 0),
            Metric("loss", 0.5, 1_700_000_000_300, 7),
            # An older step logged later does not replace the latest value.
            Metric("loss", 0.7, 1_700_000_000_900, 3),
            Metric("acc", 0.8, 1_700_000_000_200, 2),
        ],
    )
    client.log_metric(run_id, "lr", 0.01, timestamp=1_700_000_001_000, step=12)
    expected = {
        "loss": (0.5, 7, 1_700_000_000_300),
        "acc": (0.8, 2, 1_700_000_000_200),
        "lr": (0.01, 12, 1_700_000_001_000),
    }
    assert _latest(client.get_run(run_id)) == expected
    found = client.search_runs(["0"], filter_string="metrics.loss < 0.6")
    assert [r.info.run_id for r in found] == [run_id]
    assert _latest(found[0]) == expected
