"""Process-wide client state for the fluent API.

It holds the default store, its write queue, the current experiment, the stack of active runs
and the environment captured once per process.

Only this module reads settings. It survives `fork`: the child re-creates its database
connections and write queue, and keeps the parent's active run so it can log to it.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING

from mloop.client.writer import WriteQueue
from mloop.settings import Settings

if TYPE_CHECKING:
    from mloop.client.active_run import ActiveRun
    from mloop.storage import Store
    from mloop.tracking.environment import Environment


@dataclass
class ClientState:
    """Everything the fluent API keeps between calls."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    tracking_uri: str | None = None
    artifact_uri: str | None = None
    store: Store | None = None
    queue: WriteQueue | None = None
    experiment_id: str | None = None
    runs: list[ActiveRun] = field(default_factory=list)
    environment: Future[Environment] | None = None
    # A run of the current store whose `environment/` files this process recorded: later runs
    # link them by digest at creation instead of storing them again.
    environment_run: str | None = None
    params: dict[str, dict[str, str]] = field(default_factory=dict)
    # Experiments of the current store this process created a run in: later runs in them are
    # created through the write queue (deferred), the experiment being known to exist.
    run_experiments: set[str] = field(default_factory=set)
    uncaught: BaseException | None = None
    settings: Settings | None = None


STATE = ClientState()
_hook_installed = False


def watch_uncaught_exceptions() -> None:
    """Remember an exception that ends the program, so runs still open end FAILED, not FINISHED.

    Installed when the first run starts (not at import); chains to the previous hook.
    """
    global _hook_installed  # noqa: PLW0603 - one hook per process
    if _hook_installed:
        return
    previous = sys.excepthook

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        STATE.uncaught = exc
        previous(exc_type, exc, tb)

    sys.excepthook = hook
    _hook_installed = True


def settings() -> Settings:
    """The settings from the environment, with `set_tracking_uri` applied on top.

    Resolved once and kept while the store is open (`close_store` and `set_tracking_uri` read
    them again), so starting a run does not walk the file system for `.mloop/`.
    """
    cached = STATE.settings
    if cached is not None:
        return cached
    STATE.settings = _resolve_settings()
    return STATE.settings


def _resolve_settings() -> Settings:
    resolved = Settings.from_env()
    if STATE.tracking_uri is None and STATE.artifact_uri is None:
        return resolved
    return Settings(
        home=resolved.home,
        tracking_uri=STATE.tracking_uri or resolved.tracking_uri,
        artifact_uri=STATE.artifact_uri or resolved.artifact_uri,
        experiment_name=resolved.experiment_name,
        log_system_metrics=resolved.log_system_metrics,
        tracking_token=resolved.tracking_token,
    )


def get_store() -> Store:
    """The default store, opened (and created when new) on first use.

    Runs whose create is still queued are written first, so what the caller reads or writes
    finds them.

    Raises:
        MloopError: a queued write failed.
    """
    queue = STATE.queue
    if queue is not None and queue.has_unstarted:
        queue.flush()
    return _open_store()


def _open_store() -> Store:
    with STATE.lock:
        if STATE.store is None:
            from mloop.storage import open_store

            resolved = settings()
            if resolved.is_embedded:
                resolved.home.mkdir(parents=True, exist_ok=True)
            STATE.store = open_store(
                resolved.tracking_uri,
                artifact_root=resolved.artifact_uri,
                token=resolved.tracking_token,
            )
        return STATE.store


def get_queue() -> WriteQueue:
    """The write queue of the default store."""
    queue = STATE.queue
    if queue is not None:
        return queue
    with STATE.lock:
        if STATE.queue is None:
            STATE.queue = WriteQueue(_open_store().runs)
        return STATE.queue


def set_tracking_uri(uri: str | None, *, artifact_uri: str | None = None) -> None:
    """Point the fluent API at another store (None: back to the settings).

    Pending writes go to the old store first.
    """
    with STATE.lock:
        close_store()
        STATE.tracking_uri = uri
        STATE.artifact_uri = artifact_uri
        STATE.experiment_id = None


def close_store() -> None:
    """Flush and close the default store; the next call opens it again."""
    with STATE.lock:
        try:
            if STATE.queue is not None:
                STATE.queue.close()
        finally:
            if STATE.store is not None:
                STATE.store.close()
            STATE.store = None
            STATE.queue = None
            STATE.settings = None
            STATE.environment_run = None
            STATE.params.clear()
            STATE.run_experiments.clear()


def environment() -> Future[Environment]:
    """The process environment, captured once in a background thread."""
    with STATE.lock:
        if STATE.environment is None:
            from mloop.tracking.environment import capture_environment

            future: Future[Environment] = Future()

            def capture() -> None:
                try:
                    future.set_result(capture_environment())
                except Exception as exc:  # noqa: BLE001 - handed to whoever reads the future
                    future.set_exception(exc)

            threading.Thread(target=capture, name="mloop-environment", daemon=True).start()
            STATE.environment = future
        return STATE.environment


def _after_fork_in_child() -> None:
    STATE.lock = threading.RLock()
    if STATE.store is not None:
        STATE.store.after_fork()
    if STATE.queue is not None:
        STATE.queue.after_fork()
    for active in STATE.runs:
        active.after_fork()
    # A capture in flight in the parent has no thread in the child.
    if STATE.environment is not None and not STATE.environment.done():
        STATE.environment = None


def _at_exit() -> None:
    from mloop.client.active_run import end_all_runs

    end_all_runs()
    if STATE.queue is not None:
        STATE.queue.flush(timeout_s=60)
    if STATE.store is not None:
        # Closed, not left to the interpreter's teardown: closing the last connection to a
        # SQLite store folds its write-ahead log back (up to ~40 MB) and removes it, so the next
        # process does not start by indexing it and then read every page through it.
        STATE.store.close()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_at_exit)
