"""The run search contract on SQLite and PostgreSQL: result sets, order, pages, hostile input."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from mloop.entities import Metric, Param, Run, RunInput, RunStatus, RunTag
from mloop.errors import InvalidFilterError, InvalidInputError
from mloop.storage.sql.runs import MAX_SEARCH_RESULTS
from mloop.storage.sql.search import query_fingerprint
from mloop.storage.sql.store import SqlStore
from tests.storage.sql.rows import scalar

NAN, INF = float("nan"), float("inf")

# name: (start, status, metrics, params, tags, inputs (name, digest, context))
POPULATION: dict[str, tuple[Any, ...]] = {
    "a": (1000, "FINISHED", {"acc": 0.9, "loss": 0.1}, {"model": "rf", "lr": "0.1"},
          {"team": "Core", "note": "it's"}, [("iris", "d1", "train")]),
    "b": (2000, "FAILED", {"acc": 0.5, "loss": NAN}, {"model": "lr", "lr": "0.01"},
          {"team": "core"}, [("iris", "d2", "test")]),
    "c": (3000, "RUNNING", {"acc": INF, "loss": 0.3}, {"model": "RF_v2"},
          {"team": "ml_ops"}, [("wine", "d3", "train")]),
    "d": (4000, "FINISHED", {"acc": NAN}, {"model": "rf%", "lr": "0.1"}, {}, []),
    "e": (5000, "KILLED", {}, {}, {"team": "a%b"}, []),
    "f": (6000, "FINISHED", {"acc": -INF, "loss": 0.2}, {"model": "x_y"},
          {"team": "Core"}, [("iris", "d1", "validation")]),
}  # fmt: skip


class Population:
    """Runs with known values in experiment `exp`, plus `g` in the default experiment and `h`
    (deleted) in `exp`."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.exp = store.experiments.create("search-contract").experiment_id
        self.ids: dict[str, str] = {}
        self.names: dict[str, str] = {}
        for name, (start, status, metrics, params, tags, inputs) in POPULATION.items():
            self.add(self.exp, name, start, metrics=metrics, params=params, tags=tags)
            if inputs:
                store.runs.log_inputs(
                    self.ids[name], [RunInput(n, d, f"s3://{n}", c) for n, d, c in inputs]
                )
            if status != "RUNNING":
                store.runs.update(self.ids[name], status=RunStatus(status), end_time_ms=start + 500)
        self.add("0", "g", 7000, metrics={"acc": 0.7}, params={"model": "rf"})
        self.add(self.exp, "h", 8000, metrics={"acc": 0.95}, params={"model": "rf"})
        store.runs.delete(self.ids["h"], actor="test")

    def add(self, exp: str, name: str, start: int, **logged: dict[str, Any]) -> None:
        run = self.store.runs.create(exp, run_name=name, start_time_ms=start)
        self.ids[name] = run.run_id
        self.names[run.run_id] = name
        self.store.runs.log_batch(
            run.run_id,
            metrics=[Metric(k, v, 0, 0) for k, v in logged.get("metrics", {}).items()],
            params=[Param(k, v) for k, v in logged.get("params", {}).items()],
            tags=[RunTag(k, v) for k, v in logged.get("tags", {}).items()],
        )

    def names_of(self, runs: list[Run]) -> list[str]:
        return [self.names.get(r.run_id, "?") for r in runs]

    def found(self, filter_string: str | None = None, **kwargs: Any) -> set[str]:
        experiments = kwargs.pop("experiment_ids", [self.exp])
        runs = self.store.runs.search(experiments, filter_string=filter_string, **kwargs)
        return set(self.names_of(runs))

    def ordered(self, order_by: list[str], **kwargs: Any) -> list[str]:
        return self.names_of(self.store.runs.search([self.exp], order_by=order_by, **kwargs))

    def walk(self, page_size: int, **kwargs: Any) -> list[str]:
        """Every page of a search, concatenated."""
        names: list[str] = []
        token = None
        for _ in range(100):
            page = self.store.runs.search(
                [self.exp], max_results=page_size, page_token=token, **kwargs
            )
            names += self.names_of(page)
            token = page.next_page_token
            if token is None:
                return names
        raise AssertionError("the pages never end")


@pytest.fixture
def pop(store: SqlStore) -> Population:
    return Population(store)


def check(pop: Population, cases: dict[str, set[str]]) -> None:
    wrong = {f: (pop.found(f), want) for f, want in cases.items() if pop.found(f) != want}
    assert not wrong, wrong


