"""Federation: peers, links, their cursors, pinned identities, and quarantined objects.

The tables are described with their SQL in hub.store.federation.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fed_peers",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("party_pk", sa.Integer, sa.ForeignKey("parties.pk"), nullable=False, unique=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("auth", sa.String(10), nullable=False),
        sa.Column("secret_path", sa.Text, nullable=True),
        sa.Column("cert_path", sa.Text, nullable=True),
        sa.Column("key_path", sa.Text, nullable=True),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "fed_links",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("peer_pk", sa.Integer, sa.ForeignKey("fed_peers.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("direction", sa.String(4), nullable=False),
        sa.Column("remote_collection", sa.String(100), nullable=False),
        sa.Column("collection_pk", sa.Integer, sa.ForeignKey("collections.pk", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("types", sa.Text, nullable=False),
        sa.Column("max_tlp", sa.String(20), nullable=True),
        sa.Column("cursor", sa.Text, nullable=True),
        sa.Column("last_success_us", sa.BigInteger, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("last_error_us", sa.BigInteger, nullable=True),
        sa.Column("lag_objects", sa.BigInteger, nullable=True),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("peer_pk", "direction", "remote_collection", "collection_pk",
                            name="uq_fed_links"),
    )
    op.create_table(
        "fed_identities",
        sa.Column("identity_id", sa.String(100), primary_key=True),
        sa.Column("peer_pk", sa.Integer, sa.ForeignKey("fed_peers.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "fed_quarantine",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("link_pk", sa.Integer, sa.ForeignKey("fed_links.pk", ondelete="SET NULL"), nullable=True),
        sa.Column("peer_pk", sa.Integer, sa.ForeignKey("fed_peers.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("collection_pk", sa.Integer, sa.ForeignKey("collections.pk", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("stix_id", sa.String(300), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("json_text", sa.Text, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("collection_pk", "digest", name="uq_fed_quarantine_text"),
    )


def downgrade() -> None:
    op.drop_table("fed_quarantine")
    op.drop_table("fed_identities")
    op.drop_table("fed_links")
    op.drop_table("fed_peers")
