"""Prediction-log records (one per model call) and the Arrow record batch a group of them makes.

A record only holds references: the call's merged input columns, its output and, per request,
(tag, rows, seconds). Turning many records into one Arrow batch is the writer thread's work:
one concatenation per column and one pass over the requests, never a Python object per row.
A request id the server made up is a number until here (see `PredictionLog.new_request_id`):
numbers become their 32-hex-digit ids here, all at once in NumPy, not one string per request on
the serving path.
Arrays are built from NumPy buffers, because `pa.array` imports pandas on its first call and
the ONNX serving path must not load it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

    from mloop.models.inputs import Columns


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One model call's rows: a batch of requests, or a single request.

    Attributes:
        at: when the call was answered (seconds since the epoch).
        model: the model name.
        version: the version that answered.
        columns: the call's input columns (the requests' rows back to back).
        output: the call's output, one row per input row.
        rows: rows in the call.
        requests: per request in row order: (tag, rows, seconds from arrival to answer), where
            a tag is a primary answer's request id, `(request id, role)` for another role, or
            None; an id is text, or a number the log turns into text (`request_ids`).
        output_names: names of a 2-D output's columns.
    """

    at: float
    model: str
    version: str
    columns: Columns
    output: Any
    rows: int
    requests: list[tuple[Any, int, float]]
    output_names: tuple[str, ...]

    @property
    def key(self) -> tuple[str, str, tuple[str, ...], tuple[str, ...]]:
        """Records with the same key make rows of one table (same model version and columns)."""
        return (self.model, self.version, tuple(self.columns), self.output_names)


def record_batch(records: list[LogRecord], *, id_prefix: str = "") -> pa.RecordBatch:
    """One Arrow batch for records with the same key, with the prediction log's columns.

    Args:
        records: records with the same `key`.
        id_prefix: what a numbered request id is prefixed with (see `request_ids`).
    """
    import pyarrow as pa

    # Request-level values, one per request; rows repeat them (`counts`). One pass each, in C
    # (zip), rather than a Python loop per field.
    requests = [request for record in records for request in record.requests]
    tags, rows, seconds = zip(*requests, strict=True)
    counts = np.fromiter(rows, np.int64, len(rows))
    latencies = np.fromiter(seconds, np.float64, len(seconds))
    stamps = np.repeat(
        np.fromiter((int(r.at * 1000) for r in records), np.int64, len(records)),
        [len(r.requests) for r in records],
    )
    total = int(counts.sum())
    numbers = _numbers(tags)
    if numbers is not None:  # the usual case: primary answers, ids made by the log
        ids = request_ids(numbers, id_prefix, counts)
        roles = repeated_strings(["primary"], np.asarray([total]))
    else:
        texts, kinds = _split_tags(tags, id_prefix)
        ids, roles = repeated_strings(texts, counts), _roles(kinds, counts, total)
    first = records[0]
    table: dict[str, Any] = {
        "request_id": ids,
        "timestamp": arrow_array(np.repeat(stamps, counts), pa.timestamp("ms", tz="UTC")),
        "model": repeated_strings([first.model], np.asarray([total])),
        "version": repeated_strings([first.version], np.asarray([total])),
        "role": roles,
        "latency_ms": arrow_array(np.repeat(latencies * 1000, counts)),
    }
    for name in first.columns:
        table[f"input.{name}"] = arrow_array(_concatenate([r.columns[name] for r in records]))
    outputs = _concatenate([np.asarray(r.output) for r in records])
    if outputs.ndim == 1:
        table["prediction"] = arrow_array(outputs)
    else:
        names = first.output_names
        if len(names) != outputs.shape[1]:
            names = tuple(str(i) for i in range(outputs.shape[1]))
        for index, name in enumerate(names):
            table[f"prediction.{name}"] = arrow_array(outputs[:, index])
    return pa.RecordBatch.from_arrays(list(table.values()), names=list(table))


def _numbers(tags: tuple[Any, ...]) -> np.ndarray[Any, Any] | None:
    """The tags as an array when every one is a number (an id the log made), else None.

    One conversion both checks and converts: text (even digits), `(id, role)` pairs and None
    give an array of another kind, or none at all.
    """
    try:
        numbers = np.array(tags)
    except ValueError:  # pairs among single values: not rectangular
        return None
    if numbers.ndim != 1 or numbers.dtype.kind not in "iu":
        return None
    return numbers


