"""`/api/v1/models`: registered models, versions, aliases, tags and approvals (all audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from mloop.entities.gates import Override
from mloop.server.deps import StoreDep, actor_of
from mloop.server.schemas import ERROR_RESPONSES, Key
from mloop.server.schemas_registry import (
    AliasIn,
    ApprovalIn,
    ApprovalOut,
    DescriptionIn,
    ModelCreate,
    ModelOut,
    ModelPageOut,
    OverrideIn,
    OverrideOut,
    ProtectionIn,
    RegistrySearchIn,
    RegistryTagIn,
    RenameIn,
    VersionCreate,
    VersionOut,
    VersionPageOut,
    from_model,
    from_version,
)

router = APIRouter(prefix="/api/v1", tags=["registry"], responses=ERROR_RESPONSES)

NamePath = Annotated[str, Path(description="The registered model's name.")]
VersionPath = Annotated[int, Path(ge=1, lt=2**31, description="The version number.")]
AliasPath = Annotated[str, Path(description="The alias, e.g. champion.")]
ActorQuery = Annotated[
    str | None,
    Query(max_length=256, description="Who acts (recorded in the audit log without auth)."),
]
ForceQuery = Annotated[bool, Query(description="Also delete what aliases point at.")]
_NO_CONTENT = status.HTTP_204_NO_CONTENT


@router.post("/models", status_code=status.HTTP_201_CREATED)
def create_model(
    body: ModelCreate, request: Request, store: StoreDep, actor: ActorQuery = None
) -> ModelOut:
    """Register a model name (409 when taken)."""
    model = store.registry.create_model(
        body.name, actor=actor_of(request, actor), description=body.description, tags=body.tags
    )
    return from_model(model)


@router.post("/models/search")
def search_models(body: RegistrySearchIn, store: StoreDep) -> ModelPageOut:
    """Registered models matching a filter, one page at a time."""
    page = store.registry.search_models(
        body.filter,
        order_by=body.order_by,
        max_results=body.max_results,
        page_token=body.page_token,
    )
    return ModelPageOut.model_construct(
        models=[from_model(m) for m in page], next_page_token=page.next_page_token
    )


@router.post("/model-versions/search")
def search_versions(body: RegistrySearchIn, store: StoreDep) -> VersionPageOut:
    """Model versions matching a filter, one page at a time."""
    page = store.registry.search_versions(
        body.filter,
        order_by=body.order_by,
        max_results=body.max_results,
        page_token=body.page_token,
    )
    return VersionPageOut.model_construct(
        versions=[from_version(v) for v in page], next_page_token=page.next_page_token
    )


@router.get("/models/{name}")
def get_model(name: NamePath, store: StoreDep) -> ModelOut:
    """A registered model with its tags and aliases."""
    return from_model(store.registry.get_model(name))


@router.patch("/models/{name}")
def update_model(
    name: NamePath, body: DescriptionIn, request: Request, store: StoreDep, actor: ActorQuery = None
) -> ModelOut:
    """Change a model's description."""
    updated = store.registry.update_model(
        name, actor=actor_of(request, actor), description=body.description
    )
    return from_model(updated)


@router.post("/models/{name}/rename")
def rename_model(
    name: NamePath, body: RenameIn, request: Request, store: StoreDep, actor: ActorQuery = None
) -> ModelOut:
    """Give a model a new name (409 when taken); versions, tags and aliases stay with it."""
    renamed = store.registry.rename_model(name, body.new_name, actor=actor_of(request, actor))
    return from_model(renamed)


@router.delete("/models/{name}", status_code=_NO_CONTENT)
def delete_model(
    name: NamePath,
    request: Request,
    store: StoreDep,
    actor: ActorQuery = None,
    force: ForceQuery = False,
) -> Response:
    """Delete a model and its versions (aliases need `force`)."""
    store.registry.delete_model(name, actor=actor_of(request, actor), force=force)
    return Response(status_code=_NO_CONTENT)


@router.post("/models/{name}/versions", status_code=status.HTTP_201_CREATED)
def create_version(
    name: NamePath, body: VersionCreate, request: Request, store: StoreDep, actor: ActorQuery = None
) -> VersionOut:
    """Register a new version of a model."""
    version = store.registry.create_version(
        name,
        body.source,
        actor=actor_of(request, actor),
        run_id=body.run_id,
        package_digest=body.package_digest,
        signature=body.signature,
        description=body.description,
        tags=body.tags,
    )
    return from_version(version)


@router.get("/models/{name}/versions/latest")
def get_latest_version(name: NamePath, store: StoreDep) -> VersionOut:
    """The highest version of a model."""
    return from_version(store.registry.get_latest_version(name))


@router.get("/models/{name}/versions/{version}")
def get_version(name: NamePath, version: VersionPath, store: StoreDep) -> VersionOut:
    """One version of a model."""
    return from_version(store.registry.get_version(name, version))


