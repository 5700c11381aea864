"""Autologging: wrap a library's training methods so every fit is logged as a run.

`mloop.client.autolog.sklearn` holds scikit-learn's (the public entry is `mloop.sklearn`);
`patching` wraps and restores methods, `params`, `training_metrics`, `datasets` and `search` say
what is recorded, `reporting` how autolog's own failures are reported (`AutologWarning`).
"""

from __future__ import annotations

from mloop.client.autolog.reporting import AutologWarning as AutologWarning

__all__ = ["AutologWarning"]
