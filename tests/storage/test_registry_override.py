"""An admin's override of failing gates: the audit, the approval and the alias move are one step."""

from __future__ import annotations

import pytest

from mloop.entities.auth import Role
from mloop.entities.gates import Override
from mloop.errors import (
    InvalidInputError,
    ModelVersionNotFoundError,
    PermissionDeniedError,
    StorageError,
)
from mloop.storage.sql.store import SqlStore
from tests.storage.sql.rows import execute

REASON = "regulator-approved exception, ticket RISK-12"
OVERRIDE = Override(REASON, ("fairness: group: DP difference 0.18 > max 0.1",), "ab" * 32)


def _two_versions(store: SqlStore) -> None:
    store.registry.create_version("churn", "s3://b/m1", actor="a")
    store.registry.create_version("churn", "s3://b/m2", actor="a")
    store.registry.set_alias("churn", "champion", 1, actor="a")
    store.registry.set_alias_protection("churn", "champion", actor="admin")


def _actions(store: SqlStore) -> list[str]:
    return [e.action for e in store.audit.list()]


def test_an_override_audits_approves_and_moves_the_alias(store: SqlStore) -> None:
    _two_versions(store)
    previous = store.registry.override_alias(
        "churn", "champion", 2, actor="root", override=OVERRIDE
    )
    assert previous == 1
    assert store.registry.get_version_by_alias("churn", "champion").version == 2
    approval = store.registry.get_version("churn", 2).approvals[0]
    assert (approval.actor, approval.comment) == ("root", f"override: {REASON}")
    events = store.audit.list()
    assert [e.action for e in events[-3:]] == [
        "model_version.promote_override",
        "model_version.approve",
        "model.alias.set",
    ]
    override = events[-3]
    assert (override.actor, override.entity_id) == ("root", "churn/2")
    assert override.details == {
        "alias": "champion",
        "reason": REASON,
        "failures": list(OVERRIDE.failures),
        "report_digest": "ab" * 32,
    }
    assert events[-1].details == {"alias": "champion", "version": 2, "previous": 1}


def test_an_approved_version_is_not_approved_again(store: SqlStore) -> None:
    _two_versions(store)
    store.registry.approve("churn", 2, actor="lead", comment="reviewed")
    store.registry.override_alias("churn", "champion", 2, actor="root", override=OVERRIDE)
    assert [a.actor for a in store.registry.get_version("churn", 2).approvals] == ["lead"]
    assert _actions(store)[-2:] == ["model_version.promote_override", "model.alias.set"]


def test_a_bad_override_is_refused_and_records_nothing(store: SqlStore) -> None:
    _two_versions(store)
    before = _actions(store)
    for reason in ("", "   "):
        with pytest.raises(InvalidInputError, match="needs a reason"):
            Override(reason)
    with pytest.raises(InvalidInputError, match="at most 1000 failures"):
        Override("x", ("f",) * 1001)
    with pytest.raises(ModelVersionNotFoundError):
        store.registry.override_alias("churn", "champion", 9, actor="root", override=OVERRIDE)
    with pytest.raises(InvalidInputError):
        store.registry.override_alias("churn", "bad alias!", 2, actor="root", override=OVERRIDE)
    assert _actions(store) == before
    assert store.registry.get_version_by_alias("churn", "champion").version == 1


def test_a_failing_alias_move_leaves_no_override_event(store: SqlStore) -> None:
    _two_versions(store)
    before = _actions(store)
    # A real database failure at the last step (after the audit event and the approval).
    if store.engine.dialect.name == "sqlite":
        execute(
            store,
            "CREATE TRIGGER frozen BEFORE UPDATE ON model_aliases "
            "BEGIN SELECT RAISE(ABORT, 'aliases are frozen'); END",
        )
    else:
        execute(
            store,
            "CREATE FUNCTION frozen() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'aliases are frozen'; END $$ LANGUAGE plpgsql",
        )
        execute(
            store,
            "CREATE TRIGGER frozen BEFORE UPDATE ON model_aliases "
            "FOR EACH ROW EXECUTE FUNCTION frozen()",
        )
    with pytest.raises(StorageError, match="aliases are frozen"):
        store.registry.override_alias("churn", "champion", 2, actor="root", override=OVERRIDE)
    assert _actions(store) == before
    assert store.registry.get_version("churn", 2).approvals == ()
    assert store.registry.get_version_by_alias("churn", "champion").version == 1
    assert store.audit.verify().is_intact


def test_only_a_global_admin_may_override_once_the_store_has_users(store: SqlStore) -> None:
    _two_versions(store)
    # No users: a single-user store, whoever opens it may override.
    store.registry.override_alias("churn", "challenger", 2, actor="anyone", override=OVERRIDE)
    store.auth.create_user("root", role=Role.ADMIN, actor="setup")
    store.auth.create_user("ed", role=Role.EDITOR, actor="setup")
    store.auth.create_user("nobody", role=None, actor="setup")
    before = _actions(store)
    for actor, said in (("ed", "has editor"), ("nobody", "no global role"), ("eve", "not a user")):
        with pytest.raises(PermissionDeniedError, match=said):
            store.registry.override_alias("churn", "champion", 2, actor=actor, override=OVERRIDE)
    assert _actions(store) == before
    assert store.registry.get_version_by_alias("churn", "champion").version == 1
    store.registry.override_alias("churn", "champion", 2, actor="root", override=OVERRIDE)
    assert store.registry.get_version_by_alias("churn", "champion").version == 2
