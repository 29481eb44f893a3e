"""Search terms are looked up by (kind, term, collection_pk), covering stix_id.

The correlation view asks for the objects carrying some terms in the collections a party may
read. With the old (kind, term) index beside the primary key (collection_pk, stix_id, kind,
term), SQLite (which keeps no statistics unless asked) took the primary key for
``collection_pk IN (...)`` and read every term of the collection. The new index answers the
whole lookup from the index alone and replaces the old one, which is its prefix.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_object_terms_lookup", "object_terms", ["kind", "term", "collection_pk", "stix_id"])
    op.drop_index("ix_object_terms_term", table_name="object_terms")


def downgrade() -> None:
    op.create_index("ix_object_terms_term", "object_terms", ["kind", "term"])
    op.drop_index("ix_object_terms_lookup", table_name="object_terms")
