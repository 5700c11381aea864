"""The model service: the versions a server holds, the router between them, live updates.

A service serves a `Split` of model references (`models:/churn@champion` alone, or a
deployment's champion 90 / challenger 10 plus shadows). A `Resolver` turns a reference into the
version it names now and a way to fetch that version's package folder; the service loads and
warms each version once. `refresh()` re-resolves every reference (and asks the split source for
the current split): a moved alias or a changed split loads the new version off the serving path,
warms it, then swaps it in with one assignment, so requests in flight finish on the version they
started on and no request fails. `watch()` calls `refresh()` on a background thread every
`interval_s`.

A version swapped out stays loaded and warm on standby (the last `STANDBY_VERSIONS` of them), so
moving an alias back or rolling a deployment back serves the previous version again at the next
refresh, without loading it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.errors import InvalidInputError, InvalidStateError, MloopError
from mloop.serving.payloads import check_request, row_count
from mloop.serving.router import Split, TrafficRouter

if TYPE_CHECKING:
    from mloop.models.inputs import Columns
    from mloop.serving.holder import ServedVersion

logger = logging.getLogger("mloop.serving")
# A request picks again when the watcher swapped the split under it; more than a handful of
# misses means nothing is loaded at all.
_PICK_ATTEMPTS = 8
# Versions swapped out that stay loaded for an instant way back (each holds its model's memory).
STANDBY_VERSIONS = 2


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a reference names right now.

    Attributes:
        model: the registered model's name (or the package's name).
        version: the version number as text ("" outside the registry).
        source: where the package comes from (`runs:/...`, a folder).
        fetch: returns the local package folder (materialising it if needed).
    """

    model: str
    version: str
    source: str
    fetch: Callable[[], Path] = field(compare=False)

    @property
    def identity(self) -> tuple[str, str, str]:
        """Equal for two resolutions of the same version."""
        return (self.model, self.version, self.source)


Resolver = Callable[[str], Resolved]
Loader = Callable[[Resolved], "ServedVersion"]
ShadowHook = Callable[["ShadowRequest", "ServedVersion", "Columns", Any, float], None]
"""Called with (request, shadow version, its checked columns, its output, its latency)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One prediction: the output and the version that gave it.

    Attributes:
        served: the version that answered.
        output: its predictions for the request's rows.
        target: the reference the router picked.
        columns: the request's columns as checked for that version.
        rows: how many rows.
        latency_s: the model's share of the time (queue and batch included).
    """

    served: ServedVersion
    output: Any
    target: str
    columns: Columns
    rows: int
    latency_s: float


@dataclass(frozen=True, slots=True)
class ShadowRequest:
    """A live request and its answer, copied to the shadows.

    Attributes:
        primary: the version that answered it.
        columns: the columns as parsed.
        checked: the columns as checked for the primary.
        rows: how many rows.
        output: the primary's answer.
        request_id: the request's id (text, or a number from the prediction log's
            `new_request_id`).
    """

    primary: ServedVersion
    columns: Columns
    checked: Columns
    rows: int
    output: Any
    request_id: str | int


