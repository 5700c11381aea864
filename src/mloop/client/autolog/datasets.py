"""Content digests of training data, recorded as a run's dataset input.

The digest covers every value, the shape, the dtypes and (for data frames) the column names, and
nothing about memory layout: equal data gives the same digest whether it is C- or
Fortran-ordered, a view or a copy. Numeric buffers are hashed as they are (BLAKE2b runs at about
1 GB/s); text and other object values are hashed column by column with pandas' vectorised hash.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from mloop.entities import RunInput

if TYPE_CHECKING:
    import numpy as np

DIGEST_SIZE = 16
TRAINING = "training"


def dataset_digest(features: Any, targets: Any = None) -> str:
    """The hex content digest of `features` and, when given, `targets`.

    Args:
        features: a NumPy array, pandas DataFrame or Series, SciPy sparse matrix or anything
            `numpy.asarray` accepts.
        targets: labels or targets, in any of the same forms.

    Returns:
        32 hex characters.
    """
    hasher = hashlib.blake2b(digest_size=DIGEST_SIZE)
    _update(hasher, features)
    if targets is not None:
        hasher.update(b"\x00targets\x00")
        _update(hasher, targets)
    return hasher.hexdigest()


def training_input(features: Any, targets: Any = None) -> RunInput:
    """The run input for data an estimator was fitted on: `dataset_<digest[:8]>`, "training"."""
    digest = dataset_digest(features, targets)
    return RunInput(name=f"dataset_{digest[:8]}", digest=digest, context=TRAINING)


def _update(hasher: Any, data: Any) -> None:
    module = type(data).__module__
    if module.startswith("pandas"):
        _update_pandas(hasher, data)
    elif module.startswith("scipy.sparse"):
        _update_sparse(hasher, data)
    else:
        import numpy as np

        _update_array(hasher, np.asarray(data))


def _update_array(hasher: Any, array: np.ndarray[Any, Any]) -> None:
    import numpy as np

    hasher.update(f"{array.dtype.str}{array.shape}".encode())
    if array.dtype.hasobject:
        import pandas as pd

        # Object buffers hold pointers; hash the values instead.
        values = pd.util.hash_array(np.asarray(array, dtype=object).ravel())
        hasher.update(np.ascontiguousarray(values).data)
    else:
        hasher.update(np.ascontiguousarray(array).data)


def _update_sparse(hasher: Any, matrix: Any) -> None:
    csr = matrix.tocsr()
    csr.sum_duplicates()  # one canonical form for equal matrices
    csr.sort_indices()
    hasher.update(f"sparse{csr.shape}".encode())
    for part in (csr.data, csr.indices, csr.indptr):
        _update_array(hasher, part)


def _update_pandas(hasher: Any, data: Any) -> None:
    import pandas as pd

    frame = data.to_frame() if isinstance(data, pd.Series) else data
    if not isinstance(frame, pd.DataFrame):  # e.g. an Index or a Categorical
        _update_array(hasher, data.to_numpy() if hasattr(data, "to_numpy") else data)
        return
    hasher.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    hasher.update(f"{frame.shape}".encode())
    if all(_is_plain_numeric(t) for t in frame.dtypes):
        _update_array(hasher, frame.to_numpy())
        return
    for _, column in frame.items():
        if _is_plain_numeric(column.dtype):
            _update_array(hasher, column.to_numpy())
        else:  # text, categories, nullable and extension types
            hashes = pd.util.hash_pandas_object(column, index=False).to_numpy()
            _update_array(hasher, hashes)


def _is_plain_numeric(dtype: Any) -> bool:
    import numpy as np

    return isinstance(dtype, np.dtype) and dtype.kind in "biufcmM"
