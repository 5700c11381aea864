"""Quickstart stage 3, experiment tracking.

Trains a few scikit-learn models on a bundled dataset, logs each as a run and compares them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.progress import Progress
from rich.table import Table

import mloop

if TYPE_CHECKING:
    from mloop.quickstart import QuickstartContext

METRICS = ("accuracy", "f1", "roc_auc", "log_loss")


def _candidates() -> list[tuple[str, Any]]:
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return [
        ("logreg-C0.1", make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=500))),
        ("logreg-C1", make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=500))),
        ("forest-100", RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1)),
        ("boosting-100", GradientBoostingClassifier(n_estimators=100, random_state=0)),
    ]


def _scalar_params(model: Any) -> dict[str, Any]:
    params = model.get_params(deep=True)
    return {k: v for k, v in params.items() if isinstance(v, str | int | float | bool | type(None))}


def _evaluate(model: Any, x_test: Any, y_test: Any) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score

    proba = model.predict_proba(x_test)[:, 1]
    predicted = (proba >= 0.5).astype(int)
    return {
        "accuracy": float(accuracy_score(y_test, predicted)),
        "f1": float(f1_score(y_test, predicted)),
        "roc_auc": float(roc_auc_score(y_test, proba)),
        "log_loss": float(log_loss(y_test, proba)),
    }


def _log_training_curve(model: Any, x_test: Any, y_test: Any) -> None:
    """Gradient boosting exposes its stages: log test log-loss after each one as a series."""
    from sklearn.metrics import log_loss

    if hasattr(model, "staged_predict_proba"):
        for step, proba in enumerate(model.staged_predict_proba(x_test)):
            mloop.log_metric("test_log_loss_by_stage", float(log_loss(y_test, proba[:, 1])), step)


def run(ctx: QuickstartContext) -> None:
    """Train and log candidates on the data stage's split; leave the best run in `ctx.shared`."""
    train, test, features = ctx.shared["train"], ctx.shared["test"], ctx.shared["features"]
    experiment = mloop.set_experiment(ctx.experiment_name)
    ctx.console.rule("[bold]3 · experiment tracking")
    results = []
    with Progress(console=ctx.console, transient=True) as progress:
        task = progress.add_task("training", total=len(_candidates()))
        for name, model in _candidates():
            progress.update(task, description=f"training {name}")
            with mloop.start_run(run_name=name) as run:
                mloop.log_params(_scalar_params(model))
                mloop.set_tags({"quickstart": "true", "model_family": type(model).__name__})
                mloop.log_input(ctx.shared["train_dataset"], context="training")
                mloop.log_input(ctx.shared["test_dataset"], context="evaluation")
                model.fit(train[features], train["target"])
                scores = _evaluate(model, test[features], test["target"])
                mloop.log_metrics(scores)
                _log_training_curve(model, test[features], test["target"])
            results.append((name, run.run_id, scores, model))
            progress.advance(task)
    results.sort(key=lambda r: (-r[2]["roc_auc"], r[2]["log_loss"]))
    ctx.shared.update(best_run_id=results[0][1], best_model=results[0][3], experiment=experiment)
    ctx.console.print(_comparison(results))
    ctx.console.print(
        f"best: [bold green]{results[0][0]}[/] · `mloop runs show {results[0][1]}` for details"
    )


def _comparison(results: list[tuple[str, str, dict[str, float], Any]]) -> Table:
    table = Table("", "run", "run id", *METRICS, title="runs by ROC AUC on held-out data")
    for rank, (name, run_id, scores, _model) in enumerate(results, start=1):
        style = "bold green" if rank == 1 else ""
        table.add_row(
            str(rank), name, run_id[:12], *(f"{scores[m]:.4f}" for m in METRICS), style=style
        )
    return table
