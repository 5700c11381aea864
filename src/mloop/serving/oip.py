"""Open Inference Protocol v2 bodies: tensors in, tensors out, JSON or Triton's binary extension.

A request's `inputs` are tensors `{"name", "shape", "datatype", "data"}`: one per input column
(shape `[rows]` or `[rows, 1]`), or one `[rows, columns]` tensor whose columns are the
signature's inputs in order. Triton's binary tensor extension is read and written too, which is
what `tritonclient` sends by default: the body starts with a JSON header of
`Inference-Header-Content-Length` bytes, and a tensor with `"parameters": {"binary_data_size":
n}` has its data in the next n bytes after it, raw little-endian values (BYTES elements as a
4-byte length and the bytes). Outputs are sent that way when the client asks
(`"parameters": {"binary_data": true}` on the output, or `binary_data_output` on the request).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mloop.errors import InvalidInputError, ModelInputError
from mloop.models.inputs import to_columns
from mloop.serving.payloads import parse_json, to_json_values

if TYPE_CHECKING:
    from mloop.models.inputs import Columns
    from mloop.models.signature import Signature

# OIP v2 datatypes and the NumPy dtypes their data is read as.
OIP_DTYPES = {
    "BOOL": "bool",
    "INT8": "int8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "UINT8": "uint8",
    "UINT16": "uint16",
    "UINT32": "uint32",
    "UINT64": "uint64",
    "FP16": "float16",
    "FP32": "float32",
    "FP64": "float64",
    "BYTES": "object",
}
_DTYPE_TO_OIP = {np.dtype(v).str: k for k, v in OIP_DTYPES.items() if v != "object"}
HEADER_LENGTH = b"inference-header-content-length"


@dataclass(frozen=True, slots=True)
class OipRequest:
    """An OIP v2 inference request, read.

    Attributes:
        columns: the input columns.
        request_id: the request's `id`, echoed in the answer ("" when absent).
        outputs: the output names the client asked for (empty: all).
        binary_outputs: send the outputs in the binary extension.
    """

    columns: Columns
    request_id: str
    outputs: tuple[str, ...]
    binary_outputs: bool = False


def parse_oip(
    body: bytes, signature: Signature | None, *, header_length: int | None = None
) -> OipRequest:
    """An Open Inference Protocol v2 request.

    Args:
        body: the request body.
        signature: the model's, to name the columns of a 2-D tensor.
        header_length: the `Inference-Header-Content-Length` header: the body's JSON part is
            that long and binary tensor data follows it.

    Raises:
        InvalidInputError: the body does not follow the protocol (the field is named).
    """
    binary = b""
    if header_length is not None:
        if not 0 < header_length <= len(body):
            raise InvalidInputError(
                f"Inference-Header-Content-Length is {header_length} but the body has "
                f"{len(body)} bytes",
                field="body",
            )
        body, binary = body[:header_length], body[header_length:]
    data = parse_json(body)
    if not isinstance(data, Mapping) or not isinstance(data.get("inputs"), list):
        raise InvalidInputError(
            'an OIP v2 request needs "inputs": [{"name", "shape", "datatype", "data"}]',
            field="inputs",
        )
    reader = _BinaryReader(binary)
    tensors = [_tensor(t, i, reader) for i, t in enumerate(data["inputs"])]
    if not tensors:
        raise InvalidInputError("'inputs' is empty", field="inputs")
    reader.check_consumed()
    columns: Columns = {}
    for name, array in tensors:
        is_column = signature is None or signature.input(name) is not None
        if array.ndim == 2 and (array.shape[1] > 1 or not is_column):
            columns.update(_split_matrix(name, array, signature))
        else:
            columns[name] = array.reshape(-1) if array.ndim == 2 else array
    outputs = [o for o in data.get("outputs") or [] if isinstance(o, Mapping)]
    names = tuple(str(o.get("name")) for o in outputs)
    request_id = data.get("id")
    return OipRequest(
        to_columns(columns),
        str(request_id) if request_id is not None else "",
        names,
        _wants_binary(data, outputs),
    )


def _wants_binary(data: Mapping[str, Any], outputs: list[Mapping[str, Any]]) -> bool:
    parameters = data.get("parameters")
    if isinstance(parameters, Mapping) and parameters.get("binary_data_output") is True:
        return True
    return any(
        isinstance(o.get("parameters"), Mapping) and o["parameters"].get("binary_data") is True
        for o in outputs
    )


class _BinaryReader:
    """Hands out the binary part of a request, tensor by tensor, in order."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def take(self, size: int, name: str) -> bytes:
        end = self.offset + size
        if size < 0 or end > len(self.data):
            raise InvalidInputError(
                f"tensor {name} has binary_data_size {size} but only "
                f"{len(self.data) - self.offset} bytes of binary data are left",
                field=name,
            )
        chunk = self.data[self.offset : end]
        self.offset = end
        return chunk

    def check_consumed(self) -> None:
        if self.offset != len(self.data):
            raise InvalidInputError(
                f"the body has {len(self.data) - self.offset} bytes of binary data no tensor "
                "claims (binary_data_size)",
                field="body",
            )


