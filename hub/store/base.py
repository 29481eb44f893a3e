"""The Store protocol: everything the services need from persistence, and nothing about HTTP.

:class:`Store` is whole: it declares every method a service may call, its own and those of the
store's parts it includes (:class:`~hub.store.ops.OpsStore`, the shared limits and the schema's
state; :class:`~hub.store.lifecycle.LifecycleStore`, the parties' and collections' lifecycle;
:class:`~hub.store.federation.FederationStore`, peers, links and quarantine). A service is given
a ``Store`` and calls it; it never checks what else the object it holds might be.

Implementation: :class:`hub.store.sql.SqlStore` (SQLite by default, PostgreSQL), which implements
all of it (``tests/store/test_protocol.py``). The contract tests in ``tests/store`` run every
implementation through the same cases.

Conventions that hold for every method:

- **Time** is integer microseconds since 1970-01-01T00:00:00Z (UTC), in every argument and
  result whose name ends in ``_us``. The store never reads a clock: the caller passes ``now_us``.
- **Keys.** ``*_pk`` are the store's own row numbers (parties, collections); ``collection_id``
  is a collection's public UUID; ``stix_id`` a STIX identifier.
- **Transactions.** Each method that writes runs in a transaction of its own and has committed
  when it returns. Several writes that must commit together go through :meth:`Store.transaction`.
  A thread that holds a transaction open must not call the store's own writing methods until it
  ends (on SQLite it would wait for its own lock): they raise :class:`RuntimeError` instead.
- **Lookups** by a string holding U+0000 (a name, an id, a filter value) find nothing, on every
  database: nothing stored holds that character (:mod:`hub.store.limits`).
- **Errors.** Besides what each method names, any method raises the database driver's error
  (a :class:`sqlalchemy.exc.DBAPIError`) when the database fails or cannot be reached; nothing
  has been written then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from hub.store.anonymous import AnonymousStore
from hub.store.audiences import AudienceStore, StaleMembers
from hub.store.audit import AuditEntry, AuditRecord
from hub.store.errors import DuplicateError
from hub.store.federation import FederationStore
from hub.store.lifecycle import LifecycleStore
from hub.store.limits import UnstorableError
from hub.store.ops import OpsStore
from hub.store.records import (
    AddOutcome,
    Collection,
    Grant,
    KeyRecord,
    NewVersion,
    ObjectFilter,
    Page,
    Party,
    PartyAttributes,
    StatusRecord,
    StoredVersion,
)
from hub.store.submission_tokens import SubmissionTokenStore

if TYPE_CHECKING:
    from hub.store.dialect import FileIdentity
    from hub.store.replicas import StandbyReport
    from hub.store.tombstones import Describe, Tombstone
    from hub.store.websessions import WebSessionRecord


_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """What is known about one API token besides its secret: never the token, never its hash.

    ``id`` is the row's primary key: a short number, not secret and not derived from the token,
    that operators use to name one token (to list it, to revoke it).
    """

    id: int
    party_pk: int
    label: str
    created_us: int
    revoked_us: int | None

    @property
    def active(self) -> bool:
        return self.revoked_us is None


class Transaction(Protocol):
    """The writes that can share one transaction (see :meth:`Store.transaction`).

    Each behaves as the :class:`Store` method of the same name, except that nothing it writes is
    visible to anyone else, or durable, until the ``with`` block that opened the transaction
    ends without an exception.
    """

    def add_versions(self, collection_pk: int, party_pk: int, versions: Iterable[NewVersion],
                     now_us: int) -> list[AddOutcome]:
        """As :meth:`Store.add_versions`."""
        ...

    def save_status(self, status: StatusRecord, expires_us: int) -> None:
        """As :meth:`Store.save_status`."""
        ...

    def ensure_audience(self, key: str, canonical: str, member_pks: Iterable[int], now_us: int,
                        generation: int | None = None) -> int:
        """As :meth:`Store.ensure_audience`: an audience made here, and its members, commit with
        the versions that use it. With ``generation``, the parties generation's row stays locked
        until this transaction ends once an audience is made (or :class:`StaleMembers` raised),
        so the members asked again for after :class:`StaleMembers` cannot be stale again."""
        ...

    def append_audit(self, entries: list[AuditEntry], now_us: int) -> None:
        """As :meth:`Store.append_audit`."""
        ...


class Store(OpsStore, LifecycleStore, FederationStore, AudienceStore, AnonymousStore, SubmissionTokenStore,
            Protocol):
    """Persistence for parties, credentials, collections, grants, objects, statuses, signing
    keys, the audit chain and settings, web sessions and tombstones; with the parts it includes,
    shared limits and the schema's state, the parties' and collections' lifecycle, federation,
    the audiences that say who may read each object version, anonymous filings and submission
    tokens."""

    # -- plumbing

    @property
    def url(self) -> str:
        """The database URL the store was opened with (as SQLAlchemy takes it: a PostgreSQL URL
        names its driver). It may hold the database password: never log or show it."""
        ...

    def database_file(self) -> FileIdentity | None:
        """The (device, inode) of the SQLite file the store serves; None for PostgreSQL (or a
        database in memory). Raises :class:`hub.common.errors.Unavailable` when the file at the
        store's path is no longer the one it opened."""
        ...

    def migrate(self) -> str:
        """Bring the schema to the newest revision; idempotent. Returns that revision's name."""
        ...

    def transaction(self) -> AbstractContextManager[Transaction]:
        """A write transaction: ``with store.transaction() as tx: ...``.

        Everything done through ``tx`` commits together when the block ends normally, or not at
        all: an exception inside the block rolls every write of the block back and propagates.
        The transaction holds the write locks it takes until it ends (on SQLite the whole
        database, from the start; on PostgreSQL the rows it changes), so keep it short and do
        the slow work (validation, signatures) before opening it. While it is open, the same
        thread must write only through ``tx``: the store's own writing methods raise
        :class:`RuntimeError`. Reads through the store see what was committed before the block,
        not the block's own writes.
        """
        ...

    def close(self) -> None:
        """Release the store's connections. The store is not used afterwards."""
        ...

    def reading(self) -> AbstractContextManager[None]:
        """One read for the block: ``with store.reading(): ...``. Every read this thread makes
        through the store inside the block is served by one connection in one transaction
        (taken from the pool once, not once per read), and sees one state of the database on
        SQLite. Writes still go through their own transactions. With standbys, the block's
        reads that are not routed share one connection likewise (to the primary, or to a standby
        while the primary does not answer); routed reads (:meth:`routed`) still go read by read."""
        ...

    # -- standbys (hub.store.replicas)

    def routed(self, fn: Callable[[], _T], party_pk: int | None) -> _T:
        """``fn()`` with the store's reads in it served by a PostgreSQL standby fit for the
        party ``party_pk`` (one that has replayed that party's writes, within the lag allowed),
        else by the primary; run again elsewhere when the standby serving it fails. Without
        standbys, just ``fn()``. Writes in ``fn`` go to the primary as always."""
        ...

    def check_standbys(self) -> list[str]:
        """Check the standbys now: one line per standby that is not a hot standby of this
        database (it is not used); one that does not answer is only reported by :meth:`standbys`."""
        ...

    def standbys(self) -> list[StandbyReport]:
        """What is known of each standby (its name, state and lag; never its address)."""
        ...

    # -- parties and credentials

    def create_party(self, name: str, kind: str, identity_id: str, operator: bool, now_us: int) -> Party:
        """Create a party created at ``now_us``, its own organisation (its identity id) and no
        other attribute set (:meth:`edit_party` sets them). Raises :class:`DuplicateError` when
        the name or the identity id is taken. The caller has checked the name and the kind."""
        ...

    def edit_party(self, party_pk: int, attrs: PartyAttributes) -> Party:
        """Set the attributes ``attrs`` gives (those left None stay; ``attrs.clear`` names the
        ones set to None); returns the party as it now is. The caller has checked the values;
        raises :class:`UnstorableError` (nothing changed) for one no database would store alike
        (an organisation over 200 characters, a country or entity over 20, an empty list entry
        or one holding a comma, U+0000), :class:`ValueError` for a name in ``clear`` other than
        ``country`` and ``entity``, :class:`KeyError` when there is no such party. Memberships of
        audiences are the caller's to recompute (:meth:`set_memberships`)."""
        ...

    def get_party(self, name: str) -> Party | None:
        """The party named ``name`` (exact, case-sensitive), or None."""
        ...

    def list_parties(self) -> list[Party]:
        """Every party, ordered by name."""
        ...

    def add_token(self, party_pk: int, token_hash: str, label: str, now_us: int) -> int:
        """Store a token's hash (never the token) for the party; returns the token's id.
        Raises :class:`sqlalchemy.exc.IntegrityError` if the hash is already stored."""
        ...

    def party_for_token(self, token_hash: str) -> Party | None:
        """The party holding the active (not revoked) token with this hash, or None; a disabled
        or removed party holds no active token."""
        ...

    def list_tokens(self, party_pk: int) -> list[TokenRecord]:
        """The party's tokens, revoked ones included, oldest first (by id)."""
        ...

    def get_token(self, token_id: int) -> TokenRecord | None:
        """The token with this id, whoever's it is, or None."""
        ...

    def revoke_token(self, party_pk: int, token_id: int, now_us: int) -> bool:
        """Revoke one active token of the party as of ``now_us``; False (and nothing changed)
        when the party has no active token with that id."""
        ...

    def revoke_tokens(self, party_pk: int, now_us: int) -> int:
        """Revoke every active token of the party as of ``now_us``; returns how many."""
        ...

    # -- collections and grants

    def create_collection(self, collection_id: str, title: str, description: str, alias: str | None,
                          max_tlp: str, require_signatures: bool, countersign: bool,
                          allow_personal_data: bool, now_us: int) -> Collection:
        """Create a collection with its policy. Raises :class:`DuplicateError` when the id or the
        alias is taken. The caller has checked the values."""
        ...

    def get_collection(self, collection_id: str) -> Collection | None:
        """The collection whose id or alias is ``collection_id``, or None."""
        ...

    def list_collections(self) -> list[Collection]:
        """Every collection, in the order they were created."""
        ...

    def set_grant(self, party_pk: int, collection_pk: int, can_read: bool, can_write: bool) -> Grant:
        """Set (replace) what the party may do with the collection; neither right removes the
        grant. Returns the grant as it now is."""
        ...

    def grants_for(self, party_pk: int) -> dict[int, Grant]:
        """The party's grants, by collection pk."""
        ...

    def grants_of(self, collection_pk: int) -> dict[int, Grant]:
        """The collection's grants, by party pk (one query: who may read or write it)."""
        ...

    # -- objects

    def add_versions(self, collection_pk: int, party_pk: int, versions: Iterable[NewVersion],
                     now_us: int) -> list[AddOutcome]:
        """Store object versions submitted by the party, in order; one outcome per version.

        Each new version gets a ``date_added`` that is distinct and increasing within the
        collection: ``now_us``, or one microsecond after the collection's last one if that is
        not earlier (a clock that went backwards never reorders the collection). A version
        already in the collection (same id and ``version_us``; for an unversioned object
        (``version_us`` -1), any version of that id) is not stored again: its outcome has
        ``stored`` False and ``date_added_us`` 0. The first and last versions of each object
        are kept marked for :attr:`ObjectFilter.versions`; the versions' terms are indexed for
        :meth:`find_terms`. Each version keeps its ``audience_pk`` (0, or an audience made by
        :meth:`ensure_audience`, in this transaction or before) and ``pending_audience_pk``.

        Raises :class:`UnstorableError` (before writing anything) if a version breaks
        :func:`hub.store.limits.unstorable_reason`; callers check each version first.
        """
        ...

    def query_objects(self, collection_pk: int, flt: ObjectFilter, after_added_us: int | None,
                      limit: int) -> Page:
        """One page of the collection's object versions matching ``flt``.

        With ``flt.reader_pk``, only the versions that party may read: the others are left out
        in the query, before the limit, so pages hold exactly what it may read, and ``more`` is
        False when nothing it may read follows. Ordered by ``date_added``, oldest first. ``after_added_us`` is the paging cursor: only
        versions added strictly after it (pass the ``key`` of the last item of the previous page,
        which is its ``date_added_us``; None for the first page). At most ``limit`` (>= 1) items;
        ``Page.more`` tells whether more match. Items carry their stored JSON text.
        """
        ...

    def object_versions(self, collection_pk: int, stix_id: str, flt: ObjectFilter,
                        after_version_us: int | None, limit: int) -> Page:
        """One page of the versions of one object that match ``flt``.

        Ordered by version (``modified``, else ``created``, else ``date_added``), oldest first.
        ``after_version_us`` is the paging cursor: only versions strictly newer than it (pass the
        ``key`` of the last item of the previous page, which here is its version in
        microseconds; None for the first page). At most ``limit`` (>= 1) items. Items carry no
        JSON text (``json_text`` is empty): the versions endpoint lists versions only. With
        ``flt.reader_pk``, only the versions that party may read, as :meth:`query_objects`.
        """
        ...

    def delete_object(self, collection_pk: int, stix_id: str, flt: ObjectFilter,
                      party_pk: int | None = None) -> int:
        """Delete the object's versions matching ``flt`` (only those ``party_pk`` submitted, when
        given; only those ``flt.reader_pk`` may read, when set); returns how many. The remaining versions' first and last marks are recomputed;
        the object's terms go with its last version."""
        ...

    def count_objects(self, collection_pk: int) -> int:
        """How many object versions the collection holds."""
        ...

    def find_terms(self, kind: str, terms: Iterable[str], collection_pks: Iterable[int],
                   reader_pk: int | None = None) -> list[tuple[int, str, str]]:
        """``(collection_pk, stix_id, term)`` of the objects in those collections indexed under
        any of ``terms`` of this kind (``"pseudonym"`` or ``"ref"``), sorted; with
        ``reader_pk``, only objects of which that party may read at least one version."""
        ...

    # -- statuses

    def save_status(self, status: StatusRecord, expires_us: int) -> None:
        """Store a status resource until ``expires_us``. Raises :class:`sqlalchemy.exc.IntegrityError`
        if its id is taken."""
        ...

    def get_status(self, status_id: str, now_us: int) -> StatusRecord | None:
        """The status with this id if it has not expired at ``now_us``, else None."""
        ...

    def purge_statuses(self, now_us: int) -> int:
        """Delete the statuses expired at ``now_us``; returns how many."""
        ...

    # -- signing keys

    def add_key(self, party_pk: int, key_id: str, alg: str, jwk_json: str, not_before_us: int,
                not_after_us: int | None, now_us: int) -> None:
        """Register a party's public key, valid from ``not_before_us`` until ``not_after_us``
        (None: no end). Raises :class:`DuplicateError` when ``key_id`` is registered (to anyone)."""
        ...

    def list_keys(self, party_pk: int | None = None) -> list[KeyRecord]:
        """The registered keys (one party's, or everyone's), revoked ones included, in the order
        they were registered."""
        ...

    def revoke_key(self, key_id: str, now_us: int) -> bool:
        """Revoke the key as of ``now_us``; False (nothing changed) if it is unknown or already
        revoked."""
        ...

    # -- the audit chain

    def append_audit(self, entries: list[AuditEntry], now_us: int) -> None:
        """Append entries to the hash chain, in order, with the next sequence numbers.

        Content with no RFC 8785 canonical form is stored as :func:`hub.store.audit.recordable`
        makes it. A record's ``at_us`` is its entry's own ``at_us`` (``now_us`` when it has
        none), clamped to be no earlier than the record before it: times never go backwards
        along ``seq``, and a record appended late carries the time it was appended.
        """
        ...

    def iter_audit(self, since_us: int | None = None) -> Iterator[AuditRecord]:
        """The chain's records by ``seq``, first to last; with ``since_us``, only those whose
        ``at_us`` is at or after it (as ``at_us`` never decreases, that is a tail of the chain)."""
        ...

    def audit_head(self) -> tuple[int, str]:
        """``(seq, hash)`` of the newest record; ``(0, GENESIS)`` for an empty chain."""
        ...

    # -- settings

    def get_setting(self, name: str) -> str | None:
        """The hub setting's value, or None if it was never set."""
        ...

    def set_setting(self, name: str, value: str) -> None:
        """Set (insert or replace) a hub setting."""
        ...

    # -- web sessions (hub.store.websessions): a session id is kept only as its SHA-256 hash

    def create_web_session(self, id_hash: str, party_pk: int, token_hash: str | None,
                           cert_fingerprint: str | None, now_us: int) -> bool:
        """Start a session of the party, signed in with a token (its hash) or a certificate (its
        fingerprint), last seen ``now_us``; False (nothing written) if ``id_hash`` is taken."""
        ...

    def web_session(self, id_hash: str) -> WebSessionRecord | None:
        """The session with this id hash, ended or not; None if there is none."""
        ...

    def touch_web_session(self, id_hash: str, seen_us: int) -> bool:
        """Mark a live session seen at ``seen_us`` (never earlier than it was); False if it has
        ended, is unknown, or was already seen at or after ``seen_us``."""
        ...

    def end_web_session(self, id_hash: str, reason: str, now_us: int) -> bool:
        """End a live session as of ``now_us`` for ``reason`` (at most 20 characters); False if
        it had already ended or is unknown."""
        ...

    def purge_web_sessions(self, before_us: int) -> int:
        """Delete the sessions last seen, or ended, before ``before_us``; how many."""
        ...

    # -- tombstones (hub.store.tombstones): deleted versions, never stored again

    def delete_remembered(self, collection_pk: int, stix_id: str, flt: ObjectFilter, party_pk: int | None,
                          deleted_by: str, now_us: int, describe: Describe) -> list[Tombstone]:
        """As :meth:`delete_object`, and remember each deleted version with a tombstone, deleted
        by the party whose identity id is ``deleted_by`` at ``now_us``, in the same transaction.
        ``describe`` reads each deleted copy's JSON text (an unversioned object's tombstone buries
        every version of its id). Returns the new tombstones (one per version deleted)."""
        ...

    def apply_tombstone(self, collection_pk: int, stix_id: str, version_us: int, version: str, deleted_us: int,
                        deleted_by: str, hub: str, record_json: str, now_us: int,
                        describe: Describe) -> tuple[Tombstone | None, int]:
        """Take a peer hub's tombstone: delete the copy of that version held here (for
        ``version_us`` -1, every unversioned copy of the id) and keep the tombstone with its
        record, in one transaction. Returns the new tombstone and how many versions were deleted;
        ``(None, 0)`` (nothing changed) when the version has a tombstone here already."""
        ...

    def tombstoned(self, collection_pk: int, versions: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Tombstone]:
        """The tombstones of these ``(stix_id, version_us)`` (-1: an unversioned object) in the
        collection, by the same pair."""
        ...

    def tombstone_mark(self, collection_pk: int) -> int | None:
        """The newest feed place (``added_us``) of the collection's tombstones; None when it has
        none. A new tombstone always raises it, so it tells when :meth:`tombstoned_ids` changed."""
        ...

    def tombstoned_ids(self, collection_pk: int) -> set[str]:
        """The ids of the objects that have a tombstone in the collection."""
        ...

    def tombstones_after(self, collection_pk: int, after_added_us: int | None, limit: int,
                         reader_pk: int | None = None) -> tuple[list[Tombstone], bool]:
        """The collection's tombstones whose feed place (``added_us``) is after
        ``after_added_us`` (all: None), in feed order, at most ``limit``; and whether more follow.

        With ``reader_pk``, only those the party may be told of: a tombstone whose deleted copy's
        audience (``held_audience_pk``) does not admit it is left out, as that copy was hidden
        from it (:func:`hub.store.audiences.readable`, applied before ``limit``). A tombstone
        without a held audience (a version this hub never held, or a copy deleted before
        revision 0010) is kept: the caller judges it by ``held_tlp``."""
        ...

    def count_tombstones(self, collection_pk: int) -> int:
        """How many tombstones the collection has."""
        ...

    def purge_tombstones(self, collection_pk: int, deleted_before_us: int) -> int:
        """Forget the collection's tombstones of versions deleted before ``deleted_before_us``;
        how many."""
        ...


__all__ = ["DuplicateError", "StaleMembers", "Store", "StoredVersion", "TokenRecord", "Transaction",
           "UnstorableError"]
