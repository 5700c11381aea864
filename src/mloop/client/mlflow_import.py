"""`mloop import-mlflow`: copy an MLflow tracking store into an mloop store, idempotently.

Experiments are matched by name (MLflow's "Default", id 0, is mloop's "0"); runs keep their
MLflow ids. Running the import again writes only what is new: runs that are not there yet,
params, tags, inputs and metric points a run does not have, artifact files that are missing or
changed, model versions not imported before (each carries an `mlflow.version` tag), aliases that
moved. Nothing is ever removed from the mloop store.
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from mloop.client.client import MloopClient
from mloop.client.mlflow_import_models import import_models
from mloop.entities import LifecycleStage, Metric, Param, Run, RunInput, RunStatus, RunTag
from mloop.entities.validation import (
    MAX_BATCH_METRICS,
    MAX_BATCH_PARAMS,
    MAX_BATCH_TAGS,
    validate_key,
)
from mloop.errors import InvalidInputError, RunNotFoundError
from mloop.storage.mlflow_source import MlflowExperiment, MlflowRun, MlflowSource
from mloop.storage.protocols import Store

ACTOR = "import-mlflow"
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
T = TypeVar("T")


class _Keyed(Protocol):
    @property
    def key(self) -> str: ...


K = TypeVar("K", bound=_Keyed)


@dataclass
class ImportSummary:
    """What an import wrote (a second import of an unchanged store writes nothing).

    Attributes:
        experiments_created: experiments created in mloop.
        experiments_matched: MLflow experiments that already had an mloop experiment by name.
        runs_created: runs created.
        runs_updated: runs that existed and got new data.
        runs_unchanged: runs that existed with nothing new.
        params: params written.
        tags: run tags written.
        metric_points: metric points written.
        inputs: dataset inputs written.
        artifact_files: artifact files copied.
        models_created: registered models created.
        versions_created: model versions registered.
        aliases_set: aliases set or moved.
        warnings: what could not be imported, and why.
    """

    experiments_created: int = 0
    experiments_matched: int = 0
    runs_created: int = 0
    runs_updated: int = 0
    runs_unchanged: int = 0
    params: int = 0
    tags: int = 0
    metric_points: int = 0
    inputs: int = 0
    artifact_files: int = 0
    models_created: int = 0
    versions_created: int = 0
    aliases_set: int = 0
    warnings: list[str] = field(default_factory=list)


ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class RunPlan:
    """What an import writes to one run; empty when the run has everything already."""

    params: list[Param]
    tags: list[RunTag]
    metrics: list[Metric]
    inputs: list[RunInput]
    files: list[tuple[Path, str]]
    status: RunStatus | None
    end_time_ms: int | None

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to write."""
        return not (
            self.params or self.tags or self.metrics or self.inputs or self.files or self.status
        )


