"""C2B: shortcode products and validation switch, URL registrations, payments, Pull API

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_VALIDATING = sa.text("status = 'validating'")
_COMPLETED = sa.text("status = 'completed'")


def upgrade() -> None:
    # Plain ADD COLUMN (with a default) rather than a batch copy: SQLite's table copy would
    # drop `shortcodes` while initiators still point at it.
    op.add_column(
        "shortcodes", sa.Column("products", sa.String(50), nullable=False, server_default="c2b")
    )
    op.add_column(
        "shortcodes",
        sa.Column("validation_enabled", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "scenarios",
        sa.Column("validation_mode", sa.String(12), nullable=False, server_default="deliver"),
    )
    op.create_table(
        "c2b_registrations",
        sa.Column("shortcode", sa.String(10), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("api_version", sa.String(4), nullable=False),
        sa.Column("response_type", sa.String(10), nullable=False),
        sa.Column("confirmation_url", sa.Text(), nullable=False),
        sa.Column("validation_url", sa.Text(), nullable=False),
        sa.Column("msisdn_format", sa.String(8), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shortcode"],
            ["shortcodes.shortcode"],
            name="fk_c2b_registrations_shortcode_shortcodes",
        ),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], name="fk_c2b_registrations_app_id_apps"),
        sa.PrimaryKeyConstraint("shortcode", name="pk_c2b_registrations"),
    )
    op.create_table(
        "c2b_payments",
        sa.Column("trans_id", sa.String(10), nullable=False),
        sa.Column("shortcode", sa.String(10), nullable=False),
        sa.Column("transaction_type", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("msisdn", sa.String(12), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("bill_ref_number", sa.String(20), nullable=False),
        sa.Column("first_name", sa.String(50), nullable=False),
        sa.Column("middle_name", sa.String(50), nullable=False),
        sa.Column("last_name", sa.String(50), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("response_type", sa.String(10), nullable=True),
        sa.Column("validation_url", sa.Text(), nullable=True),
        sa.Column("confirmation_url", sa.Text(), nullable=True),
        sa.Column("msisdn_format", sa.String(8), nullable=True),
        sa.Column("validation_deadline", sa.Float(), nullable=True),
        sa.Column("validation_result", sa.String(16), nullable=True),
        sa.Column("third_party_trans_id", sa.String(64), nullable=True),
        sa.Column("result_code", sa.Integer(), nullable=True),
        sa.Column("result_desc", sa.String(200), nullable=True),
        sa.Column("customer_fee_cents", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("business_fee_cents", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("org_balance_cents", sa.BigInteger(), nullable=True),
        sa.Column("idempotency_key", sa.String(80), nullable=True),
        sa.Column("app_id", sa.Integer(), nullable=True),
        sa.Column("callback_mode", sa.String(12), nullable=False, server_default="deliver"),
        sa.Column("callback_fail_times", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("callback_delay_s", sa.Float(), nullable=False, server_default="0"),
        sa.Column("validation_mode", sa.String(12), nullable=False, server_default="deliver"),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("completed_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], name="fk_c2b_payments_app_id_apps"),
        sa.PrimaryKeyConstraint("trans_id", name="pk_c2b_payments"),
        sa.UniqueConstraint("idempotency_key", name="uq_c2b_payments_idempotency_key"),
    )
    op.create_index(
        "ix_c2b_payments_shortcode_created_at", "c2b_payments", ["shortcode", "created_at"]
    )
    op.create_index(
        "ix_c2b_payments_completed_shortcode_completed_at",
        "c2b_payments",
        ["shortcode", "completed_at"],
        sqlite_where=_COMPLETED,
        postgresql_where=_COMPLETED,
    )
    op.create_index(
        "ix_c2b_payments_validating_deadline",
        "c2b_payments",
        ["validation_deadline"],
        sqlite_where=_VALIDATING,
        postgresql_where=_VALIDATING,
    )
    op.create_table(
        "pull_registrations",
        sa.Column("shortcode", sa.String(10), nullable=False),
        sa.Column("request_type", sa.String(16), nullable=False),
        sa.Column("nominated_number", sa.String(12), nullable=False),
        sa.Column("callback_url", sa.Text(), nullable=False),
        sa.Column("response_ref_id", sa.String(64), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shortcode"],
            ["shortcodes.shortcode"],
            name="fk_pull_registrations_shortcode_shortcodes",
        ),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], name="fk_pull_registrations_app_id_apps"),
        sa.PrimaryKeyConstraint("shortcode", name="pk_pull_registrations"),
    )


def downgrade() -> None:
    op.drop_table("pull_registrations")
    op.drop_index("ix_c2b_payments_validating_deadline", table_name="c2b_payments")
    op.drop_index("ix_c2b_payments_completed_shortcode_completed_at", table_name="c2b_payments")
    op.drop_index("ix_c2b_payments_shortcode_created_at", table_name="c2b_payments")
    op.drop_table("c2b_payments")
    op.drop_table("c2b_registrations")
    op.drop_column("scenarios", "validation_mode")
    op.drop_column("shortcodes", "validation_enabled")
    op.drop_column("shortcodes", "products")
