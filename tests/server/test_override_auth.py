"""Who may override validation gates over HTTP: the server decides from the authenticated user."""

from __future__ import annotations

import pytest

from mloop.entities.auth import Role
from mloop.entities.gates import Override
from mloop.errors import PermissionDeniedError
from mloop.storage.rest import RestStore
from tests.server.live_auth import AuthServer, auth_server, bearer

__all__ = ["auth_server"]  # a fixture, used by name

OVERRIDE = Override("launch freeze exception, ticket RISK-7", ("metrics: f1 0.61 < min 0.7",))


def _setup(live: AuthServer) -> None:
    registry = live.store.registry
    registry.create_version("churn", "s3://b/m1", actor="a")
    registry.create_version("churn", "s3://b/m2", actor="a")
    registry.set_alias("churn", "champion", 1, actor="a")
    registry.set_alias_protection("churn", "champion", actor="a")


def test_an_editor_gets_403_and_nothing_changes(auth_server: AuthServer) -> None:
    _setup(auth_server)
    token = auth_server.token_for("ed", Role.EDITOR)
    before = len(auth_server.store.audit.list())
    with auth_server.client(bearer(token)) as client:
        response = client.post(
            "/api/v1/models/churn/aliases/champion/override",
            json={"version": 2, "reason": "please"},
            params={"actor": "root"},  # a claimed name counts for nothing with auth on
        )
    assert response.status_code == 403
    assert "admin" in response.json()["error"]["message"]
    store = RestStore(auth_server.url, token=token, max_retries=0)
    try:
        with pytest.raises(PermissionDeniedError, match="admin"):
            store.registry.override_alias("churn", "champion", 2, actor="root", override=OVERRIDE)
        # the editor still moves unprotected aliases the ordinary way
        store.registry.set_alias("churn", "challenger", 2, actor="ed")
    finally:
        store.close()
    assert len(auth_server.store.audit.list()) == before + 1
    assert auth_server.store.registry.get_version_by_alias("churn", "champion").version == 1
    assert auth_server.store.registry.get_version("churn", 2).approvals == ()


def test_a_global_admin_overrides_and_is_the_audited_actor(auth_server: AuthServer) -> None:
    _setup(auth_server)
    token = auth_server.token_for("root", Role.ADMIN)
    store = RestStore(auth_server.url, token=token, max_retries=0)
    try:
        previous = store.registry.override_alias(
            "churn", "champion", 2, actor="someone-else", override=OVERRIDE
        )
    finally:
        store.close()
    assert previous == 1
    assert auth_server.store.registry.get_version_by_alias("churn", "champion").version == 2
    events = auth_server.store.audit.list(entity=("model_version", "churn/2"))
    override = next(e for e in events if e.action == "model_version.promote_override")
    assert override.actor == "root"
    assert override.details["reason"] == OVERRIDE.reason
    assert override.details["failures"] == list(OVERRIDE.failures)
    approval = auth_server.store.registry.get_version("churn", 2).approvals[0]
    assert (approval.actor, approval.comment) == ("root", f"override: {OVERRIDE.reason}")
