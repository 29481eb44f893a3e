"""Query planning for the poll path: objects, manifest, one object, versions, delete.

Every paged answer is keyset-paged with a stateless ``next`` token; the page size is clamped to
the configured maximum; a page is the stored JSON texts, served as they are.

Every read is one party's: the store selects only the versions whose audience admits the
requesting principal's party (:attr:`~hub.store.records.ObjectFilter.reader_pk`, see
:mod:`hub.services.access.markings`), in the query itself, before the page is cut, so ``next``
and ``added_after`` page exactly through what that party may read. A version it may not read is
absent, as if it were not stored: one object whose every version is hidden answers 404, like a
missing one, on every endpoint (a delete included), and the audit trail's read records count
what was served.

:class:`ObjectQuery` is what a front end builds from a request (the TAXII views from the URL
query, TAXII 2.1 section 3.4); the store's own filter type stays behind this service. The
``next`` tokens are :mod:`.paging`'s.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Literal

from hub.common.errors import BadRequest, Forbidden, NotFound
from hub.common.ids import is_stix_id
from hub.common.quoting import show
from hub.services.access import AccessService
from hub.services.access.auth import Principal
from hub.services.audit import AuditService
from hub.services.federation.tombstones import held_facts
from hub.services.query.paging import decode_next, encode_next, fingerprint
from hub.store.base import Store
from hub.store.records import Collection, ObjectFilter, StoredVersion

#: ``match[version]`` keywords (TAXII 2.1 section 3.4.1).
VersionSelector = Literal["last", "first", "all"]


@dataclass(frozen=True)
class ObjectQuery:
    """A parsed request: its filters (TAXII 2.1 section 3.4.1) and paging parameters.

    ``versions`` and ``version_us`` together are ``match[version]``: keywords and exact
    versions (microseconds since the epoch). ``limit`` is None for the server's default.
    """

    added_after_us: int | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[VersionSelector, ...] = ("last",)
    version_us: tuple[int, ...] = ()
    spec_versions: tuple[str, ...] = ()
    limit: int | None = None
    next: str | None = None


def _store_filter(q: ObjectQuery, reader: Principal | None, stix_id: str | None = None) -> ObjectFilter:
    """The store's filter for ``q``; with ``stix_id``, restricted to that one object. With
    ``reader``, only the versions whose audience admits that principal's party (every read);
    None for the hub's own work on a collection (a deletion), never for a read."""
    return ObjectFilter(added_after_us=q.added_after_us, ids=(stix_id,) if stix_id else q.ids,
                        types=q.types, versions=q.versions, version_us=q.version_us,
                        spec_versions=q.spec_versions,
                        reader_pk=reader.party.pk if reader is not None else None)


@dataclass(frozen=True)
class PageResult:
    """One page and what a client needs to get the next one.

    ``items`` are the stored versions as they are served (their JSON text is sent unchanged).
    ``first_added_us`` and ``last_added_us`` are the ``date_added`` of the oldest and newest
    item (TAXII 2.1 ``X-TAXII-Date-Added-First`` and ``-Last``), None for an empty page.
    """

    items: list[StoredVersion]
    more: bool
    next: str | None
    collection: Collection
    first_added_us: int | None = None
    last_added_us: int | None = None

    @classmethod
    def of(cls, items: list[StoredVersion], more: bool, token: str | None, collection: Collection, *,
           by_date_added: bool) -> PageResult:
        """A page of ``items``; ``by_date_added``: they are in ``date_added`` order (the first
        and last item are the oldest and newest, no need to look at the rest)."""
        if not items:
            return cls(items, more, token, collection)
        if by_date_added:
            return cls(items, more, token, collection, items[0].date_added_us, items[-1].date_added_us)
        added = [i.date_added_us for i in items]
        return cls(items, more, token, collection, min(added), max(added))


def _check_object_id(stix_id: str, col: Collection) -> None:
    """An object id that cannot be a STIX identifier names no object: 404 before any query
    (a NUL or a megabyte of text never reaches the database)."""
    if not is_stix_id(stix_id):
        raise NotFound(f"no object {show(stix_id)} in collection {col.id}: "
                       "an object id is a STIX identifier (type--UUID)")


