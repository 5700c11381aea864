"""The search grammar: every operator, prefix, quoting rule and cap, plus hypothesis fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mloop.errors import InvalidFilterError
from mloop.storage.search.parser import (
    MAX_COMPARISONS,
    MAX_DEPTH,
    MAX_FILTER_LENGTH,
    MAX_IN_VALUES,
    parse_filter,
    parse_order_by,
)
from mloop.storage.search.syntax import BoolOp, Comparison, Entity, Not, OrderKey

M, P, T, A, D = Entity.METRIC, Entity.PARAM, Entity.TAG, Entity.ATTRIBUTE, Entity.DATASET


def one(text: str) -> Comparison:
    node = parse_filter(text)
    assert isinstance(node, Comparison), node
    return node


def invalid(text: str, match: str | None = None) -> InvalidFilterError:
    with pytest.raises(InvalidFilterError, match=match) as info:
        parse_filter(text)
    return info.value


# --- prefixes and keys --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "entity"),
    [
        ("metrics", M),
        ("metric", M),
        ("params", P),
        ("param", P),
        ("parameters", P),
        ("parameter", P),
        ("tags", T),
        ("tag", T),
        ("attributes", A),
        ("attribute", A),
        ("attr", A),
        ("run", A),
        ("datasets", D),
        ("dataset", D),
        ("METRICS", M),
        ("Params", P),
    ],
)
def test_every_prefix_names_its_entity(prefix: str, entity: Entity) -> None:
    key = {M: "acc", P: "lr", T: "team", A: "status", D: "name"}[entity]
    value = "0.5" if entity is M else "'x'"
    assert one(f"{prefix}.{key} = {value}") == Comparison(
        entity, key, "=", 0.5 if entity is M else "x"
    )


def test_an_unknown_prefix_is_refused_with_the_known_ones() -> None:
    invalid("metricz.acc > 1", "unknown prefix 'metricz'.*metrics., params.")


def test_a_bare_name_is_an_attribute() -> None:
    assert one("status = 'FINISHED'") == Comparison(A, "status", "=", "FINISHED")
    assert one("start_time > 5") == Comparison(A, "start_time", ">", 5.0)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("created > 1", "start_time"),
        ("attributes.Created > 1", "start_time"),
        ("attributes.`run name` = 'a'", "run_name"),
        ("attributes.`Run Name` = 'a'", "run_name"),
        ("attributes.`Run name` = 'a'", "run_name"),
        ("name = 'a'", "run_name"),
        ("run_uuid = 'a'", "run_id"),
    ],
)
def test_mlflow_attribute_aliases_resolve(text: str, key: str) -> None:
    assert one(text).key == key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("metrics.`f1 score` > 0.5", "f1 score"),
        ('metrics."error rate" > 0.5', "error rate"),
        ('metrics."2019-04-02 error rate" > 0.5', "2019-04-02 error rate"),
        ("metrics.`2020` > 0.5", "2020"),
        ("metrics.val-loss > 0.5", "val-loss"),
        ("metrics.train/loss > 0.5", "train/loss"),
        ("metrics.a.b:c > 0.5", "a.b:c"),
        ("metrics.1abc > 0.5", "1abc"),
        ('metrics."say ""hi""" > 0.5', 'say "hi"'),
        ('metrics."back\\"slash" > 0.5', 'back"slash'),
        ("metrics.`and` > 0.5", "and"),
        ("metrics.and > 0.5", "and"),
    ],
)
def test_quoted_and_special_keys(text: str, key: str) -> None:
    node = one(text)
    assert (node.entity, node.key) == (M, key)


def test_a_backticked_bare_key_is_an_attribute() -> None:
    assert one("`status` = 'RUNNING'") == Comparison(A, "status", "=", "RUNNING")


@pytest.mark.parametrize("text", ["metrics. > 1", "metrics.`` > 1", 'metrics."" > 1'])
def test_an_empty_key_is_refused(text: str) -> None:
    invalid(text)


