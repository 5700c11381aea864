"""The append-only, hash-chained audit log (`sql/audit.py`) and its tamper detection."""

from __future__ import annotations

import itertools
import json

import pytest

from mloop.entities.audit import chain_hash
from mloop.errors import InvalidInputError
from mloop.storage.sql.store import SqlStore
from tests.storage.sql.rows import execute, scalar


@pytest.fixture
def logged(store: SqlStore) -> SqlStore:
    """A store whose audit log holds five events."""
    for i in range(5):
        store.audit.append(
            actor=f"user{i}",
            action="model.promote",
            entity=("model", f"m{i % 2}"),
            details={"version": i, "alias": "champion", "note": "ünïcode"},
        )
    return store


def test_an_empty_log_verifies(store: SqlStore) -> None:
    result = store.audit.verify()
    assert (result.is_intact, result.checked, result.first_bad_seq) == (True, 0, None)


def test_appended_events_chain_onto_each_other(logged: SqlStore) -> None:
    events = logged.audit.list()
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == ""
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    assert events[2].details == {"version": 2, "alias": "champion", "note": "ünïcode"}
    assert (events[2].actor, events[2].entity_type, events[2].entity_id) == ("user2", "model", "m0")
    result = logged.audit.verify()
    assert (result.is_intact, result.checked) == (True, 5)


def test_verify_reports_the_head_and_checks_an_expected_one(logged: SqlStore) -> None:
    events = logged.audit.list()
    result = logged.audit.verify()
    assert (result.head, result.head_seq) == (events[-1].hash, 5)
    # Any event's hash anchors: the log may have grown since it was taken.
    assert logged.audit.verify(expect_head=events[2].hash).is_intact
    assert logged.audit.verify(expect_head=events[4].hash.upper()).is_intact
    execute(logged, "DELETE FROM audit_events WHERE seq >= 4")
    assert logged.audit.verify().is_intact  # the chain alone cannot tell
    cut = logged.audit.verify(expect_head=events[4].hash)
    assert (cut.is_intact, cut.checked, cut.first_bad_seq) == (False, 3, None)
    assert (cut.head, cut.head_seq) == (events[2].hash, 3)
    assert "newest events were removed" in cut.reason
    with pytest.raises(InvalidInputError, match="not a head hash") as caught:
        logged.audit.verify(expect_head="xyz")
    assert caught.value.field == "expect_head"


def test_append_returns_the_stored_event(store: SqlStore) -> None:
    event = store.audit.append(actor="a", action="x.y", entity=("run", "r"))
    assert store.audit.list() == [event]
    assert event.details == {}


def test_list_filters_by_entity_and_limits(logged: SqlStore) -> None:
    assert [e.seq for e in logged.audit.list(entity=("model", "m1"))] == [2, 4]
    assert [e.seq for e in logged.audit.list(limit=2)] == [1, 2]
    assert logged.audit.list(entity=("run", "m1")) == []


def test_audit_events_survive_reopening_the_store(
    logged: SqlStore, store_url: str, artifact_root: str
) -> None:
    reopened = SqlStore(store_url, artifact_root=artifact_root)
    try:
        assert reopened.audit.list() == logged.audit.list()
        assert reopened.audit.verify().is_intact
    finally:
        reopened.close()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("details", json.dumps({"version": 99, "alias": "champion", "note": "ünïcode"})),
        ("actor", "mallory"),
        ("action", "model.delete"),
        ("entity_id", "m9"),
        ("at_ms", 1),
    ],
)
def test_editing_a_stored_event_is_detected_at_that_event(
    logged: SqlStore, column: str, value: object
) -> None:
    execute(logged, f"UPDATE audit_events SET {column} = :v WHERE seq = 3", v=value)
    result = logged.audit.verify()
    assert not result.is_intact
    assert result.first_bad_seq == 3
    assert result.checked == 2
    assert "content" in result.reason


