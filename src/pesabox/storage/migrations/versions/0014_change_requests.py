"""change requests, their audit trail, one-time codes (issue 6)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_requests",
        sa.Column("number", sa.String(15), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("shortcode", sa.String(10), nullable=False),
        sa.Column("requester_kind", sa.String(20), nullable=False),
        sa.Column("requester_name", sa.String(100), nullable=False),
        sa.Column("developer_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("app_consumer_key", sa.String(64), nullable=True),
        sa.Column("app_id", sa.Integer(), nullable=True),
        sa.Column("certificate_pem", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("number", name="pk_change_requests"),
        sa.UniqueConstraint("app_consumer_key", name="uq_change_requests_app_consumer_key"),
    )
    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_change_requests_state_created_at", ["state", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_change_requests_organisation_id", ["organisation_id"], unique=False
        )
        batch_op.create_index("ix_change_requests_developer_id", ["developer_id"], unique=False)
    op.create_table(
        "change_request_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(15), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("actor_kind", sa.String(20), nullable=False),
        sa.Column("actor_name", sa.String(100), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["number"],
            ["change_requests.number"],
            name="fk_change_request_events_number_change_requests",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_change_request_events"),
    )
    with op.batch_alter_table("change_request_events", schema=None) as batch_op:
        batch_op.create_index("ix_change_request_events_number", ["number"], unique=False)
    op.create_table(
        "one_time_codes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(40), nullable=False),
        sa.Column("msisdn", sa.String(12), nullable=False),
        sa.Column("salt", sa.String(32), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("dead", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_one_time_codes"),
    )
    with op.batch_alter_table("one_time_codes", schema=None) as batch_op:
        batch_op.create_index("ix_one_time_codes_subject", ["subject"], unique=False)


def downgrade() -> None:
    op.drop_table("one_time_codes")
    op.drop_table("change_request_events")
    op.drop_table("change_requests")