def _tensor(tensor: Any, index: int, reader: _BinaryReader) -> tuple[str, np.ndarray[Any, Any]]:
    field = f"inputs[{index}]"
    if not isinstance(tensor, Mapping):
        raise InvalidInputError(f"{field} must be an object", field=field)
    name, shape, datatype = tensor.get("name"), tensor.get("shape"), tensor.get("datatype")
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"{field} needs a 'name'", field=field)
    dtype = OIP_DTYPES.get(str(datatype))
    if dtype is None:
        raise InvalidInputError(
            f"{field} ({name}) has datatype {datatype!r}; use one of {', '.join(OIP_DTYPES)}",
            field=name,
        )
    if (
        not isinstance(shape, list)
        or not shape
        or not all(isinstance(d, int) and d >= 0 for d in shape)
        or len(shape) > 2
    ):
        raise InvalidInputError(
            f"{field} ({name}) needs a 'shape' of one or two sizes ([rows] or [rows, columns])",
            field=name,
        )
    parameters = tensor.get("parameters")
    size = parameters.get("binary_data_size") if isinstance(parameters, Mapping) else None
    try:
        if size is not None:
            array = _from_binary(reader.take(int(size), name), dtype, name)
        else:
            array = np.asarray(tensor.get("data"), dtype=dtype)
            if dtype == "object":
                array = np.asarray(
                    [v.decode() if isinstance(v, bytes) else v for v in array.ravel()], dtype=object
                )
        array = array.reshape(shape)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{field} ({name}): its data does not fit datatype {datatype} and shape {shape} "
            f"({exc})",
            field=name,
        ) from exc
    return name, array


def _from_binary(data: bytes, dtype: str, name: str) -> np.ndarray[Any, Any]:
    if dtype != "object":
        return np.frombuffer(data, dtype=np.dtype(dtype).newbyteorder("<"))
    values: list[str] = []
    offset = 0
    while offset < len(data):
        if offset + 4 > len(data):
            raise InvalidInputError(f"tensor {name}: a BYTES element is cut short", field=name)
        (length,) = struct.unpack_from("<I", data, offset)
        offset += 4
        values.append(data[offset : offset + length].decode("utf-8"))
        offset += length
    return np.asarray(values, dtype=object)


def _split_matrix(name: str, array: np.ndarray[Any, Any], signature: Signature | None) -> Columns:
    if signature is None:
        return {f"{name}_{i}": array[:, i] for i in range(array.shape[1])}
    names = signature.input_names
    if array.shape[1] != len(names):
        raise ModelInputError(
            name,
            f"has {array.shape[1]} columns but the model takes {len(names)} "
            f"({', '.join(names)}); send one tensor per column, or one with all of them",
        )
    return {n: array[:, i] for i, n in enumerate(names)}


def oip_outputs(
    output: Any, signature: Signature | None, wanted: tuple[str, ...], *, binary: bool = False
) -> tuple[list[dict[str, Any]], bytes]:
    """OIP v2 output tensors for predictions: one tensor, named by the signature's method.

    Returns:
        The output tensors, and the binary data that follows the JSON header when `binary`
        (empty otherwise).

    Raises:
        InvalidInputError: the client asked for outputs the model does not produce.
    """
    name = signature.method if signature is not None else "predict"
    unknown = [w for w in wanted if w != name]
    if unknown:
        raise InvalidInputError(
            f"the model has no output {unknown[0]!r}; its output is {name!r}", field="outputs"
        )
    array = np.asarray(output)
    datatype = _DTYPE_TO_OIP.get(array.dtype.str)
    tensor: dict[str, Any] = {"name": name, "shape": list(array.shape)}
    if binary:
        if datatype is None:
            datatype = "BYTES"
            data = b"".join(
                struct.pack("<I", len(e)) + e for e in (str(v).encode() for v in array.ravel())
            )
        else:
            data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
        tensor.update(datatype=datatype, parameters={"binary_data_size": len(data)})
        return [tensor], data
    if datatype is None:
        tensor.update(datatype="BYTES", data=[str(v) for v in array.ravel().tolist()])
    else:
        tensor.update(datatype=datatype, data=to_json_values(array.ravel()))
    return [tensor], b""


def oip_datatype(column_type: str) -> str:
    """The OIP v2 datatype of a signature column type."""
    return {
        "boolean": "BOOL",
        "integer": "INT32",
        "long": "INT64",
        "float": "FP32",
        "double": "FP64",
    }.get(column_type, "BYTES")
