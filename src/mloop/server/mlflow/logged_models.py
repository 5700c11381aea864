"""MLflow 3's logged-model endpoints, which `mlflow.<flavor>.log_model` calls.

The client creates a PENDING model, uploads its files through the artifact proxy, finalizes it
READY and records it as an output of its run; `runs:/<run>/<name>` URIs are resolved by the
client through search (name and source run).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from pydantic import Field

from mloop.entities.logged_models import LoggedModelStatus
from mloop.errors import InvalidInputError
from mloop.server.mlflow.convert import logged_model_json, proxied_uri
from mloop.server.mlflow.routing import (
    KeyValue,
    Message,
    OptionalRunId,
    StoreDep,
    Text250,
    new_router,
)
from mloop.tracking.names import generate_run_name

router = new_router()

MAX_RESULTS = 1000
_STATUS_NUMBERS = {
    "0": LoggedModelStatus.UNSPECIFIED,
    "1": LoggedModelStatus.PENDING,
    "2": LoggedModelStatus.READY,
    "3": LoggedModelStatus.UPLOAD_FAILED,
}


class CreateLoggedModel(Message):
    experiment_id: str
    name: str | None = None
    model_type: Text250 | None = None
    source_run_id: OptionalRunId | None = None
    params: list[KeyValue] = Field(default_factory=list)
    tags: list[KeyValue] = Field(default_factory=list)


class FinalizeLoggedModel(Message):
    status: str | int


class TagsIn(Message):
    tags: list[KeyValue] = Field(default_factory=list)


class ParamsIn(Message):
    params: list[KeyValue] = Field(default_factory=list)


class OrderBy(Message):
    field_name: str
    ascending: bool = True


class SearchLoggedModels(Message):
    experiment_ids: list[str] = Field(default_factory=list)
    filter: str | None = None
    max_results: int | None = None
    order_by: list[OrderBy] = Field(default_factory=list)
    page_token: str | None = None


def _status(value: str | int) -> LoggedModelStatus:
    text = str(value)
    if text in _STATUS_NUMBERS:
        return _STATUS_NUMBERS[text]
    try:
        return LoggedModelStatus(text)
    except ValueError as exc:
        raise InvalidInputError(
            f"Invalid value {value!r} for parameter 'status' supplied: use LOGGED_MODEL_READY, "
            "LOGGED_MODEL_PENDING or LOGGED_MODEL_UPLOAD_FAILED",
            field="status",
        ) from exc


@router.post("/logged-models")
def create_logged_model(body: CreateLoggedModel, store: StoreDep) -> dict[str, Any]:
    """Create a PENDING logged model; answers it with its artifact location."""
    model = store.logged_models.create(
        body.experiment_id,
        name=body.name or generate_run_name(),
        source_run_id=body.source_run_id or None,
        model_type=body.model_type or None,
        params={p.key: p.value for p in body.params},
        tags={t.key: t.value for t in body.tags},
    )
    return {"model": logged_model_json(model, store.artifact_root)}


@router.post("/logged-models/search")
def search_logged_models(body: SearchLoggedModels, store: StoreDep) -> dict[str, Any]:
    """Active logged models of experiments matching a filter, in order, one page at a time."""
    max_results = body.max_results if body.max_results is not None else 100
    if not 1 <= max_results <= MAX_RESULTS:
        raise InvalidInputError(
            f"max_results must be between 1 and {MAX_RESULTS}, got {max_results}",
            field="max_results",
        )
    page = store.logged_models.search(
        body.experiment_ids,
        filter_string=body.filter or None,
        order_by=[(o.field_name, o.ascending) for o in body.order_by],
        max_results=max_results,
        page_token=body.page_token or None,
    )
    answer: dict[str, Any] = {"models": [logged_model_json(m, store.artifact_root) for m in page]}
    if page.next_page_token:
        answer["next_page_token"] = page.next_page_token
    return answer


@router.get("/logged-models/{model_id}")
def get_logged_model(
    model_id: str, store: StoreDep, allow_deleted: Annotated[bool, Query()] = False
) -> dict[str, Any]:
    """One logged model."""
    model = store.logged_models.get(model_id, allow_deleted=allow_deleted)
    return {"model": logged_model_json(model, store.artifact_root)}


@router.patch("/logged-models/{model_id}")
def finalize_logged_model(
    model_id: str, body: FinalizeLoggedModel, store: StoreDep
) -> dict[str, Any]:
    """Set the final status once the files are uploaded."""
    model = store.logged_models.finalize(model_id, _status(body.status))
    return {"model": logged_model_json(model, store.artifact_root)}


@router.delete("/logged-models/{model_id}")
def delete_logged_model(model_id: str, store: StoreDep) -> dict[str, Any]:
    """Soft-delete a logged model."""
    store.logged_models.delete(model_id)
    return {}


@router.patch("/logged-models/{model_id}/tags")
def set_logged_model_tags(model_id: str, body: TagsIn, store: StoreDep) -> dict[str, Any]:
    """Set (or overwrite) tags."""
    store.logged_models.set_tags(model_id, {t.key: t.value for t in body.tags})
    return {}


@router.delete("/logged-models/{model_id}/tags/{tag_key:path}")
def delete_logged_model_tag(model_id: str, tag_key: str, store: StoreDep) -> dict[str, Any]:
    """Remove a tag."""
    store.logged_models.delete_tag(model_id, tag_key)
    return {}


@router.post("/logged-models/{model_id}/params")
def log_logged_model_params(model_id: str, body: ParamsIn, store: StoreDep) -> dict[str, Any]:
    """Add params (immutable once logged)."""
    store.logged_models.log_params(model_id, {p.key: p.value for p in body.params})
    return {}


@router.get("/logged-models/{model_id}/artifacts/directories")
def list_logged_model_artifacts(
    model_id: str, store: StoreDep, artifact_directory_path: Annotated[str, Query()] = ""
) -> dict[str, Any]:
    """A logged model's files directly under a folder, named relative to the model's root."""
    model = store.logged_models.get(model_id)
    files = []
    for info in store.artifacts.list(model.model_id, artifact_directory_path or None):
        entry: dict[str, Any] = {"path": info.path, "is_dir": info.is_dir}
        if info.size_bytes is not None:
            entry["file_size"] = info.size_bytes
        files.append(entry)
    return {"root_uri": proxied_uri(model.artifact_location, store.artifact_root), "files": files}
