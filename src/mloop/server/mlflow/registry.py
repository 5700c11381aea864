"""MLflow's model registry endpoints on mloop's registry: models, versions, tags and aliases.

The registry is mloop's own (`store.registry`), so versions registered by an MLflow client show
up in `mloop models` and the other way round; every change lands in the audit log with the
acting user. Stages are deprecated in MLflow and not served; versions are READY once created.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import Field

from mloop.entities import ModelVersion, RegisteredModel
from mloop.errors import InvalidInputError, ModelVersionNotFoundError
from mloop.server.mlflow.convert import key_values, proxied_uri
from mloop.server.mlflow.routing import (
    KeyValue,
    Message,
    OptionalRunId,
    StoreDep,
    actor_of,
    new_router,
)
from mloop.storage import Store

router = new_router()

_LOGGED_MODEL_URI = re.compile(r"^models:/(m-[0-9a-f]{32})$")
_RUNS_URI = re.compile(r"^runs:/([0-9a-f]{32})/?(.*)$")
# MLflow's names for the time attributes, as mloop's registry search calls them.
_TIME_NAMES = re.compile(r"\b(creation|last_updated)_timestamp\b")
# MLflow 3 clients exclude prompts with `tag.X != 'true'`, which MLflow's server reads as "not
# tagged true"; in SQL (and mloop's grammar) `!=` never matches a missing tag, so it is spelled out.
_NOT_PROMPT = re.compile(r"tags?\.`mlflow\.prompt\.is_prompt`\s*!=\s*'true'", re.IGNORECASE)
_NOT_PROMPT_TEXT = (
    "(tags.`mlflow.prompt.is_prompt` IS NULL OR tags.`mlflow.prompt.is_prompt` != 'true')"
)


class ModelIn(Message):
    name: str
    description: str | None = None
    tags: list[KeyValue] = Field(default_factory=list)


class ModelRef(Message):
    name: str


class ModelUpdate(ModelRef):
    description: str | None = None


class ModelTag(ModelRef):
    key: str
    value: str = ""


class AliasIn(ModelRef):
    alias: str
    version: str


class AliasRef(ModelRef):
    alias: str


class VersionIn(Message):
    name: str
    source: str
    run_id: OptionalRunId | None = None
    description: str | None = None
    tags: list[KeyValue] = Field(default_factory=list)
    model_id: str | None = None


class VersionRef(ModelRef):
    version: str


class VersionUpdate(VersionRef):
    description: str | None = None


class VersionTag(VersionRef):
    key: str
    value: str = ""


class LatestVersions(ModelRef):
    stages: list[str] = Field(default_factory=list)


def _number(version: str) -> int:
    if not version.isdigit() or not 0 < int(version) < 2**31:
        raise InvalidInputError(
            f"Invalid value {version!r} for parameter 'version' supplied: it must be a "
            "positive integer",
            field="version",
        )
    return int(version)


def version_json(version: ModelVersion) -> dict[str, Any]:
    """A `ModelVersion` message (always READY, stage "None": stages are deprecated)."""
    answer: dict[str, Any] = {
        "name": version.name,
        "version": str(version.version),
        "creation_timestamp": version.created_at_ms,
        "last_updated_timestamp": version.updated_at_ms,
        "user_id": version.user_id,
        "current_stage": "None",
        "description": version.description,
        "source": version.source,
        "status": "READY",
        "tags": key_values(version.tags),
        "aliases": list(version.aliases),
    }
    if version.run_id:
        answer["run_id"] = version.run_id
    logged = _LOGGED_MODEL_URI.match(version.source)
    if logged:
        answer["model_id"] = logged.group(1)
    return answer


def model_json(store: Store, model: RegisteredModel) -> dict[str, Any]:
    """A `RegisteredModel` message with its latest version."""
    latest = []
    if model.latest_version:
        try:
            latest = [version_json(store.registry.get_latest_version(model.name))]
        except ModelVersionNotFoundError:  # every version was deleted
            latest = []
    return {
        "name": model.name,
        "creation_timestamp": model.created_at_ms,
        "last_updated_timestamp": model.updated_at_ms,
        "description": model.description,
        "tags": key_values(model.tags),
        "aliases": [{"alias": a, "version": str(v)} for a, v in sorted(model.aliases.items())],
        "latest_versions": latest,
    }


def _search_args(
    filter_text: str | None, order_by: list[str] | None
) -> tuple[str | None, list[str] | None]:
    text = _TIME_NAMES.sub(r"\1_time", filter_text) if filter_text else None
    if text:
        text = _NOT_PROMPT.sub(_NOT_PROMPT_TEXT, text)
    order = [_TIME_NAMES.sub(r"\1_time", o) for o in order_by] if order_by else None
    return text, order


# Registered models --------------------------------------------------------------------------


@router.post("/registered-models/create")
def create_model(body: ModelIn, request: Request, store: StoreDep) -> dict[str, Any]:
    """Register a model name."""
    model = store.registry.create_model(
        body.name,
        actor=actor_of(request),
        description=body.description or "",
        tags={t.key: t.value for t in body.tags},
    )
    return {"registered_model": model_json(store, model)}


@router.get("/registered-models/get")
def get_model(name: Annotated[str, Query()], store: StoreDep) -> dict[str, Any]:
    """One registered model."""
    return {"registered_model": model_json(store, store.registry.get_model(name))}


@router.get("/registered-models/search")
def search_models(
    store: StoreDep,
    filter: Annotated[str | None, Query()] = None,
    max_results: Annotated[int, Query()] = 100,
    order_by: Annotated[list[str] | None, Query()] = None,
    page_token: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    """Registered models matching a filter, in order, one page at a time."""
    text, order = _search_args(filter, order_by)
    page = store.registry.search_models(
        text, order_by=order, max_results=max_results, page_token=page_token or None
    )
    answer: dict[str, Any] = {"registered_models": [model_json(store, m) for m in page]}
    if page.next_page_token:
        answer["next_page_token"] = page.next_page_token
    return answer


@router.patch("/registered-models/update")
def update_model(body: ModelUpdate, request: Request, store: StoreDep) -> dict[str, Any]:
    """Change a model's description."""
    model = store.registry.update_model(
        body.name, actor=actor_of(request), description=body.description or ""
    )
    return {"registered_model": model_json(store, model)}


