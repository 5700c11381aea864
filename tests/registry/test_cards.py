"""Model cards: what the registry knows is filled in, what the provider must write is named."""

from __future__ import annotations

from mloop.entities import Metric, Param
from mloop.registry.card_render import to_html, to_markdown
from mloop.registry.cards import build_card
from mloop.storage.sql.store import SqlStore

SIGNATURE = {
    "method": "predict_proba",
    "inputs": [{"name": "tenure", "type": "double"}, {"name": "plan", "type": "string"}],
    "outputs": [{"name": "churn", "type": "double"}],
}


def test_card_of_a_trained_version(store: SqlStore) -> None:
    run = store.runs.create("0", run_name="train")
    store.runs.log_batch(
        run.run_id,
        metrics=[Metric("auc", 0.9123456789, 1, 0), Metric("system/cpu", 50.0, 1, 0)],
        params=[Param("max_depth", "5")],
    )
    store.registry.create_version(
        "churn",
        f"runs:/{run.run_id}/model",
        actor="ana",
        run_id=run.run_id,
        signature=SIGNATURE,
        package_digest="sha256:abc",
    )
    store.registry.set_alias_protection("churn", "champion", actor="admin")
    store.registry.approve("churn", 1, actor="lead", comment="ok")
    store.registry.set_alias("churn", "champion", 1, actor="lead")
    store.registry.set_tag("churn", "card.risks", "model-wide risk", actor="a")
    store.registry.set_tag("churn", "card.risks", "version risk", actor="a", version=1)
    markdown = to_markdown(build_card(store, "models:/churn@champion"))
    assert "| tenure | double |" in markdown
    assert "| churn | double |" in markdown
    assert "| **Method served** | predict_proba |" in markdown
    assert "| auc | 0.912346 |" in markdown
    assert "system/cpu" not in markdown  # system metrics are not model performance
    assert "| max_depth | 5 |" in markdown
    assert "The run recorded no datasets" in markdown
    assert "Protected aliases (only approved versions may hold them): champion" in markdown
    assert "version risk" in markdown  # a version tag overrides the model's
    assert "model-wide risk" not in markdown
    assert "model.alias.set" in markdown  # the alias move onto this version is history
    assert "| **Package digest** | sha256:abc |" in markdown


def test_card_of_a_bare_version_names_every_missing_part(store: SqlStore) -> None:
    store.registry.create_version("churn", "s3://b/m", actor="ana")
    document = build_card(store, "models:/churn/1")
    markdown = to_markdown(document)
    for missing in (
        "No signature was recorded.",
        "registered from a source outside any run",
        "No training params were recorded.",
        "The training run recorded no metrics.",
        "Not approved yet: `mloop models approve churn/1",
        "set the tag `card.intended_purpose`",
        "set the tag `card.monitoring_plan`",
    ):
        assert missing in markdown
    page = to_html(document)
    assert page.startswith("<!DOCTYPE html>")
    assert '<p class="note">No signature was recorded.</p>' in page


def test_user_text_cannot_inject_markup(store: SqlStore) -> None:
    store.registry.create_version(
        "churn", "s3://b/m", actor="ana", description="<script>x</script>"
    )
    store.registry.set_tag("churn", "card.intended_purpose", "# heading\n- item", actor="a")
    document = build_card(store, "models:/churn/1")
    page = to_html(document)
    markdown = to_markdown(document)
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "<script>" not in markdown
    assert "\\# heading\n\\- item" in markdown
