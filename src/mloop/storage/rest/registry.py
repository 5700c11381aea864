"""The model registry over `/api/v1/models`: models, versions, aliases, tags and approvals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from mloop.entities import (
    Approval,
    ModelVersion,
    ModelVersionPage,
    RegisteredModel,
    RegisteredModelPage,
    RunInput,
)
from mloop.entities.gates import Override
from mloop.entities.registry import validate_alias, validate_model_name, validate_version
from mloop.errors import ModelNotFoundError
from mloop.storage.rest.transport import Transport


class RestModelRegistryStore:
    """The registry of a remote `mloop server`; the server records the actor of each change.

    Args:
        transport: the HTTP client of the server.
    """

    def __init__(self, transport: Transport) -> None:
        self._http = transport

    def create_model(
        self,
        name: str,
        *,
        actor: str,
        description: str = "",
        tags: dict[str, str] | None = None,
    ) -> RegisteredModel:
        """Register a model name.

        Raises:
            ModelAlreadyExistsError: the name is taken.
        """
        validate_model_name(name)
        body = {"name": name, "description": description, "tags": tags or {}}
        return _model(self._call("POST", "/models", actor, body=body))

    def get_model(self, name: str) -> RegisteredModel:
        """A registered model.

        Raises:
            ModelNotFoundError: no such model.
        """
        return _model(self._http.request("GET", _model_path(name)))

    def find_model(self, name: str) -> RegisteredModel | None:
        """A registered model, or None."""
        try:
            return self.get_model(name)
        except ModelNotFoundError:
            return None

    def update_model(self, name: str, *, actor: str, description: str) -> RegisteredModel:
        """Change a model's description."""
        body = {"description": description}
        return _model(self._call("PATCH", _model_path(name, api=False), actor, body=body))

    def rename_model(self, name: str, new_name: str, *, actor: str) -> RegisteredModel:
        """Give a model a new name (versions, tags and aliases stay with it)."""
        validate_model_name(new_name)
        path = f"{_model_path(name, api=False)}/rename"
        return _model(self._call("POST", path, actor, body={"new_name": new_name}))

    def delete_model(self, name: str, *, actor: str, force: bool = False) -> None:
        """Delete a model and its versions (aliases need `force`)."""
        self._call("DELETE", _model_path(name, api=False), actor, force=force)

    def search_models(
        self,
        filter_string: str | None = None,
        *,
        order_by: Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> RegisteredModelPage:
        """Registered models matching a filter, one page at a time."""
        body = _search(filter_string, order_by, max_results, page_token)
        data = self._http.request("POST", "/api/v1/models/search", body=body)
        return RegisteredModelPage([_model(m) for m in data["models"]], data["next_page_token"])

    def create_version(
        self,
        name: str,
        source: str,
        *,
        actor: str,
        run_id: str | None = None,
        package_digest: str = "",
        signature: dict[str, Any] | None = None,
        description: str = "",
        tags: dict[str, str] | None = None,
    ) -> ModelVersion:
        """Register a new version of a model."""
        body = {
            "source": source,
            "run_id": run_id,
            "package_digest": package_digest,
            "signature": signature,
            "description": description,
            "tags": tags or {},
        }
        path = f"{_model_path(name, api=False)}/versions"
        return _version(self._call("POST", path, actor, body=body))

    def get_version(self, name: str, version: int) -> ModelVersion:
        """One version of a model.

        Raises:
            ModelVersionNotFoundError: no such version.
        """
        path = f"{_model_path(name)}/versions/{_number(version)}"
        return _version(self._http.request("GET", path))

    def get_latest_version(self, name: str) -> ModelVersion:
        """The highest version of a model."""
        return _version(self._http.request("GET", f"{_model_path(name)}/versions/latest"))

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points at."""
        path = f"{_model_path(name)}/aliases/{quote(validate_alias(alias), safe='')}"
        return _version(self._http.request("GET", path))

    def update_version(
        self, name: str, version: int, *, actor: str, description: str
    ) -> ModelVersion:
        """Change a version's description."""
        path = f"{_model_path(name, api=False)}/versions/{_number(version)}"
        return _version(self._call("PATCH", path, actor, body={"description": description}))

    def delete_version(self, name: str, version: int, *, actor: str, force: bool = False) -> None:
        """Delete a version (one an alias points at needs `force`)."""
        path = f"{_model_path(name, api=False)}/versions/{_number(version)}"
        self._call("DELETE", path, actor, force=force)

    def search_versions(
        self,
        filter_string: str | None = None,
        *,
        order_by: Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> ModelVersionPage:
        """Model versions matching a filter, one page at a time."""
        body = _search(filter_string, order_by, max_results, page_token)
        data = self._http.request("POST", "/api/v1/model-versions/search", body=body)
        return ModelVersionPage([_version(v) for v in data["versions"]], data["next_page_token"])

    def set_tag(
        self, name: str, key: str, value: str, *, actor: str, version: int | None = None
    ) -> None:
        """Set a tag on a model, or on one of its versions."""
        body = {"key": key, "value": value, "version": _optional_number(version)}
        self._call("POST", f"{_model_path(name, api=False)}/tags", actor, body=body)

    def delete_tag(self, name: str, key: str, *, actor: str, version: int | None = None) -> None:
        """Remove a tag of a model, or of one of its versions."""
        extra: dict[str, Any] = {"key": key}
        if version is not None:
            extra["version"] = _number(version)
        self._call("DELETE", f"{_model_path(name, api=False)}/tags", actor, **extra)

    def set_alias(self, name: str, alias: str, version: int, *, actor: str) -> None:
        """Point an alias at a version."""
        path = _alias_path(name, alias)
        self._call("PUT", path, actor, body={"version": _number(version)})

    def override_alias(
        self, name: str, alias: str, version: int, *, actor: str, override: Override
    ) -> int | None:
        """Move an alias despite failing gates; the server checks the admin role (403 else)."""
        path = f"{_alias_path(name, alias)}/override"
        body = {
            "version": _number(version),
            "reason": override.reason,
            "failures": list(override.failures),
            "report_digest": override.report_digest,
        }
        data = self._call("POST", path, actor, body=body)
        previous = data["previous"]
        return None if previous is None else int(previous)

    def delete_alias(self, name: str, alias: str, *, actor: str) -> None:
        """Remove an alias."""
        path = _alias_path(name, alias)
        self._call("DELETE", path, actor)

    def set_alias_protection(
        self, name: str, alias: str, *, actor: str, protected: bool = True
    ) -> None:
        """Protect an alias (only approved versions) or lift the protection."""
        path = f"{_alias_path(name, alias)}/protection"
        self._call("POST", path, actor, body={"protected": protected})

    def approve(self, name: str, version: int, *, actor: str, comment: str = "") -> Approval:
        """Record a sign-off of a version."""
        path = f"{_model_path(name, api=False)}/versions/{_number(version)}/approvals"
        data = self._call("POST", path, actor, body={"comment": comment})
        return Approval(data["actor"], data["at_ms"], data["comment"])

    def _call(self, method: str, path: str, actor: str, *, body: Any = None, **params: Any) -> Any:
        query = {"actor": actor, **{k: _query_value(v) for k, v in params.items()}}
        return self._http.request(method, f"/api/v1{path}", body=body, params=query)


def _model_path(name: str, *, api: bool = True) -> str:
    # Checked here: a name with `/` must never address another route.
    path = f"/models/{quote(validate_model_name(name), safe='')}"
    return f"/api/v1{path}" if api else path


def _alias_path(name: str, alias: str) -> str:
    return f"{_model_path(name, api=False)}/aliases/{quote(validate_alias(alias), safe='')}"


def _number(version: object) -> int:
    return validate_version(version)


def _optional_number(version: int | None) -> int | None:
    return None if version is None else _number(version)


def _query_value(value: Any) -> Any:
    return ("true" if value else "false") if isinstance(value, bool) else value


def _search(
    filter_string: str | None,
    order_by: Sequence[str] | None,
    max_results: int,
    page_token: str | None,
) -> dict[str, Any]:
    return {
        "filter": filter_string,
        # A single clause may come as a string, as the local store takes it.
        "order_by": [order_by] if isinstance(order_by, str) else list(order_by or ()),
        "max_results": max_results,
        "page_token": page_token,
    }


def _model(data: dict[str, Any]) -> RegisteredModel:
    return RegisteredModel(
        name=data["name"],
        description=data["description"],
        created_at_ms=data["created_at_ms"],
        updated_at_ms=data["updated_at_ms"],
        tags=data["tags"],
        aliases=data["aliases"],
        protected_aliases=tuple(data["protected_aliases"]),
        latest_version=data["latest_version"],
    )


def _version(data: dict[str, Any]) -> ModelVersion:
    return ModelVersion(
        name=data["name"],
        version=data["version"],
        source=data["source"],
        run_id=data["run_id"],
        package_digest=data["package_digest"],
        signature=data["signature"],
        description=data["description"],
        user_id=data["user_id"],
        created_at_ms=data["created_at_ms"],
        updated_at_ms=data["updated_at_ms"],
        tags=data["tags"],
        aliases=tuple(data["aliases"]),
        approvals=tuple(Approval(a["actor"], a["at_ms"], a["comment"]) for a in data["approvals"]),
        datasets=tuple(
            RunInput(d["name"], d["digest"], d["source"], d["context"]) for d in data["datasets"]
        ),
    )
