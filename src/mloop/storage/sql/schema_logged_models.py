"""Tables of MLflow 3 logged models, served by the MLflow-compatible API (revision 0005).

Declared on the shared `metadata` of `schema.py`, which imports this module so every table is
known to `create_all` and to the migration tests.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Double, ForeignKey, Index, String, Table

from mloop.storage.sql.schema import Ref, owner_key, param_table, tag_table
from mloop.storage.sql.schema import metadata as metadata


def _model_ref() -> Column[str]:
    return owner_key("model_id", "logged_models.model_id", String(64))


# A model an MLflow client logged (`m-` + 32 hex); its files live under `artifact_location`.
logged_models = Table(
    "logged_models",
    metadata,
    Column("model_id", String(64), primary_key=True),
    Column("experiment_id", Ref, ForeignKey("experiments.experiment_id"), nullable=False),
    Column("name", String(250), nullable=False),
    Column("artifact_location", String(1000), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    Column("status", String(40), nullable=False),
    Column("lifecycle_stage", String(16), nullable=False),
    Column("source_run_id", String(32), nullable=True),
    Column("model_type", String(250), nullable=True),
    Column("status_message", String(1000), nullable=True),
    Index(None, "experiment_id", "creation_time"),
    Index(None, "source_run_id"),
)

logged_model_params = param_table("logged_model_params", _model_ref())

logged_model_tags = tag_table("logged_model_tags", _model_ref())

# Metric points logged with a model id (by a run, possibly on a dataset). NaN is stored as 0
# with `is_nan` set, since SQLite would turn it into NULL.
logged_model_metrics = Table(
    "logged_model_metrics",
    metadata,
    _model_ref(),
    Column("key", String(250), primary_key=True),
    Column("timestamp", BigInteger, primary_key=True),
    Column("step", BigInteger, primary_key=True),
    Column("run_id", String(32), primary_key=True),
    Column("dataset_name", String(250), primary_key=True),
    Column("dataset_digest", String(128), primary_key=True),
    Column("value", Double, nullable=False),
    Column("is_nan", Boolean, nullable=False),
)

# Runs' inputs and outputs that are logged models (MLflow's LogInputs models, LogOutputs).
logged_model_links = Table(
    "logged_model_links",
    metadata,
    Column("run_id", String(32), primary_key=True),
    _model_ref(),
    Column("is_output", Boolean, primary_key=True),
    Column("step", BigInteger, nullable=False),
)
