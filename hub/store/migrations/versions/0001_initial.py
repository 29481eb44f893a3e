"""The first schema: parties, tokens, collections, grants, objects, statuses.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parties",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("identity_id", sa.String(100), nullable=False, unique=True),
        sa.Column("operator", sa.Boolean, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("party_pk", sa.Integer, sa.ForeignKey("parties.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("revoked_us", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "collections",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("alias", sa.String(200), nullable=True, unique=True),
        sa.Column("max_tlp", sa.String(20), nullable=False),
        sa.Column("require_signatures", sa.Boolean, nullable=False),
        sa.Column("countersign", sa.Boolean, nullable=False),
        sa.Column("allow_personal_data", sa.Boolean, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("last_added_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "grants",
        sa.Column("party_pk", sa.Integer, sa.ForeignKey("parties.pk", ondelete="CASCADE"), primary_key=True),
        sa.Column("collection_pk", sa.Integer, sa.ForeignKey("collections.pk", ondelete="CASCADE"), primary_key=True),
        sa.Column("can_read", sa.Boolean, nullable=False),
        sa.Column("can_write", sa.Boolean, nullable=False),
    )
    op.create_table(
        "objects",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("collection_pk", sa.Integer, sa.ForeignKey("collections.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("date_added_us", sa.BigInteger, nullable=False),
        sa.Column("stix_id", sa.String(300), nullable=False),
        sa.Column("type", sa.String(250), nullable=False),
        sa.Column("version_us", sa.BigInteger, nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("spec_version", sa.String(10), nullable=False),
        sa.Column("is_latest", sa.Boolean, nullable=False),
        sa.Column("is_first", sa.Boolean, nullable=False),
        sa.Column("party_pk", sa.Integer, sa.ForeignKey("parties.pk"), nullable=False),
        sa.Column("json_text", sa.Text, nullable=False),
        sa.UniqueConstraint("collection_pk", "date_added_us", name="uq_objects_collection_added"),
        sa.UniqueConstraint("collection_pk", "stix_id", "version_us", name="uq_objects_collection_version"),
    )
    op.create_index("ix_objects_collection_type_added", "objects", ["collection_pk", "type", "date_added_us"])
    op.create_table(
        "statuses",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("party_pk", sa.Integer, sa.ForeignKey("parties.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("collection_pk", sa.Integer, sa.ForeignKey("collections.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("request_us", sa.BigInteger, nullable=False),
        sa.Column("expires_us", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("details_json", sa.Text, nullable=False),
    )
    op.create_index("ix_statuses_expires_us", "statuses", ["expires_us"])


def downgrade() -> None:
    for name in ("statuses", "objects", "grants", "collections", "tokens", "parties"):
        op.drop_table(name)
