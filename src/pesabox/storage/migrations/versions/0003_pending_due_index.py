"""index only pending STK requests by due time

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    # The sweeper looks only for pending requests; an index of just those is small and each
    # settled request leaves it, instead of every request staying in a (status, due_at) index.
    with op.batch_alter_table("stk_requests") as batch_op:
        batch_op.drop_index("ix_stk_requests_status_due_at")
        batch_op.create_index(
            "ix_stk_requests_pending_due_at",
            ["due_at"],
            sqlite_where=_PENDING,
            postgresql_where=_PENDING,
        )


def downgrade() -> None:
    with op.batch_alter_table("stk_requests") as batch_op:
        batch_op.drop_index("ix_stk_requests_pending_due_at")
        batch_op.create_index("ix_stk_requests_status_due_at", ["status", "due_at"])