def test_metric_operators_match_exactly_and_nan_matches_no_comparison(pop: Population) -> None:
    check(
        pop,
        {
            "metrics.acc > 0.5": {"a", "c"},
            "metrics.acc >= 0.5": {"a", "b", "c"},
            "metrics.acc < 0.5": {"f"},
            "metrics.acc <= 0.5": {"b", "f"},
            "metrics.acc = 0.9": {"a"},
            "metrics.acc != 0.9": {"b", "c", "f"},
            "metrics.acc IN (0.5, 0.9)": {"a", "b"},
            "metrics.acc NOT IN (0.5, 0.9)": {"c", "f"},
            "metrics.acc > 1e308": {"c"},
            "metrics.acc >= 1e999": {"c"},
            "metrics.acc <= -1e999": {"f"},
            "metrics.acc > -1e999": {"a", "b", "c"},
            "metrics.loss < 0.25": {"a", "f"},
            "metrics.missing > 0": set(),
            "metrics.missing != 0": set(),
        },
    )


def test_is_null_means_never_logged_and_a_nan_metric_is_not_null(pop: Population) -> None:
    check(
        pop,
        {
            "metrics.acc IS NULL": {"e"},
            "metrics.acc IS NOT NULL": {"a", "b", "c", "d", "f"},
            "metrics.loss IS NULL": {"d", "e"},
            "params.lr IS NULL": {"c", "e", "f"},
            "params.lr IS NOT NULL": {"a", "b", "d"},
            "tags.team IS NULL": {"d"},
            "tags.nothing IS NULL": set("abcdef"),
            "end_time IS NULL": {"c"},
            "end_time IS NOT NULL": set("abdef"),
        },
    )


def test_param_and_tag_equality_and_not_equal_exclude_runs_lacking_the_key(
    pop: Population,
) -> None:
    check(
        pop,
        {
            "params.model = 'rf'": {"a"},
            "params.model != 'rf'": {"b", "c", "d", "f"},
            "NOT params.model = 'rf'": {"b", "c", "d", "e", "f"},
            "params.lr = '0.1'": {"a", "d"},
            "params.lr IN ('0.1', '0.01')": {"a", "b", "d"},
            "params.lr NOT IN ('0.1')": {"b"},
            "tags.team = 'Core'": {"a", "f"},
            "tags.team != 'Core'": {"b", "c", "e"},
            "tags.note = 'it''s'": {"a"},
            'tags.note = "it\'s"': {"a"},
            "tags.note = 'it\\'s'": {"a"},
        },
    )


def test_like_is_case_sensitive_and_ilike_is_not_on_every_backend(pop: Population) -> None:
    check(
        pop,
        {
            "tags.team LIKE 'core'": {"b"},
            "tags.team LIKE 'Core'": {"a", "f"},
            "tags.team ILIKE 'core'": {"a", "b", "f"},
            "tags.team ILIKE 'CORE'": {"a", "b", "f"},
            "tags.team LIKE 'C%'": {"a", "f"},
            "tags.team LIKE '_ore'": {"a", "b", "f"},
            "tags.team ILIKE '%O%'": {"a", "b", "c", "f"},
            "tags.team NOT LIKE 'C%'": {"b", "c", "e"},
            "tags.team NOT ILIKE 'c%'": {"c", "e"},
            "params.model LIKE 'rf%'": {"a", "d"},
            "params.model ILIKE 'rf%'": {"a", "c", "d"},
            "params.model LIKE 'x_y'": {"f"},
            "params.model LIKE '%'": {"a", "b", "c", "d", "f"},
        },
    )


def test_a_backslash_escapes_like_wildcards_the_same_way_on_every_backend(
    pop: Population,
) -> None:
    check(
        pop,
        {
            "params.model LIKE 'rf\\\\%'": {"d"},
            "tags.team LIKE 'a\\\\%b'": {"e"},
            "tags.team LIKE 'ml\\\\_ops'": {"c"},
            "params.model ILIKE 'RF\\\\_%'": {"c"},
            "params.model LIKE 'x\\\\_y'": {"f"},
        },
    )


