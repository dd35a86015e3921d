"""auth: the audit chain's keyed anchor (entry count and head, HMAC-signed)

An existing chain is not anchored by this revision (the key is not known here): run
``citygrowth audit anchor`` once after upgrading; until then ``citygrowth audit verify``
says the chain's end is unprotected. A new installation anchors its first entry itself.

Revision ID: auth_0002_sec2
Revises: auth_0001
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from citygrowth.db import UTCDateTime

revision = "auth_0002_sec2"
down_revision = "auth_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_anchor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("head_id", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_anchor"),
    )


def downgrade() -> None:
    op.drop_table("audit_anchor")
