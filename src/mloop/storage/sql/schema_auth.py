"""Tables of server users, API tokens and roles (revision 0004_auth).

Declared on the shared `metadata` of `schema.py`, which imports this module so every table is
known to `create_all` and to the migration tests.
"""

from __future__ import annotations

from mloop.storage.sql.schema import metadata as metadata
