"""What autolog records of a hyper-parameter search (GridSearchCV, RandomizedSearchCV ...).

The search's own run (the parent) gets `best_*` params, the `best_cv_score` metric and the whole
`cv_results_` as `cv_results.csv`; the best candidates by rank each get a child run with their
params and the mean, std and rank columns of `cv_results_` as metrics.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mloop.client.autolog.params import clean_params, estimator_tags, is_valid_key
from mloop.client.context import get_store
from mloop.client.fluent import log_text
from mloop.entities import Metric, Param, RunStatus, RunTag
from mloop.tracking.environment import current_user

CV_RESULTS_FILE = "cv_results.csv"
_METRIC_PREFIXES = ("mean_", "std_", "rank_")


def is_search(estimator: Any) -> bool:
    """Whether the estimator is a fitted hyper-parameter search."""
    return hasattr(estimator, "cv_results_") and hasattr(estimator, "estimator")


def search_summary(search: Any) -> tuple[dict[str, str], dict[str, float]]:
    """The parent run's `best_<param>` params and `best_cv_score` metric (when refit kept them)."""
    best_params = getattr(search, "best_params_", None) or {}
    params = clean_params({f"best_{k}": v for k, v in best_params.items()})
    metrics: dict[str, float] = {}
    best_score = getattr(search, "best_score_", None)
    if best_score is not None:
        metrics["best_cv_score"] = float(best_score)
    return params, metrics


def log_cv_results(search: Any, run_id: str) -> None:
    """Write `cv_results_` as a CSV artifact of the run."""
    import pandas as pd

    log_text(pd.DataFrame(search.cv_results_).to_csv(index=False), CV_RESULTS_FILE, run_id=run_id)


def best_candidates(results: Mapping[str, Any], limit: int | None) -> list[int]:
    """Indices of the best candidates by rank (ties by position), at most `limit` (None: all)."""
    rank_key = _rank_key(results)
    count = len(results["params"])
    if rank_key is None:
        order = list(range(count))
    else:
        ranks = results[rank_key]
        order = sorted(range(count), key=lambda i: (int(ranks[i]), i))
    return order if limit is None else order[:limit]


def _rank_key(results: Mapping[str, Any]) -> str | None:
    if "rank_test_score" in results:
        return "rank_test_score"
    return next((k for k in results if k.startswith("rank_test_")), None)


def log_child_runs(
    search: Any, *, parent_run_id: str, experiment_id: str, limit: int | None
) -> list[str]:
    """Create a finished child run for each of the best candidates.

    Returns:
        The child run ids, best first.
    """
    results = search.cv_results_
    store = get_store().runs
    base = search.estimator
    tags = [RunTag(k, v) for k, v in estimator_tags(base).items()]
    user = current_user()
    children: list[str] = []
    for index in best_candidates(results, limit):
        child = store.create(
            experiment_id,
            run_name=f"{type(base).__name__}-candidate-{index}",
            user_id=user,
            parent_run_id=parent_run_id,
            tags=tags,
        )
        params = clean_params(results["params"][index])
        store.log_batch(
            child.run_id,
            metrics=_candidate_metrics(results, index),
            params=[Param(k, v) for k, v in params.items()],
        )
        store.update(child.run_id, status=RunStatus.FINISHED)
        children.append(child.run_id)
    return children


def _candidate_metrics(results: Mapping[str, Any], index: int) -> list[Metric]:
    from mloop.entities.clock import now_ms

    stamp = now_ms()
    metrics = []
    for key, values in results.items():
        if key.startswith(_METRIC_PREFIXES) and is_valid_key(key, kind="metric"):
            try:
                value = float(values[index])
            except (TypeError, ValueError):
                continue
            metrics.append(Metric(key, value, stamp, 0))
    return metrics
