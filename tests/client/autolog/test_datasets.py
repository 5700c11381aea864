"""Content digests of training data: equal data, equal digest; any change, another digest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from mloop.client.autolog.datasets import dataset_digest, training_input


@pytest.fixture(autouse=True)
def fluent() -> None:
    """These tests need no store: override the package's store fixture."""


def test_equal_data_has_equal_digests_whatever_the_memory_layout():
    data = np.arange(24, dtype=np.float64).reshape(6, 4)
    digest = dataset_digest(data)
    assert dataset_digest(data.copy()) == digest
    assert dataset_digest(np.asfortranarray(data)) == digest
    assert dataset_digest(data.tolist()) == digest
    assert dataset_digest(np.vstack([data, data])[:6]) == digest
    assert len(digest) == 32


def test_any_change_gives_another_digest():
    data = np.arange(24, dtype=np.float64).reshape(6, 4)
    changed = data.copy()
    changed[3, 2] += 1e-9
    digests = {
        dataset_digest(data),
        dataset_digest(changed),
        dataset_digest(data.reshape(4, 6)),
        dataset_digest(data.astype(np.float32)),
        dataset_digest(data, np.zeros(6)),
        dataset_digest(data, np.ones(6)),
    }
    assert len(digests) == 6


def test_data_frames_hash_values_and_column_names_but_not_the_index():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"], "c": [1, 2, 3]})
    digest = dataset_digest(frame)
    assert dataset_digest(frame.copy()) == digest
    assert dataset_digest(frame.set_axis([10, 11, 12])) == digest
    assert dataset_digest(frame.rename(columns={"a": "A"})) != digest
    assert dataset_digest(frame.assign(b=["x", "y", "w"])) != digest
    assert dataset_digest(frame.assign(b=frame["b"].astype("category"))) != digest


def test_numeric_frames_and_series():
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    assert dataset_digest(frame) == dataset_digest(frame.copy())
    assert dataset_digest(frame) != dataset_digest(frame[["b", "a"]])
    labels = pd.Series(["cat", "dog"], name="label")
    assert dataset_digest(frame, labels) == dataset_digest(frame, labels.copy())
    assert dataset_digest(frame, labels) != dataset_digest(frame, labels.rename("other"))


def test_object_arrays_hash_their_values_not_their_pointers():
    words = np.array(["alpha", "beta", None], dtype=object)
    assert dataset_digest(words) == dataset_digest(np.array(["alpha", "beta", None], dtype=object))
    assert dataset_digest(words) != dataset_digest(np.array(["alpha", "gamma", None], dtype=object))


def test_sparse_matrices_hash_their_canonical_form():
    dense = np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]])
    csr = sparse.csr_matrix(dense)
    assert dataset_digest(csr) == dataset_digest(sparse.csc_matrix(dense))
    assert dataset_digest(csr) != dataset_digest(sparse.csr_matrix(dense * 2))


def test_training_input_names_the_dataset_by_its_digest():
    data = np.ones((3, 2))
    found = training_input(data, [0, 1, 0])
    assert found.digest == dataset_digest(data, [0, 1, 0])
    assert found.name == f"dataset_{found.digest[:8]}"
    assert found.context == "training"
