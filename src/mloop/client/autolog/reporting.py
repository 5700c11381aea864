"""How autolog reports its own failures: at most one warning per fit, never an exception."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

# warn_failures <- autolog step <- fit handler <- guard <- patched method <- the user's call.
_USER_FRAME = 6


class AutologWarning(UserWarning):
    """Autolog could not log (part of) a fit; the estimator was fitted all the same.

    Filter it like any warning, e.g. `warnings.simplefilter("ignore", AutologWarning)`, or pass
    `silent=True` to `autolog()`.
    """


def describe(what: str, error: BaseException) -> str:
    """One failure as a line of the warning: what could not be logged and why."""
    return f"{what} ({type(error).__name__}: {error})"


def warn_failures(subject: str, failures: Sequence[str], *, silent: bool) -> None:
    """Warn once that autolog could not log `failures` of `subject`, unless silent.

    The warning points at the user's `fit` call.
    """
    if silent or not failures:
        return
    warnings.warn(
        f"mloop autolog could not log everything about {subject}: {'; '.join(failures)}. "
        "The estimator was fitted as usual; only what autolog records is incomplete. Pass "
        "silent=True to mloop.sklearn.autolog() to hide this warning.",
        AutologWarning,
        stacklevel=_USER_FRAME,
    )
