"""The SQL store: SQLAlchemy Core over SQLite (embedded default, WAL) or PostgreSQL (psycopg 3).

The SQL is written once for both databases; what differs between them (engines, connection
settings, how a write transaction takes its locks) is in :mod:`hub.store.dialect`. The services
never know which database they run on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import (
    Connection,
    and_,
    delete,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.sql import Select

from hub.common.timestamps import format_timestamp_us
from hub.store import schema as t
from hub.store.anonymous import AnonymousMixin
from hub.store.audiences import AudienceMixin, ensure_audience, readable
from hub.store.audit import AuditEntry, AuditRecord, record_hash, recordable
from hub.store.base import DuplicateError, Store, TokenRecord
from hub.store.dialect import (
    WRITE,
    FileIdentity,
    create_database_file,
    lock_rows,
    make_engine,
    normalise_url,
    sqlite_file,
)
from hub.store.federation import FederationMixin
from hub.store.lifecycle import LifecycleMixin
from hub.store.limits import (
    ORGANISATION_MAX,
    PARTY_CODE_MAX,
    UnstorableError,
    matchable,
    unstorable_audit_reason,
    unstorable_reason,
)
from hub.store.ops import OpsMixin
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
from hub.store.replicas import Behind, ReadRouter, StandbyReport, on_standby, routing
from hub.store.submission_tokens import SubmissionTokenMixin
from hub.store.tombstones import TombstoneMixin, buried
from hub.store.websessions import WebSessionMixin

__all__ = ["SqlStore", "normalise_url"]

_T = TypeVar("_T")
_CHUNK = 500  # ids per IN (...) list, well inside every database's parameter limit
_INT_LIMIT = 2**31  # Integer primary keys are 32-bit on PostgreSQL


def _party_rows() -> Select[Any]:
    """``SELECT parties.* FROM parties``: a party's row with the columns the database has, so
    that a database whose schema is behind this code (a backup taken before the upgrade
    migrates it) still reads its parties, as they were before revision 0010."""
    return select(literal_column("parties.*")).select_from(t.parties)


def _party(row: Any) -> Party:
    """A party from a row of :func:`_party_rows` (the attributes of revisions 0010 and 0011, where the
    database has none yet, as the revision would make them)."""
    m = row._mapping
    return Party(pk=m["pk"], name=m["name"], kind=m["kind"], identity_id=m["identity_id"],
                 operator=bool(m["operator"]), created_us=m["created_us"],
                 organisation=m.get("organisation", m["identity_id"]), country=m.get("country"),
                 entity=m.get("entity"), shareability=_split(m.get("shareability")),
                 terms_accepted=bool(m.get("terms_accepted")), serves=_split(m.get("serves")),
                 enforces_markings=bool(m.get("enforces_markings")),
                 pseudonyms_per_minute=m.get("pseudonyms_per_minute"))


def _split(text: str | None) -> tuple[str, ...]:
    """A list attribute of a party as stored (comma-joined; "" for none)."""
    return tuple(x for x in (text or "").split(",") if x)


def _joined(name: str, values: tuple[str, ...]) -> str:
    for v in values:
        if not v or "," in v or not matchable(v):
            raise UnstorableError(f"a party's {name} cannot hold {v!r}: an empty value, a comma or U+0000")
    return ",".join(dict.fromkeys(values))


def _party_changes(attrs: PartyAttributes) -> dict[str, Any]:
    """The columns :meth:`SqlStore.edit_party` sets for ``attrs``; :class:`UnstorableError` for
    a value no database would store alike, :class:`ValueError` for an unknown name to clear."""
    unknown = set(attrs.clear) - {"country", "entity", "pseudonyms_per_minute"}
    if unknown:
        raise ValueError(f"only country, entity and pseudonyms_per_minute can be cleared, "
                         f"not {', '.join(sorted(unknown))}")
    changes: dict[str, Any] = {name: None for name in attrs.clear}
    for name, value, width in (("organisation", attrs.organisation, ORGANISATION_MAX),
                               ("country", attrs.country, PARTY_CODE_MAX),
                               ("entity", attrs.entity, PARTY_CODE_MAX)):
        if value is None:
            continue
        if not value or len(value) > width or not matchable(value):
            raise UnstorableError(f"a party's {name} is 1 to {width} characters without U+0000")
        changes[name] = value
    for name, values in (("shareability", attrs.shareability), ("serves", attrs.serves)):
        if values is not None:
            changes[name] = _joined(name, values)
    for name, flag in (("terms_accepted", attrs.terms_accepted), ("enforces_markings", attrs.enforces_markings)):
        if flag is not None:
            changes[name] = bool(flag)
    if attrs.pseudonyms_per_minute is not None:
        if not 0 < attrs.pseudonyms_per_minute < _INT_LIMIT:
            raise UnstorableError("a party's pseudonyms_per_minute is a positive 32-bit integer")
        changes["pseudonyms_per_minute"] = attrs.pseudonyms_per_minute
    return changes


# Never the hash: nothing that reads token records can leak it.
_TOKEN_COLUMNS = (t.tokens.c.pk, t.tokens.c.party_pk, t.tokens.c.label, t.tokens.c.created_us,
                  t.tokens.c.revoked_us)


def _token(row: Any) -> TokenRecord:
    return TokenRecord(id=row.pk, party_pk=row.party_pk, label=row.label, created_us=row.created_us,
                       revoked_us=row.revoked_us)


def _collection(row: Any) -> Collection:
    return Collection(pk=row.pk, id=row.id, title=row.title, description=row.description,
                      alias=row.alias, max_tlp=row.max_tlp,
                      require_signatures=bool(row.require_signatures),
                      countersign=bool(row.countersign),
                      allow_personal_data=bool(row.allow_personal_data), created_us=row.created_us)


def _new_pk(result: Any) -> int:
    """The primary key of the row an INSERT made."""
    return int(result.inserted_primary_key[0])


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]


class SqlTransaction:
    """The writes of one transaction (:class:`hub.store.base.Transaction`) on one connection.

    Made by :meth:`SqlStore.transaction`; each method also backs the store's method of the same
    name, which runs it in a transaction of its own.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.writers: set[int] = set()  # the parties whose writes these are (hub.store.replicas)

    # -- audiences (hub.store.audiences)
    def ensure_audience(self, key: str, canonical: str, member_pks: Iterable[int], now_us: int,
                        generation: int | None = None) -> int:
        return ensure_audience(self.conn, key, canonical, member_pks, now_us, generation)

    # -- objects
    def add_versions(self, collection_pk: int, party_pk: int, versions: Iterable[NewVersion],
                     now_us: int) -> list[AddOutcome]:
        batch = list(versions)
        self.writers.add(party_pk)
        for v in batch:
            reason = unstorable_reason(v)
            if reason is not None:
                raise UnstorableError(f"{v.stix_id[:100]!r} cannot be stored: {reason}")
        conn = self.conn
        outcomes: list[AddOutcome] = []
        # Serialise writers per collection: the counter row stays locked until commit, so
        # date_added is handed out in commit order and a reader never sees a later date_added
        # before an earlier one (see hub.store.dialect for how each database locks it).
        last = conn.execute(lock_rows(select(t.collections.c.last_added_us)
                                      .where(t.collections.c.pk == collection_pk))).scalar_one()
        ids = sorted({v.stix_id for v in batch})
        present = _stored_versions(conn, collection_pk, ids)
        present_ids = {sid for sid, _ in present}
        # A deleted version is not stored again (its tombstone, hub.store.tombstones): looked up
        # under the counter lock a deletion takes too, so none slips in while it is deleted.
        present |= buried(conn, collection_pk, ids)
        rows: list[dict[str, Any]] = []
        terms: set[tuple[str, str, str]] = set()
        touched: set[str] = set()
        seen_ids: set[str] = set()
        for v in batch:
            if (v.stix_id, v.version_us) in present or (v.version_us < 0 and v.stix_id in present_ids):
                outcomes.append(AddOutcome(v.stix_id, v.version or "", False, 0))
                continue
            added = max(now_us, last + 1)
            last = added
            version_us = v.version_us if v.version_us >= 0 else added
            version = v.version if v.version is not None else format_timestamp_us(added)
            present.add((v.stix_id, v.version_us))
            if v.stix_id in present_ids or v.stix_id in seen_ids:
                touched.add(v.stix_id)
            seen_ids.add(v.stix_id)
            present_ids.add(v.stix_id)
            rows.append(dict(collection_pk=collection_pk, date_added_us=added, stix_id=v.stix_id,
                             type=v.type, version_us=version_us, version=version,
                             spec_version=v.spec_version, is_latest=True, is_first=True,
                             party_pk=party_pk, json_text=v.json_text, audience_pk=v.audience_pk,
                             pending_audience_pk=v.pending_audience_pk))
            outcomes.append(AddOutcome(v.stix_id, version, True, added))
            terms.update((v.stix_id, kind, term) for kind, term in v.terms)
        if terms:
            known = {(r.stix_id, r.kind, r.term) for r in conn.execute(
                select(t.object_terms).where(t.object_terms.c.collection_pk == collection_pk,
                                             t.object_terms.c.stix_id.in_({x[0] for x in terms})))}
            new_terms = [dict(collection_pk=collection_pk, stix_id=sid, kind=kind, term=term)
                         for sid, kind, term in sorted(terms - known)]
            if new_terms:
                conn.execute(insert(t.object_terms), new_terms)
        if rows:
            _insert_versions(conn, rows)
            conn.execute(update(t.collections).where(t.collections.c.pk == collection_pk)
                         .values(last_added_us=last))
        if touched:
            _refresh_flags(conn, collection_pk, sorted(touched))
        return outcomes

    # -- statuses
    def save_status(self, status: StatusRecord, expires_us: int) -> None:
        details = orjson.dumps({"successes": status.successes, "failures": status.failures,
                                "pendings": status.pendings}).decode()
        self.writers.add(status.party_pk)
        self.conn.execute(insert(t.statuses).values(
            id=status.id, party_pk=status.party_pk, collection_pk=status.collection_pk,
            request_us=status.request_us, expires_us=expires_us, status=status.status,
            details_json=details))

    # -- the audit chain
    def append_audit(self, entries: list[AuditEntry], now_us: int) -> None:
        """Append to the chain (see :meth:`hub.store.base.Store.append_audit`).

        Times are clamped, not reordered: a record keeps its place in the order it was given,
        and its ``at_us`` is the later of its own time and the previous record's.
        """
        if not entries:
            return
        conn = self.conn
        h, a = t.audit_head, t.audit_log
        # The head and the time of the record it names, in one statement (None: an empty chain).
        last_record_at = select(a.c.at_us).where(a.c.seq == h.c.seq).scalar_subquery()
        seq, prev, last_at = conn.execute(lock_rows(select(h.c.seq, h.c.hash, last_record_at)
                                                    .where(h.c.id == 1))).one()
        rows = []
        for e in entries:
            seq += 1
            at_us = now_us if e.at_us is None else e.at_us
            if last_at is not None and at_us < last_at:
                at_us = last_at
            last_at = at_us
            kind, party, collection = recordable(e.kind), recordable(e.party), recordable(e.collection)
            reason = unstorable_audit_reason(kind, party, collection)
            if reason is not None:
                raise UnstorableError(f"audit record {seq} cannot be stored: {reason}")
            data = recordable(e.data)
            digest = record_hash(prev, seq, at_us, kind, party, collection, data)
            rows.append(dict(seq=seq, at_us=at_us, kind=kind, party=party, collection=collection,
                             data_json=orjson.dumps(data).decode(), prev_hash=prev, hash=digest))
            prev = digest
        conn.execute(insert(a), rows)
        conn.execute(update(h).where(h.c.id == 1).values(seq=seq, hash=prev))


