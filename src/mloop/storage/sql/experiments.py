"""SQL implementation of the experiment store."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import Engine, bindparam, delete, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mloop.entities import Experiment, LifecycleStage
from mloop.entities.clock import now_ms
from mloop.entities.validation import (
    MAX_ARTIFACT_LOCATION_LENGTH,
    checked_tags,
    validate_experiment_id,
    validate_key,
    validate_name,
    validate_tag_value,
    validate_text,
)
from mloop.errors import (
    ExperimentAlreadyExistsError,
    ExperimentNotFoundError,
    InvalidStateError,
    NotFoundError,
)
from mloop.storage.sql import schema
from mloop.storage.sql.dialect import upsert
from mloop.storage.sql.engine import (
    read_transaction,
    single_read,
    with_retries,
    write_transaction,
)
from mloop.storage.sql.prepared import Prepared

_experiments = schema.experiments
_tags = schema.experiment_tags

# Built once: building a statement costs more than running it (the server reads by id often).
# One statement (one round trip) for an experiment and its tags: a row per tag, or one row with
# NULL tag columns for an experiment without tags.
_BY_ID = (
    select(_experiments, _tags.c.key.label("tag_key"), _tags.c.value.label("tag_value"))
    .select_from(
        _experiments.outerjoin(_tags, _tags.c.experiment_id == _experiments.c.experiment_id)
    )
    .where(_experiments.c.experiment_id == bindparam("id"))
)
# The read behind `GET /api/v1/experiments/{id}`, a server's most common check: on the driver's
# cursor (`prepared.py`), whose rows are plain tuples of `_BY_ID`'s columns.
_GET_BY_ID = Prepared(lambda _dialect: _BY_ID)
_BY_ID_NAMES = tuple(str(column.key) for column in _BY_ID.selected_columns)
_TAG_KEY_AT, _TAG_VALUE_AT = _BY_ID_NAMES.index("tag_key"), _BY_ID_NAMES.index("tag_value")


class SqlExperimentStore:
    """Experiments in a SQLite or PostgreSQL database.

    Args:
        engine: the database engine.
        artifact_root: URI under which new experiments get their artifact location.
    """

    def __init__(self, engine: Engine, *, artifact_root: str) -> None:
        self._engine = engine
        self._artifact_root = artifact_root.rstrip("/")

    def create(
        self,
        name: str,
        *,
        artifact_location: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> Experiment:
        """Create an experiment.

        Raises:
            ExperimentAlreadyExistsError: the name is taken (also by a deleted experiment).
            InvalidInputError: the name, the artifact location or a tag is invalid.
        """
        validate_name(name, kind="experiment")
        if artifact_location is not None:
            validate_text(
                artifact_location,
                what="artifact_location",
                field="artifact_location",
                limit=MAX_ARTIFACT_LOCATION_LENGTH,
            )
        clean_tags = checked_tags(tags)

        def run() -> int:
            with write_transaction(self._engine) as conn:
                existing = conn.execute(
                    select(_experiments.c.lifecycle_stage).where(_experiments.c.name == name)
                ).scalar_one_or_none()
                if existing is not None:
                    raise ExperimentAlreadyExistsError(name, is_deleted=existing == "deleted")
                stamp = now_ms()
                try:
                    new_id = conn.execute(
                        _experiments.insert()
                        .values(
                            name=name,
                            artifact_location=artifact_location or "",
                            lifecycle_stage="active",
                            creation_time=stamp,
                            last_update_time=stamp,
                        )
                        .returning(_experiments.c.experiment_id)
                    ).scalar_one()
                except IntegrityError as exc:  # a concurrent create of the same name won
                    raise ExperimentAlreadyExistsError(name) from exc
                if not artifact_location:
                    conn.execute(
                        update(_experiments)
                        .where(_experiments.c.experiment_id == new_id)
                        .values(artifact_location=f"{self._artifact_root}/{new_id}")
                    )
                if clean_tags:
                    conn.execute(
                        _tags.insert(),
                        [
                            {"experiment_id": new_id, "key": k, "value": v}
                            for k, v in clean_tags.items()
                        ],
                    )
                return int(new_id)

        return self.get(str(with_retries(run, what=f"creating experiment {name!r}")))

    def get(self, experiment_id: str) -> Experiment:
        """The experiment with this id.

        Raises:
            ExperimentNotFoundError: no such experiment.
        """
        numeric = validate_experiment_id(experiment_id)
        with single_read(self._engine) as conn:
            found = _GET_BY_ID.execute(conn, {"id": numeric})
        if not found:
            raise ExperimentNotFoundError(experiment_id)
        tags = {
            row[_TAG_KEY_AT]: row[_TAG_VALUE_AT] for row in found if row[_TAG_KEY_AT] is not None
        }
        return _to_entity(SimpleNamespace(**dict(zip(_BY_ID_NAMES, found[0], strict=True))), tags)

    def find_by_name(self, name: str) -> Experiment | None:
        """The experiment with this name, or None."""
        with read_transaction(self._engine) as conn:
            row = conn.execute(
                select(_experiments).where(_experiments.c.name == name)
            ).one_or_none()
            if row is None:
                return None
            tags = _load_tags(conn, [row.experiment_id]).get(row.experiment_id, {})
            return _to_entity(row, tags)

    def get_by_name(self, name: str) -> Experiment:
        """The experiment with this name.

        Raises:
            ExperimentNotFoundError: no such experiment.
        """
        found = self.find_by_name(name)
        if found is None:
            raise ExperimentNotFoundError(name)
        return found

    def list(self, *, include_deleted: bool = False) -> list[Experiment]:
        """All experiments, by id."""
        query = select(_experiments).order_by(_experiments.c.experiment_id)
        if not include_deleted:
            query = query.where(_experiments.c.lifecycle_stage == "active")
        with read_transaction(self._engine) as conn:
            rows = conn.execute(query).all()
            tags = _load_tags(conn, [r.experiment_id for r in rows])
        return [_to_entity(r, tags.get(r.experiment_id, {})) for r in rows]

    def rename(self, experiment_id: str, new_name: str) -> Experiment:
        """Give an experiment a new name.

        Raises:
            ExperimentNotFoundError: no such experiment.
            ExperimentAlreadyExistsError: the new name is taken.
        """
        validate_name(new_name, kind="experiment")
        numeric = validate_experiment_id(experiment_id)

        def run() -> None:
            with write_transaction(self._engine) as conn:
                taken = conn.execute(
                    select(_experiments.c.experiment_id).where(_experiments.c.name == new_name)
                ).scalar_one_or_none()
                if taken is not None and taken != numeric:
                    raise ExperimentAlreadyExistsError(new_name)
                self._touch(conn, numeric, name=new_name)

        with_retries(run, what=f"renaming experiment {experiment_id}")
        return self.get(experiment_id)

    def delete(self, experiment_id: str) -> None:
        """Soft-delete an experiment; its runs stay and come back with `restore`.

        Raises:
            ExperimentNotFoundError: no such experiment.
            InvalidStateError: it is the default experiment "0", which always exists.
        """
        if experiment_id == "0":
            raise InvalidStateError(
                'the default experiment (id 0, "Default") cannot be deleted; delete its runs '
                "instead, or rename it"
            )
        self._set_stage(experiment_id, LifecycleStage.DELETED)

    def restore(self, experiment_id: str) -> None:
        """Undo `delete`.

        Raises:
            ExperimentNotFoundError: no such experiment.
        """
        self._set_stage(experiment_id, LifecycleStage.ACTIVE)

    def set_tag(self, experiment_id: str, key: str, value: str) -> None:
        """Set (or overwrite) a tag on an experiment.

        Raises:
            ExperimentNotFoundError: no such experiment.
            InvalidInputError: the key or value is invalid.
        """
        validate_key(key, kind="tag")
        text = validate_tag_value(key, value)
        numeric = validate_experiment_id(experiment_id)

        def run() -> None:
            with write_transaction(self._engine) as conn:
                self._touch(conn, numeric)
                conn.execute(
                    upsert(conn, _tags, keys=("experiment_id", "key"), update=("value",)).values(
                        experiment_id=numeric, key=key, value=text
                    )
                )

        with_retries(run, what=f"tagging experiment {experiment_id}")

    def delete_tag(self, experiment_id: str, key: str) -> None:
        """Remove a tag from an experiment.

        Raises:
            ExperimentNotFoundError: no such experiment.
            NotFoundError: the experiment has no tag `key`.
            InvalidInputError: the key is malformed.
        """
        validate_key(key, kind="tag")
        numeric = validate_experiment_id(experiment_id)

        def run() -> None:
            with write_transaction(self._engine) as conn:
                self._touch(conn, numeric)
                gone = conn.execute(
                    delete(_tags).where(_tags.c.experiment_id == numeric, _tags.c.key == key)
                ).rowcount
                if not gone:
                    raise NotFoundError(
                        f"experiment {experiment_id} has no tag {key!r}; "
                        f"`mloop experiments show {experiment_id}` lists its tags"
                    )

        with_retries(run, what=f"removing tag {key!r} of experiment {experiment_id}")

    def _set_stage(self, experiment_id: str, stage: LifecycleStage) -> None:
        numeric = validate_experiment_id(experiment_id)

        def run() -> None:
            with write_transaction(self._engine) as conn:
                self._touch(conn, numeric, lifecycle_stage=stage.value)

        with_retries(run, what=f"setting experiment {experiment_id} to {stage.value}")

    @staticmethod
    def _touch(conn: Connection, experiment_id: int, **values: str) -> None:
        changed = conn.execute(
            update(_experiments)
            .where(_experiments.c.experiment_id == experiment_id)
            .values(last_update_time=now_ms(), **values)
        ).rowcount
        if changed == 0:
            raise ExperimentNotFoundError(str(experiment_id))


def _load_tags(conn: Connection, ids: list[int]) -> dict[int, dict[str, str]]:
    tags: dict[int, dict[str, str]] = {}
    if not ids:
        return tags
    for row in conn.execute(select(_tags).where(_tags.c.experiment_id.in_(ids))):
        tags.setdefault(row.experiment_id, {})[row.key] = row.value
    return tags


def _to_entity(row: object, tags: dict[str, str]) -> Experiment:
    return Experiment(
        experiment_id=str(row.experiment_id),  # type: ignore[attr-defined]
        name=row.name,  # type: ignore[attr-defined]
        artifact_location=row.artifact_location,  # type: ignore[attr-defined]
        lifecycle_stage=LifecycleStage(row.lifecycle_stage),  # type: ignore[attr-defined]
        created_at_ms=row.creation_time,  # type: ignore[attr-defined]
        updated_at_ms=row.last_update_time,  # type: ignore[attr-defined]
        tags=tags,
    )