class MlflowImporter:
    """Copies an MLflow source into an mloop store.

    Args:
        store: the mloop store to write to.
        source: the MLflow store to read.
        progress: called with (runs done, runs in total) after each run.
    """

    def __init__(
        self, store: Store, source: MlflowSource, *, progress: ProgressCallback | None = None
    ) -> None:
        self.store = store
        self.source = source
        self.progress = progress
        self.summary = ImportSummary()
        self._client = MloopClient(store=store)
        self._experiments: dict[str, str] = {}  # MLflow experiment id -> mloop id
        self._to_delete: set[str] = set()  # mloop experiments to (re-)delete at the end

    def run(self) -> ImportSummary:
        """Import everything; returns what was written."""
        experiments = self.source.experiments()
        for experiment in experiments:
            self._import_experiment(experiment)
        total = self.source.count_runs()
        with tempfile.TemporaryDirectory(prefix="mloop-import-") as scratch:
            for done, mlflow_run in enumerate(self.source.runs(), start=1):
                self._import_run(mlflow_run, Path(scratch))
                if self.progress is not None:
                    self.progress(done, total)
        for experiment in experiments:
            mloop_id = self._experiments.get(experiment.experiment_id)
            if experiment.is_deleted and mloop_id is not None and mloop_id != "0":
                self._to_delete.add(mloop_id)
        for mloop_id in sorted(self._to_delete):
            if self.store.experiments.get(mloop_id).lifecycle_stage is LifecycleStage.ACTIVE:
                self.store.experiments.delete(mloop_id)
        import_models(self.store, self.source.models(), self.summary)
        return self.summary

    # -- experiments -------------------------------------------------------------------------

    def _import_experiment(self, experiment: MlflowExperiment) -> None:
        if experiment.experiment_id == "0" and experiment.name == "Default":
            mloop_id = "0"
            self.summary.experiments_matched += 1
            current = self.store.experiments.get("0").tags
        else:
            found = self.store.experiments.find_by_name(experiment.name)
            if found is not None:
                mloop_id, current = found.experiment_id, found.tags
                self.summary.experiments_matched += 1
            else:
                try:
                    created = self.store.experiments.create(experiment.name)
                except InvalidInputError as exc:
                    self._warn(f"experiment {experiment.name!r} skipped: {exc.message}")
                    return
                mloop_id, current = created.experiment_id, {}
                self.summary.experiments_created += 1
        self._experiments[experiment.experiment_id] = mloop_id
        for key, value in experiment.tags.items():
            if current.get(key) == value:
                continue
            try:
                self.store.experiments.set_tag(mloop_id, key, value)
            except InvalidInputError as exc:
                self._warn(f"tag {key!r} of experiment {experiment.name!r} skipped: {exc.message}")

    def _active_experiment(self, mloop_id: str) -> None:
        """Restore a deleted mloop experiment so runs can be written; re-deleted at the end."""
        if self.store.experiments.get(mloop_id).lifecycle_stage is LifecycleStage.DELETED:
            self.store.experiments.restore(mloop_id)
            self._to_delete.add(mloop_id)

    # -- runs --------------------------------------------------------------------------------

    def _import_run(self, mlflow_run: MlflowRun, scratch: Path) -> None:
        mloop_experiment = self._experiments.get(mlflow_run.experiment_id)
        if mloop_experiment is None:
            self._warn(f"run {mlflow_run.run_id} skipped: its experiment was not imported")
            return
        existing = self._find_run(mlflow_run.run_id)
        is_new = existing is None
        if existing is None:
            self._active_experiment(mloop_experiment)
            existing = self._create_run(mloop_experiment, mlflow_run)
            if existing is None:
                return
            self.summary.runs_created += 1
        plan = self._plan(mlflow_run, existing, scratch)
        was_deleted = existing.lifecycle_stage is LifecycleStage.DELETED
        to_delete = mlflow_run.is_deleted and not was_deleted
        if plan.is_empty and not to_delete:
            self.summary.runs_unchanged += 1
            return
        if was_deleted:
            # Deleted in mloop since an earlier import: restored only to take the new data.
            self.store.runs.restore(mlflow_run.run_id, actor=ACTOR)
        self._write_plan(mlflow_run.run_id, plan)
        if mlflow_run.is_deleted or was_deleted:
            self.store.runs.delete(mlflow_run.run_id, actor=ACTOR)
        if not is_new:
            self.summary.runs_updated += 1

    def _create_run(self, mloop_experiment: str, mlflow_run: MlflowRun) -> Run | None:
        parent = mlflow_run.tags.get("mlflow.parentRunId", "")
        try:
            return self.store.runs.create(
                mloop_experiment,
                run_id=mlflow_run.run_id,
                run_name=mlflow_run.name or mlflow_run.run_id[:8],
                start_time_ms=mlflow_run.start_time_ms,
                user_id=mlflow_run.user_id,
                # A parent tag that is no run id (set by hand) links nothing.
                parent_run_id=parent if _RUN_ID.match(parent) else None,
            )
        except InvalidInputError as exc:  # e.g. a name mloop refuses
            self._warn(f"run {mlflow_run.run_id} skipped: {exc.message}")
            return None

    def _find_run(self, run_id: str) -> Run | None:
        try:
            return self.store.runs.get(run_id)
        except RunNotFoundError:
            return None

    def _plan(self, mlflow_run: MlflowRun, existing: Run, scratch: Path) -> RunPlan:
        """What of an MLflow run the mloop run does not have yet."""
        run_id = mlflow_run.run_id
        params = [Param(k, v) for k, v in mlflow_run.params.items() if existing.params.get(k) != v]
        tags = [RunTag(k, v) for k, v in mlflow_run.tags.items() if existing.tags.get(k) != v]
        have = set(existing.inputs)
        status = _status(mlflow_run.status)
        return RunPlan(
            params=self._valid(run_id, params, "param"),
            tags=self._valid(run_id, tags, "tag"),
            metrics=self._valid(run_id, self._new_points(run_id, existing), "metric"),
            inputs=self._storable_inputs(
                run_id, [i for i in self.source.inputs(run_id) if i not in have]
            ),
            files=self._new_files(mlflow_run, scratch),
            status=(
                None
                if (existing.status, existing.end_time_ms) == (status, mlflow_run.end_time_ms)
                else status
            ),
            end_time_ms=mlflow_run.end_time_ms,
        )

    def _valid(self, run_id: str, items: Sequence[K], kind: str) -> list[K]:
        kept, refused = [], set()
        for item in items:
            try:
                validate_key(item.key, kind=kind)
            except InvalidInputError:
                refused.add(item.key)
                continue
            kept.append(item)
        for key in sorted(refused):
            self._warn(f"run {run_id}: {kind} {key!r} skipped: mloop does not accept that key")
        return kept

    def _storable_inputs(self, run_id: str, inputs: list[RunInput]) -> list[RunInput]:
        # mloop keeps dataset names and contexts to 250 characters (MLflow allows 500).
        kept = [i for i in inputs if len(i.name) <= 250 and len(i.context) <= 250]
        for refused in inputs:
            if refused not in kept:
                self._warn(
                    f"run {run_id}: dataset input {refused.name[:40]!r}... skipped: its name or "
                    "context is longer than mloop's 250 characters"
                )
        return kept

    def _new_points(self, run_id: str, existing: Run) -> list[Metric]:
        known: dict[str, set[tuple[int, int, str]]] = {}
        new: list[Metric] = []
        for point in self.source.metric_history(run_id):
            if point.key not in known:
                history = (
                    self.store.runs.get_metric_history(run_id, point.key)
                    if point.key in existing.metrics
                    else []
                )
                known[point.key] = {_identity(m) for m in history}
            if _identity(point) not in known[point.key]:
                new.append(point)
        return new

    def _new_files(self, mlflow_run: MlflowRun, scratch: Path) -> list[tuple[Path, str]]:
        if not mlflow_run.artifact_uri:
            return []
        folder = self.source.artifact_dir(mlflow_run, scratch)
        if folder is None:
            self._warn(
                f"run {mlflow_run.run_id}: artifacts at {mlflow_run.artifact_uri} were not "
                "copied: that location is not a folder on this machine"
            )
            return []
        if not folder.is_dir():  # MLflow makes the folder only when something is logged
            return []
        have = self._artifact_sizes(mlflow_run.run_id)
        files = []
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            relative = path.relative_to(folder).as_posix()
            if have.get(relative) != path.stat().st_size:
                files.append((path, relative))
        return files

    def _artifact_sizes(self, run_id: str) -> dict[str, int | None]:
        sizes: dict[str, int | None] = {}
        pending: list[str | None] = [None]
        while pending:
            for info in self._client.list_artifacts(run_id, pending.pop()):
                if info.is_dir:
                    pending.append(info.path)
                else:
                    sizes[info.path] = info.size_bytes
        return sizes

    def _write_plan(self, run_id: str, plan: RunPlan) -> None:
        for params in _chunks(plan.params, MAX_BATCH_PARAMS):
            self._log(run_id, params=params)
        for tags in _chunks(plan.tags, MAX_BATCH_TAGS):
            self._log(run_id, tags=tags)
        for metrics in _chunks(plan.metrics, MAX_BATCH_METRICS):
            self._log(run_id, metrics=metrics)
        if plan.inputs:
            try:
                self.store.runs.log_inputs(run_id, plan.inputs)
                self.summary.inputs += len(plan.inputs)
            except InvalidInputError as exc:
                self._warn(f"run {run_id}: dataset inputs not imported: {exc.message}")
        for path, relative in plan.files:
            parent = str(Path(relative).parent)
            try:
                self._client.log_artifact(run_id, path, None if parent == "." else parent)
            except InvalidInputError as exc:  # a file name mloop refuses
                self._warn(f"run {run_id}: artifact {relative!r} not imported: {exc.message}")
                continue
            self.summary.artifact_files += 1
        if plan.status is not None:
            self.store.runs.update(run_id, status=plan.status, end_time_ms=plan.end_time_ms)

    def _log(
        self,
        run_id: str,
        *,
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        metrics: Sequence[Metric] = (),
    ) -> None:
        try:
            self.store.runs.log_batch(run_id, metrics=metrics, params=params, tags=tags)
        except InvalidInputError as exc:
            # E.g. a param MLflow holds with another value than an earlier import wrote, or a
            # value over mloop's length limit: that batch is reported, the import goes on.
            self._warn(f"run {run_id}: a batch was not imported: {exc.message}")
            return
        self.summary.params += len(params)
        self.summary.tags += len(tags)
        self.summary.metric_points += len(metrics)

    # -- reporting ---------------------------------------------------------------------------

    def _warn(self, message: str) -> None:
        self.summary.warnings.append(message)


def _status(text: str) -> RunStatus:
    try:
        return RunStatus(text)
    except ValueError:  # an MLflow status mloop does not know: the run is over
        return RunStatus.FINISHED


def _identity(point: Metric) -> tuple[int, int, str]:
    # NaN != NaN, so values compare by their text.
    value = "nan" if math.isnan(point.value) else repr(float(point.value))
    return (point.step, point.timestamp_ms, value)


def _chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
