"""transfer indexes carry created_at, for statements of busy accounts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transfers") as batch_op:
        batch_op.drop_index("ix_transfers_debit_account_id")
        batch_op.drop_index("ix_transfers_credit_account_id")
        batch_op.create_index(
            "ix_transfers_debit_account_id_created_at", ["debit_account_id", "created_at"]
        )
        batch_op.create_index(
            "ix_transfers_credit_account_id_created_at", ["credit_account_id", "created_at"]
        )


def downgrade() -> None:
    with op.batch_alter_table("transfers") as batch_op:
        batch_op.drop_index("ix_transfers_credit_account_id_created_at")
        batch_op.drop_index("ix_transfers_debit_account_id_created_at")
        batch_op.create_index("ix_transfers_credit_account_id", ["credit_account_id"])
        batch_op.create_index("ix_transfers_debit_account_id", ["debit_account_id"])
