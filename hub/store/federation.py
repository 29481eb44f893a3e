"""Federation: the peers this hub exchanges collections with, the links (what is pulled from or
pushed to each peer), each link's cursor, the identities pinned to each peer, and the objects
held aside (quarantine).

:class:`FederationStore` declares this part of the store, and :class:`hub.store.base.Store` (what
every service is given) includes it; :class:`FederationMixin` implements it for
:class:`hub.store.sql.SqlStore`. Secrets are not kept here: a peer row names the files (mode
0600, under the hub home) that hold them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from hub.store.errors import DuplicateError
from hub.store.schema import collections, metadata, objects

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from sqlalchemy import Connection

__all__ = ["FederationMixin", "FederationStore", "LinkRecord", "OutgoingVersion", "PeerRecord",
           "QuarantineRecord", "fed_identities", "fed_links", "fed_peers", "fed_quarantine"]

fed_peers = Table(
    "fed_peers", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("party_pk", Integer, ForeignKey("parties.pk"), nullable=False, unique=True),
    Column("url", Text, nullable=False),
    # "token" (secret_path holds it) or "cert" (cert_path and key_path, the key in the home).
    Column("auth", String(10), nullable=False),
    Column("secret_path", Text, nullable=True),
    Column("cert_path", Text, nullable=True),
    Column("key_path", Text, nullable=True),
    Column("created_us", BigInteger, nullable=False),
)

fed_links = Table(
    "fed_links", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("peer_pk", Integer, ForeignKey("fed_peers.pk", ondelete="CASCADE"), nullable=False),
    Column("direction", String(4), nullable=False),  # "pull" or "push"
    Column("remote_collection", String(100), nullable=False),
    Column("collection_pk", Integer, ForeignKey("collections.pk", ondelete="CASCADE"), nullable=False),
    Column("types", Text, nullable=False, default=""),  # comma-separated STIX types; empty: all
    Column("max_tlp", String(20), nullable=True),
    # Pull: the peer's X-TAXII-Date-Added-Last, its exact text; push: the local date_added_us.
    Column("cursor", Text, nullable=True),
    # The same over the tombstones (revision 0009): the peer's tombstone feed (pull), this
    # hub's own (push: what has been sent as TAXII DELETE).
    Column("tombstone_cursor", Text, nullable=True),
    Column("last_success_us", BigInteger, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_error_us", BigInteger, nullable=True),
    Column("lag_objects", BigInteger, nullable=True),
    Column("created_us", BigInteger, nullable=False),
    UniqueConstraint("peer_pk", "direction", "remote_collection", "collection_pk", name="uq_fed_links"),
)

# An identity whose keys this hub takes from one peer's published key set (pinning).
fed_identities = Table(
    "fed_identities", metadata,
    Column("identity_id", String(100), primary_key=True),
    Column("peer_pk", Integer, ForeignKey("fed_peers.pk", ondelete="CASCADE"), nullable=False),
    Column("created_us", BigInteger, nullable=False),
)

fed_quarantine = Table(
    "fed_quarantine", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("link_pk", Integer, ForeignKey("fed_links.pk", ondelete="SET NULL"), nullable=True),
    Column("peer_pk", Integer, ForeignKey("fed_peers.pk", ondelete="CASCADE"), nullable=False),
    Column("collection_pk", Integer, ForeignKey("collections.pk", ondelete="CASCADE"), nullable=False),
    Column("stix_id", String(300), nullable=False),
    Column("version", String(40), nullable=False),
    Column("digest", String(64), nullable=False),  # SHA-256 of json_text: one row per exact text
    Column("reason", Text, nullable=False),
    Column("json_text", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    UniqueConstraint("collection_pk", "digest", name="uq_fed_quarantine_text"),
)


@dataclass(frozen=True, slots=True)
class PeerRecord:
    """A peer hub (or other TAXII server) and the party its objects enter as."""

    pk: int
    name: str
    party_pk: int
    url: str
    auth: str
    secret_path: str | None
    cert_path: str | None
    key_path: str | None
    created_us: int


@dataclass(frozen=True, slots=True)
class LinkRecord:
    """One direction of exchange between a local and a remote collection, with its cursor."""

    pk: int
    peer_pk: int
    peer_name: str
    direction: str
    remote_collection: str
    collection_pk: int
    collection_id: str
    types: tuple[str, ...]
    max_tlp: str | None
    cursor: str | None
    last_success_us: int | None
    last_error: str | None
    last_error_us: int | None
    lag_objects: int | None
    created_us: int
    #: The link's place in the tombstones (see ``fed_links.tombstone_cursor``); None: the start.
    tombstone_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class QuarantineRecord:
    """An object held aside, with the reason it was not accepted (its exact text)."""

    pk: int
    link_pk: int | None
    peer_pk: int
    peer_name: str
    collection_pk: int
    collection_id: str
    stix_id: str
    version: str
    reason: str
    json_text: str
    created_us: int


@dataclass(frozen=True, slots=True)
class OutgoingVersion:
    """A local object version to push: when it was added, who submitted it, its text."""

    date_added_us: int
    stix_id: str
    type: str
    party_pk: int
    json_text: str


class FederationStore(Protocol):
    """The federation part of :class:`hub.store.base.Store` (implemented by :class:`FederationMixin`)."""

    def add_peer(self, name: str, party_pk: int, url: str, auth: str, secret_path: str | None,
                 cert_path: str | None, key_path: str | None, now_us: int) -> PeerRecord:
        """Record a peer; :class:`hub.store.base.DuplicateError` if the name or party is taken."""
        ...

    def get_peer(self, name: str) -> PeerRecord | None:
        """The peer named ``name``, or None."""
        ...

    def list_peers(self) -> list[PeerRecord]:
        """Every peer, by name."""
        ...

    def remove_peer(self, pk: int) -> None:
        """Delete a peer with its links, pinned identities and quarantined objects."""
        ...

    def add_link(self, peer_pk: int, direction: str, remote_collection: str, collection_pk: int,
                 types: tuple[str, ...], max_tlp: str | None, now_us: int) -> LinkRecord:
        """Record a link; :class:`hub.store.base.DuplicateError` if the same link exists."""
        ...

    def list_links(self, peer_pk: int | None = None) -> list[LinkRecord]:
        """Every link (of one peer), by pk."""
        ...

    def get_link(self, pk: int) -> LinkRecord | None:
        """The link with this pk, or None."""
        ...

    def remove_link(self, pk: int) -> bool:
        """Delete a link; False if there was none."""
        ...

    def set_link_cursor(self, pk: int, cursor: str | None, now_us: int, lag_objects: int | None) -> None:
        """Move the link's cursor and record a success at ``now_us``."""
        ...

    def set_link_error(self, pk: int, error: str, now_us: int) -> None:
        """Record the link's last error."""
        ...

    def set_tombstone_cursor(self, pk: int, cursor: str | None) -> None:
        """Move the link's cursor over the tombstones (the peer's feed, or this hub's own)."""
        ...

    def map_identity(self, peer_pk: int, identity_id: str, now_us: int) -> bool:
        """Pin ``identity_id`` to the peer; False if it is pinned to it already.
        :class:`hub.store.base.DuplicateError` if it is pinned to another peer."""
        ...

    def identities_of(self, peer_pk: int) -> list[str]:
        """The identities pinned to the peer, sorted."""
        ...

    def quarantine(self, link_pk: int | None, peer_pk: int, collection_pk: int, stix_id: str,
                   version: str, digest: str, reason: str, json_text: str, now_us: int) -> bool:
        """Hold an object aside; False if that exact text is held for the collection already."""
        ...

    def list_quarantine(self, peer_pk: int | None = None) -> list[QuarantineRecord]:
        """The objects held aside, oldest first."""
        ...

    def get_quarantined(self, pk: int) -> QuarantineRecord | None:
        """One object held aside, or None."""
        ...

    def drop_quarantined(self, pk: int) -> bool:
        """Delete one object held aside; False if there was none."""
        ...

    def count_quarantined(self, link_pk: int) -> int:
        """How many objects of the link are held aside."""
        ...

    def outgoing(self, collection_pk: int, after_added_us: int, limit: int,
                 reader_pk: int | None = None) -> list[OutgoingVersion]:
        """The collection's versions added after ``after_added_us``, oldest first, at most
        ``limit``; with ``reader_pk``, only those that party may read (their audience is 0 or
        admits it: :func:`hub.store.audiences.readable`), the others skipped as if absent."""
        ...

    def count_after(self, collection_pk: int, after_added_us: int, reader_pk: int | None = None) -> int:
        """How many versions the collection holds added after ``after_added_us``; with
        ``reader_pk``, only those that party may read (as :meth:`outgoing` filters them)."""
        ...

    def newest_added_us(self, collection_pk: int) -> int | None:
        """The ``date_added`` of the newest version the collection holds (whoever may read it);
        None when it holds none. (Not the collection's ``date_added`` counter, which tombstones
        draw from too.)"""
        ...


