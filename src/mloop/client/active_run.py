"""Starting, resuming and ending runs of the fluent API, and what a run records on its own."""

from __future__ import annotations

import dataclasses
import os
import threading
import traceback
import uuid
from concurrent.futures import Future
from types import TracebackType
from typing import TYPE_CHECKING

from mloop.client.batch_writes import KIND_METRIC, KIND_TAG
from mloop.client.context import (
    STATE,
    environment,
    get_queue,
    get_store,
    settings,
    watch_uncaught_exceptions,
)
from mloop.entities import Metric, Run, RunStart, RunStatus, RunTag
from mloop.entities.clock import now_ms
from mloop.errors import (
    ConfigurationError,
    InvalidStateError,
    MloopError,
    RunNotActiveError,
    RunNotFoundError,
)
from mloop.storage import create_started
from mloop.tracking.artifacts import ArtifactEntry, RunArtifacts
from mloop.tracking.names import generate_run_name

if TYPE_CHECKING:
    from mloop.tracking.environment import Environment
    from mloop.tracking.system_metrics import SystemMetricsSampler

_ENVIRONMENT_WAIT_S = 30.0
_MAX_ERROR_MESSAGE = 5000


class ActiveRun:
    """A run started by `mloop.start_run`; use it as a context manager.

    Leaving the `with` block ends the run FINISHED, FAILED when an exception escapes (its type,
    message and traceback are recorded) or KILLED on KeyboardInterrupt.

    A run belongs to the process that started it: a forked child may log to it, but leaving the
    block or exiting in the child only writes what the child logged; the parent ends the run.

    The create of a run in an experiment this process has already created a run in is queued
    (deferred): it is written with what is logged to the run, at the latest with the run's end,
    so a short run costs the store one write. Reading `run_id`, `info` or `artifact_uri` writes
    it first, so whatever is done with the id finds the run stored.
    """

    def __init__(
        self, run: Run | _Deferred, *, sampler: SystemMetricsSampler | None = None
    ) -> None:
        self._run_id = run.run_id
        self.experiment_id = run.experiment_id
        self.run_name = run.run_name
        self._artifact_uri = run.artifact_uri if isinstance(run, Run) else None
        self._sampler = sampler
        self.environment_recorded = threading.Event()
        self.pid = os.getpid()

    @property
    def run_id(self) -> str:
        """The run's id; a deferred create is written first."""
        get_queue().ensure_started(self._run_id)
        return self._run_id

    @property
    def artifact_uri(self) -> str:
        """Where the run's artifacts live."""
        if self._artifact_uri is None:
            self._artifact_uri = self.info.artifact_uri
        return self._artifact_uri

    @property
    def info(self) -> Run:
        """The run as stored now, after writing everything queued."""
        get_queue().flush()
        return get_store().runs.get(self._run_id)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not any(r is self for r in STATE.runs):
            return  # ended inside the block already
        if self.pid != os.getpid():
            _leave_inherited_runs(until=self)
            return
        # Runs nested inside this one and still open end with it.
        while STATE.runs and STATE.runs[-1] is not self:
            end_run(_status_for(exc))
        end_run(_status_for(exc), error=exc)

    def after_fork(self) -> None:
        """In a forked child: the parent records the environment and samples; the child logs."""
        self._sampler = None
        # A new event: the parent's capture thread may have held the old one's lock at the
        # fork, and no thread in the child would ever release it.
        self.environment_recorded = threading.Event()
        self.environment_recorded.set()

    def stop_sampling(self) -> None:
        """Stop the system-metrics sampler, if any."""
        if self._sampler is not None:
            self._sampler.stop()
            self._sampler = None

    def __repr__(self) -> str:
        return f"ActiveRun(run_id={self._run_id!r}, run_name={self.run_name!r})"


def _status_for(exc: BaseException | None) -> RunStatus:
    if exc is None:
        return RunStatus.FINISHED
    if isinstance(exc, KeyboardInterrupt):
        return RunStatus.KILLED
    return RunStatus.FAILED


