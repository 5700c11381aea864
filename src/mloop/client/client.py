"""`MloopClient`: the lower-level API that names runs and experiments explicitly.

Unlike the fluent API it writes synchronously: a call that returns is acknowledged.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mloop.entities import Experiment, Metric, Param, Run, RunInput, RunPage, RunStatus, RunTag
from mloop.entities.clock import now_ms
from mloop.entities.validation import (
    checked_tags,
    validate_batch_sizes,
    validate_key,
    validate_metric_value,
    validate_param_value,
    validate_step,
    validate_tag_value,
    validate_timestamp_ms,
)
from mloop.storage import Store
from mloop.tracking.artifacts import ArtifactInfo, RunArtifacts
from mloop.tracking.environment import current_user
from mloop.tracking.names import generate_run_name


class MloopClient:
    """Explicit access to a store.

    Args:
        tracking_uri: the metadata store; default from settings (`MLOOP_TRACKING_URI`, or the
            local `.mloop/` home).
        artifact_uri: the artifact root for new experiments; default from settings.
        store: use this store object instead (tests, embedding).
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        *,
        artifact_uri: str | None = None,
        store: Store | None = None,
    ) -> None:
        owns = False
        if store is None:
            from mloop.client.context import get_store, settings
            from mloop.storage import open_store

            if tracking_uri is None and artifact_uri is None:
                store = get_store()
            else:
                resolved = settings()
                owns = True
                store = open_store(
                    tracking_uri or resolved.tracking_uri,
                    artifact_root=artifact_uri or resolved.artifact_uri,
                    token=resolved.tracking_token,
                )
        self._owns_store = owns
        self.store: Store = store

    def close(self) -> None:
        """Close the store this client opened (a no-op for the shared default store)."""
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> MloopClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Experiments ---------------------------------------------------------------------------

    def create_experiment(self, name: str, *, tags: Mapping[str, str] | None = None) -> Experiment:
        """Create an experiment.

        Raises:
            ExperimentAlreadyExistsError: the name is taken.
        """
        return self.store.experiments.create(name, tags=dict(tags or {}))

    def get_experiment(self, experiment_id: str) -> Experiment:
        """An experiment by id.

        Raises:
            ExperimentNotFoundError: no such experiment.
        """
        return self.store.experiments.get(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment:
        """An experiment by name.

        Raises:
            ExperimentNotFoundError: no such experiment.
        """
        return self.store.experiments.get_by_name(name)

    def list_experiments(self, *, include_deleted: bool = False) -> list[Experiment]:
        """All experiments."""
        return self.store.experiments.list(include_deleted=include_deleted)

    def rename_experiment(self, experiment_id: str, new_name: str) -> Experiment:
        """Rename an experiment.

        Raises:
            ExperimentAlreadyExistsError: the new name is taken.
        """
        return self.store.experiments.rename(experiment_id, new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete an experiment."""
        self.store.experiments.delete(experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        """Restore a deleted experiment."""
        self.store.experiments.restore(experiment_id)

    # Runs ----------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str = "0",
        *,
        run_name: str | None = None,
        tags: Mapping[str, str] | None = None,
        start_time_ms: int | None = None,
        parent_run_id: str | None = None,
    ) -> Run:
        """Create a RUNNING run.

        Raises:
            ExperimentNotFoundError: no such experiment.
        """
        clean = [RunTag(k, v) for k, v in checked_tags(tags).items()]
        return self.store.runs.create(
            experiment_id,
            run_name=run_name or generate_run_name(),
            start_time_ms=start_time_ms,
            user_id=current_user(),
            parent_run_id=parent_run_id,
            tags=clean,
        )

    def get_run(self, run_id: str) -> Run:
        """A run with everything logged to it.

        Raises:
            RunNotFoundError: no such run.
        """
        return self.store.runs.get(run_id)

    def set_terminated(
        self,
        run_id: str,
        status: RunStatus | str = RunStatus.FINISHED,
        *,
        end_time_ms: int | None = None,
    ) -> Run:
        """End a run with a terminal status."""
        self.store.runs.update(run_id, status=RunStatus(status), end_time_ms=end_time_ms)
        return self.store.runs.get(run_id)

    def update_run(
        self, run_id: str, *, status: RunStatus | str | None = None, run_name: str | None = None
    ) -> Run:
        """Change a run's status or name."""
        self.store.runs.update(
            run_id, status=RunStatus(status) if status is not None else None, run_name=run_name
        )
        return self.store.runs.get(run_id)

    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run; recorded in the audit log."""
        self.store.runs.delete(run_id, actor=current_user())

    def restore_run(self, run_id: str) -> None:
        """Restore a deleted run; recorded in the audit log."""
        self.store.runs.restore(run_id, actor=current_user())

    def search_runs(
        self,
        experiment_ids: Iterable[str] | None = None,
        *,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
        status: RunStatus | str | None = None,
        include_deleted: bool = False,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> RunPage:
        """Search runs with the filter grammar (docs/search.md); None searches all experiments.

        Raises:
            InvalidFilterError: the filter, order or token is malformed.
        """
        return self.store.runs.search(
            experiment_ids,
            filter_string=filter_string,
            order_by=order_by,
            params=params,
            tags=tags,
            status=RunStatus(status) if status is not None else None,
            include_deleted=include_deleted,
            max_results=max_results,
            page_token=page_token,
        )

    # Logging -------------------------------------------------------------------------------

    def log_metric(
        self, run_id: str, key: str, value: float, step: int = 0, *, timestamp_ms: int | None = None
    ) -> None:
        """Log one metric point, synchronously."""
        self.log_batch(
            run_id,
            metrics=[Metric(key, value, now_ms() if timestamp_ms is None else timestamp_ms, step)],
        )

    def log_param(self, run_id: str, key: str, value: Any) -> None:
        """Log one param, synchronously.

        Raises:
            ParamConflictError: it has another value already.
        """
        self.log_batch(run_id, params=[Param(key, validate_param_value(key, value))])

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        """Set one tag, synchronously."""
        self.log_batch(run_id, tags=[RunTag(key, validate_tag_value(key, value))])

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag.

        Raises:
            InvalidInputError: the run has no such tag.
        """
        self.store.runs.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Validate and write a batch in one transaction (MLflow's batch limits apply).

        Raises:
            InvalidInputError: a bad item or too many items (nothing is written).
            ParamConflictError: a param has another value already (nothing is written).
        """
        validate_batch_sizes(metrics=len(metrics), params=len(params), tags=len(tags))
        clean_metrics = _clean_metrics(metrics)
        clean_params = [
            Param(validate_key(p.key, kind="param"), validate_param_value(p.key, p.value))
            for p in params
        ]
        clean_tags = [
            RunTag(validate_key(t.key, kind="tag"), validate_tag_value(t.key, t.value))
            for t in tags
        ]
        self.store.runs.log_batch(
            run_id, metrics=clean_metrics, params=clean_params, tags=clean_tags
        )

    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        """Record datasets a run consumed."""
        self.store.runs.log_inputs(run_id, inputs)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of a metric, by step then time."""
        return self.store.runs.get_metric_history(run_id, key)

    # Artifacts -----------------------------------------------------------------------------

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> str:
        """Copy a file into a run's artifacts; returns its relative path."""
        return self._artifacts(run_id).log_file(local_path, artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> int:
        """Copy a folder's files into a run's artifacts; returns how many."""
        return self._artifacts(run_id).log_dir(local_dir, artifact_path)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[ArtifactInfo]:
        """The artifacts directly under `path` of a run."""
        return self._artifacts(run_id).list(path)

    def download_artifacts(
        self, run_id: str, path: str | None, destination: str | os.PathLike[str]
    ) -> Path:
        """Copy a run's artifact file or folder to a local folder; returns the copy's path."""
        return self._artifacts(run_id).download(path, destination)

    def read_artifact(self, run_id: str, path: str) -> bytes:
        """The content of one artifact file of a run (verified against its digest)."""
        return self._artifacts(run_id).read_bytes(path)

    def _artifacts(self, run_id: str) -> RunArtifacts:
        return RunArtifacts.of(self.store, run_id)


_INT64 = range(-(2**63), 2**63)
_TIMESTAMPS = range(2**63)


def _clean_metrics(metrics: Sequence[Metric]) -> list[Metric]:
    """Check every point of a batch.

    Each distinct key is checked once, and well-typed points are kept as they are (the common
    case), so a batch costs little more than a loop over it.
    """
    for key in {m.key for m in metrics}:
        validate_key(key, kind="metric")
    clean = list(metrics)
    steps = [m.step for m in clean]
    stamps = [m.timestamp_ms for m in clean]
    if (
        {type(m.value) for m in clean} <= {float}
        and {type(s) for s in steps} <= {int}
        and {type(t) for t in stamps} <= {int}
        and (not clean or (min(steps) in _INT64 and max(steps) in _INT64))
        and (not clean or (min(stamps) in _TIMESTAMPS and max(stamps) in _TIMESTAMPS))
    ):
        return clean
    for index, m in enumerate(clean):
        if not (
            type(m.value) is float
            and type(m.step) is int
            and m.step in _INT64
            and type(m.timestamp_ms) is int
            and m.timestamp_ms in _TIMESTAMPS
        ):
            clean[index] = Metric(
                m.key,
                validate_metric_value(m.key, m.value),
                validate_timestamp_ms(m.key, m.timestamp_ms),
                validate_step(m.key, m.step),
            )
    return clean
