"""SQL implementation of the run store: runs, their lifecycle and their search.

The statements behind writes live in `run_writes`, reading runs back in `run_rows`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, update

from mloop.entities import (
    LifecycleStage,
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
from mloop.entities.clock import now_ms
from mloop.entities.validation import (
    validate_experiment_id,
    validate_name,
    validate_run_id,
)
from mloop.errors import (
    ExperimentNotFoundError,
    InvalidInputError,
    RunNotActiveError,
    RunNotFoundError,
)
from mloop.storage.sql import history, schema
from mloop.storage.sql.audit import append_event
from mloop.storage.sql.batches import (
    BatchWriter,
    end_values,
    link_artifacts,
    lookup_run,
)
from mloop.storage.sql.engine import (
    read_transaction,
    single_write,
    with_retries,
    write_transaction,
)
from mloop.storage.sql.run_rows import RUN_BY_UUID, load_runs
from mloop.storage.sql.run_writes import (
    ACTIVE_EXPERIMENT_LOCATION,
    END_RUN,
    INSERT_RUN,
    start_values,
    validate_batch,
    validate_run_input,
)
from mloop.storage.sql.search import (
    RUN_WIDTH,
    decode_token,
    encode_token,
    page_rows,
    query_fingerprint,
    search_plan,
)
from mloop.storage.sql.whole_run import write_whole_run

_runs = schema.runs
_tags = schema.tags

MAX_SEARCH_RESULTS = 50_000


class SqlRunStore:
    """Runs in a SQLite or PostgreSQL database.

    Args:
        engine: the database engine.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = BatchWriter(engine)

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
        """Create a run, or return it unchanged when a run with this id exists (a retry).

        Args:
            experiment_id: the experiment.
            run_id: a client-chosen id (32 hex); a new one when omitted.
            run_name: the run's name.
            start_time_ms: when it started (default now).
            user_id: who runs it.
            parent_run_id: the parent of a nested run.
            tags: tags set in the same transaction.
            share_artifacts: `(run id, folder)`: the new run's artifacts get that run's files
                under the folder, by digest (no bytes are copied), in the same transaction.
                The client links the environment files it recorded once per process this way.

        Raises:
            ExperimentNotFoundError: the experiment does not exist or is deleted.
            InvalidInputError: the run id, name or shared folder is malformed.
            RunNotFoundError: the run named by `share_artifacts` does not exist.
        """
        run_uuid = validate_run_id(run_id) if run_id is not None else uuid.uuid4().hex
        start = RunStart(
            experiment_id,
            run_name,
            start_time_ms if start_time_ms is not None else now_ms(),
            user_id,
            parent_run_id,
            share_artifacts,
        )
        values, shared = start_values(run_uuid, start)

        def run() -> Run | None:
            with write_transaction(self._engine) as conn:
                inserted = self._insert(conn, values, shared, tags)
                if inserted is None:
                    return None  # a retry of a create that committed: read it back below
            return Run(
                run_id=run_uuid,
                experiment_id=str(values["b_experiment_id"]),
                run_name=run_name,
                status=RunStatus.RUNNING,
                start_time_ms=start.start_time_ms,
                end_time_ms=None,
                lifecycle_stage=LifecycleStage.ACTIVE,
                artifact_uri=inserted[1],
                user_id=user_id,
                parent_run_id=parent_run_id,
                tags={t.key: t.value for t in tags},
            )

        created = with_retries(run, what=f"creating run {run_uuid}")
        return created if created is not None else self.get(run_uuid)

    def _insert(
        self,
        conn: Connection,
        values: dict[str, Any],
        shared: tuple[str, str] | None,
        tags: Sequence[RunTag],
    ) -> tuple[int, str] | None:
        """Insert a run with its tags and shared files; its key and artifact URI.

        None when the run exists (a retried create).

        Raises:
            ExperimentNotFoundError: the experiment does not exist or is deleted.
        """
        # One statement inserts the run if its experiment is active and builds its artifact
        # URI from the experiment's location.
        inserted = INSERT_RUN.execute(conn, values)
        if not inserted:
            experiment_pk = values["b_experiment_id"]
            active = conn.execute(
                ACTIVE_EXPERIMENT_LOCATION, {"experiment_id": experiment_pk}
            ).first()
            if active is None:
                raise ExperimentNotFoundError(str(experiment_pk))
            return None
        pk, uri = inserted[0]
        if tags:
            self._writer.write(conn, int(pk), values["b_run_uuid"], tags=tags)
        if shared is not None:
            link_artifacts(conn, values["b_run_uuid"], *shared)
        return int(pk), uri

    def get(self, run_id: str) -> Run:
        """The run with everything logged to it.

        Raises:
            RunNotFoundError: no such run.
        """
        validate_run_id(run_id)
        with read_transaction(self._engine) as conn:
            row = conn.execute(RUN_BY_UUID, {"run_uuid": run_id}).one_or_none()
            if row is None:
                raise RunNotFoundError(run_id)
            return load_runs(conn, [row])[0]

    def update(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time_ms: int | None = None,
        run_name: str | None = None,
    ) -> None:
        """Change a run's status, end time or name (`get` reads the result).

        A terminal status without an end time ends the run now; RUNNING clears the end time
        (a resumed run).

        Raises:
            RunNotFoundError: no such run.
        """
        validate_run_id(run_id)
        values: dict[str, Any] = {}
        if run_name is not None:
            values["name"] = validate_name(run_name, kind="run")
        if status is not None:
            values["status"] = RunStatus(status).value
            if RunStatus(status).is_terminal:
                values["end_time"] = end_time_ms if end_time_ms is not None else now_ms()
            else:
                values["end_time"] = None
        elif end_time_ms is not None:
            values["end_time"] = end_time_ms
        if values:
            self._update_row(run_id, values)

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Write metrics, params and tags in one transaction; re-sending the same batch is a no-op.

        Keys and lengths are checked (as at the client's and the server's edge).

        Raises:
            RunNotFoundError: no such run.
            RunNotActiveError: the run is deleted.
            ParamConflictError: a param exists with another value; nothing of the batch is written.
        """
        if not (metrics or params or tags):
            return
        validate_batch(metrics, params, tags)

        def run() -> dict[str, int]:
            with write_transaction(self._engine) as conn:
                found = lookup_run(conn, run_id)
                if found is None:
                    raise RunNotFoundError(run_id)
                return self._writer.write(
                    conn, found, run_id, metrics=metrics, params=params, tags=tags
                )

        self._writer.remember_keys(with_retries(run, what=f"logging to run {run_id}"))

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
        """End a run: write its last batch and set its end status and time in one transaction.

        Either both are stored or neither is, so a client acknowledges the end of a run with a
        single commit. Re-sending the same call is harmless.

        Args:
            run_id: the run.
            status: FINISHED, FAILED or KILLED.
            end_time_ms: when it ended (default now).
            metrics: the last metric points.
            params: the last params.
            tags: the last tags (with `start`: also the tags it was created with).
            start: create the run from this first, in the same transaction, when it does not
                exist (a client that deferred the create); ignored when it exists.

        Raises:
            RunNotFoundError: no such run (without `start`), or the run named by
                `start.share_artifacts` does not exist.
            ExperimentNotFoundError: `start` names a missing or deleted experiment.
            RunNotActiveError: the run is deleted and the batch is not empty (a deleted run
                can still be ended with an empty batch, as with `update`).
            ParamConflictError: a param exists with another value; nothing is written.
            InvalidInputError: the status is not terminal, or a key or value is malformed.
        """
        end = {f"b_{k}": v for k, v in end_values(status, end_time_ms).items()}
        validate_run_id(run_id)
        validate_batch(metrics, params, tags)
        has_batch = bool(metrics or params or tags)
        creating = None if start is None else start_values(run_id, start)
        if creating is not None and self._engine.dialect.name == "postgresql":

            def whole() -> bool:
                with single_write(self._engine) as conn:
                    return write_whole_run(
                        conn,
                        self._writer,
                        {**creating[0], **end},
                        creating[1],
                        (metrics, params, tags),
                    )

            # One statement, one round trip; when it writes nothing (the run exists, or the
            # insert would fail), the transaction below finds out why.
            if with_retries(whole, what=f"ending run {run_id}"):
                return

        def run() -> dict[str, int]:
            with write_transaction(self._engine) as conn:
                if creating is not None:
                    # Inserted already ended: no second statement for the end.
                    inserted = self._insert(conn, {**creating[0], **end}, creating[1], ())
                    if inserted is not None:
                        return self._writer.write(
                            conn, inserted[0], run_id, metrics=metrics, params=params, tags=tags
                        )
                # Ending first finds the run too: one statement fewer than a lookup.
                ended = END_RUN.execute(conn, {"b_run_uuid": run_id, **end})
                if not ended:
                    raise RunNotFoundError(run_id)
                pk, stage = ended[0]
                if has_batch and stage != LifecycleStage.ACTIVE.value:
                    raise RunNotActiveError(run_id, "deleted")  # rolls the end back too
                return self._writer.write(
                    conn, int(pk), run_id, metrics=metrics, params=params, tags=tags
                )

        self._writer.remember_keys(with_retries(run, what=f"ending run {run_id}"))

    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        """Record datasets a run consumed; recording the same one again is a no-op.

        Raises:
            RunNotFoundError: no such run.
            InvalidInputError: a field is too long for its column or holds a NUL character.
        """
        for item in inputs:
            validate_run_input(item)

        def run() -> None:
            with write_transaction(self._engine) as conn:
                found = lookup_run(conn, run_id)
                if found is None:
                    raise RunNotFoundError(run_id)
                self._writer.write_inputs(conn, found, inputs)

        with_retries(run, what=f"logging inputs of run {run_id}")

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag.

        Raises:
            RunNotFoundError: no such run.
            InvalidInputError: the run has no such tag.
        """

        def run() -> None:
            with write_transaction(self._engine) as conn:
                found = lookup_run(conn, run_id)
                if found is None:
                    raise RunNotFoundError(run_id)
                gone = conn.execute(
                    _tags.delete().where(_tags.c.run_id == found, _tags.c.key == key)
                ).rowcount
                if gone == 0:
                    raise InvalidInputError(f"run {run_id} has no tag {key!r}", field=key)

        with_retries(run, what=f"deleting tag {key!r} of run {run_id}")

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of one metric, by step then timestamp (points sent twice appear once).

        Raises:
            RunNotFoundError: no such run.
        """
        return history.read_points(self._engine, run_id, key)

    def get_metric_history_columns(self, run_id: str, key: str) -> MetricHistory:
        """Every point of one metric as NumPy columns, without building an object per point.

        Raises:
            RunNotFoundError: no such run.
        """
        return history.read_columns(self._engine, run_id, key)

    def delete(self, run_id: str, *, actor: str) -> None:
        """Soft-delete a run (restorable); recorded in the audit log.

        Raises:
            RunNotFoundError: no such run.
        """
        self._set_stage(run_id, LifecycleStage.DELETED, actor=actor)

    def restore(self, run_id: str, *, actor: str) -> None:
        """Undo `delete`; recorded in the audit log.

        Raises:
            RunNotFoundError: no such run.
        """
        self._set_stage(run_id, LifecycleStage.ACTIVE, actor=actor)

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
        """Runs matching a filter, in order, one page at a time.

        Args:
            experiment_ids: experiments to search; None searches all of them.
            filter_string: a filter in the search grammar (`docs/search.md`), e.g.
                "metrics.acc > 0.9 AND params.model = 'rf'".
            order_by: clauses such as "metrics.acc DESC"; default newest first. Runs lacking
                a key sort last.
            params: shorthand for `params.KEY = 'VALUE'` conditions.
            tags: shorthand for `tags.KEY = 'VALUE'` conditions.
            status: shorthand for `attributes.status = 'STATUS'`.
            include_deleted: also return soft-deleted runs.
            max_results: page size; the page's `next_page_token` says whether more exist.
            page_token: the `next_page_token` of the previous page of the same search.

        Returns:
            The page of runs with `next_page_token` (None on the last page).

        Raises:
            InvalidFilterError: the filter, order or page token is malformed.
            InvalidInputError: max_results is out of range.
        """
        if not 1 <= max_results <= MAX_SEARCH_RESULTS:
            raise InvalidInputError(
                f"max_results must be between 1 and {MAX_SEARCH_RESULTS}, got {max_results}",
                field="max_results",
            )
        ids = (
            None if experiment_ids is None else [validate_experiment_id(e) for e in experiment_ids]
        )
        request = (filter_string, order_by, params, tags, status, include_deleted)
        plan = search_plan(ids, request)
        fingerprint = query_fingerprint(
            ids, filter_string, list(order_by or ()), params, tags, status, include_deleted
        )
        last = decode_token(page_token, fingerprint, plan.sort) if page_token else None
        with read_transaction(self._engine) as conn:
            rows = page_rows(conn, plan, last=last, max_results=max_results)
            page = rows[:max_results]
            runs = load_runs(conn, [row[:RUN_WIDTH] for row in page])
        token = None
        if len(rows) > max_results:
            sort_values = page[-1][RUN_WIDTH:]
            token = encode_token(list(sort_values), fingerprint)
        return RunPage(runs, token)

    def _set_stage(self, run_id: str, stage: LifecycleStage, *, actor: str) -> None:
        deleted = stage is LifecycleStage.DELETED

        def run() -> None:
            with write_transaction(self._engine) as conn:
                changed = conn.execute(
                    update(_runs)
                    .where(_runs.c.run_uuid == run_id)
                    .values(lifecycle_stage=stage.value, deleted_time=now_ms() if deleted else None)
                ).rowcount
                if changed == 0:
                    raise RunNotFoundError(run_id)
                action = "run.delete" if deleted else "run.restore"
                append_event(conn, actor=actor, action=action, entity=("run", run_id))

        validate_run_id(run_id)
        with_retries(run, what=f"setting run {run_id} to {stage.value}")

    def _update_row(self, run_id: str, values: dict[str, Any]) -> None:
        def run() -> None:
            with write_transaction(self._engine) as conn:
                # A deleted run may still be ended: its status stays true to what happened.
                if lookup_run(conn, run_id, allow_deleted=True) is None:
                    raise RunNotFoundError(run_id)
                conn.execute(update(_runs).where(_runs.c.run_uuid == run_id).values(**values))

        with_retries(run, what=f"updating run {run_id}")