def test_attribute_comparisons(pop: Population) -> None:
    a_id, b_id = pop.ids["a"], pop.ids["b"]
    check(
        pop,
        {
            "status IN ('FINISHED', 'KILLED')": {"a", "d", "e", "f"},
            "attributes.status NOT IN ('FINISHED', 'KILLED')": {"b", "c"},
            "status = 'RUNNING'": {"c"},
            "start_time >= 4000": {"d", "e", "f"},
            "attributes.created < 2000": {"a"},
            "start_time IN (1000, 3000)": {"a", "c"},
            "end_time > 5000": {"e", "f"},
            "end_time = 1500": {"a"},
            "run_name = 'b'": {"b"},
            "attributes.`Run Name` IN ('b', 'c')": {"b", "c"},
            "run_name LIKE '%'": set("abcdef"),
            f"run_id = '{a_id}'": {"a"},
            f"attributes.run_id IN ('{a_id}', '{b_id}')": {"a", "b"},
            f"run_id LIKE '{a_id[:6]}%'": {"a"},
            f"experiment_id = '{pop.exp}'": set("abcdef"),
            "experiment_id = '0'": set(),
            "user_id = ''": set("abcdef"),
            "artifact_uri LIKE '%/artifacts'": set("abcdef"),
            "lifecycle_stage = 'active'": set("abcdef"),
        },
    )


def test_dataset_fields(pop: Population) -> None:
    check(
        pop,
        {
            "datasets.name = 'iris'": {"a", "b", "f"},
            "datasets.digest = 'd1'": {"a", "f"},
            "datasets.context = 'train'": {"a", "c"},
            "datasets.name = 'iris' AND datasets.context = 'train'": {"a"},
            "datasets.name IN ('wine')": {"c"},
            "datasets.name != 'iris'": {"c"},
            "datasets.context LIKE 'val%'": {"f"},
            "datasets.source ILIKE 'S3://W%'": {"c"},
            "dataset.digest NOT IN ('d1', 'd2')": {"c"},
        },
    )


def test_and_or_not_and_parentheses_combine(pop: Population) -> None:
    check(
        pop,
        {
            "metrics.acc > 0.8 OR params.model = 'lr'": {"a", "b", "c"},
            "(metrics.acc > 0.8 OR params.model = 'lr') AND status = 'FAILED'": {"b"},
            "metrics.acc > 0.8 OR params.model = 'lr' AND status = 'FINISHED'": {"a", "c"},
            "NOT status = 'FINISHED'": {"b", "c", "e"},
            "NOT (tags.team ILIKE 'core' OR metrics.acc IS NULL)": {"c", "d"},
            "NOT NOT run_name = 'a'": {"a"},
            "params.lr = '0.1' AND NOT metrics.acc > 0": {"d"},
            "run_name = 'a' OR run_name = 'b' OR run_name = 'c'": {"a", "b", "c"},
        },
    )


def test_shorthands_are_anded_with_the_filter(pop: Population) -> None:
    assert pop.found("metrics.acc > 0", params={"lr": "0.1"}) == {"a"}
    assert pop.found(None, tags={"team": "Core"}, status=RunStatus.FINISHED) == {"a", "f"}


def test_search_across_all_experiments_and_deleted_runs(pop: Population) -> None:
    assert pop.found(None) == set("abcdef")
    assert pop.found(None, experiment_ids=None) == set("abcdefg")
    assert pop.found("params.model = 'rf'", experiment_ids=None) == {"a", "g"}
    assert pop.found(None, experiment_ids=["0"]) == {"g"}
    assert pop.found(None, experiment_ids=["0", pop.exp]) == set("abcdefg")
    assert pop.found(None, experiment_ids=[]) == set()
    assert pop.found(None, include_deleted=True) == set("abcdefh")
    assert pop.found("lifecycle_stage = 'deleted'", include_deleted=True) == {"h"}
    assert pop.found("experiment_id = '0'", experiment_ids=None, include_deleted=True) == {"g"}


# --- ordering ------------------------------------------------------------------------------


def test_default_order_is_newest_first(pop: Population) -> None:
    assert pop.ordered([]) == list("fedcba")


def test_missing_and_nan_values_sort_last_in_both_directions(pop: Population) -> None:
    # acc: a .9, b .5, c inf, d NaN, e missing, f -inf; missing ones tie, first created first
    assert pop.ordered(["metrics.acc"]) == list("fbacde")
    assert pop.ordered(["metrics.acc ASC"]) == list("fbacde")
    assert pop.ordered(["metrics.acc DESC"]) == list("cabfde")
    # loss: a .1, b NaN, c .3, d missing, e missing, f .2
    assert pop.ordered(["metrics.loss"]) == list("afcbde")
    assert pop.ordered(["metrics.loss DESC"]) == list("cfabde")
    assert pop.ordered(["params.lr"]) == list("badcef")
    assert pop.ordered(["params.lr DESC"]) == list("adbcef")
    assert pop.ordered(["tags.team DESC"]) == list("cbeafd")
    assert pop.ordered(["end_time DESC"]) == list("fedbac")
    assert pop.ordered(["metrics.never DESC"]) == list("abcdef")


