"""The ONNX flavor, and the ONNX Runtime predictor also used for scikit-learn's verified exports.

Input columns feed a graph in one of two ways: a graph with a single 2-D input gets the columns
side by side as one matrix (what skl2onnx produces); a graph with several inputs gets each
column under its own name, as a column vector. The first output is `predict`; a second output,
when there is one, is `predict_proba` (skl2onnx classifiers: `label`, `probabilities`).
Only numpy and onnxruntime are imported here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.errors import InvalidInputError, MissingExtraError, UnsupportedModelError
from mloop.models.flavors import SavedFlavor, qualified_name
from mloop.models.inputs import to_columns, to_matrix

if TYPE_CHECKING:
    import numpy as np

    from mloop.models.inputs import Columns
    from mloop.models.package import ModelPackage

MODEL_FILE = "model.onnx"
_TENSOR_DTYPES = {
    "tensor(double)": "float64",
    "tensor(float)": "float32",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(bool)": "bool",
    "tensor(string)": "object",
}


def make_session(model: bytes | str, *, threads: int | None = None) -> Any:
    """An ONNX Runtime session on the CPU for a serialized model or a file path.

    Args:
        model: the serialized model or its path.
        threads: ONNX Runtime's intra-op threads (None: its default, one per core). A server
            with one process per core wants 1: small batches gain nothing from a thread pool
            and its workers would fight over the cores.

    Raises:
        MissingExtraError: onnxruntime is not installed.
    """
    try:
        import onnxruntime
    except ImportError as exc:
        raise MissingExtraError("onnx", "onnxruntime") from exc
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: ORT's warnings are about graph optimisation
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = threads
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


# Probabilities this close to a row's highest count as tied with it. A classifier's label is
# the first class among the tied, as scikit-learn's argmax picks it: a random forest's
# probabilities are often exactly tied (votes of k/n), and ONNX Runtime sums them in float32,
# which would otherwise break the tie at random.
TIE_TOLERANCE = 1e-5


class OnnxPredictor:
    """Runs an ONNX Runtime session on input columns.

    Args:
        session: an `onnxruntime.InferenceSession`.
        classes: a classifier's class labels in probability-column order; when given,
            `predict` picks labels from the probabilities (ties go to the first class).
    """

    def __init__(self, session: Any, *, classes: list[Any] | None = None) -> None:
        self.session = session
        self._classes = classes
        inputs = session.get_inputs()
        self._inputs = [(i.name, _TENSOR_DTYPES.get(i.type, "float64")) for i in inputs]
        shape = inputs[0].shape if len(inputs) == 1 else []
        self._as_matrix = len(inputs) == 1 and len(shape) == 2
        self._outputs = [o.name for o in session.get_outputs()]

    @property
    def model(self) -> Any:
        """The ONNX Runtime session."""
        return self.session

    def has_method(self, method: str) -> bool:
        """`predict` always; `predict_proba` when the graph has a second output."""
        return method == "predict" or (method == "predict_proba" and len(self._outputs) > 1)

    def run(self, method: str, columns: Columns | None, raw: Any) -> Any:
        """Run the graph and return the output that answers `method`."""
        import numpy as np

        if columns is None:
            columns = to_columns(raw)
        if method == "predict" and self._classes is not None and len(self._outputs) > 1:
            return self._labels(self.run("predict_proba", columns, None))
        output = self._outputs[0] if method == "predict" else self._outputs[1]
        (result,) = self.session.run([output], self._feeds(columns))
        if method == "predict_proba":
            return np.asarray(result, dtype=np.float64)
        return result.ravel() if result.ndim == 2 and result.shape[1] == 1 else result

    def _labels(self, probabilities: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        import numpy as np

        near_top = probabilities >= probabilities.max(axis=1, keepdims=True) - TIE_TOLERANCE
        labels: np.ndarray[Any, Any] = np.asarray(self._classes)[near_top.argmax(axis=1)]
        return labels

    def _feeds(self, columns: Columns) -> dict[str, np.ndarray[Any, Any]]:
        if self._as_matrix:
            name, dtype = self._inputs[0]
            return {name: to_matrix(columns, dtype)}
        feeds = {}
        for name, dtype in self._inputs:
            values = columns.get(name)
            if values is None:
                raise InvalidInputError(
                    f"the ONNX model needs an input column {name!r}", field=name
                )
            feeds[name] = values.astype(dtype).reshape(-1, 1)
        return feeds


def save(
    model: Any,
    folder: Path,
    *,
    example: Columns | None,
    method: str,
    export_onnx: bool = True,
) -> SavedFlavor:
    """Write an ONNX model (a `ModelProto`, serialized bytes or a `.onnx` path) as `model.onnx`.

    The model is opened with ONNX Runtime first, so a package never holds a graph that does not
    load; with an example, its output there gives the signature's outputs.

    Raises:
        UnsupportedModelError: the bytes are not an ONNX model ONNX Runtime can open.
    """
    del export_onnx  # the model already is ONNX
    data = _model_bytes(model)
    try:
        predictor = OnnxPredictor(make_session(data))
    except MissingExtraError:
        raise
    except Exception as exc:  # ORT raises its own untyped errors for bad graphs
        raise UnsupportedModelError(
            qualified_name(type(model)), f"ONNX Runtime cannot open it ({exc})"
        ) from exc
    if method == "predict_proba" and not predictor.has_method(method):
        raise InvalidInputError(
            "the ONNX model has a single output, so it can serve predict only", field="method"
        )
    (folder / MODEL_FILE).write_bytes(data)
    output = predictor.run(method, example, None) if example is not None else None
    return SavedFlavor(
        model_class="onnx.ModelProto",
        modules={"onnxruntime", "numpy"},
        options={"file": MODEL_FILE},
        output=output,
    )


def _model_bytes(model: Any) -> bytes:
    if isinstance(model, bytes):
        return model
    if isinstance(model, str | Path):
        return Path(model).read_bytes()
    serialized: bytes = model.SerializeToString()
    return serialized


def load(package: ModelPackage, *, trusted: bool = False, trusted_types: Any = ()) -> OnnxPredictor:
    """Open the package's ONNX model (ONNX is data, so nothing needs to be trusted)."""
    del trusted, trusted_types
    return OnnxPredictor(make_session(str(package.file(MODEL_FILE))))
