"""The model registry's entities: registered models, their versions, aliases and approvals."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mloop.entities.runs import RunInput
from mloop.errors import InvalidInputError

MAX_MODEL_NAME_LENGTH = 250
MAX_ALIAS_LENGTH = 250
MAX_DESCRIPTION_LENGTH = 5000
MAX_SOURCE_LENGTH = 1000
MAX_DIGEST_LENGTH = 128
# No `/`, `@` or `:` in a name, so `models:/NAME/3` and `models:/NAME@alias` stay unambiguous.
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][\w\-. ]*$")
# Aliases are identifiers; never all digits (they would read as a version) nor "latest".
_ALIAS = re.compile(r"^[A-Za-z_][\w\-]*$")


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


def validate_model_name(name: object) -> str:
    """Check a registered model's name.

    Raises:
        InvalidInputError: not a non-empty string of letters, digits, `_ - .` and spaces, starting
            with a letter or digit, within 250 characters.
    """
    if not isinstance(name, str) or not _MODEL_NAME.match(name) or name != name.strip():
        raise InvalidInputError(
            f"model name {name!r} is not allowed; use letters, digits, '_', '-', '.' and inner "
            "spaces, starting with a letter or digit (no '/', '@' or ':', which model "
            "references use)",
            field="name",
        )
    if len(name) > MAX_MODEL_NAME_LENGTH:
        raise InvalidInputError(
            f"model name is {len(name)} characters long; the limit is {MAX_MODEL_NAME_LENGTH}",
            field="name",
        )
    return name


def validate_alias(alias: object) -> str:
    """Check an alias name such as "champion".

    Raises:
        InvalidInputError: not an identifier (letters, digits, `_`, `-`, starting with a letter
            or `_`), or "latest", which names the newest version.
    """
    if not isinstance(alias, str) or not _ALIAS.match(alias) or alias.lower() == "latest":
        raise InvalidInputError(
            f"alias {alias!r} is not allowed; use letters, digits, '_' and '-', starting with a "
            'letter ("latest" is reserved for the newest version)',
            field="alias",
        )
    if len(alias) > MAX_ALIAS_LENGTH:
        raise InvalidInputError(
            f"alias is {len(alias)} characters long; the limit is {MAX_ALIAS_LENGTH}",
            field="alias",
        )
    return alias


def validate_version(version: object) -> int:
    """Check a version number: a positive integer (a decimal string is accepted).

    Raises:
        InvalidInputError: anything else.
    """
    if isinstance(version, str) and version.isascii() and version.isdigit() and len(version) < 10:
        version = int(version)
    if isinstance(version, bool) or not isinstance(version, int) or not 0 < version < 2**31:
        raise InvalidInputError(
            f"model version must be a positive integer such as 3, got {version!r}",
            field="version",
        )
    return version


def validate_description(description: object) -> str:
    """Check a description: a string within 5000 characters.

    Raises:
        InvalidInputError: not a string, or too long.
    """
    if not isinstance(description, str):
        raise InvalidInputError(
            f"description must be a string, got {description!r}", field="description"
        )
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise InvalidInputError(
            f"description is {len(description)} characters long; the limit is "
            f"{MAX_DESCRIPTION_LENGTH}: keep long documentation in the model card or an artifact",
            field="description",
        )
    return description


def validate_source(source: object) -> str:
    """Check a version's source: where its package lives, e.g. "runs:/<run_id>/model".

    Raises:
        InvalidInputError: empty, not a string, or over 1000 characters.
    """
    if not isinstance(source, str) or not source.strip() or len(source) > MAX_SOURCE_LENGTH:
        raise InvalidInputError(
            "a model version needs its package's location as source (e.g. "
            f"'runs:/<run_id>/model'), at most {MAX_SOURCE_LENGTH} characters; got {source!r}",
            field="source",
        )
    return source


def validate_package_digest(digest: object) -> str:
    """Check a package digest ("" when unknown).

    Raises:
        InvalidInputError: not a string, or over 128 characters.
    """
    if not isinstance(digest, str) or len(digest) > MAX_DIGEST_LENGTH:
        raise InvalidInputError(
            f"package_digest must be a digest string of at most {MAX_DIGEST_LENGTH} characters",
            field="package_digest",
        )
    return digest