class ModelRename(ModelRef):
    new_name: str


@router.post("/registered-models/rename")
def rename_model(body: ModelRename, request: Request, store: StoreDep) -> dict[str, Any]:
    """Give a model a new name; its versions, aliases and tags stay with it (audited)."""
    model = store.registry.rename_model(body.name, body.new_name, actor=actor_of(request))
    return {"registered_model": model_json(store, model)}


@router.delete("/registered-models/delete")
def delete_model(body: ModelRef, request: Request, store: StoreDep) -> dict[str, Any]:
    """Delete a model with its versions and aliases, as MLflow does."""
    store.registry.delete_model(body.name, actor=actor_of(request), force=True)
    return {}


@router.post("/registered-models/set-tag")
def set_model_tag(body: ModelTag, request: Request, store: StoreDep) -> dict[str, Any]:
    """Set (or overwrite) a model tag."""
    store.registry.set_tag(body.name, body.key, body.value, actor=actor_of(request))
    return {}


@router.delete("/registered-models/delete-tag")
def delete_model_tag(body: ModelTag, request: Request, store: StoreDep) -> dict[str, Any]:
    """Remove a model tag."""
    store.registry.delete_tag(body.name, body.key, actor=actor_of(request))
    return {}


@router.post("/registered-models/alias")
def set_alias(body: AliasIn, request: Request, store: StoreDep) -> dict[str, Any]:
    """Point an alias at a version (protected aliases need an approved version)."""
    store.registry.set_alias(body.name, body.alias, _number(body.version), actor=actor_of(request))
    return {}


@router.delete("/registered-models/alias")
def delete_alias(body: AliasRef, request: Request, store: StoreDep) -> dict[str, Any]:
    """Remove an alias."""
    store.registry.delete_alias(body.name, body.alias, actor=actor_of(request))
    return {}


@router.get("/registered-models/alias")
def get_version_by_alias(
    name: Annotated[str, Query()], alias: Annotated[str, Query()], store: StoreDep
) -> dict[str, Any]:
    """The version an alias points at."""
    return {"model_version": version_json(store.registry.get_version_by_alias(name, alias))}


