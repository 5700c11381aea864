"""The auth store: users, roles, API tokens and credential checks, on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import pytest

from mloop.entities.auth import Role, parse_token
from mloop.errors import (
    ExperimentNotFoundError,
    InvalidInputError,
    TokenNotFoundError,
    UserAlreadyExistsError,
    UserNotFoundError,
)
from mloop.storage.protocols import AuthStore
from mloop.storage.sql.store import SqlStore
from tests.storage.sql.rows import scalar


def test_sql_auth_store_satisfies_the_protocol(store: SqlStore) -> None:
    auth: AuthStore = store.auth
    assert auth.list_users() == []


def test_a_created_user_has_its_role_and_password(store: SqlStore) -> None:
    created = store.auth.create_user("alice", role=Role.EDITOR, password="s3cret-pw", actor="root")
    assert (created.name, created.role, created.has_password) == ("alice", Role.EDITOR, True)
    assert created.created_at_ms > 0
    assert store.auth.get_user("alice") == created
    assert store.auth.find_user_by_password("alice", "s3cret-pw") == created
    assert store.auth.find_user_by_password("alice", "wrong-pw!") is None
    assert store.auth.find_user_by_password("nobody", "s3cret-pw") is None
    stored = scalar(store, "SELECT password_hash FROM users WHERE name = 'alice'")
    assert stored.startswith("$argon2id$")
    assert "s3cret-pw" not in stored


def test_a_token_only_user_cannot_log_in_with_a_password(store: SqlStore) -> None:
    bot = store.auth.create_user("ci-bot", role=None, actor="root")
    assert (bot.role, bot.has_password) == (None, False)
    assert store.auth.find_user_by_password("ci-bot", "") is None


def test_users_are_listed_by_name_with_their_grants(store: SqlStore) -> None:
    experiment = store.experiments.create("churn")
    store.auth.create_user("zoe", role=Role.READER, actor="root")
    store.auth.create_user("bob", role=None, actor="root")
    store.auth.grant("bob", Role.EDITOR, experiment_id=experiment.experiment_id, actor="root")
    listed = store.auth.list_users()
    assert [u.name for u in listed] == ["bob", "zoe"]
    assert listed[0].experiment_roles == {experiment.experiment_id: Role.EDITOR}
    assert listed[1].experiment_roles == {}


@pytest.mark.parametrize("name", ["", "-dash-first", "has space", "x" * 129, "semi;colon"])
def test_bad_user_names_are_refused_and_nothing_is_created(store: SqlStore, name: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid user name"):
        store.auth.create_user(name, role=Role.READER, actor="root")
    assert store.auth.list_users() == []


def test_a_too_short_password_is_refused_and_nothing_is_created(store: SqlStore) -> None:
    with pytest.raises(InvalidInputError, match="8 to 1024 characters") as caught:
        store.auth.create_user("alice", role=Role.READER, password="short", actor="root")
    assert caught.value.field == "password"
    assert store.auth.list_users() == []


def test_a_taken_name_is_refused(store: SqlStore) -> None:
    store.auth.create_user("alice", role=Role.READER, actor="root")
    with pytest.raises(UserAlreadyExistsError, match="'alice' already exists") as caught:
        store.auth.create_user("alice", role=Role.ADMIN, actor="root")
    assert caught.value.name == "alice"
    assert store.auth.get_user("alice").role == Role.READER


def test_unknown_users_raise_not_found(store: SqlStore) -> None:
    with pytest.raises(UserNotFoundError, match="mloop users list"):
        store.auth.get_user("ghost")
    with pytest.raises(UserNotFoundError):
        store.auth.grant("ghost", Role.ADMIN, actor="root")
    with pytest.raises(UserNotFoundError):
        store.auth.grant("ghost", Role.ADMIN, experiment_id="0", actor="root")
    with pytest.raises(UserNotFoundError):
        store.auth.create_token("ghost", actor="root")
    with pytest.raises(UserNotFoundError):
        store.auth.delete_user("ghost", actor="root")
    with pytest.raises(UserNotFoundError):
        store.auth.set_password("ghost", "long-enough", actor="root")


def test_grants_raise_lower_and_remove_roles(store: SqlStore) -> None:
    experiment = store.experiments.create("churn").experiment_id
    store.auth.create_user("bob", role=Role.READER, actor="root")
    bob = store.auth.grant("bob", Role.ADMIN, experiment_id=experiment, actor="root")
    assert (bob.role_in(experiment), bob.role_in("0"), bob.role_in(None)) == (
        Role.ADMIN,
        Role.READER,
        Role.READER,
    )
    bob = store.auth.grant("bob", Role.EDITOR, experiment_id=experiment, actor="root")
    assert bob.experiment_roles == {experiment: Role.EDITOR}
    bob = store.auth.grant("bob", None, experiment_id=experiment, actor="root")
    assert bob.experiment_roles == {}
    bob = store.auth.grant("bob", None, actor="root")
    assert bob.role is None
    assert bob.role_in(experiment) is None


def test_a_grant_on_a_missing_experiment_is_refused(store: SqlStore) -> None:
    store.auth.create_user("bob", role=None, actor="root")
    with pytest.raises(ExperimentNotFoundError):
        store.auth.grant("bob", Role.EDITOR, experiment_id="999", actor="root")
    with pytest.raises(InvalidInputError):
        store.auth.grant("bob", Role.EDITOR, experiment_id="not-a-number", actor="root")
    assert store.auth.get_user("bob").experiment_roles == {}


def test_a_token_is_shown_once_and_stored_hashed(store: SqlStore) -> None:
    store.auth.create_user("alice", role=Role.EDITOR, actor="root")
    issued = store.auth.create_token("alice", name="laptop", actor="root")
    parsed = parse_token(issued.secret)
    assert parsed is not None
    assert parsed[0] == issued.token.token_id
    assert (issued.token.user, issued.token.name, issued.token.is_revoked) == (
        "alice",
        "laptop",
        False,
    )
    stored = scalar(store, "SELECT secret_hash FROM api_tokens")
    assert parsed[1] not in stored
    assert len(stored) == 64
    user = store.auth.find_user_by_token(issued.secret)
    assert user is not None
    assert user.name == "alice"


def test_wrong_unknown_and_foreign_tokens_find_no_user(store: SqlStore) -> None:
    store.auth.create_user("alice", role=Role.EDITOR, actor="root")
    store.auth.create_user("bob", role=Role.EDITOR, actor="root")
    secret = store.auth.create_token("alice", actor="root").secret
    token_id, token_secret = secret.split("_")[1], secret[len("mloop_") + 13 :]
    forged = f"mloop_{token_id}_{'A' * len(token_secret)}"
    assert store.auth.find_user_by_token(forged) is None
    assert store.auth.find_user_by_token(f"mloop_{'0' * 12}_{token_secret}") is None
    assert store.auth.find_user_by_token("not a token") is None
    assert store.auth.find_user_by_token(secret, user="bob") is None
    found = store.auth.find_user_by_token(secret, user="alice")
    assert found is not None
    assert found.name == "alice"


def test_a_revoked_token_stops_working(store: SqlStore) -> None:
    store.auth.create_user("alice", role=Role.EDITOR, actor="root")
    issued = store.auth.create_token("alice", actor="root")
    revoked = store.auth.revoke_token(issued.token.token_id, actor="root")
    assert revoked.is_revoked
    assert store.auth.find_user_by_token(issued.secret) is None
    again = store.auth.revoke_token(issued.token.token_id, actor="root")
    assert again.revoked_at_ms == revoked.revoked_at_ms
    with pytest.raises(TokenNotFoundError, match="mloop tokens list"):
        store.auth.revoke_token("0" * 12, actor="root")


def test_tokens_are_listed_per_user_without_secrets(store: SqlStore) -> None:
    store.auth.create_user("alice", role=Role.EDITOR, actor="root")
    store.auth.create_user("bob", role=Role.EDITOR, actor="root")
    first = store.auth.create_token("alice", name="one", actor="root").token
    second = store.auth.create_token("bob", name="two", actor="root").token
    assert {t.token_id for t in store.auth.list_tokens()} == {first.token_id, second.token_id}
    assert store.auth.list_tokens(user="bob") == [second]
    with pytest.raises(InvalidInputError):
        store.auth.create_token("bob", name="\x00bad", actor="root")
    assert len(store.auth.list_tokens()) == 2


def test_a_password_can_be_set_and_removed(store: SqlStore) -> None:
    store.auth.create_user("alice", role=Role.EDITOR, actor="root")
    store.auth.set_password("alice", "new-password", actor="root")
    assert store.auth.find_user_by_password("alice", "new-password") is not None
    store.auth.set_password("alice", None, actor="root")
    assert store.auth.find_user_by_password("alice", "new-password") is None


def test_deleting_a_user_removes_its_tokens_and_grants(store: SqlStore) -> None:
    experiment = store.experiments.create("churn").experiment_id
    store.auth.create_user("alice", role=Role.EDITOR, actor="root")
    store.auth.grant("alice", Role.ADMIN, experiment_id=experiment, actor="root")
    secret = store.auth.create_token("alice", actor="root").secret
    store.auth.delete_user("alice", actor="root")
    assert store.auth.list_users() == []
    assert store.auth.list_tokens() == []
    assert store.auth.find_user_by_token(secret) is None
    assert scalar(store, "SELECT count(*) FROM experiment_roles") == 0


def test_every_change_is_in_the_audit_log(store: SqlStore) -> None:
    store.auth.create_user("alice", role=Role.EDITOR, password="long-enough", actor="root")
    store.auth.grant("alice", Role.ADMIN, actor="root")
    token = store.auth.create_token("alice", actor="ops").token
    store.auth.revoke_token(token.token_id, actor="ops")
    store.auth.delete_user("alice", actor="root")
    events = [(e.actor, e.action, e.entity_id) for e in store.audit.list()]
    assert events == [
        ("root", "user.create", "alice"),
        ("root", "user.grant", "alice"),
        ("ops", "token.create", token.token_id),
        ("ops", "token.revoke", token.token_id),
        ("root", "user.delete", "alice"),
    ]
    assert store.audit.list()[0].details == {"role": "editor", "password": True}
    assert store.audit.verify().is_intact


def test_the_experiment_of_a_run_is_found(store: SqlStore) -> None:
    experiment = store.experiments.create("churn").experiment_id
    run = store.runs.create(experiment, run_name="r")
    assert store.auth.find_experiment_of_run(run.run_id) == experiment
    assert store.auth.find_experiment_of_run("0" * 32) is None


def test_an_unknown_user_costs_a_password_check_too(store: SqlStore) -> None:
    # Otherwise the answer time would tell which user names exist.
    store.auth.create_user("alice", role=Role.READER, password="alices-password", actor="t")
    store.auth.create_user("bot", role=Role.READER, actor="t")

    def fastest(name: str) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            assert store.auth.find_user_by_password(name, "wrong-password") is None
            times.append(time.perf_counter() - start)
        return min(times)

    known = fastest("alice")
    assert fastest("nobody") > 0.3 * known
    assert fastest("bot") > 0.3 * known
