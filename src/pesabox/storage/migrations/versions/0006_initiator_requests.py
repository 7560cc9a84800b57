"""initiator requests: B2C, B2B, balance, status, reversal, queued until processed

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_QUEUED = sa.text("status = 'queued'")


def upgrade() -> None:
    op.create_table(
        "initiator_requests",
        sa.Column("conversation_id", sa.String(40), nullable=False),
        sa.Column("originator_conversation_id", sa.String(100), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("api", sa.String(16), nullable=False),
        sa.Column("command_id", sa.String(40), nullable=False),
        sa.Column("initiator", sa.String(64), nullable=False),
        sa.Column("party_a", sa.String(20), nullable=False),
        sa.Column("party_b", sa.String(20), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("remarks", sa.String(100), nullable=False),
        sa.Column("occasion", sa.String(100), nullable=False),
        sa.Column("result_url", sa.Text(), nullable=False),
        sa.Column("queue_timeout_url", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("request_digest", sa.String(64), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("result_code", sa.String(16), nullable=True),
        sa.Column("result_desc", sa.String(200), nullable=True),
        sa.Column("transaction_id", sa.String(10), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("completed_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], name="fk_initiator_requests_app_id_apps"),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_initiator_requests"),
        sa.UniqueConstraint(
            "app_id", "originator_conversation_id", name="uq_initiator_requests_app_id_originator"
        ),
    )
    op.create_index(
        "ix_initiator_requests_queued_created_at",
        "initiator_requests",
        ["created_at"],
        sqlite_where=_QUEUED,
        postgresql_where=_QUEUED,
    )
    op.create_index(
        "ix_initiator_requests_transaction_id", "initiator_requests", ["transaction_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_initiator_requests_transaction_id", table_name="initiator_requests")
    op.drop_index("ix_initiator_requests_queued_created_at", table_name="initiator_requests")
    op.drop_table("initiator_requests")
