"""Quickstart stage 4, model registry: register the best model and approve it.

The best run's model is logged as a package and registered; `champion` is declared protected, so
only approved versions may take it, and the version is approved. The validation stage then
promotes it to `champion` through the validation gates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mloop

if TYPE_CHECKING:
    from mloop.quickstart import QuickstartContext

MODEL_NAME = "quickstart-classifier"
CHAMPION = "champion"


def run(ctx: QuickstartContext) -> None:
    """Register the tracking stage's best model, protect `champion` and approve the version."""
    from mloop.client.context import get_store
    from mloop.client.registry import approve_model_version

    test, features = ctx.shared["test"], ctx.shared["features"]
    best_run_id, best_model = ctx.shared["best_run_id"], ctx.shared["best_model"]
    ctx.console.rule("[bold]4 · model registry")
    info = mloop.log_model(
        best_model,
        "model",
        run_id=best_run_id,
        input_example=test[features].head(5),
        registered_model_name=MODEL_NAME,
    )
    version = info.registered_version
    if version is None:  # pragma: no cover - registration was asked for above
        raise RuntimeError("log_model did not register the model")
    get_store().registry.set_alias_protection(MODEL_NAME, CHAMPION, actor=version.user_id)
    approval = approve_model_version(
        MODEL_NAME, version.version, comment="quickstart: best ROC AUC on held-out data"
    )
    ctx.console.print(
        f"registered [bold]{version.uri}[/] from run {best_run_id[:8]} "
        f"(package {version.package_digest[:12]}...)",
        highlight=False,
    )
    ctx.console.print(
        f"approved by {approval.actor}; {MODEL_NAME}@{CHAMPION} is protected: only approved "
        "versions that pass the validation gates may take it",
        highlight=False,
    )
    ctx.shared.update(registered_version=version)
