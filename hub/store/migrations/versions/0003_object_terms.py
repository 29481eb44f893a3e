"""Search terms of stored objects: pseudonyms they carry and objects a report refers to.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "object_terms",
        sa.Column("collection_pk", sa.Integer, sa.ForeignKey("collections.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("stix_id", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("term", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("collection_pk", "stix_id", "kind", "term"),
    )
    op.create_index("ix_object_terms_term", "object_terms", ["kind", "term"])


def downgrade() -> None:
    op.drop_table("object_terms")
