"""Web sessions on the server: a browser's cookie carries only a random session id.

Each row is one session of the analysts' web pages: the SHA-256 hash of its id (the id itself is
never stored), the party, what it signed in with (the SHA-256 hash of a token, or the SHA-256
fingerprint of a client certificate), when it started and was last seen, and when and why it
ended. Signing out ends the row, so a copy of the cookie opens nothing afterwards, on every
host of the hub that shares the database.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("party_pk", sa.Integer, sa.ForeignKey("parties.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=True),
        sa.Column("cert_fingerprint", sa.String(64), nullable=True),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("seen_us", sa.BigInteger, nullable=False),
        sa.Column("ended_us", sa.BigInteger, nullable=True),
        sa.Column("ended_reason", sa.String(20), nullable=True),
    )
    op.create_index("ix_web_sessions_seen", "web_sessions", ["seen_us"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_seen", table_name="web_sessions")
    op.drop_table("web_sessions")
