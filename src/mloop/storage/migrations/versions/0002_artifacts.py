"""Artifact manifests and dataset versions (blobs live in the content-addressed store).

Revision ID: 0002_artifacts
Revises: 0001_initial
"""

from __future__ import annotations

revision = "0002_artifacts"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
