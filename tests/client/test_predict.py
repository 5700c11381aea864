"""`predict_file`: batch inference over real Parquet and CSV files, in-process and on a pool."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mloop.client.predict import predict_file
from mloop.data.progress import Progress
from mloop.errors import AlreadyExistsError, InvalidInputError, ModelInputError
from mloop.models import load_package, save_model

FEATURES = [f"f{i}" for i in range(4)]


@pytest.fixture
def backend() -> str:
    """These tests read and write files only: one store backend is enough."""
    return "sqlite"


def _frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, len(FEATURES))), columns=FEATURES)
    frame.insert(0, "id", np.arange(rows) * 7)
    return frame


@pytest.fixture(scope="module")
def forest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-forest package (verified ONNX export) trained on four features."""
    from sklearn.ensemble import RandomForestClassifier

    train = _frame(400, seed=1)
    labels = (train.f0 + train.f1 * train.f2 > 0).astype(int)
    model = RandomForestClassifier(20, random_state=0).fit(train[FEATURES], labels)
    folder = tmp_path_factory.mktemp("models") / "forest"
    save_model(model, folder, input_example=train[FEATURES].head(50))
    return folder


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A regression on a 32-bit integer column (`integer` in its signature) and a float."""
    from sklearn.linear_model import LinearRegression

    train = pd.DataFrame({"n": np.arange(50, dtype=np.int32), "x": np.linspace(0, 1, 50)})
    model = LinearRegression().fit(train, train.n * 2.0 + train.x)
    folder = tmp_path_factory.mktemp("models") / "counter"
    save_model(model, folder, input_example=train.head(5), export_onnx=False)
    return folder


class Recorder:
    """Keeps what `predict_file` reports, to check the progress it gives."""

    def __init__(self) -> None:
        self.phases: list[tuple[str, int]] = []
        self.advanced: list[int] = []

    def start(self, phase: str, total: int) -> None:
        self.phases.append((phase, total))

    def advance(self, count: int) -> None:
        self.advanced.append(count)


def test_pool_over_several_chunks_matches_the_model_and_keeps_row_order(
    forest: Path, tmp_path: Path
) -> None:
    frame = _frame(2_500)
    source = tmp_path / "in.parquet"
    # Small row groups, so the reader's batches do not line up with the chunks either.
    frame.to_parquet(source, row_group_size=333)
    recorder = Recorder()
    progress: Progress = recorder

    result = predict_file(
        forest,
        source,
        tmp_path / "out.parquet",
        keep_columns=["id"],
        workers=2,
        chunk_rows=400,
        progress=progress,
    )

    assert (result.rows, result.chunks, result.workers) == (2_500, 7, 2)
    assert result.columns == ["id", "prediction"]
    out = pd.read_parquet(tmp_path / "out.parquet")
    expected = load_package(forest).predict(frame[FEATURES])
    assert out["id"].tolist() == frame["id"].tolist()
    np.testing.assert_array_equal(out["prediction"].to_numpy(), expected)
    assert recorder.phases == [("predicting", 2_500)]
    assert sum(recorder.advanced) == 2_500
    assert not list(tmp_path.glob(".*partial"))


def test_left_to_choose_it_starts_workers_only_when_the_first_chunk_says_they_pay(
    forest: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import mloop.client.predict as batch

    frame = _frame(1_200)
    frame.to_parquet(tmp_path / "in.parquet")

    quick = predict_file(forest, tmp_path / "in.parquet", tmp_path / "a.parquet", chunk_rows=300)
    monkeypatch.setattr(batch, "_POOL_WORTH_S", 0.0)  # any remaining work pays for a pool
    pooled = predict_file(forest, tmp_path / "in.parquet", tmp_path / "b.parquet", chunk_rows=300)

    assert quick.workers == 1  # a fast model on a small file stays in this process
    assert pooled.workers == len(os.sched_getaffinity(0))
    expected = load_package(forest).predict(frame[FEATURES])
    for name in ("a.parquet", "b.parquet"):
        np.testing.assert_array_equal(pd.read_parquet(tmp_path / name)["prediction"], expected)


def test_probabilities_are_named_after_the_classes(forest: Path, tmp_path: Path) -> None:
    frame = _frame(300)
    frame.to_parquet(tmp_path / "in.parquet")

    result = predict_file(
        forest,
        tmp_path / "in.parquet",
        tmp_path / "out.parquet",
        method="predict_proba",
        keep_columns=["*"],
        workers=1,
        chunk_rows=128,
    )

    out = pd.read_parquet(tmp_path / "out.parquet")
    assert result.columns == ["id", *FEATURES, "proba_0", "proba_1"]
    assert list(out.columns) == result.columns
    expected = load_package(forest).predict_proba(frame[FEATURES])
    np.testing.assert_allclose(out[["proba_0", "proba_1"]].to_numpy(), expected, atol=1e-6)
    pd.testing.assert_frame_equal(out[["id", *FEATURES]], frame)


def test_csv_in_and_out(forest: Path, tmp_path: Path) -> None:
    frame = _frame(1_000)
    frame[["id", *reversed(FEATURES)]].to_csv(tmp_path / "in.csv", index=False)

    result = predict_file(
        forest, tmp_path / "in.csv", tmp_path / "out.csv", keep_columns=["id"], chunk_rows=300
    )

    assert (result.rows, result.chunks, result.workers) == (1_000, 4, 1)
    out = pd.read_csv(tmp_path / "out.csv")
    assert list(out.columns) == ["id", "prediction"]
    assert out["id"].tolist() == frame["id"].tolist()
    np.testing.assert_array_equal(out["prediction"], load_package(forest).predict(frame[FEATURES]))


def test_a_missing_column_is_named_and_nothing_is_written(forest: Path, tmp_path: Path) -> None:
    _frame(50).drop(columns=["f2"]).to_parquet(tmp_path / "in.parquet")

    with pytest.raises(ModelInputError, match="'f2' is missing from the input file") as caught:
        predict_file(forest, tmp_path / "in.parquet", tmp_path / "out.parquet")

    assert caught.value.column == "f2"
    assert not list(tmp_path.glob("*out*"))


def test_wrong_types_are_named_for_parquet_and_csv(forest: Path, tmp_path: Path) -> None:
    frame = _frame(20).astype({"f1": str})
    frame.loc[3, "f1"] = "abc"
    frame.to_parquet(tmp_path / "in.parquet")
    frame.to_csv(tmp_path / "in.csv", index=False)

    with pytest.raises(ModelInputError, match="'f1' has str values") as parquet_error:
        predict_file(forest, tmp_path / "in.parquet", tmp_path / "out.parquet")
    with pytest.raises(ModelInputError, match="'f1' cannot be read") as csv_error:
        predict_file(forest, tmp_path / "in.csv", tmp_path / "out.csv")

    assert parquet_error.value.column == csv_error.value.column == "f1"
    assert not list(tmp_path.glob("*out*"))


def test_an_error_in_a_worker_comes_back_with_its_type_and_column(
    counter: Path, tmp_path: Path
) -> None:
    # The first chunk is checked before the pool starts; a value past 32 bits in a later chunk
    # is found by a worker.
    values = np.arange(600, dtype=np.int64)
    values[450] = 2**40
    table = pa.table({"n": values, "x": np.zeros(600)})
    pq.write_table(table, tmp_path / "in.parquet")

    with pytest.raises(ModelInputError, match="beyond integer") as caught:
        predict_file(
            counter, tmp_path / "in.parquet", tmp_path / "out.parquet", workers=2, chunk_rows=200
        )

    assert caught.value.column == "n"
    assert not (tmp_path / "out.parquet").exists()
    assert not list(tmp_path.glob(".*partial"))


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"keep_columns": ["nope"]}, InvalidInputError, "'nope', which is not in the input"),
        ({"keep_columns": ["f0"]}, InvalidInputError, None),
        ({"method": "transform"}, InvalidInputError, "predict or predict_proba"),
        ({"chunk_rows": 0}, InvalidInputError, "chunk_rows must be at least 1"),
        ({"workers": 0}, InvalidInputError, "workers must be at least 1"),
    ],
)
def test_bad_options_are_refused(
    forest: Path, tmp_path: Path, options: dict[str, Any], error: type, message: str | None
) -> None:
    _frame(10).to_parquet(tmp_path / "in.parquet")

    result: Any = None
    if message is None:  # keeping a model input is fine: it is copied, not renamed
        result = predict_file(forest, tmp_path / "in.parquet", tmp_path / "out.parquet", **options)
        assert result.columns == ["f0", "prediction"]
        return
    with pytest.raises(error, match=message):
        predict_file(forest, tmp_path / "in.parquet", tmp_path / "out.parquet", **options)
    assert not (tmp_path / "out.parquet").exists()


def test_paths_are_checked(forest: Path, tmp_path: Path) -> None:
    _frame(10).to_parquet(tmp_path / "in.parquet")
    (tmp_path / "taken.parquet").write_bytes(b"keep me")

    with pytest.raises(AlreadyExistsError, match="--overwrite"):
        predict_file(forest, tmp_path / "in.parquet", tmp_path / "taken.parquet")
    with pytest.raises(InvalidInputError, match=r"\*.parquet, \*.pq or \*.csv"):
        predict_file(forest, tmp_path / "in.parquet", tmp_path / "out.json")
    with pytest.raises(InvalidInputError, match="overwrite the input"):
        predict_file(forest, tmp_path / "in.parquet", tmp_path / "in.parquet", overwrite=True)
    pq.write_table(pa.table({c: pa.array([], pa.float64()) for c in FEATURES}), tmp_path / "e.pq")
    with pytest.raises(InvalidInputError, match="no rows"):
        predict_file(forest, tmp_path / "e.pq", tmp_path / "out.parquet")

    assert (tmp_path / "taken.parquet").read_bytes() == b"keep me"
    assert not (tmp_path / "out.parquet").exists()
