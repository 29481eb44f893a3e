"""The tables, as SQLAlchemy Core metadata. Changes to them go through a migration.

The widths of the columns that hold submitted values are constants of :mod:`hub.store.limits`,
which checks them before anything is written (PostgreSQL enforces them, SQLite does not).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from hub.store.limits import (
    AUDIT_KIND_MAX,
    COLLECTION_ID_MAX,
    LABEL_MAX,
    ORGANISATION_MAX,
    PARTY_CODE_MAX,
    PARTY_NAME_MAX,
    SPEC_VERSION_MAX,
    STIX_ID_MAX,
    TERM_KIND_MAX,
    TERM_MAX,
    TITLE_MAX,
    TYPE_MAX,
    VERSION_MAX,
)

metadata = MetaData()

parties = Table(
    "parties", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("name", String(PARTY_NAME_MAX), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("identity_id", String(100), nullable=False, unique=True),
    Column("operator", Boolean, nullable=False, default=False),
    Column("created_us", BigInteger, nullable=False),
    # The party's lifecycle (revision 0005, hub.store.lifecycle): set when disabled or removed.
    Column("disabled_us", BigInteger, nullable=True),
    Column("removed_us", BigInteger, nullable=True),
    # What markings are judged against (revision 0010, hub.store.audiences): the organisation
    # (a party made before it has its identity id), country (alpha-3), ACS entity type and
    # shareability categories, whether it accepted the programme's terms; for a peer, the
    # identity ids of the parties it serves and whether it enforces markings. The lists are
    # stored comma-joined ("" for none). create_party sets the organisation to the identity id.
    Column("organisation", String(ORGANISATION_MAX), nullable=False, server_default=""),
    Column("country", String(PARTY_CODE_MAX), nullable=True),
    Column("entity", String(PARTY_CODE_MAX), nullable=True),
    Column("shareability", Text, nullable=False, server_default=""),
    Column("terms_accepted", Boolean, nullable=False, server_default=false()),
    Column("serves", Text, nullable=False, server_default=""),
    Column("enforces_markings", Boolean, nullable=False, server_default=false()),
    # The party's own allowance of oblivious pseudonym evaluations a minute (revision 0011);
    # NULL: the hub's [pseudonyms] per_minute.
    Column("pseudonyms_per_minute", Integer, nullable=True),
)

tokens = Table(
    "tokens", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("party_pk", Integer, ForeignKey("parties.pk", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("label", String(LABEL_MAX), nullable=False, default=""),
    Column("created_us", BigInteger, nullable=False),
    Column("revoked_us", BigInteger, nullable=True),
)

collections = Table(
    "collections", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(COLLECTION_ID_MAX), nullable=False, unique=True),
    Column("title", String(TITLE_MAX), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("alias", String(TITLE_MAX), nullable=True, unique=True),
    Column("max_tlp", String(20), nullable=False),
    Column("require_signatures", Boolean, nullable=False),
    Column("countersign", Boolean, nullable=False),
    Column("allow_personal_data", Boolean, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    # The last date_added given out in this collection: every version gets a distinct,
    # increasing date_added so that paging by added_after never skips or repeats.
    Column("last_added_us", BigInteger, nullable=False, default=0),
    # Retention (revision 0005): versions added more than this many days ago are purged.
    Column("max_age_days", Integer, nullable=True),
)

grants = Table(
    "grants", metadata,
    Column("party_pk", Integer, ForeignKey("parties.pk", ondelete="CASCADE"), primary_key=True),
    Column("collection_pk", Integer, ForeignKey("collections.pk", ondelete="CASCADE"), primary_key=True),
    Column("can_read", Boolean, nullable=False),
    Column("can_write", Boolean, nullable=False),
)

objects = Table(
    "objects", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("collection_pk", Integer, ForeignKey("collections.pk", ondelete="CASCADE"), nullable=False),
    Column("date_added_us", BigInteger, nullable=False),
    Column("stix_id", String(STIX_ID_MAX), nullable=False),
    Column("type", String(TYPE_MAX), nullable=False),
    Column("version_us", BigInteger, nullable=False),
    Column("version", String(VERSION_MAX), nullable=False),
    Column("spec_version", String(SPEC_VERSION_MAX), nullable=False),
    Column("is_latest", Boolean, nullable=False),
    Column("is_first", Boolean, nullable=False),
    Column("party_pk", Integer, ForeignKey("parties.pk"), nullable=False),
    Column("json_text", Text, nullable=False),
    # Who may read this version (revision 0010, hub.store.audiences): 0, every reader of the
    # collection; else an audiences.pk. pending_audience_pk: the audience it gets when the
    # operator applies the rules an upgrade found (NULL: none pending).
    Column("audience_pk", Integer, nullable=False, server_default="0"),
    Column("pending_audience_pk", Integer, nullable=True),
    UniqueConstraint("collection_pk", "date_added_us", name="uq_objects_collection_added"),
    UniqueConstraint("collection_pk", "stix_id", "version_us", name="uq_objects_collection_version"),
    Index("ix_objects_collection_type_added", "collection_pk", "type", "date_added_us"),
)

statuses = Table(
    "statuses", metadata,
    Column("id", String(36), primary_key=True),
    Column("party_pk", Integer, ForeignKey("parties.pk", ondelete="CASCADE"), nullable=False),
    Column("collection_pk", Integer, ForeignKey("collections.pk", ondelete="CASCADE"), nullable=False),
    Column("request_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger, nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("details_json", Text, nullable=False),
)

party_keys = Table(
    "party_keys", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("party_pk", Integer, ForeignKey("parties.pk", ondelete="CASCADE"), nullable=False),
    Column("key_id", String(100), nullable=False, unique=True),
    Column("alg", String(20), nullable=False),
    Column("jwk_json", Text, nullable=False),
    Column("not_before_us", BigInteger, nullable=False),
    Column("not_after_us", BigInteger, nullable=True),
    Column("revoked_us", BigInteger, nullable=True),
    Column("created_us", BigInteger, nullable=False),
)

# The audit trail: append-only, each record holding the hash of the one before it.
audit_log = Table(
    "audit_log", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at_us", BigInteger, nullable=False, index=True),
    Column("kind", String(AUDIT_KIND_MAX), nullable=False),
    Column("party", String(PARTY_NAME_MAX), nullable=False),
    Column("collection", String(COLLECTION_ID_MAX), nullable=False),
    Column("data_json", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# One row: the newest record of the chain. Appenders lock it, so the chain stays a line.
audit_head = Table(
    "audit_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

settings = Table(
    "settings", metadata,
    Column("name", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

# What an object can be found by: the pseudonyms it carries ("pseudonym") and, for reports,
# the objects it refers to ("ref"). Written with the object; used by the correlation view,
# which looks terms up in the collections a party may read (revision 0007: a covering index).
object_terms = Table(
    "object_terms", metadata,
    Column("collection_pk", Integer, ForeignKey("collections.pk", ondelete="CASCADE"), primary_key=True),
    Column("stix_id", String(STIX_ID_MAX), primary_key=True),
    Column("kind", String(TERM_KIND_MAX), primary_key=True),
    Column("term", String(TERM_MAX), primary_key=True),
    Index("ix_object_terms_lookup", "kind", "term", "collection_pk", "stix_id"),
)

# Client certificates a party authenticates with (revision 0005): the SHA-256 fingerprint of
# the DER certificate, as hex, and what the operator needs to recognise it.
party_certificates = Table(
    "party_certificates", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("party_pk", Integer, ForeignKey("parties.pk", ondelete="CASCADE"), nullable=False),
    Column("fingerprint", String(64), nullable=False, unique=True),
    Column("subject", Text, nullable=False),
    Column("not_after_us", BigInteger, nullable=False),
    Column("created_us", BigInteger, nullable=False),
)

# Sessions of the web pages (revision 0008, hub.store.websessions): the browser's cookie carries
# a random id, of which only the SHA-256 hash is kept; what the session signed in with (a
# token's hash or a certificate's fingerprint); when it was last seen; when and why it ended.
web_sessions = Table(
    "web_sessions", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id_hash", String(64), nullable=False, unique=True),
    Column("party_pk", Integer, ForeignKey("parties.pk", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=True),
    Column("cert_fingerprint", String(64), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("seen_us", BigInteger, nullable=False),
    Column("ended_us", BigInteger, nullable=True),
    Column("ended_reason", String(20), nullable=True),
    Index("ix_web_sessions_seen", "seen_us"),
)

# Deleted object versions (revision 0009, hub.store.tombstones): one row per version deleted
# here, or by a peer hub whose signed tombstone this hub accepted; such a version is never
# stored again. ``added_us`` is the row's place in the collection's tombstone feed (drawn from
# the collection's date_added counter); ``hub`` and ``record_json`` are set for a peer's
# tombstone; ``held_*`` describe the copy this hub deleted, for its push links and who is told
# of the tombstone.
tombstones = Table(
    "tombstones", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("collection_pk", Integer, ForeignKey("collections.pk", ondelete="CASCADE"), nullable=False),
    Column("stix_id", String(STIX_ID_MAX), nullable=False),
    Column("version_us", BigInteger, nullable=False),  # -1: an unversioned object, every version
    Column("version", String(VERSION_MAX), nullable=False),  # "" for an unversioned object
    Column("added_us", BigInteger, nullable=False),
    Column("deleted_us", BigInteger, nullable=False),
    Column("deleted_by", String(100), nullable=False),  # the deleting party's identity id
    Column("hub", String(100), nullable=True),  # the deleting hub's identity id; NULL: this hub
    Column("record_json", Text, nullable=True),  # the peer's signed tombstone; NULL: this hub's
    Column("held_added_us", BigInteger, nullable=True),
    Column("held_party_pk", Integer, nullable=True),
    Column("held_tlp", Integer, nullable=True),
    # Revision 0010: the deleted copy's audience (NULL: none held here, or deleted before 0010).
    Column("held_audience_pk", Integer, nullable=True),
    UniqueConstraint("collection_pk", "stix_id", "version_us", name="uq_tombstones_version"),
    UniqueConstraint("collection_pk", "added_us", name="uq_tombstones_added"),
    Index("ix_tombstones_deleted", "deleted_us"),
)

# Audiences (revision 0010, hub.store.audiences): who may read an object version, by the
# markings it carries, computed once at ingest. ``key`` is the SHA-256 (hex) of ``canonical``,
# the audience's canonical JSON, which the services write and read; audience 0, every reader
# of the collection, has no row. ``audience_members`` holds which parties each one admits.
audiences = Table(
    "audiences", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("canonical", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
)

audience_members = Table(
    "audience_members", metadata,
    Column("audience_pk", Integer, ForeignKey("audiences.pk", ondelete="CASCADE"), primary_key=True),
    Column("party_pk", Integer, ForeignKey("parties.pk", ondelete="CASCADE"), primary_key=True),
    Index("ix_audience_members_party", "party_pk", "audience_pk"),
)

# The federation tables (peers, links, pinned identities, quarantine): hub.store.federation.
from hub.store import federation as _federation  # noqa: E402,F401

# The operations tables (shared limits) are defined with their SQL in hub.store.ops.
from hub.store import ops as _ops  # noqa: E402,F401
