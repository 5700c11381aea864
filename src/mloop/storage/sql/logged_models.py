"""SQL implementation of the store of MLflow 3 logged models (the MLflow-compatible API).

Logged models are few per experiment (one per `log_model` call), so search loads an
experiment's models and filters and orders them in memory with the shared filter grammar.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, Row, select, update
from sqlalchemy.engine import Connection

from mloop.entities import LifecycleStage
from mloop.entities.clock import now_ms
from mloop.entities.logged_models import (
    LoggedModel,
    LoggedModelLink,
    LoggedModelMetric,
    LoggedModelPage,
    LoggedModelStatus,
)
from mloop.entities.validation import (
    validate_experiment_id,
    validate_key,
    validate_name,
    validate_param_value,
    validate_tag_value,
)
from mloop.errors import (
    ExperimentNotFoundError,
    InvalidInputError,
    LoggedModelNotFoundError,
    ParamConflictError,
)
from mloop.storage.search.matching import matches
from mloop.storage.search.parser import parse_filter
from mloop.storage.sql import schema
from mloop.storage.sql.dialect import insert_ignore, upsert
from mloop.storage.sql.engine import read_transaction, with_retries, write_transaction
from mloop.storage.sql.logged_model_search import (
    SEARCHABLE,
    decode_token,
    encode_token,
    lookup,
    ordered,
)
from mloop.storage.sql.schema_logged_models import (
    logged_model_links,
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
)

_models = logged_models
_experiments = schema.experiments

MAX_SEARCH_RESULTS = 1000


class SqlLoggedModelStore:
    """Logged models in a SQLite or PostgreSQL database.

    Args:
        engine: the database engine.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(
        self,
        experiment_id: str,
        *,
        name: str,
        source_run_id: str | None = None,
        model_type: str | None = None,
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> LoggedModel:
        """Create a PENDING logged model; its files go under `<experiment>/models/<id>/artifacts`.

        Raises:
            ExperimentNotFoundError: the experiment does not exist or is deleted.
            InvalidInputError: the name, a param or a tag is invalid.
        """
        validate_name(name, kind="logged model")
        numeric = validate_experiment_id(experiment_id)
        clean_params = _clean(params, kind="param")
        clean_tags = _clean(tags, kind="tag")
        model_id = f"m-{uuid.uuid4().hex}"

        def run() -> None:
            with write_transaction(self._engine) as conn:
                location = conn.execute(
                    select(_experiments.c.artifact_location).where(
                        _experiments.c.experiment_id == numeric,
                        _experiments.c.lifecycle_stage == "active",
                    )
                ).scalar_one_or_none()
                if location is None:
                    raise ExperimentNotFoundError(experiment_id)
                stamp = now_ms()
                conn.execute(
                    _models.insert().values(
                        model_id=model_id,
                        experiment_id=numeric,
                        name=name,
                        artifact_location=f"{location.rstrip('/')}/models/{model_id}/artifacts",
                        creation_time=stamp,
                        last_updated_time=stamp,
                        status=LoggedModelStatus.PENDING.value,
                        lifecycle_stage=LifecycleStage.ACTIVE.value,
                        source_run_id=source_run_id,
                        model_type=model_type,
                    )
                )
                _write_pairs(conn, logged_model_params, model_id, clean_params)
                _write_pairs(conn, logged_model_tags, model_id, clean_tags)

        with_retries(run, what=f"creating logged model {name!r}")
        return self.get(model_id)

    def get(self, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
        """The logged model with this id.

        Raises:
            LoggedModelNotFoundError: no such model (or it is deleted and not allowed).
        """
        with read_transaction(self._engine) as conn:
            row = conn.execute(select(_models).where(_models.c.model_id == model_id)).one_or_none()
            if row is None or (row.lifecycle_stage == "deleted" and not allow_deleted):
                raise LoggedModelNotFoundError(model_id)
            return _load(conn, [row])[0]

    def finalize(
        self, model_id: str, status: LoggedModelStatus, *, message: str | None = None
    ) -> LoggedModel:
        """Set the model's final status (READY or UPLOAD_FAILED).

        Raises:
            LoggedModelNotFoundError: no such model.
        """
        self._touch(model_id, status=LoggedModelStatus(status).value, status_message=message)
        return self.get(model_id)

    def set_tags(self, model_id: str, tags: Mapping[str, str]) -> None:
        """Set (or overwrite) tags.

        Raises:
            LoggedModelNotFoundError: no such model.
            InvalidInputError: a key or value is invalid.
        """
        clean_tags = _clean(tags, kind="tag")

        def run() -> None:
            with write_transaction(self._engine) as conn:
                _touch(conn, model_id)
                for key, value in clean_tags.items():
                    conn.execute(
                        upsert(
                            conn, logged_model_tags, keys=("model_id", "key"), update=("value",)
                        ).values(model_id=model_id, key=key, value=value)
                    )

        with_retries(run, what=f"tagging logged model {model_id}")

    def delete_tag(self, model_id: str, key: str) -> None:
        """Remove a tag.

        Raises:
            LoggedModelNotFoundError: no such model, or it has no such tag.
        """
        table = logged_model_tags

        def run() -> None:
            with write_transaction(self._engine) as conn:
                _touch(conn, model_id)
                gone = conn.execute(
                    table.delete().where(table.c.model_id == model_id, table.c.key == key)
                ).rowcount
                if gone == 0:
                    raise LoggedModelNotFoundError(f"{model_id} (tag {key!r})")

        with_retries(run, what=f"deleting tag {key!r} of logged model {model_id}")

    def log_params(self, model_id: str, params: Mapping[str, str]) -> None:
        """Add params; logging the same value again is a no-op.

        Raises:
            LoggedModelNotFoundError: no such model.
            ParamConflictError: a param exists with another value.
        """
        clean_params = _clean(params, kind="param")

        def run() -> None:
            with write_transaction(self._engine) as conn:
                _touch(conn, model_id)
                table = logged_model_params
                old = dict(
                    conn.execute(
                        select(table.c.key, table.c.value).where(table.c.model_id == model_id)
                    ).all()
                )
                for key, value in clean_params.items():
                    if key in old and old[key] != value:
                        raise ParamConflictError(model_id, key, old[key], value)
                _write_pairs(conn, table, model_id, clean_params)

        with_retries(run, what=f"logging params of logged model {model_id}")

    def log_metrics(self, model_id: str, metrics: Sequence[LoggedModelMetric]) -> None:
        """Record metric points against a model; a point sent twice is stored once.

        Raises:
            LoggedModelNotFoundError: no such model.
        """
        if not metrics:
            return
        rows = [_metric_row(model_id, m) for m in metrics]

        def run() -> None:
            with write_transaction(self._engine) as conn:
                _touch(conn, model_id)
                conn.execute(insert_ignore(conn, logged_model_metrics), rows)

        with_retries(run, what=f"logging metrics of logged model {model_id}")

    def delete(self, model_id: str) -> None:
        """Soft-delete a logged model.

        Raises:
            LoggedModelNotFoundError: no such model.
        """
        self._touch(model_id, lifecycle_stage=LifecycleStage.DELETED.value)

    def log_links(self, links: Sequence[LoggedModelLink]) -> None:
        """Record runs' model inputs and outputs; recording one again is a no-op.

        Raises:
            LoggedModelNotFoundError: a model does not exist.
        """
        if not links:
            return

        def run() -> None:
            with write_transaction(self._engine) as conn:
                for model_id in {link.model_id for link in links}:
                    _touch(conn, model_id)
                conn.execute(
                    insert_ignore(conn, logged_model_links),
                    [
                        {
                            "run_id": x.run_id,
                            "model_id": x.model_id,
                            "is_output": x.is_output,
                            "step": x.step,
                        }
                        for x in links
                    ],
                )

        with_retries(run, what="linking runs to logged models")

    def links_of(self, run_ids: Iterable[str]) -> dict[str, tuple[LoggedModelLink, ...]]:
        """The model inputs and outputs of runs, by run id (runs without any are absent)."""
        ids = list(run_ids)
        table = logged_model_links
        found: dict[str, list[LoggedModelLink]] = {}
        with read_transaction(self._engine) as conn:
            rows = conn.execute(select(table).where(table.c.run_id.in_(ids))).all()
        for run_id, model_id, is_output, step in rows:
            found.setdefault(run_id, []).append(
                LoggedModelLink(run_id, model_id, bool(is_output), step)
            )
        return {k: tuple(sorted(v, key=lambda x: x.model_id)) for k, v in found.items()}

    def search(
        self,
        experiment_ids: Iterable[str],
        *,
        filter_string: str | None = None,
        order_by: Sequence[tuple[str, bool]] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> LoggedModelPage:
        """Active logged models of experiments that match a filter, in order, one page at a time.

        Args:
            experiment_ids: the experiments to search.
            filter_string: e.g. "name = 'model' AND metrics.acc > 0.9"; attributes are name,
                model_id, model_type, status, source_run_id, creation_timestamp and
                last_updated_timestamp.
            order_by: (field, ascending) pairs such as ("metrics.acc", False); default newest
                first.
            max_results: page size, at most 1000.
            page_token: the `next_page_token` of the previous page of the same search.

        Raises:
            InvalidFilterError: the filter, order or page token is malformed.
            InvalidInputError: max_results is out of range.
        """
        if not 1 <= max_results <= MAX_SEARCH_RESULTS:
            raise InvalidInputError(
                f"max_results must be between 1 and {MAX_SEARCH_RESULTS}, got {max_results}",
                field="max_results",
            )
        ids = [validate_experiment_id(e) for e in experiment_ids]
        node = parse_filter(filter_string, searchable=SEARCHABLE)
        fingerprint = json.dumps([sorted(ids), filter_string, list(order_by)])
        offset = decode_token(page_token, fingerprint) if page_token else 0
        with read_transaction(self._engine) as conn:
            rows = conn.execute(
                select(_models).where(
                    _models.c.experiment_id.in_(ids), _models.c.lifecycle_stage == "active"
                )
            ).all()
            models = _load(conn, rows)
        hits = [m for m in models if matches(node, lookup(m))]
        hits = ordered(hits, order_by)
        page = hits[offset : offset + max_results]
        more = offset + max_results < len(hits)
        token = encode_token(offset + max_results, fingerprint) if more else None
        return LoggedModelPage(page, token)

    def _touch(self, model_id: str, **values: str | None) -> None:
        def run() -> None:
            with write_transaction(self._engine) as conn:
                _touch(conn, model_id, **values)

        with_retries(run, what=f"updating logged model {model_id}")


def _touch(conn: Connection, model_id: str, **values: str | None) -> None:
    changed = conn.execute(
        update(_models)
        .where(_models.c.model_id == model_id, _models.c.lifecycle_stage == "active")
        .values(last_updated_time=now_ms(), **values)
    ).rowcount
    if changed == 0:
        raise LoggedModelNotFoundError(model_id)


def _clean(items: Mapping[str, str] | None, *, kind: str) -> dict[str, str]:
    check = validate_param_value if kind == "param" else validate_tag_value
    return {validate_key(k, kind=kind): check(k, v) for k, v in (items or {}).items()}


def _write_pairs(conn: Connection, table: Any, model_id: str, items: dict[str, str]) -> None:
    if items:
        conn.execute(
            insert_ignore(conn, table),
            [{"model_id": model_id, "key": k, "value": v} for k, v in items.items()],
        )


def _metric_row(model_id: str, metric: LoggedModelMetric) -> dict[str, Any]:
    validate_key(metric.key, kind="metric")
    is_nan = math.isnan(metric.value)
    return {
        "model_id": model_id,
        "key": metric.key,
        "timestamp": metric.timestamp_ms,
        "step": metric.step,
        "run_id": metric.run_id,
        "dataset_name": metric.dataset_name,
        "dataset_digest": metric.dataset_digest,
        "value": 0.0 if is_nan else metric.value,
        "is_nan": is_nan,
    }


def _load(conn: Connection, rows: Sequence[Row[Any]]) -> list[LoggedModel]:
    ids = [row.model_id for row in rows]
    params: dict[str, dict[str, str]] = {i: {} for i in ids}
    tags: dict[str, dict[str, str]] = {i: {} for i in ids}
    metrics: dict[str, list[LoggedModelMetric]] = {i: [] for i in ids}
    for table, target in ((logged_model_params, params), (logged_model_tags, tags)):
        query = select(table.c.model_id, table.c.key, table.c.value)
        for model_id, key, value in conn.execute(query.where(table.c.model_id.in_(ids))):
            target[model_id][key] = value
    table = logged_model_metrics
    query = select(table).where(table.c.model_id.in_(ids)).order_by(table.c.step, table.c.timestamp)
    for row in conn.execute(query):
        metrics[row.model_id].append(
            LoggedModelMetric(
                key=row.key,
                value=math.nan if row.is_nan else row.value,
                timestamp_ms=row.timestamp,
                step=row.step,
                run_id=row.run_id,
                dataset_name=row.dataset_name,
                dataset_digest=row.dataset_digest,
            )
        )
    return [
        LoggedModel(
            model_id=row.model_id,
            experiment_id=str(row.experiment_id),
            name=row.name,
            artifact_location=row.artifact_location,
            created_at_ms=row.creation_time,
            updated_at_ms=row.last_updated_time,
            status=LoggedModelStatus(row.status),
            lifecycle_stage=LifecycleStage(row.lifecycle_stage),
            source_run_id=row.source_run_id,
            model_type=row.model_type,
            status_message=row.status_message,
            params=params[row.model_id],
            tags=tags[row.model_id],
            metrics=tuple(metrics[row.model_id]),
        )
        for row in rows
    ]
