"""The fluent API users import, and `MloopClient`.

With `cli/` and `server/`, the only layer that reads settings and holds a default store.
"""

from __future__ import annotations

from mloop.client.active_run import ActiveRun as ActiveRun
from mloop.client.active_run import active_run as active_run
from mloop.client.active_run import end_run as end_run
from mloop.client.active_run import start_run as start_run
from mloop.client.client import MloopClient as MloopClient
from mloop.client.context import set_tracking_uri as set_tracking_uri
from mloop.client.datasets import log_input as log_input
from mloop.client.experiments import set_experiment as set_experiment
from mloop.client.fluent import delete_run as delete_run
from mloop.client.fluent import flush as flush
from mloop.client.fluent import get_run as get_run
from mloop.client.fluent import log_artifact as log_artifact
from mloop.client.fluent import log_artifacts as log_artifacts
from mloop.client.fluent import log_dict as log_dict
from mloop.client.fluent import log_figure as log_figure
from mloop.client.fluent import log_metric as log_metric
from mloop.client.fluent import log_metrics as log_metrics
from mloop.client.fluent import log_param as log_param
from mloop.client.fluent import log_params as log_params
from mloop.client.fluent import log_text as log_text
from mloop.client.fluent import restore_run as restore_run
from mloop.client.fluent import search_runs as search_runs
from mloop.client.fluent import set_tag as set_tag
from mloop.client.fluent import set_tags as set_tags
from mloop.client.models import load_model as load_model
from mloop.client.models import log_model as log_model
from mloop.client.registry import approve_model_version as approve_model_version
from mloop.client.registry import get_model_version as get_model_version
from mloop.client.registry import register_model as register_model
from mloop.client.registry import set_model_alias as set_model_alias

__all__ = [
    "ActiveRun",
    "MloopClient",
    "active_run",
    "approve_model_version",
    "delete_run",
    "end_run",
    "flush",
    "get_model_version",
    "get_run",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_text",
    "register_model",
    "restore_run",
    "search_runs",
    "set_experiment",
    "set_model_alias",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]
