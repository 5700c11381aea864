"""Tables of MLflow 3 logged models, served by the MLflow-compatible API (revision 0005).

Declared on the shared `metadata` of `schema.py`, which imports this module so every table is
known to `create_all` and to the migration tests.
"""

from __future__ import annotations

from mloop.storage.sql.schema import metadata as metadata
