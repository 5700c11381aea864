"""`/api/v1/deployments`: create, read, change and roll back deployments (all audited)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status

from mloop.entities.deployments import Route, Target
from mloop.server.deps import StoreDep, actor_of
from mloop.server.schemas import ERROR_RESPONSES, Text
from mloop.server.schemas_deployments import (
    DeploymentCreate,
    DeploymentList,
    DeploymentOut,
    DeploymentUpdate,
    RevisionList,
    RollbackIn,
    RouteModel,
    from_deployment,
    from_revision,
)

router = APIRouter(prefix="/api/v1/deployments", tags=["deployments"], responses=ERROR_RESPONSES)

NamePath = Annotated[
    str,
    Path(
        max_length=63,
        pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$",
        description="The deployment's name, e.g. churn-api.",
    ),
]
ActorQuery = Annotated[
    str | None,
    Query(max_length=256, description="Who acts (recorded in the audit log without auth)."),
]
ModelQuery = Annotated[
    Text | None, Query(max_length=250, description="Only the deployments of this model.")
]


def _routes(routes: list[RouteModel]) -> list[Route]:
    return [Route(Target.parse(r.target), r.weight) for r in routes]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_deployment(
    body: DeploymentCreate, request: Request, store: StoreDep, actor: ActorQuery = None
) -> DeploymentOut:
    """Create a deployment at revision 1 (409 when the name is taken by another one)."""
    created = store.deployments.create(
        body.name,
        body.model,
        routes=_routes(body.routes),
        actor=actor_of(request, actor),
        shadows=body.shadows,
        sticky_key=body.sticky_key,
        description=body.description,
    )
    return from_deployment(created)


@router.get("")
def list_deployments(store: StoreDep, model: ModelQuery = None) -> DeploymentList:
    """Every deployment, or those of one model, by name."""
    found = store.deployments.list(model=model)
    return DeploymentList.model_construct(deployments=[from_deployment(d) for d in found])


@router.get("/{name}")
def get_deployment(name: NamePath, store: StoreDep) -> DeploymentOut:
    """A deployment's current configuration."""
    return from_deployment(store.deployments.get(name))


@router.patch("/{name}")
def update_deployment(
    name: NamePath,
    body: DeploymentUpdate,
    request: Request,
    store: StoreDep,
    actor: ActorQuery = None,
) -> DeploymentOut:
    """Change a deployment (a new revision); an update that changes nothing records nothing."""
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude_none=True)
    if body.routes is not None:
        changes["routes"] = _routes(body.routes)
    updated = store.deployments.update(name, actor=actor_of(request, actor), **changes)
    return from_deployment(updated)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_deployment(
    name: NamePath, request: Request, store: StoreDep, actor: ActorQuery = None
) -> Response:
    """Delete a deployment with its revisions (the audit log keeps its history)."""
    store.deployments.delete(name, actor=actor_of(request, actor))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{name}/rollback")
def rollback_deployment(
    name: NamePath,
    request: Request,
    store: StoreDep,
    body: RollbackIn | None = None,
    actor: ActorQuery = None,
) -> DeploymentOut:
    """Return to an earlier configuration (default: the previous one), as a new revision."""
    wanted = body or RollbackIn()
    rolled = store.deployments.rollback(
        name,
        actor=actor_of(request, actor),
        to_revision=wanted.to_revision,
        from_revision=wanted.from_revision,
    )
    return from_deployment(rolled)


@router.get("/{name}/history")
def deployment_history(name: NamePath, store: StoreDep) -> RevisionList:
    """Every revision of a deployment, oldest first."""
    revisions = store.deployments.history(name)
    return RevisionList.model_construct(name=name, revisions=[from_revision(r) for r in revisions])
