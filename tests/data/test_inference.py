"""Schema inference from a reference table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mloop.data.checks import AllowedValuesRule, MaxMissingRateRule, RangeRule, Severity
from mloop.data.inference import infer_schema
from mloop.data.schema import load_schema
from mloop.data.tables import LogicalType
from mloop.data.validation import validate


@pytest.fixture
def reference() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 400
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "age": rng.integers(18, 90, n),
            "income": np.where(rng.random(n) < 0.1, np.nan, rng.normal(50_000, 10_000, n)),
            "plan": rng.choice(["basic", "pro", "team"], n),
            "email": [f"user{i}@example.com" for i in range(n)],
            "signup": pd.date_range("2024-01-01", periods=n, freq="D"),
            "churned": rng.random(n) < 0.2,
            "notes": [None] * n,
        }
    )


def test_inferred_types_nullability_and_uniqueness(reference: pd.DataFrame):
    schema = infer_schema(reference)
    types = {c.name: c.type for c in schema.columns}
    assert types == {
        "customer_id": LogicalType.INTEGER,
        "age": LogicalType.INTEGER,
        "income": LogicalType.FLOAT,
        "plan": LogicalType.STRING,
        "email": LogicalType.STRING,
        "signup": LogicalType.DATETIME,
        "churned": LogicalType.BOOLEAN,
        "notes": LogicalType.OTHER,
    }
    assert schema.reference_rows == 400
    assert schema.column("customer_id").unique
    assert schema.column("email").unique
    assert not schema.column("age").unique  # 72 distinct values in 400 rows
    assert not schema.column("age").nullable
    assert schema.column("income").nullable
    assert schema.column("notes").nullable


def test_inferred_rules_are_warnings_from_observed_values(reference: pd.DataFrame):
    schema = infer_schema(reference)
    age_range = schema.column("age").checks[0]
    assert age_range == RangeRule(
        int(reference["age"].min()), int(reference["age"].max()), severity=Severity.WARNING
    )
    (missing_rule, income_range) = schema.column("income").checks
    assert isinstance(missing_rule, MaxMissingRateRule)
    observed = reference["income"].isna().mean()
    assert observed < missing_rule.value <= observed * 1.5 + 0.011
    assert income_range.min == reference["income"].min()  # type: ignore[attr-defined]
    assert schema.column("plan").checks == (
        AllowedValuesRule(("basic", "pro", "team"), severity=Severity.WARNING),
    )
    assert not schema.column("email").checks  # 400 distinct values: not categorical


def test_reference_stats_hold_quantiles_and_distinct_counts(reference: pd.DataFrame):
    stats = infer_schema(reference).column("income").reference
    assert stats is not None
    present = reference["income"].dropna()
    assert stats.quantiles["p50"] == pytest.approx(present.median(), rel=1e-5)
    assert stats.quantiles["p01"] == pytest.approx(present.quantile(0.01), rel=1e-5)
    assert stats.mean == pytest.approx(present.mean(), rel=1e-5)
    assert stats.distinct_count == present.nunique()
    signup = infer_schema(reference).column("signup").reference
    assert signup is not None
    assert signup.min == "2024-01-01T00:00:00"


def test_reference_validates_cleanly_against_its_own_saved_schema(
    reference: pd.DataFrame, tmp_path: Path
):
    path = infer_schema(reference, description="customers").save(tmp_path / "schema.yaml")
    text = path.read_text()
    assert text.startswith("version: 1\n")
    assert "description: customers" in text
    result = validate(reference, load_schema(path))
    assert result.is_valid
    assert not result.has_warnings


def test_small_reference_is_not_declared_unique_and_options_apply():
    frame = pd.DataFrame({"k": list(range(10)), "s": ["a", "b"] * 5})
    schema = infer_schema(frame, max_categories=1, min_unique_rows=50, quantiles=(0.5, 0.999))
    assert not schema.column("k").unique
    assert not schema.column("s").checks  # 2 categories > max_categories
    stats = schema.column("k").reference
    assert stats is not None
    assert set(stats.quantiles) == {"p50", "p99.9"}
    assert infer_schema(frame, min_unique_rows=5).column("k").unique


def test_empty_table_and_all_infinite_column_infer_without_range():
    schema = infer_schema(pd.DataFrame({"x": pd.Series([], dtype=float)}))
    assert schema.column("x").nullable
    assert not schema.column("x").checks
    infinite = infer_schema(pd.DataFrame({"x": [np.inf, -np.inf]}))
    assert not infinite.column("x").checks
