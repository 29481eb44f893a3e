"""Other hubs' token keys refused: when a peer hub publishes, for an epoch this hub copied a key
of before, a different key, the copy stays and the key offered is kept here (issuer, epoch, its
key id, where and when it was seen), so that the operator sees it and providers are told.
hub.store.submission_tokens describes it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "token_key_conflicts",
        sa.Column("issuer", sa.String(300), primary_key=True),
        sa.Column("epoch", sa.Integer, primary_key=True),
        sa.Column("token_key_id", sa.String(64), primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("seen_us", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("token_key_conflicts")
