"""Tombstones: the object versions deleted from a collection (revision 0009).

A deleted version is remembered, so that it is never stored again, whoever offers it (a peer
pushing it, a pull link fetching it, anyone posting it): one row per version, or, for an object
with neither ``modified`` nor ``created`` (whose version is only when each hub added it), one
row per object id with ``version_us`` -1. A row comes from a deletion here
(:meth:`TombstoneMixin.delete_remembered`, ``hub`` NULL) or from a peer hub's signed tombstone
that this hub took (:meth:`TombstoneMixin.apply_tombstone`, which keeps the record's text and
deletes the copy held here). Either way the deletion and the tombstone commit together, under
the collection's counter lock that every writer of the collection takes
(:mod:`hub.store.dialect`), and :meth:`hub.store.sql.SqlTransaction.add_versions` looks the
tombstones up under the same lock: a version deleted while it is being offered again is not
stored.

Each row gets a place in the collection's tombstone feed, ``added_us``, from the collection's
``date_added`` counter: distinct and increasing, so the feed pages by ``added_after`` as objects
do. The ``held_*`` columns describe the copy that was deleted here (when it was added, who had
submitted it, its TLP level, its audience): a push link sends a TAXII DELETE only for what it had
pushed, and a reader is told of a tombstone only if it could read the copy
(:meth:`TombstoneMixin.tombstones_after` with ``reader_pk``: the held audience, as
:func:`hub.store.audiences.readable` judges a version's). ``held_audience_pk`` is NULL for a
version this hub never held (a peer's tombstone of something it was never sent), and for a copy
deleted before revision 0010 (its ``held_tlp`` still says how it was marked).

Persistence only: what a tombstone record looks like, its signature and who may delete what
are decided by :mod:`hub.services.federation.tombstones`; what a deleted copy's JSON says (whether it is
versioned, its TLP level) is told by the caller's ``describe``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, insert, or_, select, tuple_, update

from hub.store import schema as t
from hub.store.audiences import readable
from hub.store.dialect import lock_rows
from hub.store.limits import matchable
from hub.store.records import ObjectFilter

__all__ = ["Describe", "Held", "Tombstone", "TombstoneMixin", "buried"]

_CHUNK = 400


@dataclass(frozen=True, slots=True)
class Held:
    """What the caller reads in a deleted copy's JSON text: whether the object has neither
    ``modified`` nor ``created`` (then every version of its id is buried), and its TLP level."""

    unversioned: bool
    tlp: int | None


#: Reads a deleted copy's JSON text for the store (the store does not read STIX).
Describe = Callable[[str], Held]


@dataclass(frozen=True, slots=True)
class Tombstone:
    """One deleted version (``version_us`` -1 and ``version`` "": every version of an unversioned
    object), where it sits in the collection's feed, and who deleted it when.

    ``hub`` is None for a deletion made at this hub, else the deleting hub's identity id, and
    ``record_json`` that hub's signed record as this hub took it. ``held_*`` describe the copy
    this hub deleted (None: it held none; ``held_audience_pk`` is None too for a copy deleted
    before audiences existed).
    """

    collection_pk: int
    stix_id: str
    version_us: int
    version: str
    added_us: int
    deleted_us: int
    deleted_by: str
    hub: str | None
    record_json: str | None
    held_added_us: int | None
    held_party_pk: int | None
    held_tlp: int | None
    held_audience_pk: int | None = None


def _tombstone(row: Any) -> Tombstone:
    return Tombstone(collection_pk=row.collection_pk, stix_id=row.stix_id, version_us=row.version_us,
                     version=row.version, added_us=row.added_us, deleted_us=row.deleted_us,
                     deleted_by=row.deleted_by, hub=row.hub, record_json=row.record_json,
                     held_added_us=row.held_added_us, held_party_pk=row.held_party_pk,
                     held_tlp=row.held_tlp, held_audience_pk=row.held_audience_pk)


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]


def buried(conn: Connection, collection_pk: int, ids: Iterable[str]) -> set[tuple[str, int]]:
    """``(stix_id, version_us)`` of the tombstones of these objects in the collection (inside a
    write transaction that holds the collection's counter lock, for :meth:`add_versions`)."""
    tb = t.tombstones
    wanted = sorted({i for i in ids if matchable(i)})
    out: set[tuple[str, int]] = set()
    if not wanted or conn.execute(select(tb.c.pk).where(tb.c.collection_pk == collection_pk).limit(1)).first() is None:
        return out  # most collections: nothing deleted, one cheap lookup
    for chunk in _chunks(wanted):
        out.update((r.stix_id, r.version_us) for r in conn.execute(
            select(tb.c.stix_id, tb.c.version_us).where(tb.c.collection_pk == collection_pk,
                                                         tb.c.stix_id.in_(chunk))))
    return out


def _forget_terms(conn: Connection, collection_pk: int, stix_id: str) -> None:
    """The object's terms go with its last version (as :meth:`SqlStore.delete_object`)."""
    o = t.objects
    left = conn.execute(select(func.count()).select_from(o).where(
        o.c.collection_pk == collection_pk, o.c.stix_id == stix_id)).scalar_one()
    if not left:
        conn.execute(delete(t.object_terms).where(t.object_terms.c.collection_pk == collection_pk,
                                                  t.object_terms.c.stix_id == stix_id))


class TombstoneMixin:
    """The tombstone methods of :class:`hub.store.base.Store` for :class:`hub.store.sql.SqlStore`
    (which provides ``_read`` and ``_write``)."""

    if TYPE_CHECKING:  # provided by SqlStore
        def _read(self) -> AbstractContextManager[Connection]: ...

        def _write(self) -> AbstractContextManager[Connection]: ...

    def delete_remembered(self, collection_pk: int, stix_id: str, flt: ObjectFilter, party_pk: int | None,
                          deleted_by: str, now_us: int, describe: Describe) -> list[Tombstone]:
        from hub.store.sql import _conditions, _refresh_flags  # the one place that knows them

        o = t.objects
        if not matchable(stix_id):
            return []
        cond = _conditions(collection_pk, flt)
        cond.append(o.c.stix_id == stix_id)
        if party_pk is not None:
            cond.append(o.c.party_pk == party_pk)
        with self._write() as conn:
            last = conn.execute(lock_rows(select(t.collections.c.last_added_us)
                                          .where(t.collections.c.pk == collection_pk))).scalar_one()
            rows = conn.execute(select(o.c.pk, o.c.version_us, o.c.version, o.c.date_added_us, o.c.party_pk,
                                       o.c.audience_pk, o.c.json_text).where(*cond).order_by(o.c.version_us)).all()
            if not rows:
                return []
            for chunk in _chunks([r.pk for r in rows]):
                conn.execute(delete(o).where(o.c.pk.in_(chunk)))
            _refresh_flags(conn, collection_pk, [stix_id])
            _forget_terms(conn, collection_pk, stix_id)
            known = {vus for _sid, vus in buried(conn, collection_pk, [stix_id])}
            made: list[dict[str, Any]] = []
            for row in rows:
                held = describe(row.json_text)
                version_us, version = (-1, "") if held.unversioned else (row.version_us, row.version)
                if version_us in known:
                    continue
                known.add(version_us)
                last = max(now_us, last + 1)
                made.append(dict(collection_pk=collection_pk, stix_id=stix_id, version_us=version_us,
                                 version=version, added_us=last, deleted_us=now_us, deleted_by=deleted_by,
                                 hub=None, record_json=None, held_added_us=row.date_added_us,
                                 held_party_pk=row.party_pk, held_tlp=held.tlp,
                                 held_audience_pk=row.audience_pk))
            if made:
                conn.execute(insert(t.tombstones), made)
                conn.execute(update(t.collections).where(t.collections.c.pk == collection_pk)
                             .values(last_added_us=last))
        return [Tombstone(**m) for m in made]

    def apply_tombstone(self, collection_pk: int, stix_id: str, version_us: int, version: str, deleted_us: int,
                        deleted_by: str, hub: str, record_json: str, now_us: int,
                        describe: Describe) -> tuple[Tombstone | None, int]:
        from hub.store.sql import _refresh_flags

        o, tb = t.objects, t.tombstones
        if not (matchable(stix_id) and matchable(version) and matchable(deleted_by) and matchable(hub)):
            return None, 0
        with self._write() as conn:
            last = conn.execute(lock_rows(select(t.collections.c.last_added_us)
                                          .where(t.collections.c.pk == collection_pk))).scalar_one()
            if conn.execute(select(tb.c.pk).where(tb.c.collection_pk == collection_pk, tb.c.stix_id == stix_id,
                                                  tb.c.version_us == version_us)).first() is not None:
                return None, 0
            cond = [o.c.collection_pk == collection_pk, o.c.stix_id == stix_id]
            if version_us >= 0:
                cond.append(o.c.version_us == version_us)
            rows = [r for r in conn.execute(select(o.c.pk, o.c.date_added_us, o.c.party_pk, o.c.audience_pk,
                                                   o.c.json_text).where(*cond).order_by(o.c.date_added_us))
                    if version_us >= 0 or describe(r.json_text).unversioned]
            held = rows[-1] if rows else None
            if rows:
                conn.execute(delete(o).where(o.c.pk.in_([r.pk for r in rows])))
                _refresh_flags(conn, collection_pk, [stix_id])
                _forget_terms(conn, collection_pk, stix_id)
            added = max(now_us, last + 1)
            values = dict(collection_pk=collection_pk, stix_id=stix_id, version_us=version_us, version=version,
                          added_us=added, deleted_us=deleted_us, deleted_by=deleted_by, hub=hub,
                          record_json=record_json,
                          held_added_us=held.date_added_us if held is not None else None,
                          held_party_pk=held.party_pk if held is not None else None,
                          held_tlp=describe(held.json_text).tlp if held is not None else None,
                          held_audience_pk=held.audience_pk if held is not None else None)
            conn.execute(insert(tb).values(**values))
            conn.execute(update(t.collections).where(t.collections.c.pk == collection_pk)
                         .values(last_added_us=added))
        return Tombstone(**values), len(rows)  # type: ignore[arg-type]

    def tombstoned(self, collection_pk: int, versions: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Tombstone]:
        tb = t.tombstones
        wanted = sorted({(s, v) for s, v in versions if matchable(s)})
        out: dict[tuple[str, int], Tombstone] = {}
        if not wanted:
            return out
        with self._read() as conn:
            for chunk in _chunks(wanted):
                for row in conn.execute(select(tb).where(tb.c.collection_pk == collection_pk,
                                                         tuple_(tb.c.stix_id, tb.c.version_us).in_(chunk))):
                    out[(row.stix_id, row.version_us)] = _tombstone(row)
        return out

    def tombstone_mark(self, collection_pk: int) -> int | None:
        tb = t.tombstones
        with self._read() as conn:
            value = conn.execute(select(func.max(tb.c.added_us)).where(tb.c.collection_pk == collection_pk)).scalar()
        return None if value is None else int(value)

    def tombstoned_ids(self, collection_pk: int) -> set[str]:
        tb = t.tombstones
        with self._read() as conn:
            return set(conn.execute(select(tb.c.stix_id).where(tb.c.collection_pk == collection_pk)
                                    .distinct()).scalars())

    def tombstones_after(self, collection_pk: int, after_added_us: int | None, limit: int,
                         reader_pk: int | None = None) -> tuple[list[Tombstone], bool]:
        tb = t.tombstones
        q = select(tb).where(tb.c.collection_pk == collection_pk)
        if after_added_us is not None:
            q = q.where(tb.c.added_us > after_added_us)
        if reader_pk is not None:
            q = q.where(or_(tb.c.held_audience_pk.is_(None), readable(tb.c.held_audience_pk, reader_pk)))
        with self._read() as conn:
            rows = conn.execute(q.order_by(tb.c.added_us).limit(limit + 1)).all()
        return [_tombstone(r) for r in rows[:limit]], len(rows) > limit

    def count_tombstones(self, collection_pk: int) -> int:
        tb = t.tombstones
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(tb)
                                    .where(tb.c.collection_pk == collection_pk)).scalar_one())

    def purge_tombstones(self, collection_pk: int, deleted_before_us: int) -> int:
        tb = t.tombstones
        with self._write() as conn:
            return int(conn.execute(delete(tb).where(tb.c.collection_pk == collection_pk,
                                                     tb.c.deleted_us < deleted_before_us)).rowcount)
