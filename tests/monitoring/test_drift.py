from __future__ import annotations

import json

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from mloop.errors import InvalidInputError
from mloop.monitoring import ColumnStatus, DriftOptions, detect_drift, prediction_drift
from tests.monitoring.conftest import DRIFTED, make_pair


def test_injected_drift_is_found_exactly(pair) -> None:
    report = detect_drift(*pair)
    assert {c.name for c in report.columns if c.is_drift} == set(DRIFTED)
    assert report.dataset.is_drift
    assert report.dataset.drifted_columns == 3
    assert report.dataset.tested_columns == 7
    # most severe first
    assert report.columns[0].is_drift
    assert not report.columns[-1].is_drift


def test_default_methods_follow_column_type(pair) -> None:
    report = detect_drift(*pair)
    assert (report.column("num_same").test, report.column("num_same").effect) == (
        "ks",
        "wasserstein",
    )
    assert report.column("cat_same").test == "chisquare"
    assert report.column("flag_same").test == "z"
    assert report.column("cat_same").effect == "jensenshannon"


def test_no_drift_between_two_samples_of_one_distribution() -> None:
    ref, _ = make_pair(seed=1)
    other, _ = make_pair(seed=2)
    report = detect_drift(ref, other)
    assert not report.dataset.is_drift
    assert report.dataset.drifted_columns == 0


def test_large_samples_do_not_flag_a_trivial_shift() -> None:
    rng = np.random.default_rng(3)
    n = 200_000
    ref = pd.DataFrame({"x": rng.normal(0, 1, n)})
    cur = pd.DataFrame({"x": rng.normal(0.03, 1, n)})  # significant, but tiny
    column = detect_drift(ref, cur).column("x")
    assert column.adjusted_p_value is not None
    assert column.adjusted_p_value < 1e-6
    assert not column.is_drift
    assert detect_drift(ref, cur, options=DriftOptions(mode="evidently")).column("x").effect == (
        "wasserstein"
    )


def test_per_column_method_and_threshold_override(pair) -> None:
    options = DriftOptions(
        methods={"num_same": "psi", "cat_shift": "hellinger"}, thresholds={"cat_shift": 0.9}
    )
    report = detect_drift(*pair, options=options)
    num = report.column("num_same")
    assert (num.test, num.effect, num.threshold) == (None, "psi", 0.1)
    cat = report.column("cat_shift")
    assert cat.effect == "hellinger"
    assert cat.threshold == 0.9
    assert not cat.is_drift  # the override threshold decides


def test_override_with_a_test_decides_by_its_p_value(pair) -> None:
    report = detect_drift(*pair, options=DriftOptions(methods={"num_shift": "ks"}))
    column = report.column("num_shift")
    assert (column.test, column.effect) == ("ks", None)
    assert column.is_drift


def test_numeric_method_on_a_categorical_column_is_rejected(pair) -> None:
    with pytest.raises(InvalidInputError, match="cat_same") as info:
        detect_drift(*pair, options=DriftOptions(methods={"cat_same": "ks"}))
    assert info.value.field == "cat_same"


def test_unknown_method_and_bad_options_are_rejected() -> None:
    with pytest.raises(InvalidInputError, match="unknown drift method 'foo'"):
        DriftOptions(methods={"x": "foo"})
    with pytest.raises(InvalidInputError, match="alpha"):
        DriftOptions(alpha=2)
    with pytest.raises(InvalidInputError, match="mode"):
        DriftOptions(mode="other")  # type: ignore[arg-type]


def test_share_rule(pair) -> None:
    report = detect_drift(*pair, options=DriftOptions(dataset_rule="share", drift_share=0.5))
    assert report.dataset.rule == "share"
    assert report.dataset.share == pytest.approx(3 / 7)
    assert not report.dataset.is_drift


def test_missing_rate_change_is_its_own_signal() -> None:
    rng = np.random.default_rng(4)
    ref = pd.DataFrame({"x": rng.normal(size=2000)})
    values = rng.normal(size=2000)
    values[:600] = np.nan
    column = detect_drift(ref, pd.DataFrame({"x": values})).column("x")
    assert not column.is_drift
    assert column.missing is not None
    assert column.missing.current_rate == pytest.approx(0.3)
    assert column.missing.is_drift
    assert column.has_rate_drift


def test_empty_and_all_missing_columns_are_insufficient_data_never_errors() -> None:
    ref = pd.DataFrame({"empty": [None] * 50, "gone": np.arange(50.0), "s": ["a"] * 50})
    cur = pd.DataFrame({"empty": [None] * 40, "gone": [np.nan] * 40, "s": [None] * 40})
    report = detect_drift(ref, cur)
    for name in ("empty", "gone", "s"):
        assert report.column(name).status is ColumnStatus.INSUFFICIENT_DATA
    gone = report.column("gone").missing
    assert gone is not None
    assert gone.is_drift
    report = detect_drift(ref.iloc[:0], cur.iloc[:0])
    assert report.column("gone").status is ColumnStatus.INSUFFICIENT_DATA
    assert report.column("gone").missing is None


def test_infinities_are_counted_apart_and_kept_out_of_the_tests() -> None:
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"x": rng.normal(size=3000)})
    values = rng.normal(size=3000)
    values[:300] = np.inf
    column = detect_drift(ref, pd.DataFrame({"x": values})).column("x")
    assert column.current_count == 2700
    assert column.infinite is not None
    assert column.infinite.is_drift
    assert column.infinite.current_rate == pytest.approx(0.1)
    assert not column.is_drift
    assert json.loads(detect_drift(ref, pd.DataFrame({"x": values})).to_json())


