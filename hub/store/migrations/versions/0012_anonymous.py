"""Anonymous filing: the collections that accept it, the filings waiting for their random
publication time, and what the hub keeps beside each anonymous report (the commitment to its
withdrawal secret, the submitter record sealed to the oversight key, its own object ids). No
table here holds a party or a time of filing; hub.store.anonymous describes them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "anonymous_collections",
        sa.Column("collection_pk", sa.Integer, sa.ForeignKey("collections.pk", ondelete="CASCADE"),
                  primary_key=True),
    )
    op.create_table(
        "anonymous_filings",
        sa.Column("pk", sa.String(36), primary_key=True),
        sa.Column("collection_pk", sa.Integer, sa.ForeignKey("collections.pk", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("publish_us", sa.BigInteger, nullable=False),
        sa.Column("objects_json", sa.Text, nullable=False),
        sa.Column("report_id", sa.String(300), nullable=False, unique=True),
        sa.Column("commitment", sa.String(80), nullable=False),
        sa.Column("sealed_json", sa.Text, nullable=False),
        sa.Column("own_ids", sa.Text, nullable=False),
    )
    op.create_index("ix_anonymous_filings_publish", "anonymous_filings", ["publish_us"])
    op.create_table(
        "anonymous_reports",
        sa.Column("report_id", sa.String(300), primary_key=True),
        sa.Column("collection_pk", sa.Integer, sa.ForeignKey("collections.pk", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("commitment", sa.String(80), nullable=False),
        sa.Column("sealed_json", sa.Text, nullable=False),
        sa.Column("own_ids", sa.Text, nullable=False),
        sa.Column("withdrawn", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("anonymous_reports")
    op.drop_index("ix_anonymous_filings_publish", table_name="anonymous_filings")
    op.drop_table("anonymous_filings")
    op.drop_table("anonymous_collections")
