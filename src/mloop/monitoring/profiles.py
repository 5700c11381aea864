"""Reference profiles: a table summarised once into a small, mergeable JSON file.

A profile keeps, per column, missing and infinite counts, moments and a quantile sketch
(numeric) or value counts (categorical). Drift scores current data against it without reading
the reference again. Parquet files are profiled in batches, so memory stays bounded whatever
the file size.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from mloop.errors import InvalidInputError
from mloop.monitoring.columns import read_columns
from mloop.monitoring.summaries import Summary, summarize, summary_from_dict
from mloop.stats.sketches import DEFAULT_SKETCH_SIZE

PROFILE_SCHEMA = "mloop.profile/v1"
BATCH_ROWS = 262_144


@dataclass(frozen=True)
class ReferenceProfile:
    """Summaries of every column of a reference table.

    Attributes:
        rows: rows summarised.
        columns: summary per column, in table order.
        sketch_size: support points each numeric sketch keeps.
    """

    rows: int
    columns: dict[str, Summary]
    sketch_size: int = DEFAULT_SKETCH_SIZE

    def merge(self, other: ReferenceProfile) -> ReferenceProfile:
        """The profile of both tables stacked (same columns and kinds).

        Raises:
            InvalidInputError: the column names or kinds differ.
        """
        if list(self.columns) != list(other.columns):
            raise InvalidInputError(
                f"profiles have different columns ({list(self.columns)} vs "
                f"{list(other.columns)}); only profiles of the same table layout merge",
                field="columns",
            )
        merged: dict[str, Summary] = {}
        for name, summary in self.columns.items():
            theirs = other.columns[name]
            if summary.kind is not theirs.kind:
                raise InvalidInputError(
                    f"column {name!r} is {summary.kind.value} in one profile and "
                    f"{theirs.kind.value} in the other",
                    field=name,
                )
            merged[name] = summary.merge(theirs)  # type: ignore[arg-type]
        return ReferenceProfile(
            self.rows + other.rows, merged, max(self.sketch_size, other.sketch_size)
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (schema `mloop.profile/v1`)."""
        return {
            "schema": PROFILE_SCHEMA,
            "rows": self.rows,
            "sketch_size": self.sketch_size,
            "columns": {name: summary.to_dict() for name, summary in self.columns.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReferenceProfile:
        """Read a profile written by `to_dict`.

        Raises:
            InvalidInputError: the data is not an mloop profile.
        """
        if not isinstance(data, dict) or data.get("schema") != PROFILE_SCHEMA:
            raise InvalidInputError(
                f"not an mloop reference profile (expected schema {PROFILE_SCHEMA!r}); build "
                "one with `mloop monitor profile REFERENCE -o profile.json`",
                field="profile",
            )
        columns = {str(name): summary_from_dict(s) for name, s in data["columns"].items()}
        return cls(int(data["rows"]), columns, int(data.get("sketch_size", DEFAULT_SKETCH_SIZE)))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the profile as JSON (to a temporary name, then renamed into place)."""
        target = Path(path)
        temporary = target.with_name(target.name + ".tmp")
        temporary.write_text(json.dumps(self.to_dict(), allow_nan=False), encoding="utf-8")
        temporary.replace(target)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ReferenceProfile:
        """Read a profile saved with `save`.

        Raises:
            InvalidInputError: the file is missing or is not a profile.
        """
        source = Path(path)
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise InvalidInputError(
                f"profile file {str(source)!r} does not exist", field="profile"
            ) from exc
        except (OSError, ValueError) as exc:
            raise InvalidInputError(
                f"cannot read profile {str(source)!r}: {exc}", field="profile"
            ) from exc
        return cls.from_dict(data)


def _batches(data: object, batch_rows: int) -> Iterator[pa.Table | object]:
    if isinstance(data, str | os.PathLike) and str(data).lower().endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq

        path = Path(data)
        if not path.is_file():
            raise InvalidInputError(f"data file {str(path)!r} does not exist", field="data")
        with pq.ParquetFile(path) as parquet:
            if parquet.metadata.num_rows == 0:
                yield parquet.schema_arrow.empty_table()
            for batch in parquet.iter_batches(batch_size=batch_rows):
                yield pa.Table.from_batches([batch])
        return
    if isinstance(data, list | tuple | Iterator):
        yield from data  # chunks: tables or frames, one at a time
        return
    yield data


def build_profile(
    data: object, *, sketch_size: int = DEFAULT_SKETCH_SIZE, batch_rows: int = BATCH_ROWS
) -> ReferenceProfile:
    """Summarise a table into a reference profile.

    Args:
        data: a pandas/Polars DataFrame, an Arrow table, a Parquet/CSV/Arrow file path
            (Parquet files are read `batch_rows` rows at a time), or a list or iterator of
            such tables (chunks of one table, summarised one at a time).
        sketch_size: support points per numeric sketch (rank error about 1 / sketch_size).
        batch_rows: rows per batch when streaming a Parquet file.

    Returns:
        The profile.

    Raises:
        InvalidInputError: the data cannot be read.
    """
    profile: ReferenceProfile | None = None
    for chunk in _batches(data, batch_rows):
        table = read_columns(chunk)
        columns = {name: summarize(values, sketch_size=sketch_size) for name, values in table}
        part = ReferenceProfile(table.row_count, columns, sketch_size)
        profile = part if profile is None else profile.merge(part)
    if profile is None:
        raise InvalidInputError("the data has no batches to profile", field="data")
    return profile
