"""Export a scikit-learn model to ONNX and verify it against the native model on the example.

The export takes double-precision input (float32 input flips labels near tree thresholds), no
ZipMap (probabilities stay a plain 2-D tensor) and a pinned opset, so a package written today
loads the same way tomorrow. It is verified on the input example at logging time: probabilities
(classifiers) or predictions (regressors) must agree within a tolerance and labels must be
identical; the outcome is recorded in `mloop-model.yaml`, and only a verified export is used.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from mloop.models.flavors.onnx import OnnxPredictor, make_session
from mloop.models.inputs import to_matrix
from mloop.models.package import OnnxExport

if TYPE_CHECKING:
    from mloop.models.inputs import Columns
    from mloop.models.signature import Signature

OPSET = {"": 18, "ai.onnx.ml": 3}
# As recorded in mloop-model.yaml: the default domain by its name.
RECORDED_OPSET = {"ai.onnx": OPSET[""], "ai.onnx.ml": OPSET["ai.onnx.ml"]}
# Absolute, scaled by the largest native value for regressors. Tree ensembles compute
# probabilities in float32 inside ONNX Runtime: differences of ~1e-7 are expected.
TOLERANCE = 1e-6
ONNX_FILE = "model.onnx"


def export(model: Any, example: Columns, signature: Signature) -> tuple[bytes | None, OnnxExport]:
    """Convert and verify; the bytes are returned only when the export is verified.

    Never raises for a model that does not convert: the reason is recorded instead.
    """
    strings = [c.name for c in signature.inputs if not c.is_numeric and c.type != "boolean"]
    if strings:
        return None, OnnxExport(
            reason=f"input column {strings[0]!r} is a {signature.input(strings[0]).type}"  # type: ignore[union-attr]
            "; the ONNX export covers numeric inputs only",
            opset=dict(RECORDED_OPSET),
        )
    try:
        from skl2onnx import to_onnx
    except ImportError:
        return None, OnnxExport(
            reason="skl2onnx is not installed (pip install 'mloop[onnx]')",
            opset=dict(RECORDED_OPSET),
        )
    matrix = to_matrix(example, "float64")
    try:
        with warnings.catch_warnings():
            # Converter internals warn about opsets and deprecated scikit-learn attributes;
            # whether the export is right is decided by the verification below.
            warnings.simplefilter("ignore")
            graph = to_onnx(model, matrix, target_opset=dict(OPSET), options=_options(model))
        data: bytes = graph.SerializeToString()
        predictor = OnnxPredictor(make_session(data), classes=class_labels(model))
    except Exception as exc:  # noqa: BLE001 - converters raise anything; recorded, not fatal
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return None, OnnxExport(
            reason=f"conversion failed ({reason[:300]})", opset=dict(RECORDED_OPSET)
        )
    result = verify(model, predictor, example)
    return (data if result.verified else None), result


def _options(model: Any) -> dict[int, dict[str, bool]] | None:
    """`zipmap=False` for the estimator that outputs probabilities (a pipeline's last step)."""
    final = model
    while hasattr(final, "steps"):
        final = final.steps[-1][1]
    return {id(final): {"zipmap": False}} if hasattr(final, "predict_proba") else None


def class_labels(model: Any) -> list[Any] | None:
    """A classifier's class labels as plain values (for YAML), or None for other models."""
    classes = getattr(model, "classes_", None)
    if classes is None or not hasattr(model, "predict_proba"):
        return None
    return [c.item() if hasattr(c, "item") else c for c in classes]


def native_input(model: Any, columns: Columns) -> Any:
    """What the native model is fed: a data frame if it was fitted on one, else a matrix."""
    if hasattr(model, "feature_names_in_"):
        import pandas as pd

        return pd.DataFrame(columns, copy=False)
    numeric = all(values.dtype.kind in "biuf" for values in columns.values())
    return to_matrix(columns, "float64" if numeric else "object")


def verify(model: Any, predictor: OnnxPredictor, example: Columns) -> OnnxExport:
    """Compare the ONNX predictor with the native model on the example columns."""
    import numpy as np

    features = native_input(model, example)
    rows = len(next(iter(example.values()))) if example else 0
    if hasattr(model, "predict_proba") and predictor.has_method("predict_proba"):
        compared = "predict_proba"
        native = np.asarray(model.predict_proba(features), dtype=np.float64)
        exported = predictor.run("predict_proba", example, None)
        labels = bool(
            np.array_equal(
                np.asarray(model.predict(features)).astype(str),
                np.asarray(predictor.run("predict", example, None)).astype(str),
            )
        )
        tolerance = TOLERANCE
    else:
        compared = "predict"
        native = np.asarray(model.predict(features), dtype=np.float64)
        exported = np.asarray(predictor.run("predict", example, None), dtype=np.float64)
        labels = None
        tolerance = TOLERANCE * max(1.0, float(np.max(np.abs(native))) if native.size else 1.0)
    if native.shape != exported.shape:
        return OnnxExport(
            reason=f"the export's {compared} output has shape {exported.shape}, the native "
            f"model's {native.shape}",
            opset=dict(RECORDED_OPSET),
            compared=compared,
            rows=rows,
        )
    difference = float(np.max(np.abs(native - exported))) if native.size else 0.0
    verified = difference <= tolerance and labels is not False
    reason = "" if verified else _mismatch(compared, difference, tolerance, labels)
    return OnnxExport(
        file=ONNX_FILE if verified else "",
        verified=verified,
        reason=reason,
        opset=dict(RECORDED_OPSET),
        compared=compared,
        rows=rows,
        max_abs_diff=difference,
        tolerance=tolerance,
        labels_match=labels,
    )


def _mismatch(compared: str, difference: float, tolerance: float, labels: bool | None) -> str:
    if labels is False:
        return "the export predicts other labels than the native model on the input example"
    return (
        f"the export's {compared} differs from the native model's by {difference:.3g} on the "
        f"input example (tolerance {tolerance:.3g})"
    )
