"""`autolog()` for scikit-learn: every fit is logged as a run, with no change to training code.

`autolog()` wraps `fit`, `fit_transform` and `fit_predict` of every scikit-learn estimator class
(`sklearn.utils.all_estimators()`, `Pipeline` and the searches). The outermost fit in a thread
logs its params, tags, training metrics and the content digest of its training data to the
active run, or to a run it starts (named after the estimator) and ends after the fit. Fits
nested inside it (a Pipeline's steps, a search's candidates) log nothing of their own.

What autolog writes goes straight to the store, one batch per fit, rather than through the
background queue: a failure is then autolog's own, reported as one `AutologWarning`, and never
surfaces later in the user's own logging calls. The fit itself is never changed: it returns what
it returns unwrapped, and its exceptions propagate unchanged (an autolog-started run ends FAILED).

scikit-learn is imported by `autolog()`, not by importing this module.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mloop.client.active_run import ActiveRun, active_run, start_run
from mloop.client.autolog import patching
from mloop.client.autolog.params import estimator_params, estimator_tags
from mloop.client.autolog.reporting import describe, warn_failures
from mloop.client.context import STATE, get_store
from mloop.entities import Metric, Param, RunTag
from mloop.entities.clock import now_ms
from mloop.errors import InvalidInputError, MissingExtraError, ParamConflictError

PATCHED_METHODS = ("fit", "fit_transform", "fit_predict")


@dataclass(frozen=True)
class AutologConfig:
    """The options of the last `autolog()` call."""

    log_models: bool
    log_datasets: bool
    max_tuning_runs: int | None
    exclusive: bool
    silent: bool


@dataclass(frozen=True)
class _Target:
    """The run a fit logs to; `started` is set when autolog started it."""

    run_id: str
    experiment_id: str
    started: ActiveRun | None


_config: AutologConfig | None = None


def autolog(
    *,
    log_models: bool = False,
    log_datasets: bool = True,
    max_tuning_runs: int | None = 5,
    log_post_training_metrics: bool = False,
    exclusive: bool = False,
    disable: bool = False,
    silent: bool = False,
) -> None:
    """Log every scikit-learn fit from now on: params, training metrics, tags, dataset digest.

    Calling it again changes the options without wrapping anything twice.

    Args:
        log_models: also log the fitted model as a model package under `model/` in the run
            (`mloop.log_model`, with the first rows of the training data as input example,
            so the signature is inferred and the ONNX export verified); a search logs its
            best estimator. Estimators without `predict` are not logged.
        log_datasets: record the training data's content digest as a run input
            (`dataset_<digest[:8]>`, context "training").
        max_tuning_runs: how many of a search's best candidates get a child run (None: all,
            0: none).
        log_post_training_metrics: not available yet (metrics computed after training).
        exclusive: log nothing into runs the user started; only fits outside a run are logged,
            each into its own run.
        disable: undo `autolog()`: every method is restored exactly.
        silent: no `AutologWarning` when logging fails (the fit is unaffected either way).

    Raises:
        InvalidInputError: an option that is not available or out of range.
        MissingExtraError: scikit-learn is not installed (`pip install 'mloop[sklearn]'`).
    """
    global _config  # noqa: PLW0603 - autolog is process-wide, like the patched classes
    if disable:
        _disable()
        return
    _check_options(log_post_training_metrics, max_tuning_runs)
    classes = estimator_classes()
    _config = AutologConfig(
        log_models=log_models,
        log_datasets=log_datasets,
        max_tuning_runs=max_tuning_runs,
        exclusive=exclusive,
        silent=silent,
    )
    patching.install(classes, PATCHED_METHODS, _on_fit)


def disable() -> None:
    """Stop autologging: every patched scikit-learn method is restored exactly."""
    _disable()


def _disable() -> None:
    global _config  # noqa: PLW0603 - see autolog()
    _config = None
    patching.uninstall()


def _check_options(log_post_training_metrics: bool, max_tuning_runs: int | None) -> None:
    if log_post_training_metrics:
        raise InvalidInputError(
            "autolog(log_post_training_metrics=True) is not available yet; compute evaluation "
            "metrics and log them with mloop.log_metrics",
            field="log_post_training_metrics",
        )
    if max_tuning_runs is not None and (
        isinstance(max_tuning_runs, bool)
        or not isinstance(max_tuning_runs, int)
        or max_tuning_runs < 0
    ):
        raise InvalidInputError(
            f"max_tuning_runs must be None or an integer >= 0, not {max_tuning_runs!r}",
            field="max_tuning_runs",
        )


def estimator_classes() -> list[type]:
    """Every scikit-learn estimator class autolog wraps, in a stable order.

    Raises:
        MissingExtraError: scikit-learn is not installed.
    """
    try:
        from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
        from sklearn.pipeline import Pipeline
        from sklearn.utils import all_estimators
    except ImportError as exc:
        raise MissingExtraError("sklearn", "sklearn") from exc
    with warnings.catch_warnings():
        # Importing every estimator module may announce deprecations the user never imported.
        warnings.simplefilter("ignore")
        classes = {cls for _, cls in all_estimators()}
    classes.update((Pipeline, GridSearchCV, RandomizedSearchCV))
    return sorted(classes, key=lambda c: (c.__module__, c.__qualname__))


def _on_fit(estimator: Any, call: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    """The outermost fit of a thread: fit, then log; errors of the fit propagate unchanged."""
    config = _config
    if config is None or (config.exclusive and active_run() is not None):
        return call(*args, **kwargs)
    target = _open_target(estimator, config)
    try:
        result = call(*args, **kwargs)
    except BaseException as exc:
        if target is not None and target.started is not None:
            _close(target.started, exc, config)
        raise
    if target is not None:
        _log_fit(target, estimator, (call, args, kwargs), config)
        if target.started is not None:
            _close(target.started, None, config)
    return result


def _open_target(estimator: Any, config: AutologConfig) -> _Target | None:
    current = active_run()
    if current is not None:
        return _Target(current.run_id, current.experiment_id, None)
    name = type(estimator).__name__
    try:
        started = start_run(run_name=name)
    except Exception as exc:  # noqa: BLE001 - a store that cannot start a run must not stop fit
        warn_failures(f"the fit of {name}", [describe("a new run", exc)], silent=config.silent)
        return None
    return _Target(started.run_id, started.experiment_id, started)


def _close(started: ActiveRun, error: BaseException | None, config: AutologConfig) -> None:
    try:
        if error is None:
            started.__exit__(None, None, None)
        else:
            started.__exit__(type(error), error, error.__traceback__)
    except Exception as exc:  # noqa: BLE001 - ending the run must not change how fit ends
        warn_failures(
            f"run {started.run_id}", [describe("the end of the run", exc)], silent=config.silent
        )


def _log_fit(
    target: _Target,
    estimator: Any,
    fit_call: tuple[Callable[..., Any], Any, Any],
    config: AutologConfig,
) -> None:
    """Log everything about one fit; each part that fails is reported, the rest still logged."""
    features, targets, weights = fit_arguments(*fit_call)
    run_id = target.run_id
    failures: list[str] = []

    def attempt(what: str, step: Callable[[], object]) -> None:
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - reported in the warning below
            failures.append(describe(what, exc))

    attempt(
        "params, metrics and tags",
        lambda: _log_estimator(run_id, estimator, (features, targets, weights)),
    )
    if config.log_datasets and features is not None:
        attempt("the training dataset", lambda: _log_dataset(run_id, features, targets))
    from mloop.client.autolog import search

    if search.is_search(estimator):
        attempt("cv_results_", lambda: search.log_cv_results(estimator, run_id))
        if config.max_tuning_runs != 0:
            attempt(
                "the candidates' child runs",
                lambda: search.log_child_runs(
                    estimator,
                    parent_run_id=run_id,
                    experiment_id=target.experiment_id,
                    limit=config.max_tuning_runs,
                ),
            )
    if config.log_models:
        attempt("the model", lambda: _log_model(run_id, estimator, features))
    warn_failures(f"the fit of {type(estimator).__name__}", failures, silent=config.silent)


EXAMPLE_ROWS = 5


def _log_model(run_id: str, estimator: Any, features: Any) -> None:
    """Log the fitted model (a search's best estimator) with the first training rows."""
    from mloop.client.autolog import search
    from mloop.client.models import log_model

    model = estimator
    if search.is_search(estimator):
        model = getattr(estimator, "best_estimator_", None)
    if model is None or not callable(getattr(model, "predict", None)):
        return  # a transformer, or a search without refit: nothing to serve
    example = None
    if features is not None:
        example = (
            features.head(EXAMPLE_ROWS) if hasattr(features, "head") else features[:EXAMPLE_ROWS]
        )
        if hasattr(example, "toarray"):  # a sparse matrix: a few dense rows make the example
            example = example.toarray()
    log_model(model, "model", input_example=example, run_id=run_id)


def _log_estimator(run_id: str, estimator: Any, data: tuple[Any, Any, Any]) -> None:
    """Log params, training metrics and tags in one batch.

    Raises:
        ParamConflictError: the run already had one of the params with another value; the
            rest of the batch is logged all the same.
    """
    from mloop.client.autolog import search
    from mloop.client.autolog.training_metrics import training_metrics

    features, targets, weights = data
    params = estimator_params(estimator)
    metrics = (
        training_metrics(estimator, features, targets, weights) if features is not None else {}
    )
    if search.is_search(estimator):
        best_params, best_metrics = search.search_summary(estimator)
        params.update(best_params)
        metrics.update(best_metrics)
    conflicts = log_batch(run_id, params=params, metrics=metrics, tags=estimator_tags(estimator))
    if conflicts:
        key, (old, new) = next(iter(conflicts.items()))
        raise ParamConflictError(run_id, key, old, new)


def _log_dataset(run_id: str, features: Any, targets: Any) -> None:
    from mloop.client.autolog.datasets import training_input

    get_store().runs.log_inputs(run_id, [training_input(features, targets)])


def log_batch(
    run_id: str, *, params: dict[str, str], metrics: dict[str, float], tags: dict[str, str]
) -> dict[str, tuple[str, str]]:
    """Write one batch to the store now; params the run already has with another value are kept.

    Returns:
        The params left out, as key: (value the run has, value autolog found).
    """
    known = STATE.params.get(run_id)
    conflicts: dict[str, tuple[str, str]] = {}
    if known is not None:
        conflicts = {k: (known[k], v) for k, v in sorted(params.items()) if known.get(k, v) != v}
        params = {k: v for k, v in params.items() if k not in conflicts}
    stamp = now_ms()
    get_store().runs.log_batch(
        run_id,
        metrics=[Metric(k, v, stamp, 0) for k, v in metrics.items()],
        params=[Param(k, v) for k, v in params.items()],
        tags=[RunTag(k, v) for k, v in tags.items()],
    )
    if known is not None:
        known.update(params)
    return conflicts


_signatures: dict[Any, inspect.Signature] = {}


def fit_arguments(call: Callable[..., Any], args: Any, kwargs: Any) -> tuple[Any, Any, Any]:
    """X, y and sample_weight of a `fit(X, y=None, ...)` call (None where absent)."""
    if len(args) > 2:  # some fits take sample_weight third; bind to know what was passed
        function = getattr(call, "__func__", call)
        signature = _signatures.get(function)
        if signature is None:
            signature = _signatures.setdefault(function, inspect.signature(call))
        try:
            bound = signature.bind_partial(*args, **kwargs).arguments
        except TypeError:
            bound = {}
        kwargs = {**kwargs, **bound}
    features = args[0] if args else kwargs.get("X")
    targets = args[1] if len(args) > 1 else kwargs.get("y", kwargs.get("Y"))
    return features, targets, kwargs.get("sample_weight")
