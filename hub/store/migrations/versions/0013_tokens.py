"""Submission tokens: each epoch's token key (its private half sealed with a key derived from the
hub's signing key, so that every host of the hub uses the same one), how many tokens each party
was issued per epoch, the tokens redeemed (key id and nonce only), and other hubs' token keys as
this hub copied them. No table here holds both
a party and anything of a redeemed token; hub.store.submission_tokens describes them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "token_keys",
        sa.Column("epoch", sa.Integer, primary_key=True),
        sa.Column("token_key_id", sa.String(64), nullable=False),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("sealed_private", sa.Text, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "token_issuance",
        sa.Column("party_pk", sa.Integer, sa.ForeignKey("parties.pk", ondelete="CASCADE"), primary_key=True),
        sa.Column("epoch", sa.Integer, primary_key=True),
        sa.Column("issued", sa.Integer, nullable=False),
    )
    op.create_table(
        "spent_tokens",
        sa.Column("token_key_id", sa.String(64), primary_key=True),
        sa.Column("nonce", sa.String(64), primary_key=True),
    )
    op.create_table(
        "token_key_copies",
        sa.Column("issuer", sa.String(300), primary_key=True),
        sa.Column("epoch", sa.Integer, primary_key=True),
        sa.Column("token_key_id", sa.String(64), nullable=False),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("copied_us", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("token_key_copies")
    op.drop_table("spent_tokens")
    op.drop_table("token_issuance")
    op.drop_table("token_keys")
