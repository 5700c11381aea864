"""Model references (`models:/NAME/3`, `@alias`, `/latest`) and resolving them.

The CLI also takes the short forms without the scheme (`churn/3`, `churn@champion`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mloop.entities import ModelVersion
from mloop.entities.registry import validate_alias, validate_model_name
from mloop.errors import InvalidInputError, InvalidModelReferenceError
from mloop.storage.protocols import ModelRegistryStore

SCHEME = "models:/"
_RUN_SOURCE = re.compile(r"^runs:/(?P<run_id>[0-9a-f]{32})(?:/(?P<path>.*))?$")


@dataclass(frozen=True, slots=True)
class ModelReference:
    """A parsed model reference; exactly one of `version`, `alias` or `is_latest` is set.

    Attributes:
        name: the registered model's name.
        version: a version number.
        alias: an alias name.
        is_latest: the newest version.
    """

    name: str
    version: int | None = None
    alias: str | None = None
    is_latest: bool = False

    @property
    def uri(self) -> str:
        """The canonical `models:/` form."""
        if self.alias is not None:
            return f"{SCHEME}{self.name}@{self.alias}"
        return f"{SCHEME}{self.name}/{'latest' if self.is_latest else self.version}"


def parse_model_uri(text: str, *, require_scheme: bool = True) -> ModelReference:
    """Parse `models:/NAME/VERSION`, `models:/NAME@ALIAS` or `models:/NAME/latest`.

    Args:
        text: the reference.
        require_scheme: refuse the short forms (`NAME/3`, `NAME@ALIAS`) the CLI accepts.

    Raises:
        InvalidModelReferenceError: the text has none of these forms.
    """
    if not isinstance(text, str):
        raise InvalidModelReferenceError(repr(text), "is not a string")
    body = text
    if body.startswith(SCHEME):
        body = body[len(SCHEME) :]
    elif require_scheme:
        raise InvalidModelReferenceError(text, f"does not start with {SCHEME}")
    try:
        if "@" in body:
            name, _, alias = body.partition("@")
            return ModelReference(validate_model_name(name), alias=validate_alias(alias))
        name, slash, selector = body.rpartition("/")
        if not slash:
            raise InvalidModelReferenceError(text, "names no version, alias or latest")
        validate_model_name(name)
    except InvalidModelReferenceError:
        raise
    except InvalidInputError as exc:
        raise InvalidModelReferenceError(text, f"is malformed ({exc.message})") from exc
    if selector.lower() == "latest":
        return ModelReference(name, is_latest=True)
    if selector.isascii() and selector.isdigit() and 0 < int(selector) < 2**31:
        return ModelReference(name, version=int(selector))
    raise InvalidModelReferenceError(text, f"has {selector!r} where a version number belongs")


def resolve(store: ModelRegistryStore, reference: str | ModelReference) -> ModelVersion:
    """The model version a reference names, as the store holds it now.

    Args:
        store: the registry store.
        reference: `models:/...` text or a parsed reference.

    Raises:
        InvalidModelReferenceError: the text is not a model reference.
        ModelNotFoundError, ModelVersionNotFoundError, AliasNotFoundError: nothing matches.
    """
    ref = parse_model_uri(reference) if isinstance(reference, str) else reference
    if ref.alias is not None:
        return store.get_version_by_alias(ref.name, ref.alias)
    if ref.is_latest:
        return store.get_latest_version(ref.name)
    return store.get_version(ref.name, ref.version or 0)


def run_id_of_source(source: str) -> str | None:
    """The run id in a `runs:/<run_id>/<path>` source, or None for any other source."""
    match = _RUN_SOURCE.match(source) if isinstance(source, str) else None
    return match.group("run_id") if match else None
