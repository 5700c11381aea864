"""Opt-in multivariate drift: a domain classifier and PCA reconstruction error.

Per-column tests miss changes in how columns relate (a correlation that flips); these two look
at all columns at once. They cost more, so they run only when asked and on a sample of rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from mloop.errors import InvalidInputError, MissingExtraError
from mloop.monitoring.columns import ColumnKind, TableColumns, kind_of, read_columns
from mloop.monitoring.results import MultivariateDrift
from mloop.monitoring.summaries import numeric_values
from mloop.stats.two_sample import FloatArray

MAX_ROWS = 5_000


def _sample_rows(rows: int, limit: int, rng: np.random.Generator) -> Any:
    return np.sort(rng.choice(rows, limit, replace=False)) if rows > limit else np.arange(rows)


def _matrices(
    reference: TableColumns, current: TableColumns, *, max_rows: int, seed: int
) -> tuple[FloatArray, FloatArray, list[str], list[bool]]:
    """Sampled rows of both tables as float matrices (categories as shared integer codes)."""
    rng = np.random.default_rng(seed)
    ref_rows = _sample_rows(reference.row_count, max_rows, rng)
    cur_rows = _sample_rows(current.row_count, max_rows, rng)
    names, is_categorical, ref_cols, cur_cols = [], [], [], []
    shared = [n for n in reference.names if n in set(current.names)]
    for name in shared:
        ref = reference.column(name).take(pa.array(ref_rows))
        cur = current.column(name).take(pa.array(cur_rows))
        kind = kind_of(ref.type)
        if kind is not kind_of(cur.type) or kind is ColumnKind.UNSUPPORTED:
            continue
        if kind is ColumnKind.NUMERIC:
            ref_cols.append(numeric_values(ref))
            cur_cols.append(numeric_values(cur))
        else:
            ref_cols.append(_codes(ref, ref, cur))
            cur_cols.append(_codes(cur, ref, cur))
        names.append(name)
        is_categorical.append(kind is ColumnKind.CATEGORICAL)
    if not names:
        raise InvalidInputError(
            "multivariate drift needs at least one numeric or categorical column in both tables",
            field="columns",
        )
    ref_matrix = np.column_stack(ref_cols)
    cur_matrix = np.column_stack(cur_cols)
    for matrix in (ref_matrix, cur_matrix):
        matrix[~np.isfinite(matrix)] = np.nan
    return ref_matrix, cur_matrix, names, is_categorical


def _codes(values: pa.ChunkedArray, ref: pa.ChunkedArray, cur: pa.ChunkedArray) -> FloatArray:
    import pyarrow.compute as pc

    categories = pc.unique(pa.chunked_array(ref.chunks + cur.chunks).cast(pa.string()))
    codes = pc.index_in(values.cast(pa.string()), value_set=categories)
    # HistGradientBoosting takes at most 255 categories: rarer codes share the last one
    return np.minimum(np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.float64), 250)


def _permutation_auc(
    scores: FloatArray, labels: Any, *, permutations: int, rng: np.random.Generator
) -> tuple[float, FloatArray]:
    from scipy import stats as sps

    ranks = sps.rankdata(scores)
    n_pos = int(labels.sum())
    n_neg = labels.size - n_pos

    def auc(positive: Any) -> Any:
        return (ranks[positive].sum(axis=-1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)

    observed = float(auc(labels.astype(bool)))
    shuffled = np.array([rng.permutation(labels) for _ in range(permutations)], dtype=bool)
    null = np.array([auc(row) for row in shuffled])
    return observed, null


def domain_classifier(
    reference: object,
    current: object,
    *,
    alpha: float = 0.05,
    max_rows: int = MAX_ROWS,
    permutations: int = 200,
    seed: int = 0,
) -> MultivariateDrift:
    """Test whether a classifier can tell reference rows from current rows (AUC 0.5: no).

    A gradient-boosted classifier is cross-validated (3 folds) on up to `max_rows` rows per
    side; its out-of-fold AUC is compared with the AUCs of `permutations` label shuffles, and
    the data drifted when the AUC exceeds their (1 - alpha) quantile.

    Raises:
        MissingExtraError: scikit-learn is not installed (`pip install 'mloop[sklearn]'`).
        InvalidInputError: the tables share no testable column.
    """
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.model_selection import StratifiedKFold, cross_val_predict
    except ImportError as exc:
        raise MissingExtraError("sklearn", "sklearn") from exc
    ref_m, cur_m, names, is_categorical = _matrices(
        read_columns(reference), read_columns(current), max_rows=max_rows, seed=seed
    )
    features = np.vstack([ref_m, cur_m])
    labels = np.concatenate([np.zeros(len(ref_m), dtype=np.int64), np.ones(len(cur_m), np.int64)])
    model = HistGradientBoostingClassifier(
        max_iter=30,
        early_stopping=False,
        categorical_features=np.array(is_categorical),
        random_state=seed,
    )
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    scores = cross_val_predict(model, features, labels, cv=folds, method="predict_proba")[:, 1]
    rng = np.random.default_rng(seed)
    observed, null = _permutation_auc(scores, labels, permutations=permutations, rng=rng)
    threshold = float(np.quantile(null, 1 - alpha))
    p_value = float((1 + np.sum(null >= observed)) / (1 + permutations))
    return MultivariateDrift(
        "domain_classifier", observed, threshold, p_value, bool(observed > threshold), tuple(names)
    )


def pca_reconstruction(
    reference: object,
    current: object,
    *,
    variance: float = 0.65,
    max_rows: int = MAX_ROWS,
    seed: int = 0,
) -> MultivariateDrift:
    """Does a PCA fitted on the reference reconstruct the current rows worse?

    Numeric columns are standardised with reference statistics (missing values imputed by the
    reference mean); components explaining `variance` of the reference are kept (NannyML's
    default 65%, and always one dimension fewer than the columns), fitted on half of the
    reference. The score is current / held-out reference mean reconstruction error; the
    threshold is 1 + 3 standard errors of the held-out reference error.

    Raises:
        InvalidInputError: the tables share no numeric column.
    """
    ref_m, cur_m, names, is_categorical = _matrices(
        read_columns(reference), read_columns(current), max_rows=max_rows, seed=seed
    )
    # columns without a single present reference value carry no structure to learn
    numeric = ~np.array(is_categorical) & ~np.all(np.isnan(ref_m), axis=0)
    if numeric.sum() < 2:
        raise InvalidInputError(
            "PCA reconstruction needs at least 2 numeric columns (one column has no structure "
            "to lose); use the per-column tests instead",
            field="columns",
        )
    ref_m, cur_m = ref_m[:, numeric], cur_m[:, numeric]
    mean = np.nanmean(ref_m, axis=0)
    std = np.nanstd(ref_m, axis=0)
    std[~(std > 0)] = 1.0

    def scale(matrix: FloatArray) -> FloatArray:
        scaled = (matrix - mean) / std
        return np.where(np.isnan(scaled), 0.0, scaled)

    ref_s, cur_s = scale(ref_m), scale(cur_m)
    half = np.random.default_rng(seed).permutation(len(ref_s))
    fit, held = ref_s[half[: len(half) // 2]], ref_s[half[len(half) // 2 :]]
    _, singular, components = np.linalg.svd(fit - fit.mean(axis=0), full_matrices=False)
    explained = np.cumsum(singular**2) / max(np.sum(singular**2), 1e-12)
    # keep at least one dimension out, else every row reconstructs perfectly
    kept_components = min(int(np.searchsorted(explained, variance) + 1), components.shape[0] - 1)
    basis = components[: max(kept_components, 1)]
    center = fit.mean(axis=0)

    def errors(matrix: FloatArray) -> FloatArray:
        centered = matrix - center
        rebuilt = centered @ basis.T @ basis
        return np.asarray(np.sqrt(np.sum((centered - rebuilt) ** 2, axis=1)), dtype=np.float64)

    held_err, cur_err = errors(held), errors(cur_s)
    base = max(float(held_err.mean()), 1e-12)
    score = float(cur_err.mean()) / base
    spread = float(held_err.std()) / base / np.sqrt(max(min(len(cur_err), len(held_err)), 1))
    threshold = float(1.0 + 3.0 * spread)
    kept = tuple(n for n, keep in zip(names, numeric, strict=True) if keep)
    return MultivariateDrift(
        "pca_reconstruction", score, threshold, None, bool(score > threshold), kept
    )
