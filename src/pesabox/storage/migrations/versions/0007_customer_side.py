"""customer side: P2P, airtime top-ups, Bonga points and PIN

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing customers become prepay lines with no national ID and no Bonga PIN: they can
    # set one only once an ID is recorded (vetting needs it).
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("national_id", sa.String(20), nullable=True))
        batch.add_column(
            sa.Column("line_type", sa.String(8), nullable=False, server_default="prepay")
        )
        batch.add_column(sa.Column("bonga_pin_digest", sa.String(128), nullable=True))
        batch.add_column(
            sa.Column(
                "bonga_pin_failures", sa.Integer(), nullable=False, server_default=sa.text("0")
            )
        )
        batch.add_column(
            sa.Column("bonga_pin_locked", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "airtime_topups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("msisdn", sa.String(12), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("paid_by", sa.String(12), nullable=False),
        sa.Column("receipt", sa.String(10), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_airtime_topups"),
    )
    op.create_index(
        "ix_airtime_topups_msisdn_created_at", "airtime_topups", ["msisdn", "created_at"]
    )
    op.create_table(
        "handset_transactions",
        sa.Column("receipt", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("msisdn", sa.String(12), nullable=False),
        sa.Column("counterparty", sa.String(40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee_cents", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
        sa.Column("result_code", sa.Integer(), nullable=False),
        sa.Column("result_desc", sa.String(200), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("receipt", name="pk_handset_transactions"),
        sa.UniqueConstraint("idempotency_key", name="uq_handset_transactions_idempotency_key"),
    )
    op.create_index(
        "ix_handset_transactions_msisdn_created_at",
        "handset_transactions",
        ["msisdn", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_handset_transactions_msisdn_created_at", table_name="handset_transactions")
    op.drop_table("handset_transactions")
    op.drop_index("ix_airtime_topups_msisdn_created_at", table_name="airtime_topups")
    op.drop_table("airtime_topups")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("bonga_pin_locked")
        batch.drop_column("bonga_pin_failures")
        batch.drop_column("bonga_pin_digest")
        batch.drop_column("line_type")
        batch.drop_column("national_id")
