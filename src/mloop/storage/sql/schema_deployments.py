"""Tables of deployments and their revisions (revision 0007_deployments).

Declared on the shared `metadata` of `schema.py`, which imports this module so every table is
known to `create_all` and to the migration tests.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, Table, Text

from mloop.storage.sql.schema import AutoId, Ref
from mloop.storage.sql.schema import metadata as metadata

# A deployment and the number of its current revision. Writers lock this row, so concurrent
# changes of one deployment get consecutive revision numbers.
deployments = Table(
    "deployments",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("revision", Integer, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("created_by", String(256), nullable=False),
)

# Every configuration a deployment had; the current one is the row of `deployments.revision`.
# Rows are never changed, so a rollback is one more row copying an earlier one.
deployment_revisions = Table(
    "deployment_revisions",
    metadata,
    Column(
        "deployment_id", Ref, ForeignKey("deployments.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("revision", Integer, primary_key=True),
    Column("action", String(16), nullable=False),
    Column("actor", String(256), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("model", String(250), nullable=False),
    # JSON lists: [{"target": "@champion", "weight": 90}, ...] and ["@candidate", ...].
    Column("routes", Text, nullable=False),
    Column("shadows", Text, nullable=False),
    Column("sticky_key", String(128), nullable=True),
    Column("description", String(5000), nullable=False),
    Column("restored_from", Integer, nullable=True),
)
