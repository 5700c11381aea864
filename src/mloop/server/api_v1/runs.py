"""`/api/v1/runs`: create, read, update, delete and restore runs, and search them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from mloop.entities import RunTag
from mloop.errors import InvalidInputError
from mloop.server.deps import ConfigDep, StoreDep, actor_of, authenticated_name
from mloop.server.lean_routes import LeanRoute, lean
from mloop.server.responses import model_json
from mloop.server.schemas import ERROR_RESPONSES, RunId, RunOut, from_run
from mloop.server.schemas_runs import RunCreate, RunPageOut, RunUpdate, SearchIn

router = APIRouter(
    prefix="/api/v1/runs", tags=["runs"], responses=ERROR_RESPONSES, route_class=LeanRoute
)

RunPath = Annotated[RunId, Path(description="32 lowercase hex characters.")]
ActorQuery = Annotated[
    str | None,
    Query(max_length=256, description="Who acts (recorded in the audit log without auth)."),
]


@router.post("", status_code=status.HTTP_201_CREATED)
@lean
def create_run(body: RunCreate, store: StoreDep, request: Request) -> RunOut:
    """Start a run; with a client-chosen `run_id` a retried create returns the same run.

    With auth on, the run belongs to the authenticated user, whatever `user_id` the body claims.
    """
    run = store.runs.create(
        body.experiment_id,
        run_id=body.run_id,
        run_name=body.run_name,
        start_time_ms=body.start_time_ms,
        user_id=authenticated_name(request) or body.user_id,
        parent_run_id=body.parent_run_id,
        tags=[RunTag(t.key, t.value) for t in body.tags],
        share_artifacts=(
            None
            if body.share_artifacts_run_id is None
            else (body.share_artifacts_run_id, body.share_artifacts_folder)
        ),
    )
    return from_run(run)


@router.post("/search", response_model=RunPageOut)
def search_runs(body: SearchIn, store: StoreDep, config: ConfigDep) -> Response:
    """Runs matching a filter (docs/search.md), in order, one page at a time."""
    if body.max_results > config.max_page_size:
        raise InvalidInputError(
            f"max_results is {body.max_results} but this server returns at most "
            f"{config.max_page_size} runs per page; ask for fewer and follow next_page_token",
            field="max_results",
        )
    page = store.runs.search(
        body.experiment_ids,
        filter_string=body.filter,
        order_by=body.order_by,
        params=body.params or None,
        tags=body.tags or None,
        status=body.status,
        include_deleted=body.include_deleted,
        max_results=body.max_results,
        page_token=body.page_token,
    )
    # Encoded here: FastAPI would validate every run of the page again before encoding it.
    return model_json(
        RunPageOut.model_construct(
            runs=[from_run(r) for r in page], next_page_token=page.next_page_token
        )
    )


@router.get("/{run_id}", response_model=RunOut)
def get_run(run_id: RunPath, store: StoreDep) -> Response:
    """A run with its params, latest metrics, tags and inputs."""
    return model_json(from_run(store.runs.get(run_id)))


@router.patch("/{run_id}", status_code=status.HTTP_204_NO_CONTENT)
def update_run(run_id: RunPath, body: RunUpdate, store: StoreDep) -> Response:
    """Change a run's status, end time or name."""
    store.runs.update(
        run_id, status=body.status, end_time_ms=body.end_time_ms, run_name=body.run_name
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{run_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_run(
    run_id: RunPath, request: Request, store: StoreDep, actor: ActorQuery = None
) -> Response:
    """Soft-delete a run (restorable); recorded in the audit log."""
    store.runs.delete(run_id, actor=actor_of(request, actor))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{run_id}/restore", status_code=status.HTTP_204_NO_CONTENT)
def restore_run(
    run_id: RunPath, request: Request, store: StoreDep, actor: ActorQuery = None
) -> Response:
    """Undo a delete; recorded in the audit log."""
    store.runs.restore(run_id, actor=actor_of(request, actor))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