def _peer(row: Any) -> PeerRecord:
    return PeerRecord(pk=row.pk, name=row.name, party_pk=row.party_pk, url=row.url, auth=row.auth,
                      secret_path=row.secret_path, cert_path=row.cert_path, key_path=row.key_path,
                      created_us=row.created_us)


def _link(row: Any) -> LinkRecord:
    return LinkRecord(pk=row.pk, peer_pk=row.peer_pk, peer_name=row.peer_name, direction=row.direction,
                      remote_collection=row.remote_collection, collection_pk=row.collection_pk,
                      collection_id=row.collection_id,
                      types=tuple(t for t in (row.types or "").split(",") if t),
                      max_tlp=row.max_tlp, cursor=row.cursor, last_success_us=row.last_success_us,
                      last_error=row.last_error, last_error_us=row.last_error_us,
                      lag_objects=row.lag_objects, created_us=row.created_us,
                      tombstone_cursor=row.tombstone_cursor)


def _quarantined(row: Any) -> QuarantineRecord:
    return QuarantineRecord(pk=row.pk, link_pk=row.link_pk, peer_pk=row.peer_pk, peer_name=row.peer_name,
                            collection_pk=row.collection_pk, collection_id=row.collection_id,
                            stix_id=row.stix_id, version=row.version, reason=row.reason,
                            json_text=row.json_text, created_us=row.created_us)


