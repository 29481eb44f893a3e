"""Tombstones: the object versions deleted from a collection, so that none comes back.

One row per deleted version (or, for an object with neither ``modified`` nor ``created``, per
object id), whether it was deleted here or by a peer hub whose signed tombstone this hub took;
the table is described with its SQL in hub.store.schema and hub.store.tombstones. Each
federation link gets a second cursor, over the tombstones: a pull link's place in the peer's
tombstone feed, a push link's place in this hub's own.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tombstones",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("collection_pk", sa.Integer, sa.ForeignKey("collections.pk", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("stix_id", sa.String(300), nullable=False),
        sa.Column("version_us", sa.BigInteger, nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("added_us", sa.BigInteger, nullable=False),
        sa.Column("deleted_us", sa.BigInteger, nullable=False),
        sa.Column("deleted_by", sa.String(100), nullable=False),
        sa.Column("hub", sa.String(100), nullable=True),
        sa.Column("record_json", sa.Text, nullable=True),
        sa.Column("held_added_us", sa.BigInteger, nullable=True),
        sa.Column("held_party_pk", sa.Integer, nullable=True),
        sa.Column("held_tlp", sa.Integer, nullable=True),
        sa.UniqueConstraint("collection_pk", "stix_id", "version_us", name="uq_tombstones_version"),
        sa.UniqueConstraint("collection_pk", "added_us", name="uq_tombstones_added"),
    )
    op.create_index("ix_tombstones_deleted", "tombstones", ["deleted_us"])
    op.add_column("fed_links", sa.Column("tombstone_cursor", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fed_links") as batch:
        batch.drop_column("tombstone_cursor")
    op.drop_index("ix_tombstones_deleted", table_name="tombstones")
    op.drop_table("tombstones")