@router.patch("/models/{name}/versions/{version}")
def update_version(
    name: NamePath,
    version: VersionPath,
    *,
    body: DescriptionIn,
    request: Request,
    store: StoreDep,
    actor: ActorQuery = None,
) -> VersionOut:
    """Change a version's description."""
    updated = store.registry.update_version(
        name, version, actor=actor_of(request, actor), description=body.description
    )
    return from_version(updated)


@router.delete("/models/{name}/versions/{version}", status_code=_NO_CONTENT)
def delete_version(
    name: NamePath,
    version: VersionPath,
    *,
    request: Request,
    store: StoreDep,
    actor: ActorQuery = None,
    force: ForceQuery = False,
) -> Response:
    """Delete a version (one an alias points at needs `force`)."""
    store.registry.delete_version(name, version, actor=actor_of(request, actor), force=force)
    return Response(status_code=_NO_CONTENT)


@router.post("/models/{name}/versions/{version}/approvals", status_code=status.HTTP_201_CREATED)
def approve_version(
    name: NamePath,
    version: VersionPath,
    *,
    body: ApprovalIn,
    request: Request,
    store: StoreDep,
    actor: ActorQuery = None,
) -> ApprovalOut:
    """Record a sign-off of a version."""
    approval = store.registry.approve(
        name, version, actor=actor_of(request, actor), comment=body.comment
    )
    return ApprovalOut.model_construct(
        actor=approval.actor, at_ms=approval.at_ms, comment=approval.comment
    )


@router.get("/models/{name}/aliases/{alias}")
def get_version_by_alias(name: NamePath, alias: AliasPath, store: StoreDep) -> VersionOut:
    """The version an alias points at."""
    return from_version(store.registry.get_version_by_alias(name, alias))


@router.put("/models/{name}/aliases/{alias}", status_code=_NO_CONTENT)
def set_alias(
    name: NamePath,
    alias: AliasPath,
    *,
    body: AliasIn,
    request: Request,
    store: StoreDep,
    actor: ActorQuery = None,
) -> Response:
    """Point an alias at a version (moving it when it exists)."""
    store.registry.set_alias(name, alias, body.version, actor=actor_of(request, actor))
    return Response(status_code=_NO_CONTENT)


@router.post("/models/{name}/aliases/{alias}/override")
def override_alias(
    name: NamePath,
    alias: AliasPath,
    *,
    body: OverrideIn,
    request: Request,
    store: StoreDep,
    actor: ActorQuery = None,
) -> OverrideOut:
    """Move an alias despite failing validation gates: a global admin's audited override.

    With auth on, only a global admin gets here (403 otherwise); without auth, the store's
    rule applies (anyone when it has no users, else the named actor must be an admin).
    """
    override = Override(
        reason=body.reason, failures=tuple(body.failures), report_digest=body.report_digest
    )
    previous = store.registry.override_alias(
        name, alias, body.version, actor=actor_of(request, actor), override=override
    )
    return OverrideOut(previous=previous)


@router.delete("/models/{name}/aliases/{alias}", status_code=_NO_CONTENT)
def delete_alias(
    name: NamePath, alias: AliasPath, request: Request, store: StoreDep, actor: ActorQuery = None
) -> Response:
    """Remove an alias."""
    store.registry.delete_alias(name, alias, actor=actor_of(request, actor))
    return Response(status_code=_NO_CONTENT)


@router.post("/models/{name}/aliases/{alias}/protection", status_code=_NO_CONTENT)
def set_alias_protection(
    name: NamePath,
    alias: AliasPath,
    *,
    body: ProtectionIn,
    request: Request,
    store: StoreDep,
    actor: ActorQuery = None,
) -> Response:
    """Protect an alias (only approved versions) or lift the protection."""
    store.registry.set_alias_protection(
        name, alias, actor=actor_of(request, actor), protected=body.protected
    )
    return Response(status_code=_NO_CONTENT)


@router.post("/models/{name}/tags", status_code=_NO_CONTENT)
def set_registry_tag(
    name: NamePath, body: RegistryTagIn, request: Request, store: StoreDep, actor: ActorQuery = None
) -> Response:
    """Set a tag on a model, or on one of its versions."""
    store.registry.set_tag(
        name, body.key, body.value, actor=actor_of(request, actor), version=body.version
    )
    return Response(status_code=_NO_CONTENT)


@router.delete("/models/{name}/tags", status_code=_NO_CONTENT)
def delete_registry_tag(
    name: NamePath,
    key: Annotated[Key, Query()],
    *,
    request: Request,
    store: StoreDep,
    actor: ActorQuery = None,
    version: Annotated[int | None, Query(ge=1, lt=2**31)] = None,
) -> Response:
    """Remove a tag of a model, or of one of its versions."""
    store.registry.delete_tag(name, key, actor=actor_of(request, actor), version=version)
    return Response(status_code=_NO_CONTENT)
