"""Query planning for the poll path: objects, manifest, one object, versions, delete.

Every paged answer is keyset-paged with a stateless ``next`` token; the page size is clamped to
the configured maximum; a page is the stored JSON texts, served as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.common.errors import Forbidden, NotFound
from hub.services.access import AccessService
from hub.services.audit import AuditService
from hub.services.auth import Principal
from hub.services.paging import decode_next, encode_next, fingerprint
from hub.store.base import Store
from hub.store.records import Collection, ObjectFilter, StoredVersion


@dataclass(frozen=True)
class ObjectQuery:
    """A parsed request: its filters and paging parameters."""

    flt: ObjectFilter = ObjectFilter()
    limit: int | None = None
    next: str | None = None


@dataclass(frozen=True)
class PageResult:
    """One page and what a client needs to get the next one."""

    items: list[StoredVersion]
    more: bool
    next: str | None
    collection: Collection

    @property
    def first_added_us(self) -> int | None:
        return min((i.date_added_us for i in self.items), default=None)

    @property
    def last_added_us(self) -> int | None:
        return max((i.date_added_us for i in self.items), default=None)


class QueryService:
    """Reads (and deletes) objects of a collection for a principal."""

    def __init__(self, store: Store, access: AccessService, audit: AuditService,
                 default_page_size: int, max_page_size: int) -> None:
        self.store = store
        self.access = access
        self.audit = audit
        self.default_page_size = default_page_size
        self.max_page_size = max_page_size

    def _limit(self, limit: int | None) -> int:
        # limit=0 is what taxii2-client's as_pages sends by default: treat it as "server default".
        if not limit:
            return self.default_page_size
        return min(limit, self.max_page_size)

    @staticmethod
    def _fp(col: Collection, endpoint: str, stix_id: str | None, flt: ObjectFilter) -> str:
        return fingerprint(col.id, endpoint, stix_id, flt.added_after_us, flt.ids, flt.types,
                           flt.versions, flt.version_us, flt.spec_versions)

    def _page(self, principal: Principal, collection_id: str, endpoint: str, q: ObjectQuery,
              stix_id: str | None = None) -> PageResult:
        col = self.access.collection(principal, collection_id, "read")
        fp = self._fp(col, endpoint, stix_id, q.flt)
        after = decode_next(q.next, fp) if q.next else None
        limit = self._limit(q.limit)
        if endpoint == "versions":
            assert stix_id is not None
            page = self.store.object_versions(col.pk, stix_id, q.flt, after, limit)
        elif stix_id is not None:
            page = self.store.query_objects(col.pk, _with_id(q.flt, stix_id), after, limit)
        else:
            page = self.store.query_objects(col.pk, q.flt, after, limit)
        token = encode_next(page.items[-1].key, fp) if page.more and page.items else None
        self.audit.record_read(principal.party.name, col.id, endpoint=endpoint, object=stix_id,
                               query=_describe_query(q), count=len(page.items))
        return PageResult(page.items, page.more, token, col)

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
        """GET versions: the versions of one object, oldest first; 404 if it has none."""
        flt = ObjectFilter(added_after_us=q.flt.added_after_us, versions=("all",),
                           spec_versions=q.flt.spec_versions)
        result = self._page(principal, collection_id, "versions", ObjectQuery(flt, q.limit, q.next), stix_id)
        if not result.items and not q.next:
            raise NotFound(f"no object {stix_id!r} in collection {result.collection.id}")
        return result

    def delete(self, principal: Principal, collection_id: str, stix_id: str, flt: ObjectFilter) -> int:
        """DELETE an object (the versions matching ``flt``).

        Needs read and write access; a party deletes only what it submitted, an operator anything.
        """
        col = self.access.collection(principal, collection_id, "write")
        if not principal.can_read(col):
            raise Forbidden(f"deleting from collection {col.id} needs read and write access")
        flt = _with_id(flt, stix_id)
        owner = None if principal.party.operator else principal.party.pk
        count = self.store.delete_object(col.pk, stix_id, flt, owner)
        self.audit.record("delete", principal.party.name, col.id, object=stix_id, count=count)
        if count == 0:
            if owner is not None and self.store.query_objects(col.pk, flt, None, 1).items:
                raise Forbidden(f"object {stix_id!r} was submitted by another party: only they or an operator may delete it")
            raise NotFound(f"no object {stix_id!r} matching the filters in collection {col.id}")
        return count


def _with_id(flt: ObjectFilter, stix_id: str) -> ObjectFilter:
    return ObjectFilter(added_after_us=flt.added_after_us, ids=(stix_id,), types=flt.types,
                        versions=flt.versions, version_us=flt.version_us,
                        spec_versions=flt.spec_versions)


def _describe_query(q: ObjectQuery) -> dict[str, object]:
    """The filters of a read, as the audit trail keeps them (only those given)."""
    f = q.flt
    out: dict[str, object] = {}
    if f.added_after_us is not None:
        out["added_after_us"] = f.added_after_us
    for name, value in (("ids", f.ids), ("types", f.types), ("version_us", f.version_us),
                        ("spec_versions", f.spec_versions)):
        if value:
            out[name] = list(value)
    if f.versions != ("last",):
        out["versions"] = list(f.versions)
    if q.limit is not None:
        out["limit"] = q.limit
    if q.next:
        out["next"] = q.next
    return out
