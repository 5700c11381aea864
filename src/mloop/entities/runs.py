"""The run entity and the values logged to a run."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mloop.entities.experiments import LifecycleStage


class RunStatus(enum.StrEnum):
    """Where a run is in its life; the names are MLflow's."""

    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminal(self) -> bool:
        """True for FINISHED, FAILED and KILLED."""
        return self in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)


@dataclass(frozen=True, slots=True)
class Metric:
    """One point of a metric series.

    Attributes:
        key: metric name.
        value: the value; NaN and infinities are kept as they are.
        timestamp_ms: when it was measured, milliseconds since the epoch.
        step: the training step it belongs to.
    """

    key: str
    value: float
    timestamp_ms: int
    step: int = 0


@dataclass(frozen=True, slots=True)
class MetricHistory:
    """A metric series as columns, ordered by step then timestamp.

    Attributes:
        key: the metric name.
        steps: NumPy int64 array.
        timestamps_ms: NumPy int64 array, milliseconds since the epoch.
        values: NumPy float64 array; NaN and infinities as logged.
    """

    key: str
    steps: Any
    timestamps_ms: Any
    values: Any

    def __len__(self) -> int:
        return len(self.values)

    def to_arrow(self) -> Any:
        """The series as a pyarrow Table with columns step, timestamp_ms, value."""
        import pyarrow as pa

        return pa.table(
            {"step": self.steps, "timestamp_ms": self.timestamps_ms, "value": self.values}
        )

    def to_pandas(self) -> Any:
        """The series as a pandas DataFrame with columns step, timestamp_ms, value."""
        import pandas as pd

        return pd.DataFrame(
            {"step": self.steps, "timestamp_ms": self.timestamps_ms, "value": self.values}
        )


@dataclass(frozen=True, slots=True)
class Param:
    """A hyper-parameter or setting; immutable once logged."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class RunTag:
    """A free-form label on a run; tags may be overwritten."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class RunInput:
    """A reference from a run to a dataset it consumed.

    Attributes:
        name: dataset name.
        digest: content digest of the dataset version.
        source: where it came from (a `datasets:/` reference, path or URI).
        context: the role it played ("training", "validation" ...).
    """

    name: str
    digest: str
    source: str = ""
    context: str = ""


@dataclass(frozen=True, slots=True)
class RunStart:
    """How a run starts: what `RunStore.finish` needs to create a run it does not find.

    A client that chooses its run ids can defer a run's creation and send it with the run's
    end, so a short run is one request and one transaction instead of two.

    Attributes:
        experiment_id: the experiment.
        run_name: the run's name.
        start_time_ms: when it started, milliseconds since the epoch.
        user_id: who started it.
        parent_run_id: the enclosing run of a nested run.
        share_artifacts: `(run id, folder)`: link that run's files under the folder into the
            new run, by digest (see `RunStore.create`).
    """

    experiment_id: str
    run_name: str
    start_time_ms: int
    user_id: str = ""
    parent_run_id: str | None = None
    share_artifacts: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """A run with everything logged to it.

    Attributes:
        run_id: 32 hex characters.
        experiment_id: the experiment it belongs to.
        run_name: human-readable name (generated when not given).
        status: RUNNING, FINISHED, FAILED, KILLED or SCHEDULED.
        start_time_ms: start, milliseconds since the epoch.
        end_time_ms: end, or None while it runs.
        lifecycle_stage: active or deleted.
        artifact_uri: where its artifacts live.
        user_id: who started it.
        parent_run_id: the enclosing run of a nested run.
        params: params by key.
        metrics: the latest value of each metric (highest step, then latest timestamp).
        tags: tags by key, including the `mloop.*` system tags.
        inputs: datasets the run consumed.
        metric_steps: the step and time (ms) of each latest metric value, where the store
            reports them (the SQL store does; left out of comparisons).
    """

    run_id: str
    experiment_id: str
    run_name: str
    status: RunStatus
    start_time_ms: int
    end_time_ms: int | None
    lifecycle_stage: LifecycleStage
    artifact_uri: str
    user_id: str = ""
    parent_run_id: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    inputs: tuple[RunInput, ...] = ()
    metric_steps: dict[str, tuple[int, int]] = field(default_factory=dict, compare=False)


class RunPage(list[Run]):
    """One page of search results: a list of runs plus the token of the next page.

    Attributes:
        next_page_token: pass it back to get the next page; None on the last page.
    """

    def __init__(self, runs: Iterable[Run] = (), next_page_token: str | None = None) -> None:
        super().__init__(runs)
        self.next_page_token = next_page_token

    def to_pandas(self) -> Any:
        """The runs as a pandas DataFrame, one row per run.

        Columns: run_id, run_name, experiment_id, status, start_time, end_time (UTC timestamps),
        then `metrics.*`, `params.*` and `tags.*`.

        Raises:
            MissingExtraError: pandas is not installed.
        """
        try:
            import pandas as pd
        except ImportError as exc:
            from mloop.errors import MissingExtraError

            raise MissingExtraError("all", "pandas") from exc
        rows = []
        for run in self:
            row: dict[str, Any] = {
                "run_id": run.run_id,
                "run_name": run.run_name,
                "experiment_id": run.experiment_id,
                "status": run.status.value,
                "start_time": pd.to_datetime(run.start_time_ms, unit="ms", utc=True),
                "end_time": pd.to_datetime(run.end_time_ms, unit="ms", utc=True)
                if run.end_time_ms is not None
                else pd.NaT,
            }
            row.update({f"metrics.{k}": v for k, v in run.metrics.items()})
            row.update({f"params.{k}": v for k, v in run.params.items()})
            row.update({f"tags.{k}": v for k, v in run.tags.items()})
            rows.append(row)
        base = ["run_id", "run_name", "experiment_id", "status", "start_time", "end_time"]
        return pd.DataFrame(rows, columns=base + sorted({c for r in rows for c in r} - set(base)))
