"""`load` gives back the data frame of a tabular version."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from mloop.data.loading import load
from mloop.data.snapshots import add, snapshot
from mloop.errors import InvalidInputError
from mloop.storage.sql.store import SqlStore


def test_a_snapshot_loads_back_as_each_frame_kind(store: SqlStore) -> None:
    frame = pd.DataFrame({"id": [1, 2], "score": [0.5, 0.25]}, index=[10, 20])
    snapshot(store, frame, "t")
    pd.testing.assert_frame_equal(load(store, "datasets:/t/1"), frame)
    assert isinstance(load(store, "t/latest", as_="arrow"), pa.Table)
    # a pandas index that is not a plain range travels as a column, as pyarrow writes it
    assert load(store, "t", as_="polars").columns == ["id", "score", "__index_level_0__"]
    plain = pl.DataFrame({"id": [1, 2]})
    snapshot(store, plain, "p")
    assert load(store, "p", as_="polars").equals(plain)


@pytest.mark.parametrize(("name", "text"), [("x.csv", "a,b\n1,2\n"), ("x.parquet", None)])
def test_single_data_files_load_too(
    store: SqlStore, tmp_path: Path, name: str, text: str | None
) -> None:
    path = tmp_path / name
    if text is None:
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"a": [1], "b": [2]}), path)
    else:
        path.write_text(text)
    add(store, path, "f")
    assert load(store, "f").to_dict("list") == {"a": [1], "b": [2]}


def test_folders_and_bad_kinds_are_refused(store: SqlStore, tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a").write_text("x")
    (tmp_path / "d" / "b").write_text("y")
    add(store, tmp_path / "d", "folder")
    with pytest.raises(InvalidInputError, match="not a table"):
        load(store, "folder")
    with pytest.raises(InvalidInputError, match="as_"):
        load(store, "folder", as_="excel")  # type: ignore[arg-type]
