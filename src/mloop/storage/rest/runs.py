"""The run store over `/api/v1/runs`: lifecycle, batched logging, history and search."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from mloop.entities import (
    Metric,
    MetricHistory,
    Param,
    Run,
    RunInput,
    RunPage,
    RunStart,
    RunStatus,
    RunTag,
)
from mloop.entities.validation import (
    MAX_BATCH_METRICS,
    MAX_BATCH_PARAMS,
    MAX_BATCH_TAGS,
    validate_end_status,
    validate_run_id,
)
from mloop.storage import create_started, metric_frames
from mloop.storage.rest import codec
from mloop.storage.rest.transport import Transport

_BASE = "/api/v1/runs"
_FRAME_HEADERS = {"Accept": f"{metric_frames.MEDIA_TYPE}, application/json;q=0.5"}


class RestRunStore:
    """Runs on a remote `mloop server`.

    Args:
        transport: the HTTP client of the server.
    """

    def __init__(self, transport: Transport) -> None:
        self._http = transport

    def create(
        self,
        experiment_id: str,
        *,
        run_id: str | None = None,
        run_name: str,
        start_time_ms: int | None = None,
        user_id: str = "",
        parent_run_id: str | None = None,
        tags: Sequence[RunTag] = (),
        share_artifacts: tuple[str, str] | None = None,
    ) -> Run:
        """Create a run; the id is chosen here so a retried request cannot create two.

        `share_artifacts` (run id, folder) links that run's files under the folder into the new
        run on the server, by digest: nothing is uploaded again (see `SqlRunStore.create`).

        Raises:
            ExperimentNotFoundError: the experiment does not exist or is deleted.
            InvalidInputError: the run id, name or shared folder is malformed.
            RunNotFoundError: the run named by `share_artifacts` does not exist.
        """
        body: dict[str, Any] = {
            "experiment_id": experiment_id,
            "run_id": run_id if run_id is not None else uuid.uuid4().hex,
            "run_name": run_name,
            "start_time_ms": start_time_ms,
            "user_id": user_id,
            "parent_run_id": parent_run_id,
            "tags": [{"key": t.key, "value": t.value} for t in tags],
        }
        if share_artifacts is not None:
            body["share_artifacts_run_id"], body["share_artifacts_folder"] = share_artifacts
        return codec.run(self._http.request("POST", _BASE, body=body))

    def get(self, run_id: str) -> Run:
        """The run with everything logged to it.

        Raises:
            RunNotFoundError: no such run.
        """
        return codec.run(self._http.request("GET", _path(run_id)))

    def update(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time_ms: int | None = None,
        run_name: str | None = None,
    ) -> None:
        """Change a run's status, end time or name.

        Raises:
            RunNotFoundError: no such run.
        """
        body: dict[str, Any] = {}
        if status is not None:
            body["status"] = RunStatus(status).value
        if end_time_ms is not None:
            body["end_time_ms"] = end_time_ms
        if run_name is not None:
            body["run_name"] = run_name
        self._http.request("PATCH", _path(run_id), body=body)

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Write metrics, params and tags; sent in requests within the server's batch limits.

        Each request is one transaction on the server; params and tags go with the first.

        Raises:
            RunNotFoundError: no such run.
            RunNotActiveError: the run is deleted.
            ParamConflictError: a param exists with another value.
        """
        if not (metrics or params or tags):
            return
        path = f"{_path(run_id)}/batch"
        for part in _split(metrics, params, tags):
            self._http.request("POST", path, body=codec.batch(*part))

    def finish(
        self,
        run_id: str,
        *,
        status: RunStatus,
        end_time_ms: int | None = None,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        start: RunStart | None = None,
    ) -> None:
        """End a run with its last batch in one request (one transaction on the server).

        A batch past the server's per-request limits sends its first parts as batches; the
        last part goes with the end status. With `start`, a run that does not exist is created
        first, in the same request when the batch fits in one.

        Raises:
            RunNotFoundError: no such run (without `start`).
            ExperimentNotFoundError: `start` names a missing or deleted experiment.
            RunNotActiveError: the run is deleted and the batch is not empty.
            ParamConflictError: a param exists with another value.
            InvalidInputError: the status is not terminal.
        """
        final = validate_end_status(status)
        parts = list(_split(metrics, params, tags)) or [((), (), ())]
        if start is not None and len(parts) > 1:
            # The first parts need the run: create it now (a no-op when it exists).
            create_started(self, start, run_id=run_id)
            start = None
        for part in parts[:-1]:
            self._http.request("POST", f"{_path(run_id)}/batch", body=codec.batch(*part))
        body = codec.batch(*parts[-1])
        body["status"] = final.value
        body["end_time_ms"] = end_time_ms
        if start is not None:
            body.update(
                experiment_id=start.experiment_id,
                run_name=start.run_name,
                start_time_ms=start.start_time_ms,
                user_id=start.user_id,
                parent_run_id=start.parent_run_id,
            )
            if start.share_artifacts is not None:
                body["share_artifacts_run_id"], body["share_artifacts_folder"] = (
                    start.share_artifacts
                )
        self._http.request("POST", f"{_path(run_id)}/finish", body=body)

    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        """Record datasets a run consumed.

        Raises:
            RunNotFoundError: no such run.
        """
        if not inputs:
            return
        body = {"inputs": [codec.run_input(i) for i in inputs]}
        self._http.request("POST", f"{_path(run_id)}/inputs", body=body)

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag.

        Raises:
            RunNotFoundError: no such run.
            InvalidInputError: the run has no such tag.
        """
        self._http.request("DELETE", f"{_path(run_id)}/tags", params={"key": key})

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of one metric, by step then timestamp.

        Raises:
            RunNotFoundError: no such run.
        """
        columns = self.get_metric_history_columns(run_id, key)
        return [
            Metric(key, v, t, s)
            for s, t, v in zip(
                columns.steps.tolist(),
                columns.timestamps_ms.tolist(),
                columns.values.tolist(),
                strict=True,
            )
        ]

    def get_metric_history_columns(self, run_id: str, key: str) -> MetricHistory:
        """Every point of one metric as NumPy columns.

        Raises:
            RunNotFoundError: no such run.
        """
        import numpy as np

        # Raw columns when the server speaks them (a copy each way, no per-point work).
        response = self._http.send(
            "GET",
            f"{_path(run_id)}/metrics/history/columns",
            params={"key": key},
            headers=_FRAME_HEADERS,
        )
        if response.headers.get("content-type", "").startswith(metric_frames.MEDIA_TYPE):
            return metric_frames.decode(key, response.content)
        data = response.json()
        return MetricHistory(
            key,
            np.array(data["steps"], dtype=np.int64),
            np.array(data["timestamps_ms"], dtype=np.int64),
            # "NaN" and "Infinity" strings convert as float() reads them.
            np.array(data["values"], dtype=np.float64),
        )

    def delete(self, run_id: str, *, actor: str) -> None:
        """Soft-delete a run (the server records the actor, or its authenticated user).

        Raises:
            RunNotFoundError: no such run.
        """
        self._http.request("DELETE", _path(run_id), params={"actor": actor})

    def restore(self, run_id: str, *, actor: str) -> None:
        """Undo `delete`.

        Raises:
            RunNotFoundError: no such run.
        """
        self._http.request("POST", f"{_path(run_id)}/restore", params={"actor": actor})

    def search(
        self,
        experiment_ids: Iterable[str] | None = None,
        *,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
        status: RunStatus | None = None,
        include_deleted: bool = False,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> RunPage:
        """Runs matching a filter, in order, one page at a time (see `SqlRunStore.search`).

        Raises:
            InvalidFilterError: the filter, order or page token is malformed.
            InvalidInputError: max_results is out of range.
        """
        body = {
            "experiment_ids": None if experiment_ids is None else list(experiment_ids),
            "filter": filter_string,
            "order_by": [order_by] if isinstance(order_by, str) else list(order_by or ()),
            "params": params or {},
            "tags": tags or {},
            "status": None if status is None else RunStatus(status).value,
            "include_deleted": include_deleted,
            "max_results": max_results,
            "page_token": page_token,
        }
        data = self._http.request("POST", f"{_BASE}/search", body=body)
        return RunPage([codec.run(r) for r in data["runs"]], data["next_page_token"])


def _path(run_id: str) -> str:
    # Checked here so a malformed id is the same InvalidInputError as with a local store and
    # can never address another route.
    return f"{_BASE}/{validate_run_id(run_id)}"


def _split(
    metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> Iterable[tuple[Sequence[Metric], Sequence[Param], Sequence[RunTag]]]:
    """Parts of a batch within the server's per-request limits, params and tags first."""
    rounds = max(
        -(-len(metrics) // MAX_BATCH_METRICS),
        -(-len(params) // MAX_BATCH_PARAMS),
        -(-len(tags) // MAX_BATCH_TAGS),
    )
    for i in range(rounds):
        yield (
            metrics[i * MAX_BATCH_METRICS : (i + 1) * MAX_BATCH_METRICS],
            params[i * MAX_BATCH_PARAMS : (i + 1) * MAX_BATCH_PARAMS],
            tags[i * MAX_BATCH_TAGS : (i + 1) * MAX_BATCH_TAGS],
        )
