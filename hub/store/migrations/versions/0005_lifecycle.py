"""The operator's lifecycle: disabled and removed parties, client certificates, collection retention.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("parties") as batch:
        batch.add_column(sa.Column("disabled_us", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("removed_us", sa.BigInteger, nullable=True))
    with op.batch_alter_table("collections") as batch:
        batch.add_column(sa.Column("max_age_days", sa.Integer, nullable=True))
    op.create_table(
        "party_certificates",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("party_pk", sa.Integer, sa.ForeignKey("parties.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("not_after_us", sa.BigInteger, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("party_certificates")
    with op.batch_alter_table("collections") as batch:
        batch.drop_column("max_age_days")
    with op.batch_alter_table("parties") as batch:
        batch.drop_column("removed_us")
        batch.drop_column("disabled_us")
