"""The operator's lifecycle in the store: party states, client certificates, collection edits,
removal and retention, and the grants listing.

:class:`LifecycleStore` declares this part of the store, and :class:`hub.store.base.Store` (what
every service is given) includes it; :class:`LifecycleMixin` implements it for
:class:`hub.store.sql.SqlStore`. The tables and columns are in :mod:`hub.store.schema`
(revision 0005).

A party's state is checked where its credentials are looked up (``party_for_token``,
:meth:`LifecycleStore.party_for_certificate`), in the database: no process keeps a copy that
could go stale, so disabling a party refuses its credentials on every worker at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.store import schema as t
from hub.store.dialect import lock_rows
from hub.store.errors import DuplicateError
from hub.store.limits import matchable
from hub.store.records import Collection, Party

__all__ = ["CertificateRecord", "GrantRow", "LifecycleMixin", "LifecycleStore", "PartyState",
           "RetentionPolicy"]

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class PartyState:
    """Where a party is in its lifecycle: ``disabled_us``/``removed_us`` are None unless it is."""

    party_pk: int
    disabled_us: int | None
    removed_us: int | None

    @property
    def active(self) -> bool:
        """Whether the party's credentials are accepted."""
        return self.disabled_us is None and self.removed_us is None


@dataclass(frozen=True, slots=True)
class CertificateRecord:
    """A client certificate registered for a party (never the certificate's key)."""

    party_pk: int
    fingerprint: str  # SHA-256 of the DER certificate, lower-case hex
    subject: str
    not_after_us: int
    created_us: int


@dataclass(frozen=True, slots=True)
class GrantRow:
    """One grant, named: the party and the collection it concerns."""

    party: str
    collection_id: str
    collection_title: str
    can_read: bool
    can_write: bool


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """A collection's retention: versions added more than ``max_age_days`` ago are purged."""

    collection_pk: int
    collection_id: str
    max_age_days: int


class LifecycleStore(Protocol):
    """The lifecycle part of :class:`hub.store.base.Store` (see the module's notes)."""

    def party_state(self, party_pk: int) -> PartyState:
        """The party's state (a party that does not exist reads as active)."""
        ...

    def set_party_disabled(self, party_pk: int, disabled_us: int | None) -> bool:
        """Disable the party as of ``disabled_us``, or enable it (None); False when nothing
        changed (already in that state, or removed)."""
        ...

    def remove_party(self, party_pk: int, now_us: int) -> tuple[int, int]:
        """Mark the party removed as of ``now_us``, revoke its tokens, delete its certificates
        and grants; its objects stay. Returns (tokens revoked, certificates deleted)."""
        ...

    def count_party_objects(self, party_pk: int) -> int:
        """How many object versions the party submitted (in every collection)."""
        ...

    def add_certificate(self, party_pk: int, fingerprint: str, subject: str, not_after_us: int,
                        now_us: int) -> None:
        """Register a client certificate; :class:`DuplicateError` if the fingerprint is taken."""
        ...

    def list_certificates(self, party_pk: int) -> list[CertificateRecord]:
        """The party's certificates, in the order they were registered."""
        ...

    def remove_certificate(self, party_pk: int, fingerprint: str) -> bool:
        """Delete one of the party's certificates; False if it has none with that fingerprint."""
        ...

    def party_for_certificate(self, fingerprint: str) -> Party | None:
        """The active (neither disabled nor removed) party holding the certificate, or None."""
        ...

    def update_collection(self, collection_pk: int, changes: dict[str, Any]) -> Collection:
        """Change a collection's title, description, max_tlp, require_signatures, countersign,
        allow_personal_data or max_age_days (only the keys given); the collection as it now is."""
        ...

    def collection_max_age(self, collection_pk: int) -> int | None:
        """The collection's ``max_age_days``, None when it keeps everything."""
        ...

    def delete_collection(self, collection_pk: int) -> int:
        """Delete the collection with its objects, terms, grants, statuses and tombstones (no
        version can be offered to a collection that is gone); returns how many object versions
        went."""
        ...

    def retention_policies(self) -> list[RetentionPolicy]:
        """The collections that have a ``max_age_days``, in the order they were created."""
        ...

    def purge_added_before(self, collection_pk: int, cutoff_us: int) -> int:
        """Delete the collection's versions added before ``cutoff_us`` (first and last marks of
        what remains recomputed, terms of objects with no version left removed); how many."""
        ...

    def list_grants(self, party_pk: int | None = None, collection_pk: int | None = None) -> list[GrantRow]:
        """Grants, optionally of one party and/or one collection, by party name then collection."""
        ...