@pytest.mark.parametrize("details", ["not json", '{"version": NaN}', "[1, 2]"])
def test_details_that_are_no_longer_a_json_object_are_reported_not_raised(
    logged: SqlStore, details: str
) -> None:
    execute(logged, "UPDATE audit_events SET details = :d WHERE seq = 2", d=details)
    result = logged.audit.verify()
    assert (result.is_intact, result.first_bad_seq) == (False, 2)


def test_reformatting_details_without_changing_them_is_not_tampering(logged: SqlStore) -> None:
    # The hash covers the facts, not the stored spelling of the JSON.
    spaced = json.dumps({"note": "ünïcode", "alias": "champion", "version": 2}, indent=2)
    execute(logged, "UPDATE audit_events SET details = :v WHERE seq = 3", v=spaced)
    assert logged.audit.verify().is_intact


def test_deleting_a_middle_event_is_detected_at_its_successor(logged: SqlStore) -> None:
    execute(logged, "DELETE FROM audit_events WHERE seq = 3")
    result = logged.audit.verify()
    assert (result.is_intact, result.first_bad_seq, result.checked) == (False, 4, 2)
    assert "link" in result.reason


def test_deleting_the_first_event_is_detected(logged: SqlStore) -> None:
    execute(logged, "DELETE FROM audit_events WHERE seq = 1")
    assert logged.audit.verify().first_bad_seq == 2


def test_a_forged_event_with_a_made_up_hash_is_detected(logged: SqlStore) -> None:
    last = logged.audit.list()[-1]
    execute(
        logged,
        "INSERT INTO audit_events (seq, at_ms, actor, action, entity_type, entity_id, details, "
        "prev_hash, hash) VALUES (6, 1, 'mallory', 'model.promote', 'model', 'm0', '{}', :p, :h)",
        p=last.hash,
        h="f" * 64,
    )
    result = logged.audit.verify()
    assert (result.is_intact, result.first_bad_seq) == (False, 6)


def test_a_forged_event_replacing_a_middle_one_breaks_the_next_link(logged: SqlStore) -> None:
    events = logged.audit.list()
    # A forger who knows the algorithm can make the replaced event itself look right ...
    forged = chain_hash(
        events[1].hash,
        at_ms=events[2].at_ms,
        actor="mallory",
        action="model.promote",
        entity=("model", "m0"),
        details={},
    )
    execute(logged, "DELETE FROM audit_events WHERE seq = 3")
    execute(
        logged,
        "INSERT INTO audit_events (seq, at_ms, actor, action, entity_type, entity_id, details, "
        "prev_hash, hash) VALUES (3, :t, 'mallory', 'model.promote', 'model', 'm0', '{}', :p, :h)",
        t=events[2].at_ms,
        p=events[1].hash,
        h=forged,
    )
    # ... but the event after it still points at the original.
    result = logged.audit.verify()
    assert (result.is_intact, result.first_bad_seq) == (False, 4)


def test_an_event_inserted_between_two_events_is_detected(logged: SqlStore) -> None:
    # Renumber the tail to open a gap at 4, then slip a forged event into it.
    execute(logged, "UPDATE audit_events SET seq = seq + 100 WHERE seq >= 4")
    previous = logged.audit.list()[2]
    execute(
        logged,
        "INSERT INTO audit_events (seq, at_ms, actor, action, entity_type, entity_id, details, "
        "prev_hash, hash) VALUES (4, 1, 'mallory', 'x', 'model', 'm0', '{}', :p, :h)",
        p=previous.hash,
        h=chain_hash(
            previous.hash, at_ms=1, actor="mallory", action="x", entity=("model", "m0"), details={}
        ),
    )
    result = logged.audit.verify()
    assert (result.is_intact, result.first_bad_seq) == (False, 104)


def test_run_deletions_chain_with_other_events(store: SqlStore) -> None:
    run = store.runs.create("0", run_name="r")
    store.audit.append(actor="a", action="model.register", entity=("model", "m"))
    store.runs.delete(run.run_id, actor="b")
    events = store.audit.list()
    assert [e.action for e in events] == ["model.register", "run.delete"]
    assert events[1].prev_hash == events[0].hash
    assert scalar(store, "SELECT count(*) FROM audit_events") == 2
    assert store.audit.verify().is_intact
