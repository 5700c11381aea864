from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mloop.errors import InvalidInputError
from mloop.monitoring import ReferenceProfile, build_profile, detect_drift
from mloop.monitoring.summaries import CategoricalSummary, NumericSummary
from tests.monitoring.conftest import DRIFTED, make_pair


def test_profile_summarises_each_column(pair) -> None:
    ref, _ = pair
    ref = ref.copy()
    ref.loc[:9, "num_same"] = np.nan
    profile = build_profile(ref, sketch_size=256)
    num = profile.columns["num_same"]
    assert isinstance(num, NumericSummary)
    assert (num.rows, num.missing, num.count) == (4000, 10, 3990)
    assert num.sketch is not None
    assert num.sketch.values.size <= 256
    assert num.moments.mean == pytest.approx(ref["num_same"].mean())
    cat = profile.columns["cat_same"]
    assert isinstance(cat, CategoricalSummary)
    assert sum(cat.counts.values()) == 4000
    assert set(cat.counts) == {"a", "b", "c", "d"}


def test_scoring_against_a_saved_profile_matches_full_data(pair, tmp_path: Path) -> None:
    ref, cur = pair
    path = build_profile(ref).save(tmp_path / "profile.json")
    profile = ReferenceProfile.load(path)
    assert path.stat().st_size < 400_000
    from_profile = detect_drift(profile, cur)
    full = detect_drift(ref, cur)
    assert {c.name for c in from_profile.columns if c.is_drift} == set(DRIFTED)
    for name in ("num_shift", "num_same"):
        a, b = from_profile.column(name), full.column(name)
        assert a.effect_size == pytest.approx(b.effect_size, abs=0.01)
        assert a.statistic == pytest.approx(b.statistic, abs=2 / 2048)
    assert from_profile.column("cat_shift").p_value == pytest.approx(
        full.column("cat_shift").p_value
    )


def test_parquet_is_profiled_in_batches_and_merges_like_one_pass(tmp_path: Path) -> None:
    ref, _ = make_pair(n=10_000, seed=11)
    path = tmp_path / "ref.parquet"
    pq.write_table(pa.Table.from_pandas(ref), path, row_group_size=1000)
    streamed = build_profile(path, batch_rows=1000, sketch_size=512)
    whole = build_profile(ref, sketch_size=512)
    assert streamed.rows == 10_000
    for name in ("num_same", "int_same"):
        a, b = streamed.columns[name], whole.columns[name]
        assert isinstance(a, NumericSummary)
        assert isinstance(b, NumericSummary)
        assert a.sketch is not None
        assert b.sketch is not None
        assert a.moments.mean == pytest.approx(b.moments.mean)
        if a.sketch.is_exact:  # 100 distinct integers: still exact after merging batches
            assert a.sketch.weights.tolist() == b.sketch.weights.tolist()
            continue
        q = np.linspace(0.05, 0.95, 10)
        ranks = np.searchsorted(np.sort(ref[name]), a.sketch.quantiles(q)) / 10_000
        assert np.max(np.abs(ranks - q)) < 0.01
    cat = streamed.columns["cat_same"]
    assert isinstance(cat, CategoricalSummary)
    assert cat.counts == whole.columns["cat_same"].counts  # type: ignore[union-attr]


def test_profiles_merge_and_reject_other_layouts(pair) -> None:
    ref, cur = pair
    merged = build_profile(ref).merge(build_profile(cur))
    assert merged.rows == 8000
    with pytest.raises(InvalidInputError, match="different columns"):
        build_profile(ref).merge(build_profile(ref[["num_same"]]))


def test_profile_json_round_trip_and_bad_files(pair, tmp_path: Path) -> None:
    profile = build_profile(pair[0])
    again = ReferenceProfile.from_dict(json.loads(json.dumps(profile.to_dict())))
    assert again.to_dict() == profile.to_dict()
    with pytest.raises(InvalidInputError, match="does not exist"):
        ReferenceProfile.load(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text('{"schema": "other"}')
    with pytest.raises(InvalidInputError, match="not an mloop reference profile"):
        ReferenceProfile.load(tmp_path / "bad.json")


def test_profile_from_chunks_equals_profile_of_the_whole(pair) -> None:
    ref, _ = pair
    chunks = [ref.iloc[i : i + 1000] for i in range(0, len(ref), 1000)]
    chunked = build_profile(iter(chunks))
    whole = build_profile(ref)
    assert chunked.rows == whole.rows
    assert chunked.columns["cat_same"] == whole.columns["cat_same"]
    a, b = chunked.columns["num_same"], whole.columns["num_same"]
    assert isinstance(a, NumericSummary)
    assert isinstance(b, NumericSummary)
    assert a.moments.mean == pytest.approx(b.moments.mean)
    assert a.moments.std == pytest.approx(b.moments.std)
