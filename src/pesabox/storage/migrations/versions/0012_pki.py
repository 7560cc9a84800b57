"""the platform CA and broker certificates, and organisations' client certificates

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pki_material",
        sa.Column("name", sa.String(20), nullable=False),
        sa.Column("cert_pem", sa.Text(), nullable=False),
        sa.Column("key_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_pki_material"),
    )
    op.create_table(
        "client_certificates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("organisation_name", sa.String(200), nullable=False),
        sa.Column("serial_hex", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("cert_pem", sa.Text(), nullable=False),
        sa.Column("not_before", sa.Float(), nullable=False),
        sa.Column("not_after", sa.Float(), nullable=False),
        sa.Column("change_request", sa.String(15), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_client_certificates"),
        sa.UniqueConstraint("serial_hex", name="uq_client_certificates_serial_hex"),
    )
    op.create_index(
        "ix_client_certificates_organisation_id", "client_certificates", ["organisation_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_client_certificates_organisation_id", table_name="client_certificates")
    op.drop_table("client_certificates")
    op.drop_table("pki_material")
