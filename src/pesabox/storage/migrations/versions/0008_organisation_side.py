"""organisation side: bank details, withdrawals and settlement, web sessions

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "bank_accounts",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("bank_name", sa.String(100), nullable=False),
        sa.Column("branch", sa.String(100), nullable=False),
        sa.Column("account_number", sa.String(34), nullable=False),
        sa.Column("account_name", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name="fk_bank_accounts_organisation_id_organisations",
        ),
        sa.PrimaryKeyConstraint("organisation_id", name="pk_bank_accounts"),
    )
    op.create_table(
        "withdrawals",
        sa.Column("id", sa.String(10), nullable=False),
        sa.Column("shortcode", sa.String(10), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("bank_name", sa.String(100), nullable=False),
        sa.Column("branch", sa.String(100), nullable=False),
        sa.Column("account_number", sa.String(34), nullable=False),
        sa.Column("account_name", sa.String(100), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("settle_on", sa.String(10), nullable=False),
        sa.Column("due_at", sa.Float(), nullable=False),
        sa.Column("settled_at", sa.Float(), nullable=True),
        sa.Column("bank_reference", sa.String(32), nullable=True),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shortcode"], ["shortcodes.shortcode"], name="fk_withdrawals_shortcode_shortcodes"
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name="fk_withdrawals_operator_id_operators"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_withdrawals"),
        sa.UniqueConstraint("bank_reference", name="uq_withdrawals_bank_reference"),
        sa.UniqueConstraint(
            "shortcode", "idempotency_key", name="uq_withdrawals_shortcode_idempotency_key"
        ),
    )
    op.create_index(
        "ix_withdrawals_shortcode_created_at", "withdrawals", ["shortcode", "created_at"]
    )
    op.create_index("ix_withdrawals_settle_on", "withdrawals", ["settle_on"])
    op.create_index(
        "ix_withdrawals_pending_due_at",
        "withdrawals",
        ["due_at"],
        sqlite_where=_PENDING,
        postgresql_where=_PENDING,
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name="fk_web_sessions_operator_id_operators"
        ),
        sa.PrimaryKeyConstraint("token_digest", name="pk_web_sessions"),
    )
    op.create_index("ix_web_sessions_operator_id", "web_sessions", ["operator_id"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_operator_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index("ix_withdrawals_pending_due_at", table_name="withdrawals")
    op.drop_index("ix_withdrawals_settle_on", table_name="withdrawals")
    op.drop_index("ix_withdrawals_shortcode_created_at", table_name="withdrawals")
    op.drop_table("withdrawals")
    op.drop_table("bank_accounts")
