"""Change requests (CRQs), their audit trail, and one-time codes (issue 6).

Tables live beside `tables.py` on its `metadata`; `schema.py` imports every such module.
All three live in the platform database. A CRQ names its production organisation by id only:
that organisation lives in the production database, where no foreign key can reach.
Times are wall-clock epoch seconds: the trail records when a person acted.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, ForeignKey, Index, Integer, String, Table, Text

from pesabox.storage.tables import metadata

change_requests = Table(
    "change_requests",
    metadata,
    # CRQ + 12 digits.
    Column("number", String(15), primary_key=True),
    # go_live | url_change | certificate
    Column("kind", String(16), nullable=False),
    # submitted | in_review | approved | rejected | implemented | withdrawn
    Column("state", String(16), nullable=False),
    Column("organisation_id", Integer, nullable=False),
    Column("shortcode", String(10), nullable=False),
    # developer | org_operator, and who: the developer's id or the operator's username.
    Column("requester_kind", String(20), nullable=False),
    Column("requester_name", String(100), nullable=False),
    Column("developer_id", Integer, nullable=True),
    # What is asked, as JSON (the kind's fields).
    Column("payload", Text, nullable=False),
    Column("reason", Text, nullable=True),
    # Go-live: the production app's consumer key, chosen when the code was confirmed and
    # kept here first, so a retry finishes the same app instead of making a second one.
    Column("app_consumer_key", String(64), nullable=True, unique=True),
    Column("app_id", Integer, nullable=True),
    # Certificate: the signed client certificate (PEM), for the business to download.
    Column("certificate_pem", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_change_requests_state_created_at", "state", "created_at"),
    Index("ix_change_requests_organisation_id", "organisation_id"),
    Index("ix_change_requests_developer_id", "developer_id"),
)

change_request_events = Table(
    "change_request_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("number", String(15), ForeignKey("change_requests.number"), nullable=False),
    Column("at", Float, nullable=False),
    Column("actor_kind", String(20), nullable=False),
    Column("actor_name", String(100), nullable=False),
    # submit | review | approve | reject | implement | withdraw | comment | code_sent
    Column("action", String(16), nullable=False),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=True),
    Column("text", Text, nullable=True),
    Index("ix_change_request_events_number", "number"),
)

one_time_codes = Table(
    "one_time_codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # What the code confirms: a CRQ number today.
    Column("subject", String(40), nullable=False),
    Column("msisdn", String(12), nullable=False),
    Column("salt", String(32), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("dead", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_one_time_codes_subject", "subject"),
)

__all__ = ["change_request_events", "change_requests", "metadata", "one_time_codes"]
