"""The REST store as a whole: what open_store picks, settings, audit, fork, unserved aggregates."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mloop.errors import ConfigurationError, NotFoundError
from mloop.settings import Settings
from mloop.storage import open_store
from mloop.storage.rest import RestStore


def test_open_store_picks_the_rest_store_for_http_uris(server_url: str) -> None:
    store = open_store(server_url, artifact_root="unused", token="t0ken")
    try:
        assert isinstance(store, RestStore)
        assert store.artifact_root == server_url
        assert store.experiments.get("0").name == "Default"
    finally:
        store.close()


def test_the_token_comes_from_mloop_tracking_token(tmp_path: Path) -> None:
    env = {"MLOOP_TRACKING_URI": "http://h:1", "MLOOP_TRACKING_TOKEN": "abc"}
    assert Settings.from_env(env, cwd=tmp_path).tracking_token == "abc"
    assert Settings.from_env({}, cwd=tmp_path).tracking_token is None


def test_audit_events_are_appended_and_listed_through_the_server(store: RestStore) -> None:
    first = store.audit.append(actor="ann", action="model.note", entity=("model", "churn"))
    store.audit.append(
        actor="bob", action="model.note", entity=("model", "other"), details={"n": 1}
    )
    assert first.seq == 1
    assert first.hash
    assert first.prev_hash == ""
    about = store.audit.list(entity=("model", "churn"))
    assert [(e.actor, e.entity_id) for e in about] == [("ann", "churn")]
    assert [e.details for e in store.audit.list(limit=5)] == [{}, {"n": 1}]
    assert len(store.audit.list(limit=1)) == 1


def test_aggregates_not_served_yet_say_so(store: RestStore) -> None:
    with pytest.raises(ConfigurationError, match="through an mloop server yet"):
        _ = store.logged_models
    with pytest.raises(ConfigurationError, match="run `mloop db upgrade` where the server runs"):
        store.upgrade()


def test_a_forked_child_uses_its_own_connections(store: RestStore) -> None:
    store.experiments.get("0")
    parent_client = store.transport.client
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        ok = store.transport.client is not parent_client and store.experiments.get("0").name
        os.write(write, b"1" if ok == "Default" else b"0")
        os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.waitpid(pid, 0)
    assert store.transport.client is parent_client


def test_the_authenticated_user_wins_over_the_claimed_actor() -> None:
    from starlette.requests import Request

    from mloop.server.deps import ANONYMOUS, actor_of

    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})
    assert actor_of(request, None) == ANONYMOUS
    assert actor_of(request, "claimed") == "claimed"
    request.state.user = "ann"
    assert actor_of(request, "claimed") == "ann"


def test_experiment_tags_are_deleted_through_the_server(store: RestStore) -> None:
    experiment = store.experiments.create("tagged", tags={"a/b": "1", "keep": "2"})
    store.experiments.delete_tag(experiment.experiment_id, "a/b")
    assert store.experiments.get(experiment.experiment_id).tags == {"keep": "2"}
    with pytest.raises(NotFoundError, match="has no tag 'a/b'"):
        store.experiments.delete_tag(experiment.experiment_id, "a/b")