def test_several_keys_order_in_turn_and_ties_fall_back_to_creation_order(
    pop: Population,
) -> None:
    assert pop.ordered(["params.lr", "metrics.acc DESC"]) == list("badcfe")
    assert pop.ordered(["params.lr DESC", "start_time DESC"]) == list("dabfec")
    assert pop.ordered(["status", "run_name DESC"]) == list("bfdaec")
    assert pop.ordered(["tags.team", "metrics.loss DESC"]) == list("faebcd")
    assert pop.ordered(["experiment_id", "attributes.created DESC"]) == list("fedcba")


def test_order_applies_before_max_results(pop: Population) -> None:
    assert pop.ordered(["metrics.acc DESC"], max_results=2) == ["c", "a"]


# --- pagination ------------------------------------------------------------------------------

ORDERINGS = [
    [],
    ["metrics.acc DESC"],
    ["metrics.acc"],
    ["metrics.loss DESC", "run_name"],
    ["params.lr", "start_time DESC"],
    ["tags.team DESC", "metrics.loss"],
    ["status", "params.model DESC"],
    ["end_time"],
    ["run_id"],
]


def test_walking_pages_returns_every_run_once_in_order(pop: Population) -> None:
    for order_by in ORDERINGS:
        everything = pop.ordered(order_by)
        assert sorted(everything) == list("abcdef")
        for size in (1, 2, 4, 5, 6, 7):
            assert pop.walk(size, order_by=order_by) == everything, (order_by, size)
        with_acc = pop.walk(1, order_by=order_by, filter_string="metrics.acc IS NOT NULL")
        assert with_acc == [n for n in everything if n != "e"], order_by


def test_next_page_token_is_none_exactly_on_the_last_page(pop: Population) -> None:
    search = pop.store.runs.search
    first = search([pop.exp], max_results=3)
    assert first.next_page_token is not None
    second = search([pop.exp], max_results=3, page_token=first.next_page_token)
    assert pop.names_of(second) == list("cba")
    assert second.next_page_token is None
    assert search([pop.exp], max_results=6).next_page_token is None
    assert search([pop.exp], max_results=5).next_page_token is not None
    assert search([pop.exp], filter_string="run_name = 'x'").next_page_token is None


def test_pages_are_stable_while_runs_are_inserted(pop: Population) -> None:
    for order_by in (["metrics.acc DESC"], [], ["params.lr"]):
        seen: list[str] = []
        token = None
        extra = 0
        while True:
            page = pop.store.runs.search(
                [pop.exp], order_by=order_by, max_results=2, page_token=token
            )
            seen += [r.run_id for r in page]
            token = page.next_page_token
            if token is None:
                break
            if extra >= 9:
                continue
            # one sorting before the cursor, one after, one among the missing ones
            for start, acc, lr in ((500, 0.7, "0.05"), (3500, 2.0, "0.5"), (9000, -1.0, "0")):
                extra += 1
                pop.add(pop.exp, f"new{extra}", start, metrics={"acc": acc}, params={"lr": lr})
        assert len(seen) == len(set(seen)), order_by
        assert {pop.ids[n] for n in "abcdef"} <= set(seen), order_by


def test_a_token_is_refused_by_another_search(pop: Population) -> None:
    token = pop.store.runs.search([pop.exp], max_results=1).next_page_token
    assert token is not None
    search = pop.store.runs.search
    for changed in (
        {"filter_string": "metrics.acc > 0"},
        {"order_by": ["metrics.acc"]},
        {"include_deleted": True},
        {"params": {"lr": "0.1"}},
    ):
        with pytest.raises(InvalidFilterError, match="another search"):
            search([pop.exp], max_results=1, page_token=token, **changed)
    with pytest.raises(InvalidFilterError, match="another search"):
        search(["0"], max_results=1, page_token=token)
    # the page size may change between pages
    assert len(search([pop.exp], max_results=3, page_token=token)) == 3


def _forged(values: list[object], fingerprint: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"v": values, "q": fingerprint}).encode()).decode()


def test_garbage_and_forged_tokens_are_refused(pop: Population) -> None:
    fingerprint = query_fingerprint([int(pop.exp)], None, [], None, None, None, False)
    garbage = [
        "garbage",
        "!!!!",
        "é",
        "e30",  # {}
        base64.b64encode(b"[1, 2]").decode(),
        base64.b64encode(b"[" * 5000 + b"]" * 5000).decode(),
        "A" * 300_000,
        _forged([0, 1], fingerprint),
        _forged(["x", "y", "z"], fingerprint),
        _forged([0, None, 1], fingerprint),
        _forged([0, 1, [1]], fingerprint),
        _forged([0, 10**30, 1], fingerprint),
        _forged([0, "a\x00", 1], fingerprint),
        _forged([True, 1, 1], fingerprint),
    ]
    assert len(pop.store.runs.search([pop.exp], page_token=_forged([0, 1500, 1], fingerprint)))
    for token in garbage:
        with pytest.raises(InvalidFilterError, match="page token"):
            pop.store.runs.search([pop.exp], page_token=token)