class QueryService:
    """Reads (and deletes) objects of a collection for a principal."""

    def __init__(self, store: Store, access: AccessService, audit: AuditService,
                 default_page_size: int, max_page_size: int) -> None:
        self.store = store
        self.access = access
        self.audit = audit
        self.default_page_size = default_page_size
        self.max_page_size = max_page_size

    def reading(self) -> AbstractContextManager[None]:
        """One read of the store for the block (:meth:`hub.store.base.Store.reading`): a view
        that authenticates and then reads a page does both on one connection and transaction."""
        return self.store.reading()

    def _limit(self, limit: int | None) -> int:
        if limit is None:
            return self.default_page_size
        # TAXII 2.1 section 3.4: "limit MUST be a positive integer greater than zero".
        if limit < 1:
            raise BadRequest(f"parameter 'limit': must be a positive whole number, got {limit}")
        return min(limit, self.max_page_size)

    @staticmethod
    def _fp(col: Collection, endpoint: str, stix_id: str | None, flt: ObjectFilter) -> str:
        return fingerprint(col.id, endpoint, stix_id, flt.added_after_us, flt.ids, flt.types,
                           flt.versions, flt.version_us, flt.spec_versions)

    def _page(self, principal: Principal, collection_id: str, endpoint: str, q: ObjectQuery,
              stix_id: str | None = None) -> PageResult:
        # A poll may be served by a standby fit for this party (hub.store.replicas): every read
        # of it is run there, and again elsewhere if that standby fails; the record of the read
        # is noted once, after.
        result = self.store.routed(lambda: self._read_page(principal, collection_id, endpoint, q, stix_id),
                                   principal.party.pk)
        self.audit.record_read(principal.party.name, result.collection.id, endpoint=endpoint, object=stix_id,
                               query=_describe_query(q), count=len(result.items))
        return result

    def _read_page(self, principal: Principal, collection_id: str, endpoint: str, q: ObjectQuery,
                   stix_id: str | None) -> PageResult:
        col = self.access.collection(principal, collection_id, "read")
        if stix_id is not None:
            _check_object_id(stix_id, col)
        limit = self._limit(q.limit)
        flt = _store_filter(q, principal)
        fp = self._fp(col, endpoint, stix_id, flt)
        after = decode_next(q.next, fp) if q.next else None
        if endpoint == "versions":
            assert stix_id is not None
            page = self.store.object_versions(col.pk, stix_id, flt, after, limit)
        elif stix_id is not None:
            page = self.store.query_objects(col.pk, _store_filter(q, principal, stix_id), after, limit)
        else:
            page = self.store.query_objects(col.pk, flt, after, limit)
        token = encode_next(page.items[-1].key, fp) if page.more and page.items else None
        # Versions come in version order; every other page in date_added order.
        return PageResult.of(page.items, page.more, token, col, by_date_added=endpoint != "versions")

    def objects(self, principal: Principal, collection_id: str, q: ObjectQuery) -> PageResult:
        """GET objects: the matching object versions, oldest date_added first."""
        return self._page(principal, collection_id, "objects", q)

    def manifest(self, principal: Principal, collection_id: str, q: ObjectQuery) -> PageResult:
        """GET manifest: the same selection as objects, described rather than served."""
        return self._page(principal, collection_id, "manifest", q)

    def object(self, principal: Principal, collection_id: str, stix_id: str, q: ObjectQuery) -> PageResult:
        """GET one object: its matching versions; 404 if the collection has none."""
        result = self._page(principal, collection_id, "object", q, stix_id)
        if not result.items and not q.next:
            raise NotFound(f"no object {stix_id!r} matching the filters in collection {result.collection.id}")
        return result

    def versions(self, principal: Principal, collection_id: str, stix_id: str, q: ObjectQuery) -> PageResult:
        """GET versions: the versions of one object, oldest first; 404 if it has none.

        Only ``added_after``, ``match[spec_version]`` and paging apply (TAXII 2.1 section 5.8).
        """
        every = ObjectQuery(added_after_us=q.added_after_us, versions=("all",), spec_versions=q.spec_versions,
                            limit=q.limit, next=q.next)
        result = self._page(principal, collection_id, "versions", every, stix_id)
        if not result.items and not q.next:
            raise NotFound(f"no object {stix_id!r} in collection {result.collection.id}")
        return result

    def delete(self, principal: Principal, collection_id: str, stix_id: str, q: ObjectQuery) -> int:
        """DELETE an object (the versions matching ``q``; paging parameters do not apply).

        Needs read and write access; a party deletes only what it submitted, an operator anything.
        Each deleted version is remembered (its tombstone, :mod:`hub.services.federation.tombstones`): it
        is never stored again, and the deletion travels to peers.
        """
        col = self.access.collection(principal, collection_id, "write")
        if not principal.can_read(col):
            raise Forbidden(f"deleting from collection {col.id} needs read and write access")
        _check_object_id(stix_id, col)
        flt = _store_filter(q, None, stix_id)
        owner = None if principal.party.operator else principal.party.pk
        count = len(self.store.delete_remembered(col.pk, stix_id, flt, owner, principal.party.identity_id,
                                                 self.audit.clock(), held_facts))
        self.audit.record("delete", principal.party.name, col.id, object=stix_id, count=count)
        if count == 0:
            # Said only of an object the party may read: one hidden from it is missing, as for a read.
            seen = _store_filter(q, principal, stix_id)
            if owner is not None and self.store.query_objects(col.pk, seen, None, 1).items:
                raise Forbidden(f"object {stix_id!r} was submitted by another party: only they or an operator may delete it")
            raise NotFound(f"no object {stix_id!r} matching the filters in collection {col.id}")
        return count


def _describe_query(q: ObjectQuery) -> dict[str, object]:
    """The filters of a read, as the audit trail keeps them (only those given)."""
    out: dict[str, object] = {}
    if q.added_after_us is not None:
        out["added_after_us"] = q.added_after_us
    for name, value in (("ids", q.ids), ("types", q.types), ("version_us", q.version_us),
                        ("spec_versions", q.spec_versions)):
        if value:
            out[name] = list(value)
    if q.versions != ("last",):
        out["versions"] = list(q.versions)
    if q.limit is not None:
        out["limit"] = q.limit
    if q.next:
        out["next"] = q.next
    return out
