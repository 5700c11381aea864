"""An estimator's params and tags as autolog stores them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mloop.entities.validation import MAX_PARAM_VALUE_LENGTH, validate_key
from mloop.errors import InvalidInputError


def estimator_params(estimator: Any) -> dict[str, str]:
    """`get_params(deep=True)`, stringified: a Pipeline's step params appear as `step__param`."""
    return clean_params(estimator.get_params(deep=True))


def clean_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Params as strings, long values truncated to the param limit, unusable keys left out.

    A key mloop cannot store (a character outside letters, digits and `_ - . / space`, e.g.
    from a step name) is left out rather than failing the whole batch.
    """
    clean: dict[str, str] = {}
    for key, value in params.items():
        if not is_valid_key(key, kind="param"):
            continue
        text = value if isinstance(value, str) else str(value)
        clean[key] = text[:MAX_PARAM_VALUE_LENGTH]
    return clean


def is_valid_key(key: object, *, kind: str) -> bool:
    """Whether mloop accepts `key` as a param, metric or tag key."""
    try:
        validate_key(key, kind=kind)
    except InvalidInputError:
        return False
    return True


def estimator_tags(estimator: Any) -> dict[str, str]:
    """The `estimator_name` and fully qualified `estimator_class` tags."""
    cls = type(estimator)
    return {
        "estimator_name": cls.__name__,
        "estimator_class": f"{cls.__module__}.{cls.__qualname__}",
    }
