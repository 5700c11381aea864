"""What `mloop import-mlflow` reads from an MLflow tracking store, whatever kind it is.

`MlflowSource` is the narrow reading protocol; `storage/sql/mlflow_reader.py` implements it over
an MLflow database (SQLite or PostgreSQL, read-only) and `storage/mlflow_rest.py` over an MLflow
tracking server's REST API; `open_mlflow_source` picks one by URI. Records use MLflow's own ids
and units (milliseconds).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from mloop.entities import Metric, RunInput


@dataclass(frozen=True, slots=True)
class MlflowExperiment:
    """An MLflow experiment.

    Attributes:
        experiment_id: MLflow's id ("0" is its Default experiment).
        name: its name.
        is_deleted: True when its lifecycle stage is "deleted".
        tags: experiment tags.
    """

    experiment_id: str
    name: str
    is_deleted: bool = False
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MlflowRun:
    """An MLflow run with its params and tags (metrics are read per run, they can be many).

    Attributes:
        run_id: 32 hex characters, kept as the mloop run id.
        experiment_id: MLflow's experiment id.
        name: the run name ("" when MLflow has none).
        user_id: who ran it.
        status: RUNNING, SCHEDULED, FINISHED, FAILED or KILLED.
        start_time_ms: start time.
        end_time_ms: end time, None while running.
        is_deleted: True when its lifecycle stage is "deleted".
        artifact_uri: where MLflow keeps its artifacts.
        params: params.
        tags: tags (MLflow's system tags `mlflow.*` included).
    """

    run_id: str
    experiment_id: str
    name: str
    user_id: str
    status: str
    start_time_ms: int
    end_time_ms: int | None
    is_deleted: bool
    artifact_uri: str
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MlflowModelVersion:
    """A version of an MLflow registered model.

    Attributes:
        version: its number.
        source: the model's location as MLflow recorded it.
        run_id: the run that produced it, when known.
        description: free text.
        tags: version tags.
    """

    version: int
    source: str
    run_id: str | None = None
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MlflowModel:
    """An MLflow registered model with its versions and aliases.

    Attributes:
        name: the model name.
        description: free text.
        tags: model tags.
        versions: versions, by ascending number.
        aliases: alias -> version number.
    """

    name: str
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    versions: tuple[MlflowModelVersion, ...] = ()
    aliases: dict[str, int] = field(default_factory=dict)


class MlflowSource(Protocol):
    """Reads an MLflow tracking store.

    `artifact_dir` gives a local folder holding a run's artifacts: the run's own folder when
    MLflow keeps them on this machine (absent when the run logged none), or a copy downloaded
    into `scratch`; None when they cannot be reached (e.g. a cloud URI), which the importer
    reports.
    """

    @property
    def uri(self) -> str: ...
    def experiments(self) -> list[MlflowExperiment]: ...
    def count_runs(self) -> int: ...
    def runs(self) -> Iterator[MlflowRun]: ...
    def metric_history(self, run_id: str) -> list[Metric]: ...
    def inputs(self, run_id: str) -> list[RunInput]: ...
    def models(self) -> list[MlflowModel]: ...
    def artifact_dir(self, run: MlflowRun, scratch: Path) -> Path | None: ...
    def close(self) -> None: ...


def open_mlflow_source(
    uri: str, *, token: str | None = None, basic_auth: tuple[str, str] | None = None
) -> MlflowSource:
    """The MLflow store a URI names.

    Args:
        uri: a database (`sqlite:///...`, `postgresql://...`) or a tracking server (`http(s)://`).
        token: for a server: sent as a bearer token (`MLFLOW_TRACKING_TOKEN`).
        basic_auth: for a server: (user, password) (`MLFLOW_TRACKING_USERNAME/PASSWORD`).

    Raises:
        ConfigurationError: the URI is not usable or holds no MLflow store.
        StorageError: the database cannot be read.
    """
    if uri.startswith(("http://", "https://")):
        from mloop.storage.mlflow_rest import RestMlflowReader

        return RestMlflowReader(uri, token=token, basic_auth=basic_auth)
    from mloop.storage.sql.mlflow_reader import SqlMlflowReader

    return SqlMlflowReader(uri)
