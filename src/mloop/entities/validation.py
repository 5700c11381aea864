"""The rules every key, name and value follows: MLflow's, so its API needs no translation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mloop.entities.runs import RunStatus
from mloop.errors import InvalidInputError

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_NAME_LENGTH = 250
# Room for a run's `/<run id>/artifacts` under it in the runs' 1000-character artifact_uri.
MAX_ARTIFACT_LOCATION_LENGTH = 900
MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS = 100
MAX_BATCH_TAGS = 100

# Letters, digits and `_ - . / space`, as MLflow allows; no leading slash and no `..` segment, so
# a key can safely become part of a file path.
_KEY_PATTERN = re.compile(r"^[\w\-. /]+$")
_RUN_ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
# ASCII digits only: `int()` alone would also take " 1", "+1", "1_000" and other scripts' digits.
_EXPERIMENT_ID_PATTERN = re.compile(r"^[0-9]{1,19}$")
_MAX_EXPERIMENT_ID = 2**63 - 1


def validate_key(key: object, *, kind: str = "key") -> str:
    """Check a metric, param or tag key.

    Args:
        key: the key to check.
        kind: what the key names ("metric", "param", "tag"), for the message.

    Returns:
        The key, unchanged.

    Raises:
        InvalidInputError: the key is not a non-empty string of allowed characters within
            the length limit.
    """
    if not isinstance(key, str) or not key:
        raise InvalidInputError(f"{kind} key must be a non-empty string, got {key!r}", field=kind)
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInputError(
            f"{kind} key {key[:40]!r}... is {len(key)} characters long; the limit is "
            f"{MAX_KEY_LENGTH}",
            field=key,
        )
    if not _KEY_PATTERN.match(key) or key.startswith("/") or ".." in key.split("/"):
        raise InvalidInputError(
            f"{kind} key {key!r} has characters that are not allowed; use letters, digits, "
            "underscores, dashes, periods, spaces and slashes (no leading slash, no '..')",
            field=key,
        )
    return key


def validate_param_value(key: str, value: object) -> str:
    """Turn a param value into its stored string form, checking its length.

    Raises:
        InvalidInputError: the string form is longer than the limit.
    """
    return _bounded_text("param", key, value, MAX_PARAM_VALUE_LENGTH)


def validate_tag_value(key: str, value: object) -> str:
    """Turn a tag value into its stored string form, checking its length.

    Raises:
        InvalidInputError: the string form is longer than the limit.
    """
    return _bounded_text("tag", key, value, MAX_TAG_VALUE_LENGTH)


def validate_text(value: object, *, what: str, field: str, limit: int) -> str:
    """Check a free-text field the store keeps in a bounded column (user id, dataset fields ...).

    PostgreSQL text cannot hold NUL characters, so they are refused on every backend alike.

    Raises:
        InvalidInputError: not a string, longer than the limit, or containing a NUL character.
    """
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be a string, got {type(value).__name__}", field=field)
    if len(value) > limit:
        raise InvalidInputError(
            f"{what} has {len(value)} characters; the limit is {limit}", field=field
        )
    if "\x00" in value:
        raise InvalidInputError(f"{what} contains a NUL character; remove it", field=field)
    return value


def _bounded_text(kind: str, key: str, value: object, limit: int) -> str:
    text = value if isinstance(value, str) else str(value)
    if "\x00" in text:
        raise InvalidInputError(
            f"{kind} {key!r} has a value with a NUL character, which cannot be stored; remove it",
            field=key,
        )
    if len(text) > limit:
        raise InvalidInputError(
            f"{kind} {key!r} has a value of {len(text)} characters; the limit is {limit}: log "
            "long text as an artifact with log_text instead",
            field=key,
        )
    return text


def validate_metric_value(key: str, value: object) -> float:
    """Turn a metric value into a float; NaN and infinities are allowed.

    Raises:
        InvalidInputError: the value is not a real number (strings and booleans are refused).
    """
    # NumPy booleans (dtype kind "b") are not `bool` subclasses but are just as much not a metric.
    is_boolean = getattr(getattr(value, "dtype", None), "kind", None) == "b"
    if isinstance(value, bool | str | bytes) or is_boolean:
        raise InvalidInputError(
            f"metric {key!r} must be a number, got {type(value).__name__} {value!r}", field=key
        )
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"metric {key!r} must be a number, got {type(value).__name__} {value!r}", field=key
        ) from exc
    return number


def validate_step(key: str, step: object) -> int:
    """Check a metric step: an integer that fits in 64 bits.

    Raises:
        InvalidInputError: the step is not an integer in range.
    """
    if isinstance(step, bool) or not isinstance(step, int):
        if isinstance(step, float) and step.is_integer():
            step = int(step)
        else:
            raise InvalidInputError(
                f"step of metric {key!r} must be an integer, got {step!r}", field=key
            )
    if not -(2**63) <= step < 2**63:
        raise InvalidInputError(f"step of metric {key!r} is out of range: {step}", field=key)
    return step


def validate_timestamp_ms(key: str, timestamp_ms: object) -> int:
    """Check a timestamp: integer milliseconds since the epoch.

    Raises:
        InvalidInputError: the timestamp is not a non-negative integer below 2**63.
    """
    if (
        isinstance(timestamp_ms, bool)
        or not isinstance(timestamp_ms, int)
        or not 0 <= timestamp_ms < 2**63
    ):
        raise InvalidInputError(
            f"timestamp of {key!r} must be non-negative integer milliseconds since the epoch, "
            f"got {timestamp_ms!r}",
            field=key,
        )
    return timestamp_ms


def validate_name(name: object, *, kind: str) -> str:
    """Check an experiment or run name: non-empty, printable, within the length limit.

    Raises:
        InvalidInputError: the name is empty, too long or has control characters.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError(f"{kind} name must be a non-empty string, got {name!r}", field=kind)
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInputError(
            f"{kind} name is {len(name)} characters long; the limit is {MAX_NAME_LENGTH}",
            field=kind,
        )
    if not name.isprintable():
        raise InvalidInputError(
            f"{kind} name {name!r} has control characters; use printable text", field=kind
        )
    return name


