"""Markings: the parties' attributes that markings are judged against, the audiences (who may
read an object version, computed at ingest) with their members, each version's audience, the
audience of the copy each tombstone deleted, and the parties generation (the setting
``parties_generation``, raised whenever a party's memberships are recomputed).

Every existing party becomes its own organisation (its identity id) until it is edited; every
existing version gets audience 0 (every reader of its collection, as before). Which existing
versions the marking rules would restrict is worked out after this revision, by ``abusehub
migrate`` (the rules are not the schema's), and recorded in the setting ``audiences_classified``;
a database that holds no object yet has nothing to classify, and this revision records it so.

Columns are added in place on both databases (no table is copied: on SQLite, copying
``parties`` would cascade the deletion of its rows to the tables that refer to it).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_PARTY_COLUMNS = ("organisation", "country", "entity", "shareability", "terms_accepted", "serves",
                  "enforces_markings")


def upgrade() -> None:
    op.add_column("parties", sa.Column("organisation", sa.String(200), nullable=False, server_default=""))
    op.add_column("parties", sa.Column("country", sa.String(20), nullable=True))
    op.add_column("parties", sa.Column("entity", sa.String(20), nullable=True))
    op.add_column("parties", sa.Column("shareability", sa.Text, nullable=False, server_default=""))
    op.add_column("parties", sa.Column("terms_accepted", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("parties", sa.Column("serves", sa.Text, nullable=False, server_default=""))
    op.add_column("parties", sa.Column("enforces_markings", sa.Boolean, nullable=False,
                                       server_default=sa.false()))
    op.execute("UPDATE parties SET organisation = identity_id")

    op.create_table(
        "audiences",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("canonical", sa.Text, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "audience_members",
        sa.Column("audience_pk", sa.Integer, sa.ForeignKey("audiences.pk", ondelete="CASCADE"), primary_key=True),
        sa.Column("party_pk", sa.Integer, sa.ForeignKey("parties.pk", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_audience_members_party", "audience_members", ["party_pk", "audience_pk"])

    # A constant default: added without rewriting the table (PostgreSQL 11+, SQLite).
    op.add_column("objects", sa.Column("audience_pk", sa.Integer, nullable=False, server_default="0"))
    op.add_column("objects", sa.Column("pending_audience_pk", sa.Integer, nullable=True))
    # The audience of the copy a tombstone deleted here (NULL: none held, or deleted before this
    # revision, whose held_tlp still says what it was marked).
    op.add_column("tombstones", sa.Column("held_audience_pk", sa.Integer, nullable=True))
    # The parties generation: raised, its row locked, whenever a party's memberships are
    # recomputed; an audience is made only with members computed at the current one.
    op.execute("INSERT INTO settings (name, value) VALUES ('parties_generation', '0')")
    # A database that holds no object has none to classify: recorded as done, as the back-fill would.
    op.execute("INSERT INTO settings (name, value) SELECT 'audiences_classified', '1' "
               "WHERE NOT EXISTS (SELECT 1 FROM objects)")


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN in place on both databases (SQLite 3.35 and later).
    op.execute("ALTER TABLE tombstones DROP COLUMN held_audience_pk")
    for column in ("pending_audience_pk", "audience_pk"):
        op.execute(f"ALTER TABLE objects DROP COLUMN {column}")
    op.drop_index("ix_audience_members_party", table_name="audience_members")
    op.drop_table("audience_members")
    op.drop_table("audiences")
    for column in reversed(_PARTY_COLUMNS):
        op.execute(f"ALTER TABLE parties DROP COLUMN {column}")
    op.execute("DELETE FROM settings WHERE name IN ('audiences_classified', 'parties_generation')")