def _split_tags(tags: tuple[Any, ...], id_prefix: str) -> tuple[list[str], list[str]]:
    """(request id, role) of each tag, as text."""
    ids: list[str] = []
    roles: list[str] = []
    for tag in tags:
        request_id, role = tag if isinstance(tag, tuple) else (tag, "primary")
        if isinstance(request_id, int):
            request_id = f"{id_prefix}{request_id:016x}"
        ids.append(request_id or "")
        roles.append(role)
    return ids, roles


# The two hex digits of each byte value, as one 16-bit unit in memory order.
_HEX_PAIRS = np.frombuffer(b"".join(b"%02x" % byte for byte in range(256)), dtype=np.uint16)


def request_ids(
    numbers: np.ndarray[Any, Any], prefix: str, counts: np.ndarray[Any, Any]
) -> pa.Array:
    """Request ids `prefix` + 16 hex digits of each number, the i-th repeated `counts[i]` times.

    What `f"{prefix}{number:016x}"` gives, built as one fixed-width byte table in NumPy: each
    number's 8 big-endian bytes looked up in a table of digit pairs (a tenth of the time of
    shifting out its 16 nibbles).
    """
    import pyarrow as pa

    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    width = len(head) + 16
    table = np.empty((len(numbers), width), dtype=np.uint8)
    table[:, : len(head)] = head
    digits = _HEX_PAIRS.take(numbers.astype(">u8").view(np.uint8).reshape(-1, 8))
    table[:, len(head) :] = digits.view(np.uint8)
    if not bool((counts == 1).all()):
        table = np.repeat(table, counts, axis=0)
    total = len(table)
    offsets = np.arange(0, (total + 1) * width, width, dtype=np.int64)
    return pa.Array.from_buffers(
        pa.large_string(), total, [None, pa.py_buffer(offsets), pa.py_buffer(table)]
    )


def _roles(roles: list[str], counts: np.ndarray[Any, Any], total: int) -> pa.Array:
    if roles.count(roles[0]) == len(roles):  # the usual case: every row primary
        return repeated_strings([roles[0]], np.asarray([total]))
    return repeated_strings(roles, counts)


def _concatenate(parts: list[np.ndarray[Any, Any]]) -> np.ndarray[Any, Any]:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def repeated_strings(values: list[str], counts: np.ndarray[Any, Any]) -> pa.Array:
    """An Arrow string array with `values[i]` repeated `counts[i]` times, each encoded once."""
    import pyarrow as pa

    total = int(counts.sum())
    joined = "".join(values)
    if joined.isascii():  # the usual case (hex ids, roles): one encode, lengths from the strings
        lengths = np.fromiter(map(len, values), np.int64, len(values))
        encoded_all = joined.encode("ascii")
        if bool((counts == 1).all()):
            data = encoded_all
        else:
            data = b"".join(
                v.encode("ascii") * int(c) for v, c in zip(values, counts.tolist(), strict=True)
            )
    else:
        encoded = [v.encode("utf-8") for v in values]
        lengths = np.fromiter(map(len, encoded), np.int64, len(encoded))
        data = b"".join(e * int(c) for e, c in zip(encoded, counts.tolist(), strict=True))
    offsets = np.zeros(total + 1, dtype=np.int64)
    np.cumsum(np.repeat(lengths, counts), out=offsets[1:])
    return pa.Array.from_buffers(
        pa.large_string(), total, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def arrow_array(values: np.ndarray[Any, Any], kind: Any = None) -> pa.Array:
    """An Arrow array over a NumPy column, built from buffers (numbers without a copy)."""
    import pyarrow as pa

    size = len(values)
    if values.dtype.kind in "iuf":
        data = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("="))
        arrow_type = kind if kind is not None else pa.from_numpy_dtype(data.dtype)
        return pa.Array.from_buffers(arrow_type, size, [None, pa.py_buffer(data)])
    if values.dtype.kind == "b":
        bits = np.packbits(values.astype(bool), bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), size, [None, pa.py_buffer(bits)])
    encoded = [str(v).encode("utf-8") for v in values.tolist()]
    offsets = np.zeros(size + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return pa.Array.from_buffers(
        pa.large_string(), size, [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    )