# --- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'plain'", "plain"),
        ('"double"', "double"),
        ("'it''s'", "it's"),
        ("'it\\'s'", "it's"),
        ('"say ""x"""', 'say "x"'),
        ("'back\\\\slash'", "back\\slash"),
        ("''", ""),
        ("'a and b or not c'", "a and b or not c"),
        ("'(x)'", "(x)"),
        ("'ünïcödé ✓'", "ünïcödé ✓"),
        ("'; DROP TABLE runs; --'", "; DROP TABLE runs; --"),
    ],
)
def test_string_literals_and_escapes(literal: str, value: str) -> None:
    assert one(f"params.p = {literal}").value == value


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("1", 1.0),
        ("0", 0.0),
        ("-3", -3.0),
        ("+3", 3.0),
        ("0.25", 0.25),
        (".5", 0.5),
        ("5.", 5.0),
        ("1e3", 1000.0),
        ("1E-3", 0.001),
        ("-2.5e+2", -250.0),
        ("1e999", float("inf")),
        ("-1e999", float("-inf")),
        ("1670628787527", 1670628787527.0),
    ],
)
def test_number_literals(literal: str, value: float) -> None:
    assert one(f"metrics.m >= {literal}").value == value


@pytest.mark.parametrize("text", ["metrics.m > 1abc", "metrics.m > 1.2.3", "metrics.m > --1"])
def test_malformed_numbers_are_refused(text: str) -> None:
    invalid(text)


@pytest.mark.parametrize("text", ["params.p = 'open", 'params.p = "open', "params.p = 'a''"])
def test_unterminated_strings_are_refused(text: str) -> None:
    invalid(text)


# --- operators ------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["=", "!=", "<", "<=", ">", ">="])
def test_every_numeric_operator_on_metrics(op: str) -> None:
    assert one(f"metrics.acc {op} 0.5") == Comparison(M, "acc", op, 0.5)


def test_sql_not_equal_is_the_same_as_bang_equal() -> None:
    assert one("metrics.acc <> 1") == Comparison(M, "acc", "!=", 1.0)


@pytest.mark.parametrize("prefix", ["params", "tags"])
@pytest.mark.parametrize("op", ["=", "!=", "LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE"])
def test_every_string_operator_on_params_and_tags(prefix: str, op: str) -> None:
    node = one(f"{prefix}.k {op} 'v%'")
    assert (node.op, node.value) == (op, "v%")


@pytest.mark.parametrize("prefix", ["metrics.m", "params.p", "tags.t", "run_name", "end_time"])
@pytest.mark.parametrize("op", ["IS NULL", "IS NOT NULL"])
def test_is_null_and_is_not_null(prefix: str, op: str) -> None:
    node = one(f"{prefix} {op}")
    assert (node.op, node.value) == (op, None)


def test_in_and_not_in_lists() -> None:
    assert one("status IN ('FINISHED', 'FAILED')") == Comparison(
        A, "status", "IN", ("FINISHED", "FAILED")
    )
    assert one("params.p NOT IN ('a')").value == ("a",)
    assert one("metrics.m IN (1, 2.5, -3)").value == (1.0, 2.5, -3.0)
    assert one("start_time IN (1, 2)").op == "IN"


@pytest.mark.parametrize(
    "text",
    ["status IN ()", "status IN 'a'", "status IN ('a',)", "status IN ('a' 'b')", "status IN ('a'"],
)
def test_malformed_in_lists_are_refused(text: str) -> None:
    invalid(text)


@pytest.mark.parametrize(
    "text",
    [
        "metrics.m and 1",
        "metrics.m == 1",
        "metrics.m =",
        "metrics.m",
        "= 1",
        "metrics.m IS 1",
        "metrics.m IS NOT 1",
        "params.p NOT = 'a'",
        "params.p LIKE",
    ],
)
def test_malformed_comparisons_are_refused(text: str) -> None:
    invalid(text)


# --- keywords, precedence, grouping -------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "params.p like 'a' and tags.t ilike 'b' or metrics.m is not null",
        "params.p LIKE 'a' AND tags.t ILIKE 'b' OR metrics.m IS NOT NULL",
        "params.p Like 'a' And tags.t iLike 'b' Or metrics.m Is Not Null",
    ],
)
def test_keywords_are_case_insensitive(text: str) -> None:
    assert parse_filter(text) == BoolOp(
        "OR",
        (
            BoolOp("AND", (Comparison(P, "p", "LIKE", "a"), Comparison(T, "t", "ILIKE", "b"))),
            Comparison(M, "m", "IS NOT NULL", None),
        ),
    )


