"""customer lockouts: Bonga PIN vetting failures, and wrong M-PESA PINs

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Both counts start at zero and unlocked: nobody was counted before this revision.
    with op.batch_alter_table("customers") as batch:
        batch.add_column(
            sa.Column(
                "bonga_vetting_failures", sa.Integer(), nullable=False, server_default=sa.text("0")
            )
        )
        batch.add_column(
            sa.Column(
                "bonga_vetting_locked", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch.add_column(
            sa.Column("pin_failures", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(
            sa.Column("pin_locked", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("pin_locked")
        batch.drop_column("pin_failures")
        batch.drop_column("bonga_vetting_locked")
        batch.drop_column("bonga_vetting_failures")
