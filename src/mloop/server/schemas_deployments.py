"""Request and response bodies of the deployment endpoints (`/api/v1/deployments`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mloop.entities.deployments import Deployment, DeploymentRevision, Route
from mloop.server.schemas import ApiModel, Text

TargetText = Annotated[Text, Field(min_length=1, max_length=300)]
Revision = Annotated[int, Field(ge=1, lt=2**31)]
ModelName = Annotated[Text, Field(min_length=1, max_length=250)]
StickyKey = Annotated[Text, Field(max_length=128)]
Description = Annotated[Text, Field(max_length=5000)]


class RouteModel(ApiModel):
    """A share of the live traffic: a target (`@champion`, `/3`) and its percent."""

    target: TargetText
    weight: Annotated[int, Field(ge=0, le=100)]


Routes = Annotated[list[RouteModel], Field(min_length=1, max_length=10)]
Shadows = Annotated[list[TargetText], Field(max_length=5)]


class DeploymentCreate(ApiModel):
    """A new deployment: its model, traffic split, shadows and sticky key."""

    name: Annotated[Text, Field(min_length=1, max_length=63)]
    model: ModelName
    routes: Routes
    shadows: Shadows = Field(default_factory=list)
    sticky_key: StickyKey | None = None
    description: Description = ""


class DeploymentUpdate(ApiModel):
    """A change of a deployment; fields left out stay as they are (`sticky_key: ""` clears it)."""

    model: ModelName | None = None
    routes: Routes | None = None
    shadows: Shadows | None = None
    sticky_key: StickyKey | None = None
    description: Description | None = None


class RollbackIn(ApiModel):
    """Which configuration to return to (default: the one before the current revision)."""

    to_revision: Revision | None = None
    from_revision: Revision | None = Field(
        default=None,
        description="Roll back only from this revision; a retry of an applied rollback is a no-op.",
    )


class DeploymentOut(ApiModel):
    """A deployment's current configuration."""

    name: str
    model: str
    routes: list[RouteModel]
    shadows: list[str]
    sticky_key: str | None
    description: str
    revision: int
    created_at_ms: int
    created_by: str
    updated_at_ms: int
    updated_by: str


class DeploymentList(ApiModel):
    """Deployments, by name."""

    deployments: list[DeploymentOut]


class RevisionOut(ApiModel):
    """One configuration a deployment had."""

    revision: int
    action: str
    actor: str
    at_ms: int
    model: str
    routes: list[RouteModel]
    shadows: list[str]
    sticky_key: str | None
    description: str
    restored_from: int | None


class RevisionList(ApiModel):
    """A deployment's revisions, oldest first."""

    name: str
    revisions: list[RevisionOut]


def _routes(routes: tuple[Route, ...]) -> list[RouteModel]:
    return [RouteModel.model_construct(target=r.target.text, weight=r.weight) for r in routes]


def from_deployment(item: Deployment) -> DeploymentOut:
    """The API form of a deployment."""
    return DeploymentOut.model_construct(
        name=item.name,
        model=item.model,
        routes=_routes(item.routes),
        shadows=[s.text for s in item.shadows],
        sticky_key=item.sticky_key,
        description=item.description,
        revision=item.revision,
        created_at_ms=item.created_at_ms,
        created_by=item.created_by,
        updated_at_ms=item.updated_at_ms,
        updated_by=item.updated_by,
    )


def from_revision(item: DeploymentRevision) -> RevisionOut:
    """The API form of one revision."""
    return RevisionOut.model_construct(
        revision=item.revision,
        action=item.action,
        actor=item.actor,
        at_ms=item.at_ms,
        model=item.model,
        routes=_routes(item.routes),
        shadows=[s.text for s in item.shadows],
        sticky_key=item.sticky_key,
        description=item.description,
        restored_from=item.restored_from,
    )