a, b, c = (Comparison(M, k, ">", 1.0) for k in "abc")


def test_and_binds_tighter_than_or() -> None:
    assert parse_filter("metrics.a > 1 OR metrics.b > 1 AND metrics.c > 1") == BoolOp(
        "OR", (a, BoolOp("AND", (b, c)))
    )
    assert parse_filter("metrics.a > 1 AND metrics.b > 1 OR metrics.c > 1") == BoolOp(
        "OR", (BoolOp("AND", (a, b)), c)
    )


def test_parentheses_override_precedence() -> None:
    assert parse_filter("(metrics.a > 1 OR metrics.b > 1) AND metrics.c > 1") == BoolOp(
        "AND", (BoolOp("OR", (a, b)), c)
    )
    assert parse_filter("((metrics.a > 1))") == a


def test_chains_of_one_operator_are_flat() -> None:
    assert parse_filter("metrics.a > 1 and metrics.b > 1 and metrics.c > 1") == BoolOp(
        "AND", (a, b, c)
    )


def test_not_applies_to_the_next_condition_or_group() -> None:
    assert parse_filter("NOT metrics.a > 1 AND metrics.b > 1") == BoolOp("AND", (Not(a), b))
    assert parse_filter("NOT (metrics.a > 1 OR metrics.b > 1)") == Not(BoolOp("OR", (a, b)))
    assert parse_filter("not not metrics.a > 1") == Not(Not(a))


@pytest.mark.parametrize(
    "text",
    [
        "(metrics.a > 1",
        "metrics.a > 1)",
        "()",
        "metrics.a > 1 AND",
        "OR metrics.a > 1",
        "metrics.a > 1 metrics.b > 1",
        "metrics.a > 1 AND AND metrics.b > 1",
        "NOT",
    ],
)
def test_unbalanced_or_dangling_structure_is_refused(text: str) -> None:
    invalid(text)


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t"])
def test_no_or_blank_filter_means_no_filter(text: str | None) -> None:
    assert parse_filter(text) is None


def test_a_filter_that_is_not_text_is_refused() -> None:
    with pytest.raises(InvalidFilterError, match="must be a string"):
        parse_filter(42)  # type: ignore[arg-type]


def test_errors_report_the_position_of_the_problem() -> None:
    error = invalid("metrics.a > 1 AND metrics.b ~ 2")
    assert error.position == 28
    assert error.text == "metrics.a > 1 AND metrics.b ~ 2"
    assert "character 28" in str(error)


# --- type rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("params.lr > '1'", "params compare with = != LIKE ILIKE or IN"),
        ("params.lr = 1", "compares with quoted strings"),
        ("tags.t = 1", "compares with quoted strings"),
        ("tags.t < 'a'", "tags compare with"),
        ("metrics.m = 'high'", "compares with numbers"),
        ("metrics.m LIKE '1%'", "metrics.m compares with = != <"),
        ("metrics.m IN (1, 'a')", "compares with numbers"),
        ("start_time > 'yesterday'", "time in milliseconds"),
        ("end_time LIKE '1%'", "compares with = != < <= > >= or IN"),
        ("status > 'A'", "compare with = != LIKE ILIKE or IN"),
        ("run_name = 3", "compares with quoted strings"),
        ("attributes.color = 'red'", "unknown attribute 'color'"),
        ("attributes.start = 1", "unknown attribute 'start'"),
        ("datasets.size = '1'", "unknown datasets field 'size'"),
        ("datasets.name IS NULL", "never NULL"),
        ("datasets.digest = 1", "compares with quoted strings"),
        ("experiment_id = 1.5", "decimal ids"),
        ("experiment_id = -1", "decimal ids"),
        ("experiment_id LIKE '1%'", "experiment_id compares with = != or IN"),
        ("experiment_id = 'default'", "decimal ids"),
        ("experiment_id = '1_0'", "decimal ids"),
        ("experiment_id IN ('1', '99999999999999999999')", "decimal ids"),
        ("params.p LIKE 'ends with \\\\'", "lone backslash"),
    ],
)
def test_type_rules_refuse_mismatched_operators_and_values(text: str, message: str) -> None:
    invalid(text, message)


