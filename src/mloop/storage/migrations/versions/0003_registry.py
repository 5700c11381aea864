"""Model registry: registered models, versions, aliases, approvals, tags.

Revision ID: 0003_registry
Revises: 0002_artifacts
"""

from __future__ import annotations

revision = "0003_registry"
down_revision = "0002_artifacts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