_LINKS = (select(fed_links, fed_peers.c.name.label("peer_name"), collections.c.id.label("collection_id"))
          .join(fed_peers, fed_peers.c.pk == fed_links.c.peer_pk)
          .join(collections, collections.c.pk == fed_links.c.collection_pk))

_QUARANTINE = (select(fed_quarantine, fed_peers.c.name.label("peer_name"),
                      collections.c.id.label("collection_id"))
               .join(fed_peers, fed_peers.c.pk == fed_quarantine.c.peer_pk)
               .join(collections, collections.c.pk == fed_quarantine.c.collection_pk))


class FederationMixin:
    """:class:`FederationStore` over SQLAlchemy Core, for :class:`hub.store.sql.SqlStore`."""

    if TYPE_CHECKING:
        def _write(self) -> AbstractContextManager[Connection]: ...

        def _read(self) -> AbstractContextManager[Connection]: ...

    # -- peers

    def add_peer(self, name: str, party_pk: int, url: str, auth: str, secret_path: str | None,
                 cert_path: str | None, key_path: str | None, now_us: int) -> PeerRecord:
        try:
            with self._write() as conn:
                conn.execute(insert(fed_peers).values(
                    name=name, party_pk=party_pk, url=url, auth=auth, secret_path=secret_path,
                    cert_path=cert_path, key_path=key_path, created_us=now_us))
        except IntegrityError:
            raise DuplicateError(f"a peer named {name!r} already exists") from None
        peer = self.get_peer(name)
        assert peer is not None
        return peer

    def get_peer(self, name: str) -> PeerRecord | None:
        if "\x00" in name:
            return None
        with self._read() as conn:
            row = conn.execute(select(fed_peers).where(fed_peers.c.name == name)).first()
        return _peer(row) if row else None

    def list_peers(self) -> list[PeerRecord]:
        with self._read() as conn:
            return [_peer(r) for r in conn.execute(select(fed_peers).order_by(fed_peers.c.name))]

    def remove_peer(self, pk: int) -> None:
        with self._write() as conn:
            # Explicitly, not by cascade: SQLite enforces foreign keys only when asked to.
            conn.execute(delete(fed_quarantine).where(fed_quarantine.c.peer_pk == pk))
            conn.execute(delete(fed_identities).where(fed_identities.c.peer_pk == pk))
            conn.execute(delete(fed_links).where(fed_links.c.peer_pk == pk))
            conn.execute(delete(fed_peers).where(fed_peers.c.pk == pk))

    # -- links

    def add_link(self, peer_pk: int, direction: str, remote_collection: str, collection_pk: int,
                 types: tuple[str, ...], max_tlp: str | None, now_us: int) -> LinkRecord:
        try:
            with self._write() as conn:
                inserted = conn.execute(insert(fed_links).values(
                    peer_pk=peer_pk, direction=direction, remote_collection=remote_collection,
                    collection_pk=collection_pk, types=",".join(types), max_tlp=max_tlp,
                    created_us=now_us)).inserted_primary_key
                assert inserted is not None
                pk = int(inserted[0])
        except IntegrityError:
            raise DuplicateError("that link exists already") from None
        link = self.get_link(pk)
        assert link is not None
        return link

    def list_links(self, peer_pk: int | None = None) -> list[LinkRecord]:
        q = _LINKS.order_by(fed_links.c.pk)
        if peer_pk is not None:
            q = q.where(fed_links.c.peer_pk == peer_pk)
        with self._read() as conn:
            return [_link(r) for r in conn.execute(q)]

    def get_link(self, pk: int) -> LinkRecord | None:
        with self._read() as conn:
            row = conn.execute(_LINKS.where(fed_links.c.pk == pk)).first()
        return _link(row) if row else None

    def remove_link(self, pk: int) -> bool:
        with self._write() as conn:
            conn.execute(update(fed_quarantine).where(fed_quarantine.c.link_pk == pk).values(link_pk=None))
            return bool(conn.execute(delete(fed_links).where(fed_links.c.pk == pk)).rowcount)

    def set_link_cursor(self, pk: int, cursor: str | None, now_us: int, lag_objects: int | None) -> None:
        with self._write() as conn:
            conn.execute(update(fed_links).where(fed_links.c.pk == pk).values(
                cursor=cursor, last_success_us=now_us, lag_objects=lag_objects))

    def set_link_error(self, pk: int, error: str, now_us: int) -> None:
        with self._write() as conn:
            conn.execute(update(fed_links).where(fed_links.c.pk == pk).values(
                last_error=error[:2000], last_error_us=now_us))

    def set_tombstone_cursor(self, pk: int, cursor: str | None) -> None:
        with self._write() as conn:
            conn.execute(update(fed_links).where(fed_links.c.pk == pk).values(tombstone_cursor=cursor))

    # -- pinned identities

    def map_identity(self, peer_pk: int, identity_id: str, now_us: int) -> bool:
        with self._write() as conn:
            owner = conn.execute(select(fed_identities.c.peer_pk)
                                 .where(fed_identities.c.identity_id == identity_id)).scalar()
            if owner is not None:
                if owner == peer_pk:
                    return False
                raise DuplicateError(f"identity {identity_id} is pinned to another peer")
            conn.execute(insert(fed_identities).values(identity_id=identity_id, peer_pk=peer_pk,
                                                       created_us=now_us))
            return True

    def identities_of(self, peer_pk: int) -> list[str]:
        with self._read() as conn:
            return sorted(conn.execute(select(fed_identities.c.identity_id)
                                       .where(fed_identities.c.peer_pk == peer_pk)).scalars())

    # -- quarantine

    def quarantine(self, link_pk: int | None, peer_pk: int, collection_pk: int, stix_id: str,
                   version: str, digest: str, reason: str, json_text: str, now_us: int) -> bool:
        with self._write() as conn:
            held = conn.execute(select(fed_quarantine.c.pk).where(
                fed_quarantine.c.collection_pk == collection_pk, fed_quarantine.c.digest == digest)).first()
            if held is not None:
                return False
            conn.execute(insert(fed_quarantine).values(
                link_pk=link_pk, peer_pk=peer_pk, collection_pk=collection_pk, stix_id=stix_id[:300],
                version=version[:40], digest=digest, reason=reason, json_text=json_text,
                created_us=now_us))
            return True

    def list_quarantine(self, peer_pk: int | None = None) -> list[QuarantineRecord]:
        q = _QUARANTINE.order_by(fed_quarantine.c.pk)
        if peer_pk is not None:
            q = q.where(fed_quarantine.c.peer_pk == peer_pk)
        with self._read() as conn:
            return [_quarantined(r) for r in conn.execute(q)]

    def get_quarantined(self, pk: int) -> QuarantineRecord | None:
        with self._read() as conn:
            row = conn.execute(_QUARANTINE.where(fed_quarantine.c.pk == pk)).first()
        return _quarantined(row) if row else None

    def drop_quarantined(self, pk: int) -> bool:
        with self._write() as conn:
            return bool(conn.execute(delete(fed_quarantine).where(fed_quarantine.c.pk == pk)).rowcount)

    def count_quarantined(self, link_pk: int) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(fed_quarantine)
                                    .where(fed_quarantine.c.link_pk == link_pk)).scalar_one())

    # -- what to push

    def outgoing(self, collection_pk: int, after_added_us: int, limit: int,
                 reader_pk: int | None = None) -> list[OutgoingVersion]:
        from hub.store.audiences import readable

        o = objects
        cond = [o.c.collection_pk == collection_pk, o.c.date_added_us > after_added_us]
        if reader_pk is not None:
            cond.append(readable(o.c.audience_pk, reader_pk))
        q = (select(o.c.date_added_us, o.c.stix_id, o.c.type, o.c.party_pk, o.c.json_text)
             .where(*cond).order_by(o.c.date_added_us).limit(limit))
        with self._read() as conn:
            return [OutgoingVersion(r.date_added_us, r.stix_id, r.type, r.party_pk, r.json_text)
                    for r in conn.execute(q)]

    def count_after(self, collection_pk: int, after_added_us: int, reader_pk: int | None = None) -> int:
        from hub.store.audiences import readable

        o = objects
        cond = [o.c.collection_pk == collection_pk, o.c.date_added_us > after_added_us]
        if reader_pk is not None:
            cond.append(readable(o.c.audience_pk, reader_pk))
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(o).where(*cond)).scalar_one())

    def newest_added_us(self, collection_pk: int) -> int | None:
        o = objects
        with self._read() as conn:  # the end of the (collection_pk, date_added_us) index
            value = conn.execute(select(func.max(o.c.date_added_us))
                                 .where(o.c.collection_pk == collection_pk)).scalar()
        return None if value is None else int(value)

