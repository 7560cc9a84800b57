"""The platform CA, broker certificates and organisations' client certificates (issue 6).

Both tables live in the platform database only. Tables live beside `tables.py` on its
`metadata`; `schema.py` imports every such module.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, String, Table, Text

from pesabox.storage.tables import metadata

__all__ = ["client_certificates", "metadata", "pki_material"]

# The CA's own certificates and keys, one row per name: "root", "intermediate", "testbroker",
# "prodbroker". Made once on first start and kept: a new root would break every trust bundle
# already handed out.
pki_material = Table(
    "pki_material",
    metadata,
    Column("name", String(20), primary_key=True),
    Column("cert_pem", Text, nullable=False),
    Column("key_pem", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

# Client certificates the CA signed for production organisations. `organisation_id` is the
# production database's organisation id: that table is in the other database, so no FK.
client_certificates = Table(
    "client_certificates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("organisation_id", Integer, nullable=False, index=True),
    Column("organisation_name", String(200), nullable=False),
    Column("serial_hex", String(64), nullable=False, unique=True),
    Column("subject", String(500), nullable=False),
    Column("cert_pem", Text, nullable=False),
    Column("not_before", Float, nullable=False),
    Column("not_after", Float, nullable=False),
    # The certificate CRQ it implements ("CRQ" + 12 digits); none when an operator signed it
    # from the command line.
    Column("change_request", String(15), nullable=True),
    Column("created_at", Float, nullable=False),
)
