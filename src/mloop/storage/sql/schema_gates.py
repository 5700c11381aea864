"""Tables of the model validation gates (revision 0006_validation_reports).

Declared on the shared `metadata` of `schema.py`, which imports this module so every table is
known to `create_all` and to the migration tests.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, String, Table, Text

from mloop.storage.sql.schema import AutoId, Ref
from mloop.storage.sql.schema import metadata as metadata

# One validation of a model version against a policy. The report itself (JSON and HTML) lives
# in the blob store; the row keeps what promotion needs to decide whether it may reuse the
# report (policy and inputs digests) and what listings show (passed, the gates' outcomes).
validation_reports = Table(
    "validation_reports",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("version_id", Ref, ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False),
    Column("policy_digest", String(64), nullable=False),
    Column("inputs_digest", String(64), nullable=False),
    Column("holdout", String(1000), nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("gates", Text, nullable=False),
    Column("report_digest", String(128), nullable=False, info={"blob_digest": True}),
    Column("html_digest", String(128), nullable=False, info={"blob_digest": True}),
    Column("actor", String(256), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Index(None, "version_id", "policy_digest", "inputs_digest"),
)
