"""Quickstart stages 4-5, model registry: register the best model, approve it, make it champion.

The best run's model is logged as a package and registered; `champion` is declared protected, so
the version is approved first; then the model is loaded back by alias and checked against the
trained one, and its model card is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import mloop

if TYPE_CHECKING:
    from mloop.quickstart import QuickstartContext

MODEL_NAME = "quickstart-classifier"
CHAMPION = "champion"


def run(ctx: QuickstartContext) -> None:
    """Register the tracking stage's best model and serve it back through `@champion`."""
    from mloop.client.context import get_store
    from mloop.client.registry import approve_model_version, set_model_alias
    from mloop.registry.card_render import to_html, to_markdown
    from mloop.registry.cards import build_card

    test, features = ctx.shared["test"], ctx.shared["features"]
    best_run_id, best_model = ctx.shared["best_run_id"], ctx.shared["best_model"]
    ctx.console.rule("[bold]4-5 · model registry")
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
    store = get_store()
    store.registry.set_alias_protection(MODEL_NAME, CHAMPION, actor=version.user_id)
    approval = approve_model_version(
        MODEL_NAME, version.version, comment="quickstart: best ROC AUC on held-out data"
    )
    set_model_alias(MODEL_NAME, CHAMPION, version.version)
    champion = mloop.load_model(f"models:/{MODEL_NAME}@{CHAMPION}")
    served = champion.predict(test[features])
    agree = int((served == best_model.predict(test[features])).sum())
    ctx.console.print(
        f"registered [bold]{version.uri}[/] from run {best_run_id[:8]} "
        f"(package {version.package_digest[:12]}...)",
        highlight=False,
    )
    ctx.console.print(
        f"approved by {approval.actor}; [bold]{MODEL_NAME}@{CHAMPION}[/] → version "
        f"{version.version} (a protected alias: only approved versions may take it)",
        highlight=False,
    )
    ctx.console.print(
        f"loaded models:/{MODEL_NAME}@{CHAMPION} ({champion.backend}): predictions agree with "
        f"the trained model on {agree} of {len(served)} test rows",
        highlight=False,
    )
    card = build_card(store, f"models:/{MODEL_NAME}/{version.version}")
    card_path = Path(ctx.output_dir) / "model_card.md"
    card_path.write_text(to_markdown(card), encoding="utf-8")
    card_path.with_suffix(".html").write_text(to_html(card), encoding="utf-8")
    ctx.console.print(
        f"model card: {card_path} (and .html) · `mloop models show {MODEL_NAME}` · "
        "`mloop audit log` shows who did what",
        highlight=False,
    )
    ctx.shared.update(registered_version=version, champion=champion)