@pytest.mark.parametrize(
    "text",
    [
        "datasets.name = 'iris'",
        "datasets.digest IN ('a', 'b')",
        "datasets.context LIKE 'tr%'",
        "datasets.source ILIKE '%s3%'",
        "experiment_id IN ('0', '12')",
        "experiment_id != '0'",
        "experiment_id = 0",
        "experiment_id IN (0, '1')",
        "artifact_uri LIKE 'file:%'",
        "user_id = 'alice'",
        "lifecycle_stage = 'deleted'",
        "run_id = 'abc'",
        "params.p LIKE 'literal \\\\\\\\ backslash'",
        "params.p LIKE '100\\\\%'",
    ],
)
def test_valid_attribute_and_dataset_comparisons_parse(text: str) -> None:
    assert isinstance(parse_filter(text), Comparison)


# --- MLflow's documented filters parse unchanged -----------------------------------------

MLFLOW_FILTERS = [
    # docs/source/search-runs.rst (MLflow 2.x) and docs/source/search-syntax.rst (1.x)
    "metrics.accuracy > 0.92",
    'attributes.status = "FINISHED"',
    'attributes.status = "FAILED"',
    "attributes.created > 1670628787527",
    "attributes.Created > 1670628787527",
    "attributes.start_time > 1670628787527",
    "metrics.`f1 score` > 0.5",
    "tags.`mlflow.user` = 'john@mlflow.com'",
    "tags.`model` LIKE 'sklearn%'",
    "tags.`type` ILIKE '%Logistic%'",
    "attributes.`run_name` IN ('alpha', 'beta', 'gamma')",
    "attributes.`run name` IN ('alpha', 'beta', 'gamma')",
    "attributes.`Run name` IN ('alpha', 'beta', 'gamma')",
    "attributes.`Run Name` IN ('alpha', 'beta', 'gamma')",
    'params.alpha = "0.3" and params.lambda = "0.001" and metrics.error <= 0.05',
    'params.model = "LogisticRegression" and params.lambda = "0.001" and metrics.error <= 0.05',
    'params."model-type" = "x"',
    'metrics."error rate" < 1',
    "metrics.`error rate` < 1",
    'metrics."2019-04-02 error rate" < 1',
    'tags."mlflow.runName" = "keras-hyperparam-search"',
    'tags."mlflow.user" = "me"',
    "tags.`mlflow.parentRunId` = 'abc'",
    "attributes.artifact_uri = 'models:/mymodel/1'",
    "attributes.status = 'ACTIVE'",
    "attributes.start_time >= 1664067852747",
    "attributes.end_time < 1664067852747",
    "attributes.user_id = 'user1'",
    "attributes.run_name = 'my-run'",
    "attributes.run_id = 'a1b2c3d4'",
    "attributes.run_id IN ('a1b2c3d4', 'e5f6g7h8')",
    "params.model = 'CNN' and params.layers = '10' and metrics.`prediction accuracy` >= 0.945",
    "params.model = 'Inception'",
    "metrics.rmse < 0.9 and tags.production = 'true'",
    "metrics.accuracy_score < 99.90",
    # MLflow's dataset filters (tests/utils/test_search_utils.py)
    "datasets.name = 'name1'",
    "datasets.name IN ('name1', 'name2')",
    "datasets.digest IN ('digest1', 'digest2')",
    "datasets.name = 'name1' AND datasets.digest = 'digest2'",
    "datasets.context = 'train'",
    "datasets.name = 'name1' AND datasets.context = 'train'",
    "datasets.name LIKE 'Name%'",
    # other filters seen in MLflow's tests and clients
    "attribute.start_time >= 0",
    "attribute.user_id = 'user-id2'",
    "tags.`mlflow.runName` IS NULL",
    'params.`random_state` = "8888"',
    "params.`random_state` IS NOT NULL",
    'params.solver ILIKE "L%"',
    "metrics.key1 != 123",
    'params.batch_size != "None"',
]