class LifecycleMixin:
    """:class:`LifecycleStore` for :class:`hub.store.sql.SqlStore` (which provides ``_read``
    and ``_write``, its read and write transactions)."""

    if TYPE_CHECKING:  # provided by SqlStore
        def _read(self) -> AbstractContextManager[Connection]: ...

        def _write(self) -> AbstractContextManager[Connection]: ...

    # -- parties
    def party_state(self, party_pk: int) -> PartyState:
        p = t.parties
        with self._read() as conn:
            row = conn.execute(select(p.c.disabled_us, p.c.removed_us).where(p.c.pk == party_pk)).first()
        if row is None:
            return PartyState(party_pk, None, None)
        return PartyState(party_pk, row.disabled_us, row.removed_us)

    def set_party_disabled(self, party_pk: int, disabled_us: int | None) -> bool:
        p = t.parties
        now_state = p.c.disabled_us.is_(None) if disabled_us is not None else p.c.disabled_us.is_not(None)
        with self._write() as conn:
            res = conn.execute(update(p).where(p.c.pk == party_pk, p.c.removed_us.is_(None), now_state)
                               .values(disabled_us=disabled_us))
            return res.rowcount == 1

    def remove_party(self, party_pk: int, now_us: int) -> tuple[int, int]:
        p = t.parties
        with self._write() as conn:
            conn.execute(update(p).where(p.c.pk == party_pk, p.c.removed_us.is_(None))
                         .values(removed_us=now_us))
            tokens = conn.execute(update(t.tokens).where(t.tokens.c.party_pk == party_pk,
                                                         t.tokens.c.revoked_us.is_(None))
                                  .values(revoked_us=now_us)).rowcount
            certs = conn.execute(delete(t.party_certificates)
                                 .where(t.party_certificates.c.party_pk == party_pk)).rowcount
            conn.execute(delete(t.grants).where(t.grants.c.party_pk == party_pk))
        return tokens, certs

    def count_party_objects(self, party_pk: int) -> int:
        o = t.objects
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(o)
                                    .where(o.c.party_pk == party_pk)).scalar_one())

    # -- client certificates
    def add_certificate(self, party_pk: int, fingerprint: str, subject: str, not_after_us: int,
                        now_us: int) -> None:
        try:
            with self._write() as conn:
                conn.execute(insert(t.party_certificates).values(
                    party_pk=party_pk, fingerprint=fingerprint, subject=subject,
                    not_after_us=not_after_us, created_us=now_us))
        except IntegrityError:
            raise DuplicateError(f"certificate {fingerprint} is already registered") from None

    def list_certificates(self, party_pk: int) -> list[CertificateRecord]:
        c = t.party_certificates
        with self._read() as conn:
            rows = conn.execute(select(c.c.party_pk, c.c.fingerprint, c.c.subject, c.c.not_after_us,
                                       c.c.created_us).where(c.c.party_pk == party_pk).order_by(c.c.pk)).all()
        return [CertificateRecord(*r) for r in rows]

    def remove_certificate(self, party_pk: int, fingerprint: str) -> bool:
        c = t.party_certificates
        if not matchable(fingerprint):
            return False
        with self._write() as conn:
            return conn.execute(delete(c).where(c.c.party_pk == party_pk,
                                                c.c.fingerprint == fingerprint)).rowcount == 1

    def party_for_certificate(self, fingerprint: str) -> Party | None:
        p, c = t.parties, t.party_certificates
        if not matchable(fingerprint):
            return None
        from hub.store.sql import _party, _party_rows  # the one place that reads a party's row

        q = (_party_rows().join(c, c.c.party_pk == p.c.pk)
             .where(c.c.fingerprint == fingerprint, p.c.disabled_us.is_(None), p.c.removed_us.is_(None)))
        with self._read() as conn:
            row = conn.execute(q).first()
        return _party(row) if row is not None else None

    # -- collections
    _EDITABLE = frozenset({"title", "description", "max_tlp", "require_signatures", "countersign",
                           "allow_personal_data", "max_age_days"})

    def update_collection(self, collection_pk: int, changes: dict[str, Any]) -> Collection:
        unknown = set(changes) - self._EDITABLE
        if unknown:
            raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
        c = t.collections
        with self._write() as conn:
            if changes:
                conn.execute(update(c).where(c.c.pk == collection_pk).values(**changes))
            row = conn.execute(select(c).where(c.c.pk == collection_pk)).one()
        return Collection(pk=row.pk, id=row.id, title=row.title, description=row.description,
                          alias=row.alias, max_tlp=row.max_tlp,
                          require_signatures=bool(row.require_signatures),
                          countersign=bool(row.countersign),
                          allow_personal_data=bool(row.allow_personal_data), created_us=row.created_us)

    def collection_max_age(self, collection_pk: int) -> int | None:
        c = t.collections
        with self._read() as conn:
            value = conn.execute(select(c.c.max_age_days).where(c.c.pk == collection_pk)).scalar()
        return None if value is None else int(value)

    def delete_collection(self, collection_pk: int) -> int:
        with self._write() as conn:
            conn.execute(lock_rows(select(t.collections.c.pk).where(t.collections.c.pk == collection_pk)))
            count = conn.execute(delete(t.objects).where(t.objects.c.collection_pk == collection_pk)).rowcount
            for table in (t.object_terms, t.grants, t.statuses, t.tombstones):
                conn.execute(delete(table).where(table.c.collection_pk == collection_pk))
            conn.execute(delete(t.collections).where(t.collections.c.pk == collection_pk))
        return count

    def retention_policies(self) -> list[RetentionPolicy]:
        c = t.collections
        with self._read() as conn:
            rows = conn.execute(select(c.c.pk, c.c.id, c.c.max_age_days)
                                .where(c.c.max_age_days.is_not(None)).order_by(c.c.pk)).all()
        return [RetentionPolicy(r.pk, r.id, int(r.max_age_days)) for r in rows]

    def purge_added_before(self, collection_pk: int, cutoff_us: int) -> int:
        from hub.store.sql import _refresh_flags  # the one place that knows the marks

        o = t.objects
        old = (o.c.collection_pk == collection_pk, o.c.date_added_us < cutoff_us)
        with self._write() as conn:
            # The collection's counter row, as every writer to it takes (hub.store.dialect).
            conn.execute(lock_rows(select(t.collections.c.pk).where(t.collections.c.pk == collection_pk)))
            ids = sorted(set(conn.execute(select(o.c.stix_id).where(*old).distinct()).scalars()))
            if not ids:
                return 0
            count = conn.execute(delete(o).where(*old)).rowcount
            _refresh_flags(conn, collection_pk, ids)
            left: set[str] = set()
            for chunk in _chunks(ids):
                left.update(conn.execute(select(o.c.stix_id).where(
                    o.c.collection_pk == collection_pk, o.c.stix_id.in_(chunk)).distinct()).scalars())
            gone = [i for i in ids if i not in left]
            for chunk in _chunks(gone):
                conn.execute(delete(t.object_terms).where(t.object_terms.c.collection_pk == collection_pk,
                                                          t.object_terms.c.stix_id.in_(chunk)))
        return count

    # -- grants
    def list_grants(self, party_pk: int | None = None, collection_pk: int | None = None) -> list[GrantRow]:
        g, p, c = t.grants, t.parties, t.collections
        q = (select(p.c.name, c.c.id, c.c.title, g.c.can_read, g.c.can_write)
             .join(p, p.c.pk == g.c.party_pk).join(c, c.c.pk == g.c.collection_pk)
             .order_by(p.c.name, c.c.pk))
        if party_pk is not None:
            q = q.where(g.c.party_pk == party_pk)
        if collection_pk is not None:
            q = q.where(g.c.collection_pk == collection_pk)
        with self._read() as conn:
            rows = conn.execute(q).all()
        return [GrantRow(r[0], r[1], r[2], bool(r[3]), bool(r[4])) for r in rows]


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]

