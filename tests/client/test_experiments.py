"""Choosing the experiment of the fluent API (`client/experiments.py`)."""

from __future__ import annotations

import pytest

import mloop
from mloop.client.context import STATE
from mloop.errors import ExperimentNotFoundError, InvalidInputError, InvalidStateError
from mloop.storage.sql.store import SqlStore


def test_set_experiment_creates_a_missing_experiment_and_makes_it_current(store: SqlStore):
    experiment = mloop.set_experiment("churn")

    assert store.experiments.get_by_name("churn").experiment_id == experiment.experiment_id
    run = mloop.start_run()  # an empty run: only where it goes matters
    mloop.end_run()
    assert store.runs.get(run.run_id).experiment_id == experiment.experiment_id


def test_set_experiment_reuses_an_existing_experiment(store: SqlStore):
    existing = store.experiments.create("churn")

    first = mloop.set_experiment("churn")
    second = mloop.set_experiment("churn")

    assert first.experiment_id == second.experiment_id == existing.experiment_id
    assert [e.name for e in store.experiments.list()].count("churn") == 1


def test_set_experiment_by_id_selects_it(store: SqlStore):
    existing = store.experiments.create("by-id")

    assert mloop.set_experiment(experiment_id=existing.experiment_id).name == "by-id"
    assert STATE.experiment_id == existing.experiment_id


def test_set_experiment_refuses_a_deleted_experiment_and_keeps_the_current_one(store: SqlStore):
    current = mloop.set_experiment("current")
    deleted = store.experiments.create("gone")
    store.experiments.delete(deleted.experiment_id)

    with pytest.raises(InvalidStateError, match="restore"):
        mloop.set_experiment("gone")
    with pytest.raises(InvalidStateError):
        mloop.set_experiment(experiment_id=deleted.experiment_id)

    assert STATE.experiment_id == current.experiment_id


def test_set_experiment_needs_exactly_one_of_name_and_id():
    with pytest.raises(InvalidInputError):
        mloop.set_experiment()
    with pytest.raises(InvalidInputError):
        mloop.set_experiment("a", experiment_id="0")


def test_set_experiment_with_an_unknown_id_raises_not_found():
    with pytest.raises(ExperimentNotFoundError):
        mloop.set_experiment(experiment_id="424242")


def test_runs_go_to_the_default_experiment_when_none_is_set(store: SqlStore):
    run = mloop.start_run()  # an empty run: only where it goes matters
    mloop.end_run()

    assert store.runs.get(run.run_id).experiment_id == "0"


def test_mloop_experiment_name_picks_and_creates_the_experiment(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("MLOOP_EXPERIMENT_NAME", "from-env")

    run = mloop.start_run()  # an empty run: only where it goes matters

    mloop.end_run()

    experiment = store.experiments.get_by_name("from-env")
    assert store.runs.get(run.run_id).experiment_id == experiment.experiment_id


def test_set_experiment_wins_over_mloop_experiment_name(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("MLOOP_EXPERIMENT_NAME", "from-env")
    chosen = mloop.set_experiment("in-code")

    run = mloop.start_run()  # an empty run: only where it goes matters

    mloop.end_run()

    assert store.runs.get(run.run_id).experiment_id == chosen.experiment_id
    assert store.experiments.find_by_name("from-env") is None
