"""Onboarding: developers, their applications and documents, LNMO applications (issue 6).

Tables live beside `tables.py` on its `metadata`; `schema.py` imports every such module.
They are in the platform database (the sandbox's), which holds everything shared across
environments; what an approval sets up in production is written to the production database.
Times are epoch seconds on the platform clock, except sessions' (wall time).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from pesabox.storage.tables import metadata

developers = Table(
    "developers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # As typed, for display; `email_key` (case-folded) is what is unique.
    Column("email", String(254), nullable=False),
    Column("email_key", String(254), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("phone", String(12), nullable=False),
    Column("password_digest", String(128), nullable=False),
    Column("failed_attempts", Integer, nullable=False, server_default=text("0")),
    Column("locked_at", Float, nullable=True),
    Column("created_at", Float, nullable=False),
)

# The "security team": people who review applications and sign certificates.
platform_operators = Table(
    "platform_operators",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("password_digest", String(128), nullable=False),
    Column("failed_attempts", Integer, nullable=False, server_default=text("0")),
    Column("locked_at", Float, nullable=True),
    Column("created_at", Float, nullable=False),
)

# Sessions of developers and platform operators; only the token's SHA-256 is kept.
onboarding_sessions = Table(
    "onboarding_sessions",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    # developer | platform_operator
    Column("kind", String(20), nullable=False),
    Column("subject_id", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("ix_onboarding_sessions_kind_subject_id", "kind", "subject_id"),
)

# Which sandbox apps (in `apps`, the same database) a developer made, under which name.
developer_apps = Table(
    "developer_apps",
    metadata,
    Column("app_id", Integer, ForeignKey("apps.id"), primary_key=True),
    Column("developer_id", Integer, ForeignKey("developers.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("developer_id", "name", name="uq_developer_apps_developer_id_name"),
)

business_applications = Table(
    "business_applications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("developer_id", Integer, ForeignKey("developers.id"), nullable=False),
    # paybill | till
    Column("kind", String(10), nullable=False),
    Column("business_type", String(20), nullable=False),
    Column("organisation_name", String(100), nullable=False),
    # Case-folded and single-spaced: unique among applications still alive (see below).
    Column("organisation_key", String(100), nullable=False),
    Column("trading_name", String(100), nullable=False),
    Column("kra_pin", String(11), nullable=True),
    Column("bank_name", String(100), nullable=False),
    Column("branch", String(100), nullable=False),
    Column("account_number", String(34), nullable=False),
    Column("account_name", String(100), nullable=False),
    Column("admin_name", String(100), nullable=False),
    Column("admin_username", String(64), nullable=False),
    Column("admin_phone", String(12), nullable=False),
    Column("admin_email", String(254), nullable=False),
    # submitted | in_review | approving | approved | rejected (domain.onboarding.states)
    Column("state", String(12), nullable=False),
    Column("rejection_reason", String(500), nullable=True),
    Column("submitted_at", Float, nullable=False),
    Column("decided_by", Integer, ForeignKey("platform_operators.id"), nullable=True),
    Column("decided_at", Float, nullable=True),
    # Approval: what is allocated in production is recorded here before it is created there,
    # so a retry after a crash finds and finishes the same set-up instead of making another.
    Column("approval_started_at", Float, nullable=True),
    Column("shortcode", String(10), nullable=True, unique=True),
    Column("store_shortcode", String(10), nullable=True, unique=True),
    Column("admin_password_digest", String(128), nullable=True),
    Column("production_organisation_id", Integer, nullable=True),
    Index("ix_business_applications_developer_id", "developer_id"),
    Index("ix_business_applications_production_organisation_id", "production_organisation_id"),
    # Two live applications (or one and its approved business) never share a name, even when
    # sent at the same instant; a rejected one frees its name.
    Index(
        "ix_business_applications_live_organisation_key",
        "organisation_key",
        unique=True,
        sqlite_where=text("state <> 'rejected'"),
        postgresql_where=text("state <> 'rejected'"),
    ),
)

application_documents = Table(
    "application_documents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("application_id", Integer, ForeignKey("business_applications.id"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("filename", String(100), nullable=False),
    Column("content_type", String(40), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("application_id", "kind", name="uq_application_documents_application_id_kind"),
)

lnmo_applications = Table(
    "lnmo_applications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("application_id", Integer, ForeignKey("business_applications.id"), nullable=False),
    Column("developer_id", Integer, ForeignKey("developers.id"), nullable=False),
    # submitted | under_review | approved | rejected
    Column("state", String(12), nullable=False),
    Column("submitted_at", Float, nullable=False),
    Column("decided_by", Integer, ForeignKey("platform_operators.id"), nullable=True),
    Column("decided_at", Float, nullable=True),
    Column("rejection_reason", String(500), nullable=True),
    # Chosen in the deciding UPDATE, then written to the production shortcode: a retry
    # writes the same passkey again (production cannot be in the same db transaction).
    Column("passkey", String(64), nullable=True),
    # One application open or approved per business at a time; after a rejection, another.
    Index(
        "ix_lnmo_applications_live_application_id",
        "application_id",
        unique=True,
        sqlite_where=text("state <> 'rejected'"),
        postgresql_where=text("state <> 'rejected'"),
    ),
)

# Every step of an application or LNMO application: who, what, from and to which state, when.
onboarding_audit = Table(
    "onboarding_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # application | lnmo
    Column("subject", String(12), nullable=False),
    Column("subject_id", Integer, nullable=False),
    # developer | platform_operator
    Column("actor_kind", String(20), nullable=False),
    Column("actor_id", Integer, nullable=False),
    Column("actor_name", String(254), nullable=False),
    Column("action", String(40), nullable=False),
    Column("from_state", String(12), nullable=True),
    Column("to_state", String(12), nullable=True),
    Column("note", Text, nullable=True),
    Column("at", Float, nullable=False),
    Index("ix_onboarding_audit_subject_subject_id", "subject", "subject_id"),
)

__all__ = [
    "application_documents",
    "business_applications",
    "developer_apps",
    "developers",
    "lnmo_applications",
    "metadata",
    "onboarding_audit",
    "onboarding_sessions",
    "platform_operators",
]