@router.get("/registered-models/get-latest-versions")
def get_latest_versions_get(
    name: Annotated[str, Query()],
    store: StoreDep,
    stages: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    """The GET form of get-latest-versions."""
    return get_latest_versions(LatestVersions(name=name, stages=stages or []), store)


@router.post("/registered-models/get-latest-versions")
def get_latest_versions(body: LatestVersions, store: StoreDep) -> dict[str, Any]:
    """The latest version (stages are deprecated: every version is in stage "None")."""
    model = store.registry.get_model(body.name)
    if (body.stages and "None" not in body.stages) or not model.latest_version:
        return {"model_versions": []}
    return {"model_versions": [version_json(store.registry.get_latest_version(body.name))]}


# Model versions -----------------------------------------------------------------------------


@router.post("/model-versions/create")
def create_version(body: VersionIn, request: Request, store: StoreDep) -> dict[str, Any]:
    """Register a new version of a model from a source URI."""
    source, run_id = body.source, body.run_id or None
    if body.model_id:
        # A logged model being registered: its run is the version's run, as MLflow records it.
        logged = store.logged_models.get(body.model_id)
        run_id = run_id or logged.source_run_id
        if not source.startswith("models:/"):
            source = f"models:/{logged.model_id}"
    version = store.registry.create_version(
        body.name,
        source,
        actor=actor_of(request),
        run_id=run_id,
        description=body.description or "",
        tags={t.key: t.value for t in body.tags},
    )
    return {"model_version": version_json(version)}


@router.get("/model-versions/get")
def get_version(
    name: Annotated[str, Query()], version: Annotated[str, Query()], store: StoreDep
) -> dict[str, Any]:
    """One model version."""
    return {"model_version": version_json(store.registry.get_version(name, _number(version)))}


@router.patch("/model-versions/update")
def update_version(body: VersionUpdate, request: Request, store: StoreDep) -> dict[str, Any]:
    """Change a version's description."""
    version = store.registry.update_version(
        body.name,
        _number(body.version),
        actor=actor_of(request),
        description=body.description or "",
    )
    return {"model_version": version_json(version)}


@router.delete("/model-versions/delete")
def delete_version(body: VersionRef, request: Request, store: StoreDep) -> dict[str, Any]:
    """Delete a version and the aliases pointing at it, as MLflow does."""
    store.registry.delete_version(
        body.name, _number(body.version), actor=actor_of(request), force=True
    )
    return {}


@router.get("/model-versions/search")
def search_versions(
    store: StoreDep,
    filter: Annotated[str | None, Query()] = None,
    max_results: Annotated[int, Query()] = 100,
    order_by: Annotated[list[str] | None, Query()] = None,
    page_token: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    """Model versions matching a filter, in order, one page at a time."""
    text, order = _search_args(filter, order_by)
    if text:
        text = re.sub(r"\bsource_path\b", "source", text)
    page = store.registry.search_versions(
        text, order_by=order, max_results=max_results, page_token=page_token or None
    )
    answer: dict[str, Any] = {"model_versions": [version_json(v) for v in page]}
    if page.next_page_token:
        answer["next_page_token"] = page.next_page_token
    return answer


@router.get("/model-versions/get-download-uri")
def get_download_uri(
    name: Annotated[str, Query()], version: Annotated[str, Query()], store: StoreDep
) -> dict[str, Any]:
    """Where a version's files are, as a URI the MLflow client can download from."""
    found = store.registry.get_version(name, _number(version))
    return {"artifact_uri": download_uri(store, found.source)}


@router.post("/model-versions/set-tag")
def set_version_tag(body: VersionTag, request: Request, store: StoreDep) -> dict[str, Any]:
    """Set (or overwrite) a version tag."""
    store.registry.set_tag(
        body.name, body.key, body.value, actor=actor_of(request), version=_number(body.version)
    )
    return {}


@router.delete("/model-versions/delete-tag")
def delete_version_tag(body: VersionTag, request: Request, store: StoreDep) -> dict[str, Any]:
    """Remove a version tag."""
    store.registry.delete_tag(
        body.name, body.key, actor=actor_of(request), version=_number(body.version)
    )
    return {}


def download_uri(store: Store, source: str) -> str:
    """The artifact URI of a version's source: logged models and runs resolve to the proxy."""
    logged = _LOGGED_MODEL_URI.match(source)
    if logged:
        model = store.logged_models.get(logged.group(1), allow_deleted=True)
        return proxied_uri(model.artifact_location, store.artifact_root)
    runs = _RUNS_URI.match(source)
    if runs:
        run = store.runs.get(runs.group(1))
        head, _, rest = runs.group(2).partition("/")
        models = store.logged_models.search(
            [run.experiment_id], filter_string=f"source_run_id = '{run.run_id}'", max_results=1000
        )
        match = next((m for m in models if m.name == head), None)
        if match is not None:
            base = proxied_uri(match.artifact_location, store.artifact_root)
            return f"{base}/{rest}" if rest else base
        base = proxied_uri(run.artifact_uri, store.artifact_root)
        return f"{base}/{runs.group(2)}" if runs.group(2) else base
    return source
