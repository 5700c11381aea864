"""The model registry's entities: registered models, their versions, aliases and approvals."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mloop.entities.runs import RunInput


@dataclass(frozen=True, slots=True)
class Approval:
    """A recorded sign-off of one model version.

    Attributes:
        actor: who approved (the OS user locally, the authenticated user on a server).
        at_ms: when, milliseconds since the epoch.
        comment: why, or what was checked.
    """

    actor: str
    at_ms: int
    comment: str = ""


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A named model whose versions are registered in the store.

    Attributes:
        name: unique name, e.g. "churn".
        description: free text.
        created_at_ms: creation time, milliseconds since the epoch.
        updated_at_ms: last change to the model or one of its versions.
        tags: model tags.
        aliases: alias name -> version number, e.g. {"champion": 3}.
        protected_aliases: aliases that may only point at approved versions.
        latest_version: the highest version number registered, 0 when none ever was.
    """

    name: str
    description: str
    created_at_ms: int
    updated_at_ms: int
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    protected_aliases: tuple[str, ...] = ()
    latest_version: int = 0


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One registered version of a model, with its lineage.

    Attributes:
        name: the registered model's name.
        version: 1, 2, 3 ... in registration order; numbers are never reused.
        source: where the model package lives, e.g. "runs:/<run_id>/model" or a URI.
        run_id: the run that produced it, when known.
        package_digest: content digest of the model package ("" when unknown).
        signature: the package's signature (inputs, outputs, method) as a JSON-able dict.
        description: free text.
        user_id: who registered it.
        created_at_ms: registration time, milliseconds since the epoch.
        updated_at_ms: last change (description, tags, approvals).
        tags: version tags.
        aliases: the aliases pointing at this version.
        approvals: sign-offs, oldest first.
        datasets: the datasets the source run consumed (the run's inputs): data -> run -> version.
    """

    name: str
    version: int
    source: str
    run_id: str | None
    package_digest: str
    signature: dict[str, Any] | None
    description: str
    user_id: str
    created_at_ms: int
    updated_at_ms: int
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    approvals: tuple[Approval, ...] = ()
    datasets: tuple[RunInput, ...] = ()

    @property
    def is_approved(self) -> bool:
        """True when at least one approval is recorded."""
        return bool(self.approvals)

    @property
    def uri(self) -> str:
        """The `models:/NAME/VERSION` reference of this version."""
        return f"models:/{self.name}/{self.version}"


class RegisteredModelPage(list[RegisteredModel]):
    """One page of registered-model search results plus the token of the next page.

    Attributes:
        next_page_token: pass it back to get the next page; None on the last page.
    """

    def __init__(
        self, models: Iterable[RegisteredModel] = (), next_page_token: str | None = None
    ) -> None:
        super().__init__(models)
        self.next_page_token = next_page_token


class ModelVersionPage(list[ModelVersion]):
    """One page of model-version search results plus the token of the next page.

    Attributes:
        next_page_token: pass it back to get the next page; None on the last page.
    """

    def __init__(
        self, versions: Iterable[ModelVersion] = (), next_page_token: str | None = None
    ) -> None:
        super().__init__(versions)
        self.next_page_token = next_page_token
