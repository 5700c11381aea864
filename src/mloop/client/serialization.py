"""Turning dicts and figures into artifact bytes."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from mloop.errors import InvalidInputError


def dump_mapping(data: Mapping[str, Any], artifact_file: str) -> bytes:
    """JSON or YAML bytes for `data`, chosen by the file's extension (default JSON).

    Raises:
        InvalidInputError: the data cannot be serialised.
    """
    import yaml

    suffix = PurePosixPath(artifact_file).suffix.lower()
    try:
        if suffix in {".yaml", ".yml"}:
            return yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True).encode("utf-8")
        return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError, yaml.YAMLError) as exc:
        raise InvalidInputError(
            f"cannot serialise the dict for {artifact_file!r}: {exc}; keep to strings, numbers, "
            "booleans, lists and dicts",
            field="data",
        ) from exc


def render_figure(figure: Any, artifact_file: str) -> bytes:
    """The bytes of a matplotlib figure (by extension) or a plotly figure (HTML).

    Raises:
        InvalidInputError: the object is neither.
    """
    suffix = PurePosixPath(artifact_file).suffix.lower().lstrip(".") or "png"
    if hasattr(figure, "savefig"):
        buffer = io.BytesIO()
        figure.savefig(buffer, format=suffix, bbox_inches="tight")
        return buffer.getvalue()
    if hasattr(figure, "to_html"):
        # The plotting library is inlined so the file opens without a network.
        return str(figure.to_html(include_plotlyjs=True)).encode("utf-8")
    raise InvalidInputError(
        f"log_figure takes a matplotlib or plotly figure, got {type(figure).__name__}",
        field="figure",
    )
