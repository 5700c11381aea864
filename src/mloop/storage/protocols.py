"""The narrow store protocols, one per aggregate, that the SQL and REST stores implement."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from mloop.artifacts import BlobStore, Progress
from mloop.artifacts.paths import ArtifactEntry, ArtifactInfo
from mloop.entities import (
    Approval,
    AuditEvent,
    Experiment,
    Metric,
    MetricHistory,
    ModelVersion,
    ModelVersionPage,
    Param,
    RegisteredModel,
    RegisteredModelPage,
    Run,
    RunInput,
    RunPage,
    RunStart,
    RunStatus,
    RunTag,
)
from mloop.entities.audit import AuditVerification
from mloop.entities.auth import ApiToken, IssuedToken, Role, User
from mloop.entities.datasets import (
    Dataset,
    DatasetVersion,
    LineageRun,
    ManifestEntry,
    NewVersion,
)
from mloop.entities.deployments import Deployment, DeploymentRevision, Route, Target
from mloop.entities.gates import Override, StoredValidation
from mloop.entities.logged_models import (
    LoggedModel,
    LoggedModelLink,
    LoggedModelMetric,
    LoggedModelPage,
    LoggedModelStatus,
)


class ExperimentStore(Protocol):
    """Experiments: create, read, rename, soft-delete."""

    def create(
        self,
        name: str,
        *,
        artifact_location: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> Experiment: ...
    def get(self, experiment_id: str) -> Experiment: ...
    def get_by_name(self, name: str) -> Experiment: ...
    def find_by_name(self, name: str) -> Experiment | None: ...
    def list(self, *, include_deleted: bool = False) -> list[Experiment]: ...
    def rename(self, experiment_id: str, new_name: str) -> Experiment: ...
    def delete(self, experiment_id: str) -> None: ...
    def restore(self, experiment_id: str) -> None: ...
    def set_tag(self, experiment_id: str, key: str, value: str) -> None: ...
    def delete_tag(self, experiment_id: str, key: str) -> None: ...


class RunStore(Protocol):
    """Runs: lifecycle, batched logging, history and search."""

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
    ) -> Run: ...
    def get(self, run_id: str) -> Run: ...
    def update(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time_ms: int | None = None,
        run_name: str | None = None,
    ) -> None: ...
    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None: ...
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
    ) -> None: ...
    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None: ...
    def delete_tag(self, run_id: str, key: str) -> None: ...
    def get_metric_history(self, run_id: str, key: str) -> list[Metric]: ...
    def get_metric_history_columns(self, run_id: str, key: str) -> MetricHistory: ...
    def delete(self, run_id: str, *, actor: str) -> None: ...
    def restore(self, run_id: str, *, actor: str) -> None: ...
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
    ) -> RunPage: ...


def create_started(
    runs: RunStore, start: RunStart, *, run_id: str | None = None, tags: Sequence[RunTag] = ()
) -> Run:
    """Create the run `start` describes (`RunStore.create` with its fields).

    Raises:
        ExperimentNotFoundError: the experiment does not exist or is deleted.
        InvalidInputError: the run id, name or shared folder is malformed.
        RunNotFoundError: the run named by `start.share_artifacts` does not exist.
    """
    return runs.create(
        start.experiment_id,
        run_id=run_id,
        run_name=start.run_name,
        start_time_ms=start.start_time_ms,
        user_id=start.user_id,
        parent_run_id=start.parent_run_id,
        tags=tags,
        share_artifacts=start.share_artifacts,
    )


class AuditStore(Protocol):
    """The append-only audit log."""

    def append(
        self,
        *,
        actor: str,
        action: str,
        entity: tuple[str, str],
        details: dict[str, Any] | None = None,
    ) -> AuditEvent: ...
    def list(
        self, *, entity: tuple[str, str] | None = None, limit: int | None = None
    ) -> list[AuditEvent]: ...
    def verify(self, *, expect_head: str | None = None) -> AuditVerification: ...


class ModelRegistryStore(Protocol):
    """Registered models, their versions, aliases, approvals; every change is audited."""

    def create_model(
        self,
        name: str,
        *,
        actor: str,
        description: str = "",
        tags: dict[str, str] | None = None,
    ) -> RegisteredModel: ...
    def get_model(self, name: str) -> RegisteredModel: ...
    def find_model(self, name: str) -> RegisteredModel | None: ...
    def update_model(self, name: str, *, actor: str, description: str) -> RegisteredModel: ...
    def rename_model(self, name: str, new_name: str, *, actor: str) -> RegisteredModel: ...
    def delete_model(self, name: str, *, actor: str, force: bool = False) -> None: ...
    def search_models(
        self,
        filter_string: str | None = None,
        *,
        order_by: Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> RegisteredModelPage: ...
    def create_version(
        self,
        name: str,
        source: str,
        *,
        actor: str,
        run_id: str | None = None,
        package_digest: str = "",
        signature: dict[str, Any] | None = None,
        description: str = "",
        tags: dict[str, str] | None = None,
    ) -> ModelVersion: ...
    def get_version(self, name: str, version: int) -> ModelVersion: ...
    def get_latest_version(self, name: str) -> ModelVersion: ...
    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion: ...
    def update_version(
        self, name: str, version: int, *, actor: str, description: str
    ) -> ModelVersion: ...
    def delete_version(
        self, name: str, version: int, *, actor: str, force: bool = False
    ) -> None: ...
    def search_versions(
        self,
        filter_string: str | None = None,
        *,
        order_by: Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> ModelVersionPage: ...
    def set_tag(
        self, name: str, key: str, value: str, *, actor: str, version: int | None = None
    ) -> None: ...
    def delete_tag(
        self, name: str, key: str, *, actor: str, version: int | None = None
    ) -> None: ...
    def set_alias(self, name: str, alias: str, version: int, *, actor: str) -> None: ...
    def override_alias(
        self, name: str, alias: str, version: int, *, actor: str, override: Override
    ) -> int | None: ...
    def delete_alias(self, name: str, alias: str, *, actor: str) -> None: ...
    def set_alias_protection(
        self, name: str, alias: str, *, actor: str, protected: bool = True
    ) -> None: ...
    def approve(self, name: str, version: int, *, actor: str, comment: str = "") -> Approval: ...


class AuthStore(Protocol):
    """Users, API tokens and roles of the tracking server, and credential checks.

    Only database stores have one (`SqlStore.auth`): users are managed on the database the
    server runs on, never through a server.
    """

    def create_user(
        self, name: str, *, role: Role | None, password: str | None = None, actor: str
    ) -> User: ...
    def get_user(self, name: str) -> User: ...
    def list_users(self) -> list[User]: ...
    def set_password(self, name: str, password: str | None, *, actor: str) -> None: ...
    def grant(
        self, name: str, role: Role | None, *, experiment_id: str | None = None, actor: str
    ) -> User: ...
    def delete_user(self, name: str, *, actor: str) -> None: ...
    def create_token(self, user: str, *, name: str = "", actor: str) -> IssuedToken: ...
    def list_tokens(self, *, user: str | None = None) -> list[ApiToken]: ...
    def revoke_token(self, token_id: str, *, actor: str) -> ApiToken: ...
    def find_user_by_token(self, text: str, *, user: str | None = None) -> User | None: ...
    def find_user_by_password(self, name: str, password: str) -> User | None: ...
    def find_experiment_of_run(self, run_id: str) -> str | None: ...


class DatasetStore(Protocol):
    """Datasets: versions with their manifests, aliases, and the runs that used them."""

    def commit_version(
        self,
        name: str,
        new: NewVersion,
        *,
        description: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> tuple[DatasetVersion, bool]: ...
    def get(self, name: str) -> Dataset: ...
    def get_version(self, name: str, version: int) -> DatasetVersion: ...
    def get_latest(self, name: str) -> DatasetVersion: ...
    def get_by_alias(self, name: str, alias: str) -> DatasetVersion: ...
    def find_by_digest(self, digest: str) -> list[DatasetVersion]: ...
    def list_versions(self, name: str) -> list[DatasetVersion]: ...
    def list_files(self, name: str, version: int) -> list[ManifestEntry]: ...
    def set_alias(self, name: str, alias: str, version: int) -> None: ...
    def delete_alias(self, name: str, alias: str) -> None: ...
    def lineage(self, name: str, version: int) -> list[LineageRun]: ...
    def referenced_digests(self) -> set[str]: ...
    def list(self) -> list[Dataset]: ...


class LoggedModelStore(Protocol):
    """MLflow 3 logged models, served by the MLflow-compatible API (`server/mlflow/`)."""

    def create(
        self,
        experiment_id: str,
        *,
        name: str,
        source_run_id: str | None = None,
        model_type: str | None = None,
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> LoggedModel: ...
    def get(self, model_id: str, *, allow_deleted: bool = False) -> LoggedModel: ...
    def finalize(
        self, model_id: str, status: LoggedModelStatus, *, message: str | None = None
    ) -> LoggedModel: ...
    def set_tags(self, model_id: str, tags: Mapping[str, str]) -> None: ...
    def delete_tag(self, model_id: str, key: str) -> None: ...
    def log_params(self, model_id: str, params: Mapping[str, str]) -> None: ...
    def log_metrics(self, model_id: str, metrics: Sequence[LoggedModelMetric]) -> None: ...
    def delete(self, model_id: str) -> None: ...
    def log_links(self, links: Sequence[LoggedModelLink]) -> None: ...
    def links_of(self, run_ids: Iterable[str]) -> dict[str, tuple[LoggedModelLink, ...]]: ...
    def search(
        self,
        experiment_ids: Iterable[str],
        *,
        filter_string: str | None = None,
        order_by: Sequence[tuple[str, bool]] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> LoggedModelPage: ...


class ValidationReportStore(Protocol):
    """Validation reports of model versions (the gates' verdicts; the reports are blobs)."""

    def create(
        self,
        name: str,
        version: int,
        *,
        policy_digest: str,
        inputs_digest: str,
        holdout: str,
        passed: bool,
        gates: dict[str, str],
        report_digest: str,
        html_digest: str,
        actor: str,
    ) -> StoredValidation: ...
    def list(self, name: str, version: int) -> list[StoredValidation]: ...
    def find_latest(self, name: str, version: int) -> StoredValidation | None: ...
    def find_reusable(
        self, name: str, version: int, *, policy_digest: str, inputs_digest: str
    ) -> StoredValidation | None: ...


class ArtifactStore(Protocol):
    """Artifacts by logical path: manifest rows (owner, path) -> blob, bytes in the blob store.

    The owner is a run id, or any other owner id of at most 64 characters: the MLflow-compatible
    API stores the artifacts of MLflow 3 logged models under their model id the same way. Every
    method takes it as its first argument, named `run_id`. `mloop gc` keeps the blobs of every
    owner's manifest and deletes the rows of runs it purges. Callers check that the owner exists.
    Logging a path again replaces its entry; identical bytes are stored once.
    """

    @property
    def blobs(self) -> BlobStore: ...
    def log_file(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> str: ...
    def log_dir(
        self,
        run_id: str,
        local_dir: str | os.PathLike[str],
        artifact_path: str | None = None,
        *,
        progress: Progress | None = None,
    ) -> int: ...
    def write_bytes(self, run_id: str, artifact_file: str, data: bytes) -> str: ...
    def write_stream(
        self, run_id: str, artifact_file: str, chunks: Iterable[bytes]
    ) -> ArtifactEntry: ...
    def record(self, run_id: str, entries: Sequence[ArtifactEntry]) -> None: ...
    def list_files(self, run_id: str, path: str | None = None) -> list[ArtifactEntry]: ...
    def get(self, run_id: str, path: str) -> ArtifactEntry: ...
    def open(self, run_id: str, path: str) -> BinaryIO: ...
    def read_bytes(self, run_id: str, path: str) -> bytes: ...
    def download(
        self,
        run_id: str,
        path: str | None,
        destination: str | os.PathLike[str],
        *,
        link: bool = False,
    ) -> Path: ...
    def delete(self, run_id: str, path: str | None = None) -> int: ...
    def list(self, run_id: str, path: str | None = None) -> list[ArtifactInfo]: ...


class DeploymentStore(Protocol):
    """Deployments: named traffic splits between versions of a model; every change is audited."""

    def create(
        self,
        name: str,
        model: str,
        *,
        routes: Sequence[Route] | Mapping[str, int],
        actor: str,
        shadows: Iterable[Target | str] = (),
        sticky_key: str | None = None,
        description: str = "",
    ) -> Deployment: ...
    def get(self, name: str) -> Deployment: ...
    def find(self, name: str) -> Deployment | None: ...
    def history(self, name: str) -> list[DeploymentRevision]: ...
    def list(self, *, model: str | None = None) -> list[Deployment]: ...
    def update(
        self,
        name: str,
        *,
        actor: str,
        model: str | None = None,
        routes: Sequence[Route] | Mapping[str, int] | None = None,
        shadows: Iterable[Target | str] | None = None,
        sticky_key: str | None = None,
        description: str | None = None,
    ) -> Deployment: ...
    def rollback(
        self,
        name: str,
        *,
        actor: str,
        to_revision: int | None = None,
        from_revision: int | None = None,
    ) -> Deployment: ...
    def delete(self, name: str, *, actor: str) -> None: ...


class Store(Protocol):
    """A whole metadata store: the per-aggregate stores plus its lifecycle."""

    @property
    def url(self) -> str: ...
    @property
    def artifact_root(self) -> str: ...
    @property
    def experiments(self) -> ExperimentStore: ...
    @property
    def runs(self) -> RunStore: ...
    @property
    def audit(self) -> AuditStore: ...
    @property
    def artifacts(self) -> ArtifactStore: ...
    @property
    def datasets(self) -> DatasetStore: ...
    @property
    def registry(self) -> ModelRegistryStore: ...
    @property
    def logged_models(self) -> LoggedModelStore: ...
    @property
    def deployments(self) -> DeploymentStore: ...
    @property
    def validation_reports(self) -> ValidationReportStore: ...

    def after_fork(self) -> None: ...
    def close(self) -> None: ...