@pytest.mark.parametrize("text", MLFLOW_FILTERS)
def test_mlflow_documented_filters_parse_unchanged(text: str) -> None:
    assert parse_filter(text) is not None


# --- caps ------------------------------------------------------------------------------------


def test_an_over_long_filter_is_refused_with_the_limit() -> None:
    text = "params.p = '" + "x" * MAX_FILTER_LENGTH + "'"
    invalid(text, f"characters long; the limit is {MAX_FILTER_LENGTH}")


def test_nesting_up_to_the_limit_parses_and_deeper_is_refused() -> None:
    inner = "metrics.a > 1"
    assert parse_filter("(" * MAX_DEPTH + inner + ")" * MAX_DEPTH) == a
    invalid("(" * (MAX_DEPTH + 1) + inner + ")" * (MAX_DEPTH + 1), f"deeper than {MAX_DEPTH}")
    invalid("NOT " * (MAX_DEPTH + 1) + inner, f"deeper than {MAX_DEPTH}")
    invalid("(" * 10_000, f"deeper than {MAX_DEPTH}")


def test_too_many_conditions_are_refused() -> None:
    assert parse_filter(" OR ".join(["metrics.a > 1"] * MAX_COMPARISONS)) is not None
    invalid(" OR ".join(["metrics.a > 1"] * (MAX_COMPARISONS + 1)), f"{MAX_COMPARISONS} conditions")


def test_too_many_in_values_are_refused() -> None:
    ok = ",".join(["1"] * MAX_IN_VALUES)
    assert one(f"metrics.a IN ({ok})").value == (1.0,) * MAX_IN_VALUES
    invalid(f"metrics.a IN ({ok},1)", f"at most {MAX_IN_VALUES} values")


@pytest.mark.parametrize("text", ["params.p = 'a\x00b'", "params.`a\x00b` = 'x'", "\x00"])
def test_nul_characters_are_refused(text: str) -> None:
    invalid(text, "NUL")


# --- order by --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("metrics.acc", OrderKey(M, "acc", ascending=True)),
        ("metrics.acc DESC", OrderKey(M, "acc", ascending=False)),
        ("metrics.acc desc", OrderKey(M, "acc", ascending=False)),
        ("metrics.acc aSc", OrderKey(M, "acc", ascending=True)),
        ("  params.lr   DESC  ", OrderKey(P, "lr", ascending=False)),
        ("metrics.`Mean Square Error` DESC", OrderKey(M, "Mean Square Error", ascending=False)),
        ('metrics."key1"  desc', OrderKey(M, "key1", ascending=False)),
        ("tags.t", OrderKey(T, "t")),
        ("start_time DESC", OrderKey(A, "start_time", ascending=False)),
        ("attributes.created", OrderKey(A, "start_time")),
        ("attributes.status", OrderKey(A, "status")),
        ("run_name", OrderKey(A, "run_name")),
        ("experiment_id", OrderKey(A, "experiment_id")),
    ],
)
def test_order_by_clauses(clause: str, expected: OrderKey) -> None:
    assert parse_order_by([clause]) == [expected]


def test_order_by_keeps_the_order_of_several_keys() -> None:
    assert parse_order_by(["params.a", "metrics.b DESC"]) == [
        OrderKey(P, "a"),
        OrderKey(M, "b", ascending=False),
    ]
    assert parse_order_by(None) == []
    assert parse_order_by([]) == []


def test_order_by_accepts_one_clause_as_a_plain_string() -> None:
    assert parse_order_by("metrics.acc DESC") == [OrderKey(M, "acc", ascending=False)]


@pytest.mark.parametrize(
    "clause",
    [
        "",
        "   ",
        "metrics.a DESC DESC",
        "metrics.a ACS",
        "metrics.a decs",
        "metrics.a != 1",
        "m.acc",
        "acc",
        "attribute.start",
        "datasets.name",
        "`metrics.A",
        "metrics.a, metrics.b",
        "metrics.`a\x00`",
    ],
)
def test_malformed_order_by_clauses_are_refused(clause: str) -> None:
    with pytest.raises(InvalidFilterError):
        parse_order_by([clause])


