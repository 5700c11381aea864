"""Autologging for scikit-learn: `import mloop.sklearn; mloop.sklearn.autolog()`.

After `autolog()`, fitting any scikit-learn estimator (also a Pipeline or a hyper-parameter
search) logs its params, training metrics, tags and the training data's content digest to the
active run, or to a run started for the fit. Importing this module does not import scikit-learn;
`autolog()` does.
"""

from __future__ import annotations

from mloop.client.autolog import AutologWarning as AutologWarning
from mloop.client.autolog.sklearn import autolog as autolog
from mloop.client.autolog.sklearn import disable as disable

__all__ = ["AutologWarning", "autolog", "disable"]
