"""auth: session versions; failed logins counted per window instead of one row each

Revision ID: auth_0002_sec
Revises: auth_0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from citygrowth.db import UTCDateTime

revision = "auth_0002_sec"
down_revision = "auth_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False,
                                   server_default="0"))
    op.drop_index("ix_login_attempts_at", "login_attempts")
    op.drop_index("ix_login_attempts_key", "login_attempts")
    op.drop_table("login_attempts")
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_login_failures"),
    )
    op.create_index("ix_login_failures_window_start", "login_failures", ["window_start"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_window_start", "login_failures")
    op.drop_table("login_failures")
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_attempts"),
    )
    op.create_index("ix_login_attempts_key", "login_attempts", ["key"])
    op.create_index("ix_login_attempts_at", "login_attempts", ["at"])
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
