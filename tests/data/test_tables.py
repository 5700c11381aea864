"""Reading tables from every supported source into typed columns."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyarrow import feather

from mloop.data.tables import LogicalType, Table, logical_type_of
from mloop.errors import InvalidInputError


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "i": [1, 2, 3],
            "f": [0.5, np.nan, 2.0],
            "b": [True, False, True],
            "s": ["a", None, "c"],
            "t": pd.to_datetime(pd.Series(["2024-01-01", "2024-01-02", None])),
            "c": pd.Categorical(["x", "y", "x"]),
        }
    )


EXPECTED_TYPES = {
    "i": LogicalType.INTEGER,
    "f": LogicalType.FLOAT,
    "b": LogicalType.BOOLEAN,
    "s": LogicalType.STRING,
    "t": LogicalType.DATETIME,
    "c": LogicalType.STRING,
}


def test_pandas_frame_becomes_typed_columns_with_nan_as_missing():
    table = Table.from_data(_frame())
    assert {name: c.logical_type for name, c in table.columns.items()} == EXPECTED_TYPES
    assert table.row_count == 3
    assert table.columns["f"].missing_count == 1
    assert table.columns["s"].missing_count == 1
    assert table.columns["t"].missing_count == 1
    assert table.columns["c"].values.to_pylist() == ["x", "y", "x"]  # dictionary decoded


def test_arrow_polars_parquet_csv_and_feather_give_the_same_types(tmp_path: Path):
    arrow = pa.Table.from_pandas(_frame(), preserve_index=False)
    pq.write_table(arrow, tmp_path / "d.parquet")
    feather.write_feather(arrow, tmp_path / "d.feather")
    sources: list[object] = [arrow, tmp_path / "d.parquet", str(tmp_path / "d.feather")]
    polars = pytest.importorskip("polars")
    sources.append(polars.from_arrow(arrow))
    sources.append(polars.from_arrow(arrow).lazy())
    for source in sources:
        types = {n: c.logical_type for n, c in Table.from_data(source).columns.items()}
        assert types == EXPECTED_TYPES, source


def test_csv_and_tsv_files_are_parsed_with_types(tmp_path: Path):
    (tmp_path / "d.csv").write_text("a,b,c\n1,x,2024-01-01\n2,,2024-01-02\n")
    (tmp_path / "d.tsv").write_text("a\tb\n1.5\ty\n")
    csv = Table.from_data(tmp_path / "d.csv")
    assert csv.columns["a"].logical_type is LogicalType.INTEGER
    assert csv.columns["c"].logical_type is LogicalType.DATETIME
    tsv = Table.from_data(tmp_path / "d.tsv")
    assert tsv.column_names == ["a", "b"]
    assert tsv.columns["a"].logical_type is LogicalType.FLOAT


def test_mixed_object_column_is_read_as_text_instead_of_failing():
    table = Table.from_data(pd.DataFrame({"m": [1, "two", None]}))
    column = table.columns["m"]
    assert column.logical_type is LogicalType.STRING
    assert column.values.to_pylist() == ["1", "two", None]


def test_all_none_column_is_empty_and_mapping_input_works():
    table = Table.from_data({"x": [None, None], "y": [1, 2]})
    assert table.columns["x"].logical_type is LogicalType.EMPTY
    assert table.columns["x"].missing_count == 2


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (42, "cannot read a table from a builtins.int"),
        (pd.Series([1, 2]), "pass a DataFrame"),
        ("/nonexistent/file.parquet", "does not exist"),
    ],
)
def test_unsupported_inputs_raise_invalid_input(data: object, fragment: str):
    with pytest.raises(InvalidInputError, match=fragment):
        Table.from_data(data)


def test_unknown_suffix_and_corrupt_file_are_refused(tmp_path: Path):
    (tmp_path / "d.xlsx").write_text("x")
    with pytest.raises(InvalidInputError, match="unknown suffix"):
        Table.from_data(tmp_path / "d.xlsx")
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(InvalidInputError, match="cannot read data file"):
        Table.from_data(tmp_path / "bad.parquet")


def test_repeated_column_names_are_refused():
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(InvalidInputError, match="more than once"):
        Table.from_data(frame)


def test_value_counts_of_floats_fold_negative_zero_and_skip_missing():
    table = Table.from_data({"f": [0.0, -0.0, 1.5, None, 1.5, float("nan")]})
    column = table.columns["f"]
    assert column.distinct_count == 2
    values, counts = column.value_counts
    assert dict(zip(values.to_pylist(), counts.tolist(), strict=True)) == {0.0: 2, 1.5: 2}
    assert column.sorted_present is not None
    assert column.sorted_present.tolist() == [-0.0, 0.0, 1.5, 1.5]


def test_value_counts_of_times_keep_the_time_zone_and_text_uses_arrow():
    times = pa.array(
        [dt.datetime(2024, 1, 1), None, dt.datetime(2024, 1, 1)], pa.timestamp("s", "UTC")
    )
    column = Table.from_data(pa.table({"t": times})).columns["t"]
    values, counts = column.value_counts
    assert values.type == pa.timestamp("s", "UTC")
    assert counts.tolist() == [2]
    text = Table.from_data({"s": ["a", None, "a", "b"]}).columns["s"]
    assert text.sorted_present is None
    assert text.distinct_count == 2


def test_logical_type_of_other_arrow_types():
    assert logical_type_of(pa.list_(pa.int64())) is LogicalType.OTHER
    assert logical_type_of(pa.date32()) is LogicalType.DATETIME
    assert logical_type_of(pa.decimal128(10, 2)) is LogicalType.FLOAT
    assert logical_type_of(pa.dictionary(pa.int8(), pa.string())) is LogicalType.STRING
    assert Table.from_data({"d": [dt.date(2024, 1, 1)]}).columns["d"].logical_type is (
        LogicalType.DATETIME
    )


def test_string_views_are_read_as_plain_text():
    table = Table.from_data(pa.table({"s": pa.array(["a", None], pa.string_view())}))
    column = table.columns["s"]
    assert column.values.type == pa.large_string()
    assert column.logical_type is LogicalType.STRING