def test_arrow_and_polars_inputs_give_the_same_report(pair) -> None:
    ref, cur = pair
    from_pandas = detect_drift(ref, cur)
    from_arrow = detect_drift(pa.Table.from_pandas(ref), pa.Table.from_pandas(cur))
    from_polars = detect_drift(pl.from_pandas(ref), pl.from_pandas(cur))
    from_lazy = detect_drift(pl.from_pandas(ref).lazy(), pl.from_pandas(cur).lazy())
    for other in (from_arrow, from_polars, from_lazy):
        assert [(c.name, c.p_value) for c in other.columns] == [
            (c.name, c.p_value) for c in from_pandas.columns
        ]


def test_unsupported_and_mismatched_columns() -> None:
    ref = pa.table({"l": [[1], [2]] * 10, "t": [1.0, 2.0] * 10})
    cur = pa.table({"l": [[1], [3]] * 10, "t": ["x", "y"] * 10})
    report = detect_drift(ref, cur)
    assert report.column("l").status is ColumnStatus.UNSUPPORTED
    assert report.column("t").status is ColumnStatus.UNSUPPORTED
    assert "numeric in the reference but categorical" in report.column("t").note


def test_named_columns_must_exist(pair) -> None:
    with pytest.raises(InvalidInputError, match="nope"):
        detect_drift(*pair, options=DriftOptions(columns=("nope",)))
    with pytest.raises(InvalidInputError, match="typo"):
        detect_drift(*pair, options=DriftOptions(thresholds={"typo": 0.2}))
    with pytest.raises(InvalidInputError, match="cannot read a table"):
        detect_drift([1, 2], [1, 2])


def test_prediction_and_target_drift_use_the_same_machinery() -> None:
    rng = np.random.default_rng(6)
    ref = pd.DataFrame({"prediction": rng.integers(0, 2, 3000), "label": rng.integers(0, 2, 3000)})
    cur = pd.DataFrame(
        {"prediction": (rng.random(3000) < 0.8).astype(int), "label": rng.integers(0, 2, 3000)}
    )
    report = prediction_drift(ref, cur, target="label")
    assert [c.name for c in report.columns] == ["prediction", "label"]
    assert report.column("prediction").is_drift
    assert not report.column("label").is_drift


def test_evidently_mode_choices_by_reference_size() -> None:
    small_ref, small_cur = make_pair(n=800, seed=7)
    small = detect_drift(small_ref, small_cur, options=DriftOptions(mode="evidently"))
    assert small.column("num_same").test == "ks"
    assert small.column("cat_same").test == "chisquare"
    assert small.column("flag_same").test == "z"
    assert small.dataset.rule == "share"
    big = detect_drift(*make_pair(n=1500, seed=7), options=DriftOptions(mode="evidently"))
    assert big.column("num_same").effect == "wasserstein"
    assert big.column("cat_same").effect == "jensenshannon"
    assert big.column("flag_same").effect == "jensenshannon"


@pytest.mark.parametrize("n", [200, 2000])
def test_false_alarm_rate_of_the_default_rule_is_within_alpha(n: int) -> None:
    """Many seeded no-drift comparisons of 8 columns: dataset alarms stay within 5%."""
    rng = np.random.default_rng(100 + n)
    trials, alarms = 100, 0
    for _ in range(trials):

        def sample() -> dict[str, np.ndarray]:
            return {
                **{f"x{i}": rng.normal(size=n) for i in range(5)},
                "e": rng.exponential(size=n),
                "c": rng.choice(
                    ["a", "b", "c", "d", "e", "f"], n, p=[0.4, 0.3, 0.2, 0.05, 0.03, 0.02]
                ),
                "b": rng.integers(0, 2, n),
            }

        alarms += detect_drift(sample(), sample()).dataset.is_drift
    # nominal 5%; allow the binomial noise of 100 trials (mean 5, sd ~2.2)
    assert alarms / trials <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / trials)


def test_dates_timestamps_decimals_and_booleans_are_tested() -> None:
    import datetime as dt
    import decimal

    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    table = pa.table(
        {
            "day": pa.array([dt.date(2024, 1, i % 28 + 1) for i in range(100)]),
            "at": pa.array([start + dt.timedelta(hours=i) for i in range(100)]),
            "price": pa.array([decimal.Decimal(i) for i in range(100)], pa.decimal128(10, 3)),
            "flag": pa.array([True, False] * 50),
        }
    )
    later = table.set_column(
        1, "at", pa.array([start + dt.timedelta(days=30 + i) for i in range(100)])
    )
    report = detect_drift(table, later)
    assert [report.column(n).kind for n in ("day", "at", "price", "flag")] == [
        "numeric",
        "numeric",
        "numeric",
        "categorical",
    ]
    assert report.column("at").is_drift
    assert not report.column("day").is_drift
    assert report.column("flag").test == "z"


def test_homogeneity_chi_square_holds_its_level_where_evidentlys_does_not() -> None:
    """Evidently's chi-square treats the reference shares as exact; mloop's compares samples."""
    rng = np.random.default_rng(8)
    probabilities = [0.4, 0.3, 0.2, 0.05, 0.03, 0.02]
    trials, ours, theirs = 200, 0, 0
    for _ in range(trials):
        ref = {"c": rng.choice(list("abcdef"), 500, p=probabilities)}
        cur = {"c": rng.choice(list("abcdef"), 500, p=probabilities)}
        ours += detect_drift(ref, cur).column("c").p_value < 0.05  # type: ignore[operator]
        theirs += (
            detect_drift(ref, cur, options=DriftOptions(mode="evidently")).column("c").is_drift
        )
    assert ours / trials <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / trials)
    assert theirs / trials > 0.15
