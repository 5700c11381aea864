"""`/api/v1/experiments`: create, read, list, rename, delete, restore and tag experiments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from mloop.server.deps import StoreDep
from mloop.server.lean_reads import LeanReadRoute
from mloop.server.responses import model_json
from mloop.server.schemas import (
    ERROR_RESPONSES,
    ExperimentCreate,
    ExperimentId,
    ExperimentList,
    ExperimentOut,
    ExperimentRename,
    Key,
    Name,
    TagIn,
    from_experiment,
)

router = APIRouter(
    prefix="/api/v1/experiments",
    tags=["experiments"],
    responses=ERROR_RESPONSES,
    route_class=LeanReadRoute,
)

IdPath = Annotated[ExperimentId, Path(description='Decimal id; "0" is the default experiment.')]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_experiment(body: ExperimentCreate, store: StoreDep) -> ExperimentOut:
    """Create an experiment (409 when the name is taken, also by a deleted one)."""
    created = store.experiments.create(
        body.name, artifact_location=body.artifact_location, tags=body.tags
    )
    return from_experiment(created)


@router.get("")
def list_experiments(
    store: StoreDep, include_deleted: Annotated[bool, Query()] = False
) -> ExperimentList:
    """All experiments, by id (deleted ones only with `include_deleted`)."""
    found = store.experiments.list(include_deleted=include_deleted)
    return ExperimentList.model_construct(experiments=[from_experiment(e) for e in found])


@router.get("/by-name")
def get_experiment_by_name(name: Annotated[Name, Query()], store: StoreDep) -> ExperimentOut:
    """The experiment with this name (404 when there is none)."""
    return from_experiment(store.experiments.get_by_name(name))


# Async on purpose: a read by primary key is quicker than the hop to FastAPI's thread pool; and
# served by `LeanReadRoute`'s short path, as an async function returning a Response.
@router.get("/{experiment_id}", response_model=ExperimentOut)
async def get_experiment(experiment_id: IdPath, store: StoreDep) -> Response:
    """The experiment with this id."""
    return model_json(from_experiment(store.experiments.get(experiment_id)))


@router.patch("/{experiment_id}")
def rename_experiment(
    experiment_id: IdPath, body: ExperimentRename, store: StoreDep
) -> ExperimentOut:
    """Give an experiment a new name."""
    return from_experiment(store.experiments.rename(experiment_id, body.name))


@router.delete("/{experiment_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_experiment(experiment_id: IdPath, store: StoreDep) -> Response:
    """Soft-delete an experiment (its runs stay; `restore` brings it back)."""
    store.experiments.delete(experiment_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{experiment_id}/restore", status_code=status.HTTP_204_NO_CONTENT)
def restore_experiment(experiment_id: IdPath, store: StoreDep) -> Response:
    """Undo a delete."""
    store.experiments.restore(experiment_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{experiment_id}/tags", status_code=status.HTTP_204_NO_CONTENT)
def set_experiment_tag(experiment_id: IdPath, body: TagIn, store: StoreDep) -> Response:
    """Set or overwrite a tag of an experiment."""
    store.experiments.set_tag(experiment_id, body.key, body.value)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{experiment_id}/tags/{key:path}", status_code=status.HTTP_204_NO_CONTENT)
def delete_experiment_tag(
    experiment_id: IdPath, key: Annotated[Key, Path(description="The tag's key.")], store: StoreDep
) -> Response:
    """Remove a tag of an experiment (404 when it has none of this key)."""
    store.experiments.delete_tag(experiment_id, key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
