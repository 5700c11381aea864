"""Background CPU and memory sampling (`tracking/system_metrics.py`)."""

from __future__ import annotations

import threading
import time

import pytest

import mloop
from mloop.entities import Metric
from mloop.storage.sql.store import SqlStore
from mloop.tracking import system_metrics
from mloop.tracking.system_metrics import SystemMetricsSampler
from tests.client.conftest import FluentEnv

KEYS = {
    "system/cpu_utilization_percentage",
    "system/memory_usage_megabytes",
    "system/memory_usage_percentage",
    "system/process_rss_megabytes",
}


def test_the_sampler_hands_numbered_samples_to_its_sink_until_stopped():
    samples: list[list[Metric]] = []
    got_three = threading.Event()

    def sink(points: list[Metric]) -> None:
        samples.append(points)
        if len(samples) >= 3:
            got_three.set()

    sampler = SystemMetricsSampler(sink, interval_s=0.02)
    sampler.start()
    assert got_three.wait(30)
    sampler.stop()
    count = len(samples)
    time.sleep(0.1)

    assert len(samples) == count  # nothing after stop
    assert [{p.step for p in sample} for sample in samples] == [{i} for i in range(count)]
    for sample in samples:
        values = {p.key: p.value for p in sample}
        assert set(values) == KEYS
        assert 0 <= values["system/memory_usage_percentage"] <= 100
        assert values["system/process_rss_megabytes"] > 0
        assert values["system/cpu_utilization_percentage"] >= 0


def test_stop_takes_one_last_sample():
    samples: list[list[Metric]] = []
    sampler = SystemMetricsSampler(samples.append, interval_s=60)
    sampler.start()

    sampler.stop()
    sampler.stop()  # idempotent

    assert len(samples) == 1


def test_a_run_with_system_metrics_records_them(
    fluent: FluentEnv, store: SqlStore, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(system_metrics, "DEFAULT_INTERVAL_S", 0.02)

    with mloop.start_run(log_system_metrics=True) as run:
        time.sleep(0.2)

    stored = store.runs.get(run.run_id)
    assert set(stored.metrics) >= KEYS
    history = store.runs.get_metric_history(run.run_id, "system/cpu_utilization_percentage")
    assert len(history) >= 2
    assert [p.step for p in history] == list(range(len(history)))


def test_mloop_log_system_metrics_turns_sampling_on(
    fluent: FluentEnv, store: SqlStore, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(system_metrics, "DEFAULT_INTERVAL_S", 0.02)
    monkeypatch.setenv("MLOOP_LOG_SYSTEM_METRICS", "true")

    with mloop.start_run() as sampled:
        time.sleep(0.05)
    with mloop.start_run(log_system_metrics=False) as quiet:
        time.sleep(0.05)

    assert set(store.runs.get(sampled.run_id).metrics) >= KEYS
    assert not KEYS & set(store.runs.get(quiet.run_id).metrics)


def test_runs_do_not_sample_by_default(fluent: FluentEnv, store: SqlStore):
    run = mloop.start_run()  # an empty run: only where it goes matters
    mloop.end_run()

    assert not KEYS & set(store.runs.get(run.run_id).metrics)
