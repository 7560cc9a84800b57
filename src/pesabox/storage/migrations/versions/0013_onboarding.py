"""onboarding: developers, platform operators, sessions, sandbox apps of developers,
business applications with their documents, LNMO applications, and the audit trail (issue 6)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "developers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("email_key", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=12), nullable=False),
        sa.Column("password_digest", sa.String(length=128), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("locked_at", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_developers")),
        sa.UniqueConstraint("email_key", name=op.f("uq_developers_email_key")),
    )
    op.create_table(
        "onboarding_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=12), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("actor_name", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=12), nullable=True),
        sa.Column("to_state", sa.String(length=12), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onboarding_audit")),
    )
    op.create_index(
        "ix_onboarding_audit_subject_subject_id",
        "onboarding_audit",
        ["subject", "subject_id"],
        unique=False,
    )
    op.create_table(
        "onboarding_sessions",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_onboarding_sessions")),
    )
    op.create_index(
        "ix_onboarding_sessions_kind_subject_id",
        "onboarding_sessions",
        ["kind", "subject_id"],
        unique=False,
    )
    op.create_table(
        "platform_operators",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("password_digest", sa.String(length=128), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("locked_at", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_operators")),
        sa.UniqueConstraint("username", name=op.f("uq_platform_operators_username")),
    )
    op.create_table(
        "business_applications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("developer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("business_type", sa.String(length=20), nullable=False),
        sa.Column("organisation_name", sa.String(length=100), nullable=False),
        sa.Column("organisation_key", sa.String(length=100), nullable=False),
        sa.Column("trading_name", sa.String(length=100), nullable=False),
        sa.Column("kra_pin", sa.String(length=11), nullable=True),
        sa.Column("bank_name", sa.String(length=100), nullable=False),
        sa.Column("branch", sa.String(length=100), nullable=False),
        sa.Column("account_number", sa.String(length=34), nullable=False),
        sa.Column("account_name", sa.String(length=100), nullable=False),
        sa.Column("admin_name", sa.String(length=100), nullable=False),
        sa.Column("admin_username", sa.String(length=64), nullable=False),
        sa.Column("admin_phone", sa.String(length=12), nullable=False),
        sa.Column("admin_email", sa.String(length=254), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("rejection_reason", sa.String(length=500), nullable=True),
        sa.Column("submitted_at", sa.Float(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.Float(), nullable=True),
        sa.Column("approval_started_at", sa.Float(), nullable=True),
        sa.Column("shortcode", sa.String(length=10), nullable=True),
        sa.Column("store_shortcode", sa.String(length=10), nullable=True),
        sa.Column("admin_password_digest", sa.String(length=128), nullable=True),
        sa.Column("production_organisation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["platform_operators.id"],
            name=op.f("fk_business_applications_decided_by_platform_operators"),
        ),
        sa.ForeignKeyConstraint(
            ["developer_id"],
            ["developers.id"],
            name=op.f("fk_business_applications_developer_id_developers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_applications")),
        sa.UniqueConstraint("shortcode", name=op.f("uq_business_applications_shortcode")),
        sa.UniqueConstraint(
            "store_shortcode", name=op.f("uq_business_applications_store_shortcode")
        ),
    )
    op.create_index(
        "ix_business_applications_developer_id",
        "business_applications",
        ["developer_id"],
        unique=False,
    )
    op.create_index(
        "ix_business_applications_live_organisation_key",
        "business_applications",
        ["organisation_key"],
        unique=True,
        sqlite_where=sa.text("state <> 'rejected'"),
        postgresql_where=sa.text("state <> 'rejected'"),
    )
    op.create_index(
        "ix_business_applications_production_organisation_id",
        "business_applications",
        ["production_organisation_id"],
        unique=False,
    )
    op.create_table(
        "application_documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=100), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["business_applications.id"],
            name=op.f("fk_application_documents_application_id_business_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_documents")),
        sa.UniqueConstraint(
            "application_id", "kind", name="uq_application_documents_application_id_kind"
        ),
    )
    op.create_table(
        "developer_apps",
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("developer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_developer_apps_app_id_apps")
        ),
        sa.ForeignKeyConstraint(
            ["developer_id"],
            ["developers.id"],
            name=op.f("fk_developer_apps_developer_id_developers"),
        ),
        sa.PrimaryKeyConstraint("app_id", name=op.f("pk_developer_apps")),
        sa.UniqueConstraint("developer_id", "name", name="uq_developer_apps_developer_id_name"),
    )
    op.create_table(
        "lnmo_applications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("developer_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("submitted_at", sa.Float(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.Float(), nullable=True),
        sa.Column("rejection_reason", sa.String(length=500), nullable=True),
        sa.Column("passkey", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["business_applications.id"],
            name=op.f("fk_lnmo_applications_application_id_business_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["platform_operators.id"],
            name=op.f("fk_lnmo_applications_decided_by_platform_operators"),
        ),
        sa.ForeignKeyConstraint(
            ["developer_id"],
            ["developers.id"],
            name=op.f("fk_lnmo_applications_developer_id_developers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lnmo_applications")),
    )
    op.create_index(
        "ix_lnmo_applications_live_application_id",
        "lnmo_applications",
        ["application_id"],
        unique=True,
        sqlite_where=sa.text("state <> 'rejected'"),
        postgresql_where=sa.text("state <> 'rejected'"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_lnmo_applications_live_application_id",
        table_name="lnmo_applications",
        sqlite_where=sa.text("state <> 'rejected'"),
        postgresql_where=sa.text("state <> 'rejected'"),
    )
    op.drop_table("lnmo_applications")
    op.drop_table("developer_apps")
    op.drop_table("application_documents")
    op.drop_index(
        "ix_business_applications_production_organisation_id", table_name="business_applications"
    )
    op.drop_index(
        "ix_business_applications_live_organisation_key",
        table_name="business_applications",
        sqlite_where=sa.text("state <> 'rejected'"),
        postgresql_where=sa.text("state <> 'rejected'"),
    )
    op.drop_index("ix_business_applications_developer_id", table_name="business_applications")
    op.drop_table("business_applications")
    op.drop_table("platform_operators")
    op.drop_index("ix_onboarding_sessions_kind_subject_id", table_name="onboarding_sessions")
    op.drop_table("onboarding_sessions")
    op.drop_index("ix_onboarding_audit_subject_subject_id", table_name="onboarding_audit")
    op.drop_table("onboarding_audit")
    op.drop_table("developers")
