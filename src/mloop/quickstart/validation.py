"""Quickstart stage 5, validation gates: promote the registered model through a policy.

The bundled breast-cancer data has no demographic column, so the holdout (the test split) gets
a stand-in sensitive attribute: the clinic site each record came from, assigned round-robin.
The policy checks metric thresholds overall and per site, fairness across sites, drift between
the training split (found through the run's lineage) and the holdout, the signature, latency and
size, and the approval that the protected alias asks for. Then the champion is loaded back by
alias and its model card, which now includes the validation results, is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from rich.markup import escape
from rich.table import Table

import mloop
import mloop.data
import mloop.models
from mloop.quickstart.registry import CHAMPION, MODEL_NAME

if TYPE_CHECKING:
    from mloop.quickstart import QuickstartContext

SENSITIVE = "site"
SITES = ("clinic-a", "clinic-b", "clinic-c")


def _holdout(test: Any) -> Any:
    """The test split with a stand-in sensitive attribute (round-robin: no site is favoured)."""
    holdout = test.copy()
    holdout[SENSITIVE] = [SITES[i % len(SITES)] for i in range(len(holdout))]
    return holdout


def _policy(holdout_uri: str, target: str) -> dict[str, Any]:
    return {
        "version": 1,
        "holdout": holdout_uri,
        "label": target,
        "positive_label": 1,
        "sensitive_attributes": [SENSITIVE],
        "gates": {
            "metrics": [
                {"metric": "roc_auc", "min": 0.95},
                {"metric": "recall", "min": 0.85, "per_segment": SENSITIVE},
            ],
            "fairness": {"max_equal_opportunity_difference": 0.15, "min_group_recall": 0.85},
            "drift": {"alpha": 0.05},
            "latency": {"p95_ms": 250},
            "size": {"max_mb": 50},
            "approval": {"required": "protected"},
        },
    }


def run(ctx: QuickstartContext) -> None:
    """Write the policy, promote the registered version through it, check the champion."""
    from mloop.client.context import get_store
    from mloop.registry.card_render import to_html, to_markdown
    from mloop.registry.cards import build_card

    test, features = ctx.shared["test"], ctx.shared["features"]
    best_model, version = ctx.shared["best_model"], ctx.shared["registered_version"]
    ctx.console.rule("[bold]5 · validation gates")
    added = mloop.data.snapshot(
        _holdout(test), "quickstart-holdout", message="test split with a clinic site column"
    )
    policy_path = Path(ctx.output_dir) / "mloop-policy.yaml"
    policy = _policy(added.version.uri, ctx.shared["target"])
    policy_path.write_text(yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
    ctx.console.print(
        f"policy {policy_path}: fairness across {SENSITIVE} (a stand-in sensitive attribute: "
        "the bundled data has no demographic column), metrics, drift, schema, latency, size",
        highlight=False,
    )
    promotion = mloop.models.promote(
        f"{MODEL_NAME}/{version.version}", CHAMPION, policy=policy_path
    )
    if promotion.validation is not None:
        ctx.console.print(_gates(promotion.validation.report))
    ctx.console.print(
        f"promoted: [bold]{MODEL_NAME}@{CHAMPION}[/] → version {promotion.version} "
        f"(`mloop models promote {MODEL_NAME}/{version.version} --alias {CHAMPION} --policy "
        f"{policy_path}`)",
        highlight=False,
    )
    champion = mloop.load_model(f"models:/{MODEL_NAME}@{CHAMPION}")
    served = champion.predict(test[features])
    agree = int((served == best_model.predict(test[features])).sum())
    ctx.console.print(
        f"loaded models:/{MODEL_NAME}@{CHAMPION} ({champion.backend}): predictions agree with "
        f"the trained model on {agree} of {len(served)} test rows",
        highlight=False,
    )
    card = build_card(get_store(), f"models:/{MODEL_NAME}/{version.version}")
    card_path = Path(ctx.output_dir) / "model_card.md"
    card_path.write_text(to_markdown(card), encoding="utf-8")
    card_path.with_suffix(".html").write_text(to_html(card), encoding="utf-8")
    ctx.console.print(
        f"model card: {card_path} (and .html, with the validation results) · "
        f"`mloop models show {MODEL_NAME}/{version.version}` · `mloop audit log` shows who did "
        "what",
        highlight=False,
    )
    ctx.shared.update(champion=champion, promotion=promotion)


def _gates(report: Any) -> Table:
    table = Table("gate", "status", "numbers", title="validation gates")
    for result in report.gates:
        colour = "green" if result.passed else "red"
        table.add_row(result.gate, f"[{colour}]{result.status}[/]", escape(result.summary))
    return table