def validate_run_id(run_id: object) -> str:
    """Check a run id: 32 lowercase hex characters.

    Raises:
        InvalidInputError: the id has another form.
    """
    if not isinstance(run_id, str) or not _RUN_ID_PATTERN.match(run_id):
        raise InvalidInputError(
            f"run id must be 32 lowercase hex characters, got {run_id!r}", field="run_id"
        )
    return run_id


def validate_end_status(status: object) -> RunStatus:
    """Check the status a run ends with: FINISHED, FAILED or KILLED.

    Raises:
        InvalidInputError: it is another status, or none.
    """
    try:
        final = RunStatus(status) if isinstance(status, str) else None
    except ValueError:
        final = None
    if final is None or not final.is_terminal:
        raise InvalidInputError(
            f"a run ends FINISHED, FAILED or KILLED, not {status!r}", field="status"
        )
    return final


def checked_tags(tags: Mapping[str, Any] | None) -> dict[str, str]:
    """Tags with valid keys and their values in stored form (None gives no tags).

    Raises:
        InvalidInputError: a key or value breaks the tag rules.
    """
    return {validate_key(k, kind="tag"): validate_tag_value(k, v) for k, v in (tags or {}).items()}


def validate_experiment_id(experiment_id: object) -> int:
    """Check an experiment id (a decimal string, "0" for the default) and return its number.

    Raises:
        InvalidInputError: the id is not a string of ASCII digits within the 64-bit range.
    """
    if (
        not isinstance(experiment_id, str)
        or not _EXPERIMENT_ID_PATTERN.match(experiment_id)
        or int(experiment_id) > _MAX_EXPERIMENT_ID
    ):
        raise InvalidInputError(
            f"experiment id must be a decimal number, got {experiment_id!r}; to find an "
            "experiment by name use its name instead",
            field="experiment_id",
        )
    return int(experiment_id)


def validate_batch_sizes(*, metrics: int, params: int, tags: int) -> None:
    """Check the number of items in one batch against MLflow's batch limits.

    Raises:
        InvalidInputError: a count is over its limit.
    """
    for kind, count, limit in (
        ("metrics", metrics, MAX_BATCH_METRICS),
        ("params", params, MAX_BATCH_PARAMS),
        ("tags", tags, MAX_BATCH_TAGS),
    ):
        if count > limit:
            raise InvalidInputError(
                f"a batch may hold at most {limit} {kind}, got {count}; split it", field=kind
            )
