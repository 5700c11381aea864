"""Users, API tokens and roles of the tracking server.

Revision ID: 0004_auth
Revises: 0003_registry
"""

from __future__ import annotations

revision = "0004_auth"
down_revision = "0003_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
