"""operators (API and web) with lockout and password age; per-environment certificates

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("shortcode", sa.String(10), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("password_digest", sa.String(128), nullable=False),
        sa.Column("roles", sa.String(500), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_at", sa.Float(), nullable=True),
        sa.Column("password_changed_at", sa.Float(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shortcode"], ["shortcodes.shortcode"], name="fk_operators_shortcode_shortcodes"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_operators"),
        sa.UniqueConstraint("shortcode", "username", name="uq_operators_shortcode_username"),
    )
    # Every initiator so far was an API operator; its password age starts at its creation.
    op.execute(
        "INSERT INTO operators (shortcode, username, kind, password_digest, roles,"
        " failed_attempts, password_changed_at, created_at)"
        " SELECT shortcode, username, 'api', password_digest, roles, 0, created_at, created_at"
        " FROM initiators"
    )
    op.drop_table("initiators")
    op.create_table(
        "certificates",
        sa.Column("environment", sa.String(12), nullable=False),
        sa.Column("private_key_pem", sa.Text(), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("environment", name="pk_certificates"),
    )


def downgrade() -> None:
    op.drop_table("certificates")
    op.create_table(
        "initiators",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("shortcode", sa.String(10), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_digest", sa.String(128), nullable=False),
        sa.Column("roles", sa.String(500), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shortcode"], ["shortcodes.shortcode"], name="fk_initiators_shortcode_shortcodes"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_initiators"),
        sa.UniqueConstraint("shortcode", "username", name="uq_initiators_shortcode_username"),
    )
    op.execute(
        "INSERT INTO initiators (shortcode, username, password_digest, roles, created_at)"
        " SELECT shortcode, username, password_digest, roles, created_at FROM operators"
        " WHERE kind = 'api'"
    )
    op.drop_table("operators")
