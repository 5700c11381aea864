"""Stateless replicas: two servers on one database serve the same data."""

from __future__ import annotations

import pytest

from mloop.entities import Metric
from mloop.server.app import create_app
from mloop.server.config import ServerConfig
from mloop.storage.rest import RestStore
from tests.server.conftest import serve_in_thread


@pytest.mark.postgres
def test_two_servers_on_one_postgresql_database_serve_the_same_data(
    backend: str, server_config: ServerConfig
) -> None:
    if backend != "postgresql":
        pytest.skip("replicas share a PostgreSQL database")
    servers = [serve_in_thread(create_app(server_config)) for _ in range(2)]
    first, second = (RestStore(url) for url, _ in servers)
    try:
        experiment = first.experiments.create("shared")
        run = second.runs.create(experiment.experiment_id, run_name="r")
        first.runs.log_batch(run.run_id, metrics=[Metric("m", 1.0, 1, 0)])
        second.runs.log_batch(run.run_id, metrics=[Metric("m", 2.0, 2, 1)])
        for store in (first, second):
            assert store.experiments.get_by_name("shared").experiment_id == (
                experiment.experiment_id
            )
            assert [m.value for m in store.runs.get_metric_history(run.run_id, "m")] == [1, 2]
            assert store.runs.get(run.run_id).metrics == {"m": 2.0}
    finally:
        first.close()
        second.close()
        for _, stop in servers:
            stop()
