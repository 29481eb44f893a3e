"""A party's own allowance of oblivious pseudonym evaluations a minute
(``parties.pseudonyms_per_minute``, set with ``abusehub party edit NAME
--pseudonyms-per-minute N``). NULL, what every existing party gets, is the hub's default
(``[pseudonyms] per_minute``).

Added in place on both databases, nullable and without a default: no row is rewritten.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("parties", sa.Column("pseudonyms_per_minute", sa.Integer, nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN in place on both databases (SQLite 3.35 and later).
    op.execute("ALTER TABLE parties DROP COLUMN pseudonyms_per_minute")
