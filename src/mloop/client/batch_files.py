"""Reading Parquet and CSV inputs as Arrow chunks of a fixed row count, and writing outputs.

Used by `mloop.client.predict`: a CSV is parsed straight into the types the model's signature
names, so a bad value is reported with its column; outputs go to a temporary name the caller
renames into place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.errors import InvalidInputError, MloopError, ModelInputError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from mloop.models import Signature

FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
DEFAULT_CHUNK_ROWS = 65_536
# Arrow types CSV columns are read as, by signature type: the file is parsed straight into
# what the model takes, and a bad value is reported with its column.
_CSV_TYPES = {
    "boolean": "bool_",
    "integer": "int32",
    "long": "int64",
    "float": "float32",
    "double": "float64",
    "string": "string",
}


def file_format(path: Path) -> str:
    """`parquet` or `csv`, from the file name's extension.

    Raises:
        InvalidInputError: another extension.
    """
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise InvalidInputError(
            f"{path} is neither Parquet nor CSV; name it *.parquet, *.pq or *.csv",
            field="path",
        )
    return found


class InputFile:
    """The input's column names, row count (when the format records it) and chunks."""

    def __init__(self, columns: list[str], rows: int | None, read: Callable[..., Iterator[Any]]):
        self.columns = columns
        self.rows = rows
        self._read = read

    def batches(self, columns: list[str]) -> Iterator[pa.RecordBatch]:
        """The chunks of these columns (each named once), in file order."""
        return self._read(list(dict.fromkeys(columns)))


def open_input(source: Path, signature: Signature | None, chunk_rows: int) -> InputFile:
    if file_format(source) == "parquet":
        import pyarrow.parquet as pq

        handle = pq.ParquetFile(source)

        def parquet(columns: list[str]) -> Iterator[pa.RecordBatch]:
            return rechunk(handle.iter_batches(batch_size=chunk_rows, columns=columns), chunk_rows)

        return InputFile(list(handle.schema_arrow.names), handle.metadata.num_rows, parquet)
    header = _csv_header(source)

    def csv(columns: list[str]) -> Iterator[pa.RecordBatch]:
        return rechunk(_csv_batches(source, header, columns, signature), chunk_rows)

    return InputFile(header, None, csv)


def _csv_header(source: Path) -> list[str]:
    import csv

    with source.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), None)
    if not header:
        raise InvalidInputError(f"{source} has no header line naming its columns", field="input")
    return header


def _csv_batches(
    source: Path, header: list[str], columns: list[str], signature: Signature | None
) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    types = {}
    if signature is not None:
        types = {c.name: getattr(pa, _CSV_TYPES[c.type])() for c in signature.inputs}
    options = pcsv.ConvertOptions(column_types=types, include_columns=columns)
    try:  # opening parses the first block already
        reader = pcsv.open_csv(source, convert_options=options)
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            yield batch
    except pa.ArrowInvalid as exc:
        raise _csv_error(str(exc), header) from exc


def _csv_error(message: str, header: list[str]) -> MloopError:
    import re

    found = re.search(r"column #(\d+)", message)
    if found is not None and int(found.group(1)) < len(header):
        reason = message.split(":", 1)[-1].strip()
        return ModelInputError(header[int(found.group(1))], f"cannot be read: {reason}")
    return InvalidInputError(f"the CSV input cannot be read: {message}", field="input")


def rechunk(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    """Batches of exactly `rows` rows (the last may be shorter), whatever the reader yields."""
    import pyarrow as pa

    held: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        held.append(batch)
        count += batch.num_rows
        while count >= rows:
            table = pa.Table.from_batches(held)
            yield table.slice(0, rows).combine_chunks().to_batches()[0]
            rest = table.slice(rows)
            held, count = rest.combine_chunks().to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(held).combine_chunks().to_batches()[0]


def output_batch(
    kept: pa.RecordBatch, predictions: np.ndarray[Any, Any], names: list[str]
) -> pa.RecordBatch:
    import pyarrow as pa

    values = predictions.reshape(len(predictions), -1)
    arrays = [*kept.columns, *(pa.array(values[:, i]) for i in range(values.shape[1]))]
    return pa.RecordBatch.from_arrays(arrays, names=[*kept.schema.names, *names])


def open_writer(path: Path, fmt: str, schema: pa.Schema) -> Any:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetWriter(path, schema)
    import pyarrow.csv as pcsv

    return pcsv.CSVWriter(path, schema)
