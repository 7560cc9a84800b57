"""apps.organisation_id: a production app belongs to the organisation that went live with it

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every app made before this revision is a sandbox app: no organisation.
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_apps_organisation_id_organisations", "organisations", ["organisation_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.drop_constraint("fk_apps_organisation_id_organisations", type_="foreignkey")
        batch.drop_column("organisation_id")