def test_order_by_items_that_are_not_text_are_refused() -> None:
    with pytest.raises(InvalidFilterError):
        parse_order_by([None])  # type: ignore[list-item]


# --- property tests: any input parses or raises InvalidFilterError -------------------------

_KEYS = st.sampled_from(
    [
        "metrics.acc",
        "metric.`f1 score`",
        'params."model-type"',
        "param.lr",
        "tags.t",
        "tag.`mlflow.user`",
        "attributes.status",
        "attr.start_time",
        "run.run_name",
        "status",
        "end_time",
        "experiment_id",
        "datasets.name",
        "dataset.context",
        "created",
    ]
)
_OPS = st.sampled_from(
    ["=", "!=", "<>", "<", "<=", ">", ">=", "LIKE", "ilike", "NOT LIKE", "not ilike", "IN",
     "NOT IN", "IS NULL", "is not null"]
)  # fmt: skip
_VALUES = st.one_of(
    st.floats(allow_nan=False).map(repr),
    st.integers().map(str),
    st.text(max_size=8).map(lambda s: "'" + s.replace("'", "''") + "'"),
    st.text(max_size=8).map(lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'),
    st.lists(st.integers(0, 99).map(str), min_size=1, max_size=3).map(
        lambda xs: "(" + ", ".join(xs) + ")"
    ),
    st.lists(st.sampled_from(["'a'", "'0'", '"b"']), min_size=1, max_size=3).map(
        lambda xs: "(" + ",".join(xs) + ")"
    ),
)
_COMPARISONS = st.builds(lambda k, o, v: f"{k} {o} {v}", _KEYS, _OPS, _VALUES)
_FILTERS = st.recursive(
    _COMPARISONS,
    lambda inner: st.one_of(
        st.builds(lambda x, y, j: f"{x} {j} {y}", inner, inner, st.sampled_from(["AND", "or"])),
        inner.map(lambda x: f"({x})"),
        inner.map(lambda x: f"NOT {x}"),
    ),
    max_leaves=8,
)


@st.composite
def _mutated_filters(draw: st.DrawFn) -> str:
    """A near-valid filter with a few characters inserted, deleted or replaced."""
    text = draw(_FILTERS)
    noise = st.sampled_from([*"()'\"`.,=!<>-+eE\\%_ \x00é", "AND", "NOT", "IS", "NULL"])
    for _ in range(draw(st.integers(0, 3))):
        pos = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        if action == "insert":
            text = text[:pos] + draw(noise) + text[pos:]
        elif action == "delete":
            text = text[:pos] + text[pos + 1 :]
        else:
            text = text[:pos] + draw(noise) + text[pos + 1 :]
    return text


def _parses_or_refuses(text: str) -> None:
    try:
        parse_filter(text)
    except InvalidFilterError as exc:
        error = exc
    else:
        return
    assert error.message
    assert isinstance(error, ValueError)


_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(st.text())
def test_any_text_parses_or_raises_invalid_filter_error(text: str) -> None:
    _parses_or_refuses(text)


@_SETTINGS
@given(_FILTERS)
def test_generated_filters_parse_or_raise_invalid_filter_error(text: str) -> None:
    _parses_or_refuses(text)


@_SETTINGS
@given(_mutated_filters())
def test_mutated_filters_parse_or_raise_invalid_filter_error(text: str) -> None:
    _parses_or_refuses(text)


@_SETTINGS
@given(st.lists(st.one_of(st.text(), _KEYS.map(lambda k: k + " DESC")), max_size=4))
def test_any_order_by_list_parses_or_raises_invalid_filter_error(clauses: list[str]) -> None:
    try:
        parse_order_by(clauses)
    except InvalidFilterError as exc:
        error = exc
    else:
        return
    assert error.message


@_SETTINGS
@given(
    st.lists(
        st.sampled_from(["metrics.a > 1", "params.p = 'x'", "status IN ('A')"]), min_size=1
    ).map(" AND ".join)
)
def test_valid_conjunctions_always_parse(text: str) -> None:
    node = parse_filter(text)
    assert node is not None