def start_run(
    run_id: str | None = None,
    *,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    tags: dict[str, str] | None = None,
    description: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a run (or resume one by id) and make it the active run.

    Args:
        run_id: resume this run (also one started by another process) instead of starting one.
        experiment_id: the experiment; default: the one set by `set_experiment`, else
            `MLOOP_EXPERIMENT_NAME`, else "Default".
        run_name: a readable name; one is generated when omitted.
        nested: start a child run of the active run.
        tags: tags to set at creation.
        description: a free-text note (tag `mloop.note.content`).
        log_system_metrics: sample CPU and memory in the background (default from
            `MLOOP_LOG_SYSTEM_METRICS`).

    Returns:
        The active run, usable as a context manager.

    Raises:
        InvalidStateError: a run is active and `nested` is false.
        RunNotFoundError: `run_id` does not exist.
        RunNotActiveError: `run_id` is deleted.
    """
    get_queue().check()
    watch_uncaught_exceptions()
    with STATE.lock:
        if STATE.runs and not nested:
            active = STATE.runs[-1]
            raise InvalidStateError(
                f"run {active._run_id} ({active.run_name}) is already active; end it with "
                "mloop.end_run() or pass nested=True to start a child run"
            )
        parent = STATE.runs[-1]._run_id if nested and STATE.runs else None
        recorded = False
        run: Run | _Deferred
        if run_id is not None:
            run = _resume(run_id)
        else:
            run, recorded = _create(
                experiment_id=experiment_id,
                run_name=run_name,
                parent=parent,
                tags=dict(
                    tags or {}, **({"mloop.note.content": description} if description else {})
                ),
            )
        sampling = (
            settings().log_system_metrics if log_system_metrics is None else log_system_metrics
        )
        active = ActiveRun(run, sampler=_start_sampler(run.run_id) if sampling else None)
        STATE.runs.append(active)
        STATE.params.setdefault(run.run_id, {})
    if run_id is None and not recorded:
        environment().add_done_callback(lambda future: _record_environment(active, future))
    else:
        active.environment_recorded.set()
    return active


@dataclasses.dataclass(frozen=True, slots=True)
class _Deferred:
    """A run whose create is queued: what its `ActiveRun` knows before it is stored."""

    run_id: str
    experiment_id: str
    run_name: str


def _create(
    *, experiment_id: str | None, run_name: str | None, parent: str | None, tags: dict[str, str]
) -> tuple[Run | _Deferred, bool]:
    """Create a run, or queue its create; also return whether its environment goes with it.

    Once this process has recorded its environment's files in one run, later runs get the
    environment tags and a link to those files in their create (one transaction, one request),
    instead of queued tags and stored files. The first run of an experiment is created at once,
    so a missing experiment fails here; later ones are deferred (see `ActiveRun`).
    """
    from mloop.client.experiments import current_experiment_id
    from mloop.entities.validation import checked_tags
    from mloop.tracking.environment import current_user

    clean = checked_tags(tags)
    experiment = experiment_id or current_experiment_id()
    name = run_name or generate_run_name()
    user, run_tags, shared = None, clean, None
    source, env = STATE.environment_run, environment()
    if source is not None and env.done() and env.exception() is None:
        captured = env.result()
        env_tags = {key: value[:8000] for key, value in captured.as_tags().items()}
        run_tags = env_tags | clean
        shared = (source, "environment")
        user = captured.user  # the same lookup, made once at capture
    start = RunStart(experiment, name, now_ms(), user or current_user(), parent, shared)
    tag_list = [RunTag(k, v) for k, v in run_tags.items()]
    if experiment in STATE.run_experiments:
        run_id = uuid.uuid4().hex
        get_queue().start(run_id, start, tag_list)
        return _Deferred(run_id, experiment, name), shared is not None
    store = get_store()
    try:
        run = create_started(store.runs, start, tags=tag_list)
    except RunNotFoundError:
        if shared is None:
            raise
        # The run holding the files is gone (purged): record them again with this run.
        STATE.environment_run = None
        alone = dataclasses.replace(start, user_id=current_user(), share_artifacts=None)
        run = create_started(store.runs, alone, tags=[RunTag(k, v) for k, v in clean.items()])
        shared = None
    STATE.run_experiments.add(experiment)
    return run, shared is not None


def _resume(run_id: str) -> Run:
    store = get_store()
    run = store.runs.get(run_id)
    if run.lifecycle_stage != "active":
        raise RunNotActiveError(run_id, "deleted")
    store.runs.update(run_id, status=RunStatus.RUNNING)
    run = store.runs.get(run_id)
    STATE.params[run_id] = dict(run.params)
    return run


def _start_sampler(run_id: str) -> SystemMetricsSampler:
    from mloop.tracking.system_metrics import SystemMetricsSampler

    queue = get_queue()

    def sink(points: list[Metric]) -> None:
        for point in points:
            queue.put(run_id, KIND_METRIC, point)

    sampler = SystemMetricsSampler(sink)
    sampler.start()
    return sampler


def _record_environment(active: ActiveRun, future: Future[Environment]) -> None:
    """Queue the environment's tags and write its artifacts; runs in the capture thread."""
    try:
        env = future.result()
        queue = get_queue()
        for key, value in env.as_tags().items():
            queue.put(active._run_id, KIND_TAG, RunTag(key, value[:8000]))
        store = get_store()
        _store_environment(active.run_id, env)
        with STATE.lock:
            if STATE.store is store:  # not re-pointed meanwhile
                STATE.environment_run = active._run_id
    except (MloopError, OSError):
        # The environment is a convenience: failing to record it must not fail the run; the
        # missing tags show it.
        pass
    finally:
        active.environment_recorded.set()


def _store_environment(run_id: str, env: Environment) -> None:
    """Record the environment's files as the run's artifacts.

    Every run of a process has the same files: their blobs are stored once (content
    addressing), so each later run only adds manifest rows.
    """
    contents = {"environment/requirements.txt": "\n".join(env.packages).encode()}
    if env.git is not None and env.git.is_dirty and env.git.diff:
        contents["environment/git.diff"] = env.git.diff.encode()
    artifacts = get_store().artifacts
    try:
        blobs = artifacts.blobs
    except ConfigurationError:
        # A server keeps its blob store to itself (REST store): upload the files instead.
        for name, data in contents.items():
            artifacts.write_bytes(run_id, name, data)
        return
    entries = []
    for name, data in contents.items():
        info = blobs.put_bytes(data)
        entries.append(ArtifactEntry(name, info.digest, info.size))
    artifacts.record(run_id, entries)


def end_run(
    status: RunStatus | str = RunStatus.FINISHED, *, error: BaseException | None = None
) -> None:
    """End the active run: write everything queued, then set its status and end time.

    Args:
        status: FINISHED, FAILED or KILLED.
        error: the exception that ended it, recorded as tags and a traceback artifact.

    Raises:
        MloopError: a queued write failed (the run is still ended).
    """
    with STATE.lock:
        if not STATE.runs:
            return
        active = STATE.runs.pop()
    active.stop_sampling()
    active.environment_recorded.wait(_ENVIRONMENT_WAIT_S)
    if error is not None:
        _record_error(active, error)
    queue = get_queue()
    try:
        # Everything queued and the end status in one store call: acknowledged when it returns.
        queue.end_run(active._run_id, RunStatus(status))
    finally:
        STATE.params.pop(active._run_id, None)
        _record_environment_again(queue.take_unshared())


def _record_environment_again(run_ids: list[str]) -> None:
    """Store the environment's files in runs whose deferred create could not link them.

    The run that held them was purged since: the first of these runs holds them from now on.
    """
    env = STATE.environment
    if not run_ids or env is None or not env.done() or env.exception() is not None:
        return
    with STATE.lock:
        STATE.environment_run = None
    for run_id in run_ids:
        try:
            _store_environment(run_id, env.result())
        except (MloopError, OSError):
            continue  # a convenience, as in `_record_environment`
        with STATE.lock:
            if STATE.environment_run is None:
                STATE.environment_run = run_id


def _record_error(active: ActiveRun, error: BaseException) -> None:
    queue = get_queue()
    queue.put(active._run_id, KIND_TAG, RunTag("mloop.error.type", type(error).__name__))
    message = str(error)[:_MAX_ERROR_MESSAGE]
    queue.put(active._run_id, KIND_TAG, RunTag("mloop.error.message", message))
    text = "".join(traceback.format_exception(error))
    RunArtifacts(get_store().artifacts, active.run_id).write_bytes(
        "error/traceback.txt", text.encode()
    )


def end_all_runs() -> None:
    """End every active run this process started (at interpreter exit).

    They end FINISHED, or FAILED (KILLED on Ctrl-C) when an uncaught exception ended the
    program, with the error recorded.

    Runs a forked child inherited are left to the parent. Every run is ended even when a
    queued write failed; the first failure is raised afterwards.

    Raises:
        MloopError: a queued write failed.
    """
    pid = os.getpid()
    failure: MloopError | None = None
    while STATE.runs:
        if STATE.runs[-1].pid != pid:
            with STATE.lock:
                STATE.runs.pop()
            continue
        error = STATE.uncaught
        try:
            end_run(_status_for(error), error=error)
        except MloopError as exc:
            failure = failure or exc
    if failure is not None:
        raise failure


def _leave_inherited_runs(*, until: ActiveRun) -> None:
    """In a forked child, leave runs started by the parent without ending them."""
    with STATE.lock:
        while STATE.runs:
            if STATE.runs.pop() is until:
                break
    get_queue().flush()


def active_run() -> ActiveRun | None:
    """The innermost active run, or None."""
    return STATE.runs[-1] if STATE.runs else None


def require_run_id(run_id: str | None) -> str:
    """The given run id, else the active run's, starting a run when none is active (as MLflow).

    The active run is stored when this returns (a deferred create is written first).
    """
    if run_id is not None:
        return run_id
    runs = STATE.runs
    if runs:
        return runs[-1].run_id
    return start_run().run_id


def queued_run_id(run_id: str | None) -> str:
    """As `require_run_id`, for items queued behind the run: a deferred create stays queued."""
    if run_id is not None:
        return run_id
    runs = STATE.runs
    if runs:
        return runs[-1]._run_id
    return start_run()._run_id


def is_active(run_id: str) -> bool:
    """Whether the run is one of this process's active runs."""
    return any(r._run_id == run_id for r in STATE.runs)