class ModelService:
    """The versions a server holds and the router between them.

    Args:
        split: the references to serve and their weights (one reference: weight 1).
        resolver: resolves a reference to its current version.
        loader: loads and warms a resolved version.
        split_source: called on each refresh for the current split (deployment mode).
        on_shadow: called for each shadow answer (see `ShadowHook`); never on the path of the
            answer.
    """

    def __init__(
        self,
        split: Split,
        *,
        resolver: Resolver,
        loader: Loader,
        split_source: Callable[[], Split] | None = None,
        on_shadow: ShadowHook | None = None,
    ) -> None:
        self._resolver = resolver
        self._loader = loader
        self._split_source = split_source
        self._on_shadow = on_shadow
        self._served: dict[str, ServedVersion] = {}
        self._identities: dict[str, tuple[str, str, str]] = {}
        # Swapped-out versions still loaded and warm, oldest first, by identity.
        self._standby: dict[tuple[str, str, str], ServedVersion] = {}
        self._router = TrafficRouter(split)
        self._refresh_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._shadow_tasks: set[asyncio.Task[None]] = set()
        self.last_refresh_error: MloopError | None = None
        self.swaps = 0
        self.loads = 0

    @property
    def split(self) -> Split:
        """The split in force."""
        return self._router.split

    @property
    def router(self) -> TrafficRouter:
        """The router in force."""
        return self._router

    @property
    def is_ready(self) -> bool:
        """Every reference of the split has a loaded version."""
        needed = [*self._router.targets, *self._router.shadows]
        return all(ref in self._served for ref in needed)

    def served(self) -> dict[str, ServedVersion]:
        """The loaded version of each reference."""
        return dict(self._served)

    def check(self) -> None:
        """Resolve every reference of the split without loading anything.

        Raises:
            MloopError: a reference does not resolve (no such model, version or alias).
        """
        split = self._router.split
        for ref in [*split.weights, *split.shadows]:
            self._resolver(ref)

    def start(self) -> None:
        """Resolve and load every reference (blocking).

        Raises:
            MloopError: a reference does not resolve or its package does not load.
        """
        self._apply(self._router.split, raise_errors=True)

    def refresh(self) -> bool:
        """Re-resolve the split and every reference; load and swap in what changed.

        Returns:
            Whether anything changed. Errors are kept in `last_refresh_error` (the versions
            already serving go on serving).
        """
        try:
            split = self._split_source() if self._split_source is not None else self.split
        except MloopError as exc:
            self._note_error(exc)
            return False
        return self._apply(split, raise_errors=False)

    def _apply(self, split: Split, *, raise_errors: bool) -> bool:
        with self._refresh_lock:
            changed = False
            for ref in [*split.weights, *split.shadows]:
                try:
                    changed |= self._ensure(ref)
                except MloopError as exc:
                    if raise_errors:
                        raise
                    self._note_error(exc)
                    return changed
            if split != self._router.split:
                self._router = TrafficRouter(split)  # one assignment: requests see old or new
                changed = True
            needed = {*split.weights, *split.shadows}
            for ref in [r for r in self._served if r not in needed]:
                identity = self._identities.pop(ref, None)
                self._set_aside(self._served.pop(ref), identity)
            self.last_refresh_error = None
            return changed

    def _ensure(self, ref: str) -> bool:
        resolved = self._resolver(ref)
        identity = resolved.identity
        previous_identity = self._identities.get(ref)
        if previous_identity == identity:
            return False
        started = time.perf_counter()
        served = self._standby.pop(identity, None)
        # Load and warm before anyone is sent to it, unless it is still warm on standby.
        how = "back from standby" if served is not None else "loaded and warmed"
        if served is None:
            served = self._loader(resolved)
            self.loads += 1
        previous = self._served.get(ref)
        self._served[ref] = served
        self._identities[ref] = identity
        self.swaps += 1
        if previous is not None:
            logger.info(
                "%s now serves %s (was %s; %s in %.3f s)",
                ref,
                served.label,
                previous.label,
                how,
                time.perf_counter() - started,
            )
            self._set_aside(previous, previous_identity)
        return True

    def standby(self) -> list[str]:
        """The labels of the versions kept warm after being swapped out, oldest first."""
        return [served.label for served in list(self._standby.values())]

    def _set_aside(self, served: ServedVersion, identity: tuple[str, str, str] | None) -> None:
        if identity is None or identity in self._standby:
            self._retire(served)
            return
        self._standby[identity] = served
        while len(self._standby) > STANDBY_VERSIONS:
            self._retire(self._standby.pop(next(iter(self._standby))))

    def _retire(self, served: ServedVersion) -> None:
        # Requests already queued on it still finish there; its thread ends when idle.
        served.batcher.retire()

    def _note_error(self, exc: MloopError) -> None:
        if self.last_refresh_error is None or str(exc) != str(self.last_refresh_error):
            logger.warning("refreshing the served models failed: %s", exc)
        self.last_refresh_error = exc

    def watch(self, interval_s: float) -> None:
        """Refresh every `interval_s` seconds on a daemon thread until `stop()`."""
        if self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.wait(interval_s):
                self.refresh()

        self._thread = threading.Thread(target=loop, name="mloop-serving-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching and release the versions' threads."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        for served in [*self._served.values(), *self._standby.values()]:
            served.batcher.close()

    def pick(self, sticky_key: str | None = None) -> tuple[str, ServedVersion]:
        """The reference the router chooses and its loaded version."""
        for _ in range(_PICK_ATTEMPTS):
            ref = self._router.choose(sticky_key)
            served = self._served.get(ref)
            if served is not None:
                return ref, served
            # The watcher swapped the split between the two reads and dropped this reference
            # (its new router never names it): ask the new router.
        raise _not_loaded()

    def primary(self) -> ServedVersion:
        """The version of the route with the largest weight (what metadata describes)."""
        for _ in range(_PICK_ATTEMPTS):
            weights = self._router.split.weights
            served = self._served.get(max(weights, key=lambda ref: weights[ref]))
            if served is not None:
                return served
        raise _not_loaded()

    async def predict(
        self,
        columns: Columns,
        *,
        sticky_key: str | None = None,
        served: ServedVersion | None = None,
        request_id: str | int = "",
    ) -> Answer:
        """Answer a request from the version the router picks, and copy it to each shadow.

        The columns are checked against the signature of the version that answers.

        Args:
            columns: the request's columns as parsed (not yet checked).
            sticky_key: pins the request to a route (A/B tests).
            served: answer with this version, bypassing the router (an explicit version).
            request_id: the request's id (text, or a number from the prediction log's
                `new_request_id`): the primary answer's batcher tag, and `(request_id,
                "shadow")` the shadows'.

        Raises:
            ModelInputError: the columns do not fit the chosen version's signature.
            InvalidInputError: the request has no rows.
            ServingOverloadedError: the version's queue is full.
        """
        if served is None:
            ref, served = self.pick(sticky_key)
        else:
            ref = served.label
        checked = check_request(columns, served.signature)
        rows = row_count(checked)
        if rows == 0:
            raise InvalidInputError("the request has no rows to predict", field="inputs")
        started = time.perf_counter()
        output = await served.predict(checked, rows, tag=request_id)
        latency_s = time.perf_counter() - started
        shadows = self._router.shadows
        if shadows:
            request = ShadowRequest(served, columns, checked, rows, output, request_id)
            self._start_shadows(shadows, request)
        return Answer(served, output, ref, checked, rows, latency_s)

    def _start_shadows(self, shadows: Any, request: ShadowRequest) -> None:
        loop = asyncio.get_running_loop()
        for ref in shadows:
            shadow = self._served.get(ref)
            if shadow is None or shadow is request.primary:
                continue
            task = loop.create_task(self._shadow(shadow, request))
            self._shadow_tasks.add(task)
            task.add_done_callback(self._shadow_tasks.discard)

    async def _shadow(self, shadow: ServedVersion, request: ShadowRequest) -> None:
        try:
            checked = (
                request.checked
                if shadow.signature == request.primary.signature
                else check_request(request.columns, shadow.signature)
            )
            started = time.perf_counter()
            output = await shadow.predict(checked, request.rows, tag=(request.request_id, "shadow"))
            latency_s = time.perf_counter() - started
        except MloopError as exc:  # overloaded, or input it cannot take: never hurts the answer
            logger.debug("shadow %s failed: %s", shadow.label, exc)
            return
        except Exception:
            logger.exception("shadow %s failed", shadow.label)
            return
        if self._on_shadow is not None:
            self._on_shadow(request, shadow, checked, output, latency_s)


def _not_loaded() -> InvalidStateError:
    return InvalidStateError(
        "no model version is loaded yet; wait for /ready to answer 200 before sending requests"
    )


def single(reference: str) -> Split:
    """The split of a server that serves one reference."""
    return Split({reference: 1.0})
