"""Searching registered models and model versions: the filter grammar, order and page tokens."""

from __future__ import annotations

import pytest

from mloop.errors import InvalidFilterError
from mloop.storage.sql.store import SqlStore

RUN_A = "a" * 32


@pytest.fixture
def filled(store: SqlStore) -> SqlStore:
    run = store.runs.create("0", run_id=RUN_A, run_name="train")
    registry = store.registry
    registry.create_model("churn", actor="x", description="who leaves", tags={"team": "risk"})
    registry.create_model("churn-eu", actor="x", tags={"team": "risk", "region": "eu"})
    registry.create_model("fraud", actor="x", tags={"team": "payments"})
    for i in range(4):
        registry.create_version(
            "churn",
            "s3://b/m",
            actor="ana" if i % 2 else "bo",
            run_id=run.run_id if i == 3 else None,
        )
    registry.create_version("churn-eu", "s3://b/eu", actor="ana", tags={"stage": "qa"})
    registry.create_version("fraud", "s3://b/f", actor="bo", package_digest="sha256:ff")
    registry.set_alias("churn", "champion", 2, actor="x")
    registry.set_tag("churn", "stage", "prod", actor="x", version=2)
    return store


def _models(store: SqlStore, text: str | None, **kwargs: object) -> list[str]:
    return [m.name for m in store.registry.search_models(text, **kwargs)]  # type: ignore[arg-type]


def _versions(store: SqlStore, text: str | None, **kwargs: object) -> list[tuple[str, int]]:
    page = store.registry.search_versions(text, **kwargs)  # type: ignore[arg-type]
    return [(v.name, v.version) for v in page]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, ["churn", "churn-eu", "fraud"]),
        ("name LIKE 'churn%'", ["churn", "churn-eu"]),
        ("name ILIKE 'CHURN'", ["churn"]),
        ("name = 'fraud'", ["fraud"]),
        ("name IN ('fraud', 'churn')", ["churn", "fraud"]),
        ("tags.team = 'risk'", ["churn", "churn-eu"]),
        ("tags.region IS NULL", ["churn", "fraud"]),
        ("tags.region IS NOT NULL", ["churn-eu"]),
        ("tags.team = 'risk' AND NOT tags.region = 'eu'", ["churn"]),
        ("latest_version >= 2", ["churn"]),
        ("description LIKE '%leaves%' OR name = 'fraud'", ["churn", "fraud"]),
        ("name LIKE 'churn\\\\_%'", []),  # an escaped underscore matches only itself
        ("name LIKE 'churn-%'", ["churn-eu"]),
    ],
)
def test_model_filters(filled: SqlStore, text: str | None, expected: list[str]) -> None:
    assert _models(filled, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name = 'churn' AND version > 2", [("churn", 4), ("churn", 3)]),
        ("version = 1", [("churn", 1), ("churn-eu", 1), ("fraud", 1)]),
        (f"run_id = '{RUN_A}'", [("churn", 4)]),
        ("run_id IS NULL AND name = 'churn'", [("churn", 3), ("churn", 2), ("churn", 1)]),
        ("user_id = 'ana' AND name LIKE 'churn%'", [("churn", 4), ("churn", 2), ("churn-eu", 1)]),
        ("tags.stage = 'qa'", [("churn-eu", 1)]),
        ("tags.stage IN ('qa', 'prod')", [("churn", 2), ("churn-eu", 1)]),
        ("alias = 'champion'", [("churn", 2)]),
        ("alias IS NOT NULL", [("churn", 2)]),
        ("alias IS NULL AND name = 'churn' AND version < 3", [("churn", 1)]),
        ("package_digest = 'sha256:ff'", [("fraud", 1)]),
        ("source LIKE '%/eu'", [("churn-eu", 1)]),
    ],
)
def test_version_filters(filled: SqlStore, text: str, expected: list[tuple[str, int]]) -> None:
    assert _versions(filled, text) == expected


def test_order_by_and_pages_cover_everything_once(filled: SqlStore) -> None:
    assert _models(filled, None, order_by=["name DESC"]) == ["fraud", "churn-eu", "churn"]
    assert _versions(filled, "name = 'churn'", order_by=["version"]) == [
        ("churn", 1),
        ("churn", 2),
        ("churn", 3),
        ("churn", 4),
    ]
    seen: list[tuple[str, int]] = []
    token = None
    while True:
        page = filled.registry.search_versions(
            None, order_by=["creation_time DESC"], max_results=2, page_token=token
        )
        seen += [(v.name, v.version) for v in page]
        token = page.next_page_token
        if token is None:
            break
    assert sorted(seen) == sorted(_versions(filled, None))
    assert len(seen) == 6
    first = filled.registry.search_models(None, max_results=2)
    assert [m.name for m in first] == ["churn", "churn-eu"]
    rest = filled.registry.search_models(None, max_results=2, page_token=first.next_page_token)
    assert [m.name for m in rest] == ["fraud"]
    assert rest.next_page_token is None


def test_search_results_carry_tags_and_aliases(filled: SqlStore) -> None:
    (model,) = filled.registry.search_models("name = 'churn'")
    assert model.tags == {"team": "risk"}
    assert model.aliases == {"champion": 2}
    (version,) = filled.registry.search_versions("alias = 'champion'")
    assert version.tags == {"stage": "prod"}
    assert version.aliases == ("champion",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.acc > 1", "have no metrics"),
        ("params.x = 'y'", "have no params"),
        ("version > 'two'", "compares with numbers"),
        ("name > 3", "compare with"),
        ("run_name = 'x'", "unknown attribute 'run_name'"),
        ("experiment_id = '0'", "unknown attribute"),
        ("name = ", "ends"),
    ],
)
def test_bad_version_filters_are_refused(filled: SqlStore, text: str, message: str) -> None:
    with pytest.raises(InvalidFilterError, match=message):
        filled.registry.search_versions(text)


def test_bad_model_filters_orders_and_tokens_are_refused(filled: SqlStore) -> None:
    with pytest.raises(InvalidFilterError, match="unknown attribute 'version'"):
        filled.registry.search_models("version > 1")
    with pytest.raises(InvalidFilterError, match="cannot order registered models"):
        filled.registry.search_models(None, order_by=["tags.team"])
    with pytest.raises(InvalidFilterError, match="cannot order model versions"):
        filled.registry.search_versions(None, order_by=["alias"])
    with pytest.raises(InvalidFilterError, match="max_results"):
        filled.registry.search_models(None, max_results=0)
    with pytest.raises(InvalidFilterError, match="max_results"):
        filled.registry.search_models(None, max_results="3")  # type: ignore[arg-type]
    with pytest.raises(InvalidFilterError, match="malformed"):
        filled.registry.search_models(None, page_token="not-a-token")
    token = filled.registry.search_models(None, max_results=1).next_page_token
    with pytest.raises(InvalidFilterError, match="another search"):
        filled.registry.search_models("name LIKE 'c%'", max_results=1, page_token=token)


def test_run_search_still_maps_name_to_run_name(store: SqlStore) -> None:
    store.runs.create("0", run_name="alpha")
    assert [r.run_name for r in store.runs.search(filter_string="name = 'alpha'")] == ["alpha"]


def test_attribute_null_checks_and_a_single_order_clause(filled: SqlStore) -> None:
    assert len(_versions(filled, "run_id IS NOT NULL")) == 1
    assert _models(filled, None, order_by="name DESC") == ["fraud", "churn-eu", "churn"]