def _not_behind(conn: Connection, collection_pk: int, cursor_us: int) -> None:
    """Raise :class:`Behind` when this read is on a standby whose newest ``date_added`` of the
    collection is older than the reader's cursor (it saw more elsewhere): paging stays exact."""
    if cursor_us and on_standby():
        last = conn.execute(select(t.collections.c.last_added_us)
                            .where(t.collections.c.pk == collection_pk)).scalar()
        if last is None or last < cursor_us:
            raise Behind


def _driver(conn: Connection) -> Any:
    """The driver's connection under ``conn``, in its transaction (psycopg's, on PostgreSQL)."""
    driver = conn.connection.driver_connection
    if driver is None:
        raise RuntimeError("the connection is closed")
    return driver


def _insert_versions(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Store the rows of an envelope's new versions (each row with the same columns).

    PostgreSQL: one ``COPY ... FROM STDIN`` on the transaction's connection, about a third of the
    server's CPU and a quarter of the hub's that an ``INSERT`` sent once per row (psycopg's
    ``executemany``) costs for an envelope of 100; its errors are raised as SQLAlchemy's, as
    every other statement's are. SQLite: one ``executemany`` (calls into the library, no round
    trips).
    """
    if conn.dialect.name != "postgresql":
        conn.execute(insert(t.objects), rows)
        return
    import psycopg  # only where PostgreSQL is used

    columns = list(rows[0])
    statement = f"COPY objects ({', '.join(columns)}) FROM STDIN"
    try:
        with _driver(conn).cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
    except psycopg.Error as exc:
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc


_STORED_VERSIONS_PG = (
    "SELECT given.id, stored.version_us FROM unnest(CAST(%s AS varchar[])) AS given (id) "
    "CROSS JOIN LATERAL (SELECT objects.version_us FROM objects "
    "WHERE objects.collection_pk = %s AND objects.stix_id = given.id "
    "ORDER BY objects.collection_pk, objects.stix_id, objects.version_us) AS stored")


def _by_ids(conn: Connection, statement: str, collection_pk: int, ids: list[str]) -> list[Any]:
    """The rows of ``statement`` (one of the lookups by ids below: ids, then collection), on
    PostgreSQL, planned at each use and never prepared: a plan kept by the connection (psycopg
    prepares a statement at its fifth use) could be one made while the table was a few rows."""
    driver = _driver(conn)
    threshold, driver.prepare_threshold = driver.prepare_threshold, None
    try:
        return list(conn.exec_driver_sql(statement, (ids, collection_pk)).all())
    finally:
        driver.prepare_threshold = threshold


def _stored_versions(conn: Connection, collection_pk: int, ids: list[str]) -> set[tuple[str, int]]:
    """``(stix_id, version_us)`` of every stored version of ``ids`` in the collection: what
    :meth:`SqlTransaction.add_versions` looks up before it stores an envelope, in one statement.

    Each id is one probe of the unique index on (collection_pk, stix_id, version_us), whatever
    the database knows of the table. Given ``collection_pk = ? AND stix_id IN (...)``,
    PostgreSQL on a table it has no statistics for yet (a fresh database, before ANALYZE or
    autovacuum has run) guesses the collection to be a few rows and walks the whole collection in
    the (collection_pk, type, date_added_us) index, filtering by id: rows read per object grow
    with the collection (50 per object stored at 10,000 objects). There the ids are joined as an
    array (``unnest``), each looked up on its own (``LATERAL``): an estimate can then prefer the
    other index only while the table holds a few hundred rows, and the statement is planned
    again at each use, so that choice is not kept as the table grows. SQLite picks the unique
    index for the ``IN`` list by itself (an equality and an ``IN`` on its first two columns) and
    keeps the plain form.
    """
    if not ids:
        return set()
    if conn.dialect.name == "postgresql":
        return {(sid, vus) for sid, vus in _by_ids(conn, _STORED_VERSIONS_PG, collection_pk, ids)}
    o = t.objects
    out: set[tuple[str, int]] = set()
    for chunk in _chunks(ids):
        out.update((sid, vus) for sid, vus in conn.execute(select(o.c.stix_id, o.c.version_us).where(
            o.c.collection_pk == collection_pk, o.c.stix_id.in_(chunk))))
    return out


_VERSION_FLAGS_PG = (
    "SELECT given.id, stored.pk, stored.version_us, stored.is_latest, stored.is_first "
    "FROM unnest(CAST(%s AS varchar[])) AS given (id) "
    "CROSS JOIN LATERAL (SELECT objects.pk, objects.version_us, objects.is_latest, objects.is_first "
    "FROM objects WHERE objects.collection_pk = %s AND objects.stix_id = given.id "
    "ORDER BY objects.collection_pk, objects.stix_id, objects.version_us) AS stored")


def _refresh_flags(conn: Connection, collection_pk: int, ids: list[str]) -> None:
    """Recompute which stored version of each object is its first and its last.

    PostgreSQL: the versions of the ids are read as :func:`_stored_versions` reads them (by the
    unique index, whatever the statistics), and only the rows whose flags change are updated, by
    primary key, in one statement. SQLite: one UPDATE per 500 ids.
    """
    if conn.dialect.name == "postgresql":
        _refresh_flags_pg(conn, collection_pk, ids)
        return
    o = t.objects
    o2 = o.alias("o2")
    same = and_(o2.c.collection_pk == o.c.collection_pk, o2.c.stix_id == o.c.stix_id)
    newest = select(func.max(o2.c.version_us)).where(same).scalar_subquery()
    oldest = select(func.min(o2.c.version_us)).where(same).scalar_subquery()
    for chunk in _chunks(ids):
        conn.execute(update(o)
                     .where(o.c.collection_pk == collection_pk, o.c.stix_id.in_(chunk))
                     .values(is_latest=(o.c.version_us == newest), is_first=(o.c.version_us == oldest)))


def _refresh_flags_pg(conn: Connection, collection_pk: int, ids: list[str]) -> None:
    versions: dict[str, list[tuple[int, int, bool, bool]]] = {}
    for sid, pk, version_us, latest, first in _by_ids(conn, _VERSION_FLAGS_PG, collection_pk, ids):
        versions.setdefault(sid, []).append((pk, version_us, latest, first))
    pks: list[int] = []
    latest_flags: list[bool] = []
    first_flags: list[bool] = []
    for rows in versions.values():
        newest, oldest = max(r[1] for r in rows), min(r[1] for r in rows)
        for pk, version_us, latest, first in rows:
            if (latest, first) != (version_us == newest, version_us == oldest):
                pks.append(pk)
                latest_flags.append(version_us == newest)
                first_flags.append(version_us == oldest)
    if pks:
        conn.execute(text(
            "UPDATE objects SET is_latest = given.latest, is_first = given.first "
            "FROM unnest(CAST(:pks AS integer[]), CAST(:latest AS boolean[]), CAST(:first AS boolean[])) "
            "AS given (pk, latest, first) WHERE objects.pk = given.pk"),
            dict(pks=pks, latest=latest_flags, first=first_flags))


def _ids_by_key(collection_pk: int, ids: list[str]) -> Any:
    """The versions of ``ids`` in the collection, by primary key, as found in the
    (collection_pk, stix_id, version_us) index.

    For queries ordered by ``date_added_us``: given ``collection_pk = ? AND stix_id IN (...)``,
    SQLite (which keeps no statistics unless asked, so does not know that one collection may
    hold most rows) walks the collection's whole (collection_pk, date_added_us) index to save
    sorting the few rows that match. Named only inside this subquery, the collection leaves the
    outer query no index to walk but the primary key. PostgreSQL plans both forms alike.
    """
    o2 = t.objects.alias("by_id")
    return t.objects.c.pk.in_(select(o2.c.pk).where(o2.c.collection_pk == collection_pk,
                                                    o2.c.stix_id.in_(ids)))


def _conditions(collection_pk: int, flt: ObjectFilter, *, ids_by_key: bool = False) -> list[Any]:
    """The WHERE clause of ``flt``; with ``ids_by_key``, an ids filter is looked up as
    :func:`_ids_by_key` does (for queries ordered by ``date_added_us``)."""
    o = t.objects
    ids = [v for v in flt.ids if matchable(v)]
    if ids and ids_by_key:
        cond: list[Any] = [_ids_by_key(collection_pk, ids)]
    else:
        cond = [o.c.collection_pk == collection_pk]
        if flt.ids:
            cond.append(o.c.stix_id.in_(ids) if ids else false())
    if flt.added_after_us is not None:
        cond.append(o.c.date_added_us > flt.added_after_us)
    for column, values in ((o.c.type, flt.types), (o.c.spec_version, flt.spec_versions)):
        if values:
            usable = [v for v in values if matchable(v)]
            cond.append(column.in_(usable) if usable else false())
    if "all" not in flt.versions:
        alternatives: list[Any] = []
        if "last" in flt.versions:
            alternatives.append(o.c.is_latest.is_(True))
        if "first" in flt.versions:
            alternatives.append(o.c.is_first.is_(True))
        if flt.version_us:
            alternatives.append(o.c.version_us.in_(flt.version_us))
        cond.append(or_(*alternatives) if alternatives else false())
    if flt.reader_pk is not None:
        cond.append(readable(o.c.audience_pk, flt.reader_pk))
    return cond


class SqlStore(OpsMixin, LifecycleMixin, FederationMixin, WebSessionMixin, TombstoneMixin, AudienceMixin,
               AnonymousMixin, SubmissionTokenMixin):
    """The :class:`hub.store.base.Store` over SQLAlchemy Core (SQLite or PostgreSQL).

    Safe to share between threads: each call takes its own pooled connection. A SQLite store
    serves the file that was at its path when it was opened (or ``database_file``, a
    :meth:`database_file` of another store), and opens no file that does not exist: only
    :meth:`migrate` makes one.
    """

    def __init__(self, url: str, *, database_file: FileIdentity | None = None,
                 read_urls: Iterable[str] = (), max_lag_s: float = 10.0) -> None:
        self.url = normalise_url(url)
        self.file = sqlite_file(self.url, database_file)
        self.engine: Engine = make_engine(self.url, self.file)
        self.dialect = self.engine.dialect.name
        self._local = threading.local()  # .in_transaction: a write transaction open; .read_conn: reading()'s
        read_urls = tuple(read_urls)
        #: The standbys that serve routed reads (hub.store.replicas); None: the primary serves all.
        self.replicas = ReadRouter(self.engine, read_urls, max_lag_s) if read_urls else None

    # -- standbys (hub.store.replicas)
    def routed(self, fn: Callable[[], _T], party_pk: int | None) -> _T:
        return fn() if self.replicas is None else self.replicas.routed(fn, party_pk)

    def check_standbys(self) -> list[str]:
        return self.replicas.check() if self.replicas is not None else []

    def standbys(self) -> list[StandbyReport]:
        return self.replicas.report() if self.replicas is not None else []

    # -- plumbing
    def database_file(self) -> FileIdentity | None:
        """The (device, inode) of the SQLite file this store serves; None for PostgreSQL."""
        if self.file is None:
            return None
        self.file.check()
        return self.file.identity

    def migrate(self) -> str:
        """Bring the schema to this code's head revision; a SQLite file that does not exist is
        made first (the only place one is made)."""
        from alembic import command
        from alembic.config import Config

        create_database_file(self.url)
        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        with self._write() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        with self.engine.connect() as conn:
            return str(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar())

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        with self._write() as conn:
            tx = SqlTransaction(conn)
            yield tx
        if self.replicas is not None:
            self.replicas.mark(tx.writers)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        if getattr(self._local, "in_transaction", False):
            raise RuntimeError("this thread already has a write transaction open: write through it")
        self._local.in_transaction = True
        try:
            connection = self.engine.connect() if self.replicas is None else self.replicas.connect_primary()
            with connection.execution_options(**WRITE) as conn:
                with conn.begin():
                    yield conn
        finally:
            self._local.in_transaction = False

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        held: Connection | None = getattr(self._local, "read_conn", None)
        if self.replicas is not None:
            if held is not None and not routing():  # reading()'s, for the reads not routed
                yield held
                return
            with self.replicas.read() as conn:
                yield conn
            return
        if held is not None:  # inside reading(): its connection and transaction
            yield held
            return
        with self.engine.connect() as conn:
            with conn.begin():
                yield conn

    @contextmanager
    def reading(self) -> Iterator[None]:
        # Each read otherwise takes a connection from the pool and opens a transaction of its
        # own: on PostgreSQL a ping, BEGIN and COMMIT each, three round trips per read and four
        # reads to serve one page (token, grants, collection, objects). With standbys, the reads
        # that are not routed (the token and the grants) share one, on the database
        # ReadRouter.read gives them (the primary, or a standby while it does not answer); the
        # routed ones still go read by read.
        if getattr(self._local, "read_conn", None) is not None or (self.replicas is not None and routing()):
            yield
            return
        with ExitStack() as stack:
            if self.replicas is not None:
                conn = stack.enter_context(self.replicas.read())
            else:
                conn = stack.enter_context(self.engine.connect())
                stack.enter_context(conn.begin())
            self._local.read_conn = conn
            try:
                yield
            finally:
                self._local.read_conn = None

    def close(self) -> None:
        if self.replicas is not None:
            self.replicas.close()
        self.engine.dispose()

    # -- parties and credentials
    def create_party(self, name: str, kind: str, identity_id: str, operator: bool, now_us: int) -> Party:
        try:
            with self._write() as conn:
                pk = _new_pk(conn.execute(insert(t.parties).values(
                    name=name, kind=kind, identity_id=identity_id, operator=operator,
                    created_us=now_us, organisation=identity_id)))
        except IntegrityError:
            raise DuplicateError(f"a party named {name!r} already exists") from None
        return Party(pk=pk, name=name, kind=kind, identity_id=identity_id, operator=operator,
                     created_us=now_us, organisation=identity_id)

    def edit_party(self, party_pk: int, attrs: PartyAttributes) -> Party:
        changes = _party_changes(attrs)
        p = t.parties
        with self._write() as conn:
            if changes:
                conn.execute(update(p).where(p.c.pk == party_pk).values(**changes))
            row = conn.execute(_party_rows().where(p.c.pk == party_pk)).first()
        if row is None:
            raise KeyError(f"there is no party {party_pk}")
        return _party(row)

    def get_party(self, name: str) -> Party | None:
        if not matchable(name):
            return None
        with self._read() as conn:
            row = conn.execute(_party_rows().where(t.parties.c.name == name)).first()
        return _party(row) if row else None

    def list_parties(self) -> list[Party]:
        with self._read() as conn:
            return [_party(r) for r in conn.execute(_party_rows().order_by(t.parties.c.name))]

    def add_token(self, party_pk: int, token_hash: str, label: str, now_us: int) -> int:
        with self._write() as conn:
            return _new_pk(conn.execute(insert(t.tokens).values(
                party_pk=party_pk, token_hash=token_hash, label=label, created_us=now_us)))

    def party_for_token(self, token_hash: str) -> Party | None:
        if not matchable(token_hash):
            return None
        q = (_party_rows().join(t.tokens, t.tokens.c.party_pk == t.parties.c.pk)
             .where(t.tokens.c.token_hash == token_hash, t.tokens.c.revoked_us.is_(None),
                    t.parties.c.disabled_us.is_(None), t.parties.c.removed_us.is_(None)))
        with self._read() as conn:
            row = conn.execute(q).first()
        return _party(row) if row else None

    def list_tokens(self, party_pk: int) -> list[TokenRecord]:
        with self._read() as conn:
            rows = conn.execute(select(*_TOKEN_COLUMNS).where(t.tokens.c.party_pk == party_pk)
                                .order_by(t.tokens.c.pk)).all()
        return [_token(r) for r in rows]

    def get_token(self, token_id: int) -> TokenRecord | None:
        if not 0 < token_id < _INT_LIMIT:  # PostgreSQL would refuse it; no row has such an id
            return None
        with self._read() as conn:
            row = conn.execute(select(*_TOKEN_COLUMNS).where(t.tokens.c.pk == token_id)).first()
        return _token(row) if row else None

    def revoke_token(self, party_pk: int, token_id: int, now_us: int) -> bool:
        if not 0 < token_id < _INT_LIMIT:
            return False
        with self._write() as conn:
            res = conn.execute(update(t.tokens)
                               .where(t.tokens.c.pk == token_id, t.tokens.c.party_pk == party_pk,
                                      t.tokens.c.revoked_us.is_(None))
                               .values(revoked_us=now_us))
            return res.rowcount == 1

    def revoke_tokens(self, party_pk: int, now_us: int) -> int:
        with self._write() as conn:
            res = conn.execute(update(t.tokens)
                               .where(t.tokens.c.party_pk == party_pk, t.tokens.c.revoked_us.is_(None))
                               .values(revoked_us=now_us))
            return res.rowcount

    # -- collections and grants
    def create_collection(self, collection_id: str, title: str, description: str, alias: str | None,
                          max_tlp: str, require_signatures: bool, countersign: bool,
                          allow_personal_data: bool, now_us: int) -> Collection:
        values = dict(id=collection_id, title=title, description=description, alias=alias,
                      max_tlp=max_tlp, require_signatures=require_signatures,
                      countersign=countersign, allow_personal_data=allow_personal_data,
                      created_us=now_us, last_added_us=0)
        try:
            with self._write() as conn:
                pk = _new_pk(conn.execute(insert(t.collections).values(**values)))
        except IntegrityError:
            raise DuplicateError(f"a collection with id {collection_id!r} or alias {alias!r} already exists") from None
        values.pop("last_added_us")
        return Collection(pk=pk, **values)  # type: ignore[arg-type]

    def get_collection(self, collection_id: str) -> Collection | None:
        if not matchable(collection_id):
            return None
        with self._read() as conn:
            row = conn.execute(select(t.collections).where(
                or_(t.collections.c.id == collection_id, t.collections.c.alias == collection_id))).first()
            if row is None and on_standby():
                raise Behind  # a collection made a moment ago may not be on the standby yet
        return _collection(row) if row else None

    def list_collections(self) -> list[Collection]:
        with self._read() as conn:
            return [_collection(r) for r in conn.execute(select(t.collections).order_by(t.collections.c.pk))]

    def set_grant(self, party_pk: int, collection_pk: int, can_read: bool, can_write: bool) -> Grant:
        key = and_(t.grants.c.party_pk == party_pk, t.grants.c.collection_pk == collection_pk)
        with self._write() as conn:
            if not can_read and not can_write:
                conn.execute(delete(t.grants).where(key))
            elif conn.execute(select(t.grants.c.party_pk).where(key)).first():
                conn.execute(update(t.grants).where(key).values(can_read=can_read, can_write=can_write))
            else:
                conn.execute(insert(t.grants).values(party_pk=party_pk, collection_pk=collection_pk,
                                                     can_read=can_read, can_write=can_write))
        return Grant(party_pk, collection_pk, can_read, can_write)

    def grants_for(self, party_pk: int) -> dict[int, Grant]:
        with self._read() as conn:
            rows = conn.execute(select(t.grants).where(t.grants.c.party_pk == party_pk)).all()
        return {r.collection_pk: Grant(r.party_pk, r.collection_pk, bool(r.can_read), bool(r.can_write))
                for r in rows}

    def grants_of(self, collection_pk: int) -> dict[int, Grant]:
        with self._read() as conn:
            rows = conn.execute(select(t.grants).where(t.grants.c.collection_pk == collection_pk)).all()
        return {r.party_pk: Grant(r.party_pk, r.collection_pk, bool(r.can_read), bool(r.can_write)) for r in rows}

    # -- objects
    def add_versions(self, collection_pk: int, party_pk: int, versions: Iterable[NewVersion],
                     now_us: int) -> list[AddOutcome]:
        with self.transaction() as tx:
            return tx.add_versions(collection_pk, party_pk, versions, now_us)

    def query_objects(self, collection_pk: int, flt: ObjectFilter, after_added_us: int | None,
                      limit: int) -> Page:
        o = t.objects
        cond = _conditions(collection_pk, flt, ids_by_key=True)
        if after_added_us is not None:
            cond.append(o.c.date_added_us > after_added_us)
        q = (select(o.c.stix_id, o.c.version, o.c.date_added_us, o.c.spec_version, o.c.json_text)
             .where(*cond).order_by(o.c.date_added_us).limit(limit + 1))
        with self._read() as conn:
            _not_behind(conn, collection_pk, max(after_added_us or 0, flt.added_after_us or 0))
            rows = conn.execute(q).all()
        more = len(rows) > limit
        return Page([StoredVersion(r[0], r[1], r[2], r[3], r[4], r[2]) for r in rows[:limit]], more)

    def object_versions(self, collection_pk: int, stix_id: str, flt: ObjectFilter,
                        after_version_us: int | None, limit: int) -> Page:
        o = t.objects
        if not matchable(stix_id):
            return Page([], False)
        cond = _conditions(collection_pk, flt)
        cond.append(o.c.stix_id == stix_id)
        if after_version_us is not None:
            cond.append(o.c.version_us > after_version_us)
        q = (select(o.c.stix_id, o.c.version, o.c.date_added_us, o.c.spec_version, o.c.version_us)
             .where(*cond).order_by(o.c.version_us).limit(limit + 1))
        with self._read() as conn:
            rows = conn.execute(q).all()
        more = len(rows) > limit
        return Page([StoredVersion(r[0], r[1], r[2], r[3], "", r[4]) for r in rows[:limit]], more)

    def delete_object(self, collection_pk: int, stix_id: str, flt: ObjectFilter,
                      party_pk: int | None = None) -> int:
        o = t.objects
        if not matchable(stix_id):
            return 0
        cond = _conditions(collection_pk, flt)
        cond.append(o.c.stix_id == stix_id)
        if party_pk is not None:
            cond.append(o.c.party_pk == party_pk)
        with self._write() as conn:
            conn.execute(lock_rows(select(t.collections.c.pk).where(t.collections.c.pk == collection_pk)))
            count = conn.execute(delete(o).where(*cond)).rowcount
            if count:
                _refresh_flags(conn, collection_pk, [stix_id])
                left = conn.execute(select(func.count()).select_from(o).where(
                    o.c.collection_pk == collection_pk, o.c.stix_id == stix_id)).scalar_one()
                if not left:
                    conn.execute(delete(t.object_terms).where(t.object_terms.c.collection_pk == collection_pk,
                                                              t.object_terms.c.stix_id == stix_id))
        return count

    def find_terms(self, kind: str, terms: Iterable[str], collection_pks: Iterable[int],
                   reader_pk: int | None = None) -> list[tuple[int, str, str]]:
        wanted, pks = sorted({x for x in terms if matchable(x)}), sorted(set(collection_pks))
        if not wanted or not pks:
            return []
        ot, o = t.object_terms, t.objects
        cond: list[Any] = [ot.c.kind == kind, ot.c.collection_pk.in_(pks)]
        if reader_pk is not None:
            # Only objects of which the reader may read some version (by the object's index).
            cond.append(select(o.c.pk).where(o.c.collection_pk == ot.c.collection_pk, o.c.stix_id == ot.c.stix_id,
                                             readable(o.c.audience_pk, reader_pk)).exists())
        out: list[tuple[int, str, str]] = []
        with self._read() as conn:
            for chunk in _chunks(wanted):
                out += [(r.collection_pk, r.stix_id, r.term) for r in conn.execute(
                    select(ot.c.collection_pk, ot.c.stix_id, ot.c.term).where(*cond, ot.c.term.in_(chunk)))]
        return sorted(out)

    def count_objects(self, collection_pk: int) -> int:
        with self._read() as conn:
            return conn.execute(select(func.count()).select_from(t.objects)
                                .where(t.objects.c.collection_pk == collection_pk)).scalar_one()

    # -- statuses
    def save_status(self, status: StatusRecord, expires_us: int) -> None:
        with self.transaction() as tx:
            tx.save_status(status, expires_us)

    def get_status(self, status_id: str, now_us: int) -> StatusRecord | None:
        s = t.statuses
        if not matchable(status_id):
            return None
        with self._read() as conn:
            row = conn.execute(select(s).where(s.c.id == status_id, s.c.expires_us > now_us)).first()
        if row is None:
            if on_standby():
                raise Behind  # made on the primary after the standby's position: asked there
            return None
        details = orjson.loads(row.details_json)
        return StatusRecord(id=row.id, party_pk=row.party_pk, collection_pk=row.collection_pk,
                            request_us=row.request_us, status=row.status,
                            successes=details["successes"], failures=details["failures"],
                            pendings=details["pendings"])

    def purge_statuses(self, now_us: int) -> int:
        with self._write() as conn:
            return conn.execute(delete(t.statuses).where(t.statuses.c.expires_us <= now_us)).rowcount

    # -- signing keys
    def add_key(self, party_pk: int, key_id: str, alg: str, jwk_json: str, not_before_us: int,
                not_after_us: int | None, now_us: int) -> None:
        try:
            with self._write() as conn:
                conn.execute(insert(t.party_keys).values(
                    party_pk=party_pk, key_id=key_id, alg=alg, jwk_json=jwk_json,
                    not_before_us=not_before_us, not_after_us=not_after_us, created_us=now_us))
        except IntegrityError:
            raise DuplicateError(f"key {key_id} is already registered") from None

    def list_keys(self, party_pk: int | None = None) -> list[KeyRecord]:
        k, p = t.party_keys, t.parties
        q = (select(k.c.key_id, k.c.alg, k.c.jwk_json, p.c.name, p.c.identity_id, k.c.not_before_us,
                    k.c.not_after_us, k.c.revoked_us, k.c.created_us)
             .join(p, p.c.pk == k.c.party_pk).order_by(k.c.pk))
        if party_pk is not None:
            q = q.where(k.c.party_pk == party_pk)
        with self._read() as conn:
            rows = conn.execute(q).all()
        return [KeyRecord(*r) for r in rows]

    def revoke_key(self, key_id: str, now_us: int) -> bool:
        with self._write() as conn:
            return conn.execute(update(t.party_keys)
                                .where(t.party_keys.c.key_id == key_id, t.party_keys.c.revoked_us.is_(None))
                                .values(revoked_us=now_us)).rowcount == 1

    # -- the audit chain
    def append_audit(self, entries: list[AuditEntry], now_us: int) -> None:
        if entries:
            with self.transaction() as tx:
                tx.append_audit(entries, now_us)

    def iter_audit(self, since_us: int | None = None) -> Iterator[AuditRecord]:
        a = t.audit_log
        q = select(a).order_by(a.c.seq)
        if since_us is not None:
            q = q.where(a.c.at_us >= since_us)
        with self.engine.connect() as conn:
            for r in conn.execution_options(yield_per=1000).execute(q):
                yield AuditRecord(r.seq, r.at_us, r.kind, r.party, r.collection, orjson.loads(r.data_json),
                                  r.prev_hash, r.hash)

    def audit_head(self) -> tuple[int, str]:
        with self._read() as conn:
            seq, digest = conn.execute(select(t.audit_head.c.seq, t.audit_head.c.hash)).one()
        return seq, digest

    # -- settings
    def get_setting(self, name: str) -> str | None:
        if not matchable(name):
            return None
        with self._read() as conn:
            value = conn.execute(select(t.settings.c.value).where(t.settings.c.name == name)).scalar()
        return value

    def set_setting(self, name: str, value: str) -> None:
        with self._write() as conn:
            if conn.execute(select(t.settings.c.name).where(t.settings.c.name == name)).first():
                conn.execute(update(t.settings).where(t.settings.c.name == name).values(value=value))
            else:
                conn.execute(insert(t.settings).values(name=name, value=value))


def _whole(store: SqlStore) -> Store:
    """Never called: mypy checks here that :class:`SqlStore` implements the whole :class:`Store`
    protocol (every part included), so a service given a store never needs a narrower type."""
    return store