def test_max_results_bounds_the_page_and_out_of_bounds_is_refused(pop: Population) -> None:
    assert len(pop.store.runs.search([pop.exp], max_results=1)) == 1
    assert len(pop.store.runs.search([pop.exp], max_results=MAX_SEARCH_RESULTS)) == 6
    for max_results in (0, -1, MAX_SEARCH_RESULTS + 1):
        with pytest.raises(InvalidInputError, match="max_results"):
            pop.store.runs.search([pop.exp], max_results=max_results)


# --- hostile input -------------------------------------------------------------------------

HOSTILE_FILTERS = [
    "params.model = 'rf''; DROP TABLE runs; --'",
    "params.model = 'x' OR 1=1",
    "params.model = '' OR '1'='1'",
    'params.model = "rf\\"; DROP TABLE runs; --"',
    "params.`model; DROP TABLE runs; --` = 'x'",
    "params.\"model'; DELETE FROM params; --\" = 'x'",
    "tags.`t` = 'x' /* comment */",
    "tags.t = 'x' -- comment",
    "metrics.acc > 0; DROP TABLE runs",
    "run_name LIKE '%'' OR ''1''=''1'",
    "status IN ('FINISHED'); DROP TABLE runs; --')",
    "datasets.name = 'iris' UNION SELECT * FROM runs",
    "run_name = 'a'; DELETE FROM runs",
    "experiment_id = '0 OR 1=1'",
    "attributes.`status; DROP TABLE runs` = 'x'",
    "params.model LIKE '%' ESCAPE '!'",
]


def test_sql_injection_attempts_are_inert(pop: Population) -> None:
    runs_before = scalar(pop.store, "SELECT count(*) FROM runs")
    params_before = scalar(pop.store, "SELECT count(*) FROM params")
    for text in HOSTILE_FILTERS:
        try:
            found = pop.found(text)
        except InvalidFilterError:
            continue
        assert found == set(), text
    for order in ("metrics.`a; DROP TABLE runs` DESC", "params.`x'--`", "tags.`t`; DROP"):
        try:
            pop.ordered([order])
        except InvalidFilterError:
            continue
    assert scalar(pop.store, "SELECT count(*) FROM runs") == runs_before
    assert scalar(pop.store, "SELECT count(*) FROM params") == params_before


def test_hostile_text_is_matched_literally(pop: Population) -> None:
    nasty = "x'; DROP TABLE runs; --\" /* */ %_\\"
    pop.add(pop.exp, "nasty", 100, params={"q": nasty}, tags={"k DROP TABLE tags": nasty})
    quoted = nasty.replace("\\", "\\\\").replace("'", "''")
    assert pop.found(f"params.q = '{quoted}'") == {"nasty"}
    assert pop.found(f"tags.`k DROP TABLE tags` = '{quoted}'") == {"nasty"}
    like = nasty.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = like.replace("\\", "\\\\").replace("'", "''")
    assert pop.found(f"params.q LIKE '{like}'") == {"nasty"}
    assert pop.found("params.q LIKE 'x''; DROP%'") == {"nasty"}


def test_a_repeated_search_reuses_its_plan_and_still_sees_new_and_changed_runs(
    pop: Population,
) -> None:
    # The statements of a search are cached (search.search_plan); the rows never are.
    def names() -> list[str]:
        found = pop.store.runs.search(
            [pop.exp], filter_string="metrics.acc > 0.6", order_by=["metrics.acc DESC"]
        )
        return [pop.names[r.run_id] for r in found]

    assert names() == ["c", "a"]
    pop.add(pop.exp, "late", 9000, metrics={"acc": 0.8})
    assert names() == ["c", "a", "late"]
    pop.store.runs.delete(pop.ids["a"], actor="test")
    assert names() == ["c", "late"]
    assert names() == ["c", "late"]


def test_unhashable_arguments_are_refused_as_bad_filters_not_crashes(pop: Population) -> None:
    with pytest.raises(InvalidFilterError):
        pop.store.runs.search([pop.exp], order_by=[{"metrics.acc": "DESC"}])  # type: ignore[list-item]
