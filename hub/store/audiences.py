"""Audiences: who may read each stored object version (revision 0010).

Every version carries an ``audience_pk``: 0 is "every reader of the collection" (an object whose
markings restrict nothing) and has no row; any other is a row of ``audiences``, identified by
``key``, the SHA-256 (hex) of its canonical JSON, and ``audience_members`` holds, precomputed,
the parties it admits. The services decide what an audience is and whom it admits
(:mod:`hub.stix.sharing`, :mod:`hub.services.access.markings`); the store keeps the rows and
filters by them: a read on behalf of a party (:attr:`hub.store.records.ObjectFilter.reader_pk`)
adds one condition to its query, :func:`readable`, before ``LIMIT``, so a page holds exactly
what that party may read and keyset paging stays exact for it.

**The parties generation.** A new audience's members are computed by the services from the
parties as they are before the transaction that makes the audience; a party edited (and its
memberships recomputed) in between would leave the audience with the party's membership by its
old attributes. So every change of a party's memberships goes through
:meth:`AudienceStore.refresh_memberships` (or :meth:`AudienceStore.set_memberships`), which raises
a counter, the setting :data:`GENERATION_SETTING`, holding its row locked (``SELECT ... FOR
UPDATE`` on PostgreSQL; SQLite's write transaction holds the whole database) while it reads the
audiences and replaces the memberships, in one transaction. :func:`ensure_audience`, given the
generation the members were computed at, locks the same row (``FOR SHARE``: audiences made at
once by several transactions do not wait for each other) before it makes an audience, and raises
:class:`StaleMembers` when the generation moved: the caller computes the members again from the
parties as they are now and asks again, and that second time cannot be stale (the lock is held
until its transaction ends, so a refresh that comes later waits, then reads the new audience).

``pending_audience_pk`` is for the upgrade: versions stored before markings were enforced keep
the audience they had (0) when the rules would restrict them further, with the audience the
rules give them pending, until the operator applies it (:meth:`AudienceStore.apply_pending_audiences`).

:class:`AudienceStore` declares this part of the store, and :class:`hub.store.base.Store` (what
every service is given) includes it; :class:`AudienceMixin` implements it for
:class:`hub.store.sql.SqlStore`, and :func:`ensure_audience` also backs
:meth:`hub.store.sql.SqlTransaction.ensure_audience`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection, bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hub.store import schema as t
from hub.store.dialect import lock_rows
from hub.store.records import AudienceRecord, Party

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

__all__ = ["CLASSIFY_NEEDLES", "GENERATION_SETTING", "AudienceMixin", "AudienceStore", "Admitted", "StaleMembers",
           "ensure_audience", "readable"]

_CHUNK = 500
_KEY_RE = re.compile(r"[0-9a-f]{64}")

#: What an object's stored JSON text holds when it may carry a marking or name recipients: a
#: marking-definition id (``object_marking_refs``, granular markings, a marking definition
#: itself) or the hub's sharing extension. Texts are stored as the hub serialised them, so
#: these appear literally. :meth:`AudienceStore.objects_to_classify` returns only such objects.
CLASSIFY_NEEDLES = ("marking-definition--",
                    "extension-definition--deb16679-6467-4ef5-9596-531bca71ab9b")

#: The setting that counts the changes of parties' memberships (see the module's notes).
GENERATION_SETTING = "parties_generation"

#: Which audiences admit a party: given the party as it is inside the refreshing transaction
#: (None: it was removed, or does not exist) and every audience, the pks of those that admit it.
Admitted = Callable[[Party | None, list[AudienceRecord]], Iterable[int]]


class StaleMembers(Exception):  # noqa: N818 (what happened, not an error of the caller's)
    """:func:`ensure_audience` would make an audience with members computed before the parties
    last changed: compute them again from the parties as they are now, and ask again with
    :attr:`generation`, the generation now (held by the asking transaction until it ends)."""

    def __init__(self, generation: int) -> None:
        super().__init__(f"the parties changed (generation {generation}) since the members were computed")
        self.generation = generation


def readable(audience_pk: ColumnElement[Any], reader_pk: int) -> ColumnElement[bool]:
    """The condition that a version whose audience is the column ``audience_pk`` may be read by
    the party ``reader_pk``: audience 0, or one whose members include it.

    The subquery does not depend on the row: both databases evaluate it once per statement
    (SQLite: a list built before the scan; PostgreSQL: a hashed subplan), so a query keeps the
    plan it has without the condition and pays one hash probe per row it reads.
    """
    m = t.audience_members
    mine = select(m.c.audience_pk).where(m.c.party_pk == reader_pk)
    return or_(audience_pk == 0, audience_pk.in_(mine))


def _check_key(key: str) -> None:
    if not _KEY_RE.fullmatch(key):
        raise ValueError("an audience key is a SHA-256 digest in lower-case hex (64 characters)")


def _insert_for(conn: Connection) -> Callable[..., Any]:
    """The INSERT of ``conn``'s dialect, which can say ON CONFLICT. PostgreSQL's is imported
    here, when a PostgreSQL statement is built: a SQLite hub never loads that dialect."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    return sqlite_insert


def _generation(conn: Connection, *, bump: bool) -> int:
    """The parties generation, its row locked until the transaction ends (made at 0 if it is
    missing); raised by one first when ``bump``. ``FOR UPDATE`` to raise it, ``FOR SHARE`` to
    read it (PostgreSQL; SQLite's write transaction holds the database already)."""
    s = t.settings
    query = select(s.c.value).where(s.c.name == GENERATION_SETTING)
    query = lock_rows(query) if bump else query.with_for_update(read=True)
    value = conn.execute(query).scalar()
    if value is None:
        make = _insert_for(conn)
        conn.execute(make(s).values(name=GENERATION_SETTING, value="0").on_conflict_do_nothing(
            index_elements=[s.c.name]))
        value = conn.execute(query).scalar_one()
    generation = int(value)
    if bump:
        generation += 1
        conn.execute(update(s).where(s.c.name == GENERATION_SETTING).values(value=str(generation)))
    return generation


def ensure_audience(conn: Connection, key: str, canonical: str, member_pks: Iterable[int],
                    now_us: int, generation: int | None = None) -> int:
    """The pk of the audience ``key``, made (with ``canonical`` and its members) if there is none;
    on ``conn``, inside its transaction.

    Two transactions making the same audience at once both succeed with the same pk: the
    INSERT does nothing on a key that is taken (on PostgreSQL it waits for the other
    transaction to end), then the row is read. The members are written only by the
    transaction that made the row.

    With ``generation`` (the parties generation read before the members were computed), an
    audience is made only if the generation is still that, its row locked until the
    transaction ends; else :class:`StaleMembers`, nothing written (see the module's notes).
    """
    _check_key(key)
    if "\x00" in canonical:
        raise ValueError("an audience's canonical text cannot hold U+0000")
    a, m = t.audiences, t.audience_members
    if generation is not None:
        found = conn.execute(select(a.c.pk).where(a.c.key == key)).scalar()
        if found is not None:
            return int(found)  # made before: its members are not written again
        now = _generation(conn, bump=False)
        if now != generation:
            raise StaleMembers(now)
    make = _insert_for(conn)
    made = conn.execute(make(a).values(key=key, canonical=canonical, created_us=now_us)
                        .on_conflict_do_nothing(index_elements=[a.c.key]).returning(a.c.pk)).scalar()
    if made is None:
        return int(conn.execute(select(a.c.pk).where(a.c.key == key)).scalar_one())
    members = sorted({int(p) for p in member_pks})
    if members:
        conn.execute(insert(m), [dict(audience_pk=made, party_pk=p) for p in members])
    return int(made)


def _replace_memberships(conn: Connection, party_pk: int, audience_pks: Iterable[int]) -> int:
    """Make ``audience_pks`` (0 ignored) the party's memberships, on ``conn``; how many."""
    m = t.audience_members
    wanted = sorted({int(p) for p in audience_pks if int(p) != 0})
    conn.execute(delete(m).where(m.c.party_pk == party_pk))
    for i in range(0, len(wanted), _CHUNK):
        conn.execute(insert(m), [dict(audience_pk=a, party_pk=party_pk) for a in wanted[i:i + _CHUNK]])
    return len(wanted)


def _set_audiences(conn: Connection, rows: list[tuple[int, int, int | None]]) -> None:
    """Set ``(object pk, audience_pk, pending_audience_pk)`` on those versions, on ``conn``.

    PostgreSQL: one UPDATE joined to the rows passed as arrays (``unnest``), several times
    faster than a statement per row, which an upgrade of a million versions would feel. SQLite:
    a statement per row (each is a call into the library, no round trip).
    """
    o = t.objects
    if conn.dialect.name == "postgresql":
        pks, audiences, pending = (list(x) for x in zip(*rows, strict=True))
        conn.execute(text(
            "UPDATE objects SET audience_pk = given.audience, pending_audience_pk = given.pending "
            "FROM unnest(CAST(:pks AS integer[]), CAST(:audiences AS integer[]), CAST(:pending AS integer[])) "
            "AS given (pk, audience, pending) WHERE objects.pk = given.pk"),
            dict(pks=pks, audiences=audiences, pending=pending))
        return
    conn.execute(update(o).where(o.c.pk == bindparam("b_pk"))
                 .values(audience_pk=bindparam("b_audience"), pending_audience_pk=bindparam("b_pending")),
                 [dict(b_pk=pk, b_audience=a, b_pending=p) for pk, a, p in rows])


class AudienceStore(Protocol):
    """The audiences part of :class:`hub.store.base.Store` (see the module's notes).

    Reads on behalf of a party are filtered where they are made: ``query_objects`` and
    ``object_versions`` by :attr:`hub.store.records.ObjectFilter.reader_pk`, ``find_terms`` and
    ``outgoing`` by their ``reader_pk``.
    """

    def list_audiences(self, after_pk: int = 0) -> list[AudienceRecord]:
        """The audiences whose pk is above ``after_pk``, by pk."""
        ...

    def set_memberships(self, party_pk: int, audience_pks: Iterable[int]) -> None:
        """Make ``audience_pks`` the audiences the party is a member of (replacing what it was;
        0, which needs no membership, is ignored), raising the parties generation in the same
        transaction. Raises :class:`sqlalchemy.exc.IntegrityError` (nothing changed) for an
        audience or party that does not exist. The services use :meth:`refresh_memberships`,
        which also reads the audiences and the party under the generation's lock."""
        ...

    def refresh_memberships(self, party_pk: int, admitted: Admitted) -> int:
        """Recompute the party's memberships, in one transaction: raise the parties generation
        (its row locked until the end), read the party as it is now (None when it was removed or
        does not exist) and every audience, and make ``admitted(party, audiences)`` (the pks of
        the audiences that admit it) its memberships, replacing what they were. Returns how many
        audiences admit it. An audience made at the same time by another transaction is either
        read here, or was made with members computed after this generation (see the module's
        notes)."""
        ...

    def parties_generation(self) -> int:
        """The parties generation as committed (0 when nothing was ever refreshed): read it
        before the parties whose members are given to :meth:`ensure_audience`."""
        ...

    def audience_members(self, audience_pk: int) -> list[int]:
        """The pks of the parties the audience admits, ascending."""
        ...

    def ensure_audience(self, key: str, canonical: str, member_pks: Iterable[int], now_us: int,
                        generation: int | None = None) -> int:
        """The pk (> 0) of the audience whose key is ``key`` (SHA-256 of ``canonical``, 64
        lower-case hex digits; else :class:`ValueError`), made at ``now_us`` with ``canonical``
        and the members ``member_pks`` if there is none; the members are written only when it is
        made. Safe to call at once from several transactions (one row is made).

        ``generation``: the :meth:`parties_generation` read before the parties the members were
        computed from. When the audience is to be made and the generation has moved since,
        :class:`StaleMembers` is raised (nothing made): compute the members again and ask again
        with its ``generation``. None: no such check (members the caller knows to be current)."""
        ...

    def objects_to_classify(self, after_pk: int, limit: int) -> list[tuple[int, int, str]]:
        """``(object pk, submitting party_pk, json_text)`` of at most ``limit`` stored versions
        whose pk is above ``after_pk`` and whose text mentions a marking definition or the hub's
        sharing extension (:data:`CLASSIFY_NEEDLES`), by pk, in every collection: what an
        upgrade classifies (page on with the last pk)."""
        ...

    def set_object_audiences(self, rows: Iterable[tuple[int, int, int | None]]) -> None:
        """Set ``(object pk, audience_pk, pending_audience_pk)`` on those versions, in one
        transaction (a pk that is not stored is skipped)."""
        ...

    def count_pending_audiences(self) -> int:
        """How many versions have a pending audience different from their audience."""
        ...

    def apply_pending_audiences(self) -> int:
        """Give every version with a pending audience that audience (and clear the pending
        mark), in one transaction; how many changed audience."""
        ...


class AudienceMixin:
    """:class:`AudienceStore` for :class:`hub.store.sql.SqlStore` (which provides ``_read`` and
    ``_write``)."""

    if TYPE_CHECKING:  # provided by SqlStore
        def _read(self) -> AbstractContextManager[Connection]: ...

        def _write(self) -> AbstractContextManager[Connection]: ...

    def list_audiences(self, after_pk: int = 0) -> list[AudienceRecord]:
        a = t.audiences
        with self._read() as conn:
            rows = conn.execute(select(a.c.pk, a.c.key, a.c.canonical).where(a.c.pk > after_pk)
                                .order_by(a.c.pk)).all()
        return [AudienceRecord(int(r.pk), r.key, r.canonical) for r in rows]

    def set_memberships(self, party_pk: int, audience_pks: Iterable[int]) -> None:
        with self._write() as conn:
            _generation(conn, bump=True)
            _replace_memberships(conn, party_pk, audience_pks)

    def refresh_memberships(self, party_pk: int, admitted: Admitted) -> int:
        from hub.store.sql import _party, _party_rows  # the one place that reads a party's row

        a, p = t.audiences, t.parties
        with self._write() as conn:
            _generation(conn, bump=True)
            row = conn.execute(_party_rows().where(p.c.pk == party_pk, p.c.removed_us.is_(None))).first()
            audiences = [AudienceRecord(int(r.pk), r.key, r.canonical) for r in conn.execute(
                select(a.c.pk, a.c.key, a.c.canonical).order_by(a.c.pk))]
            return _replace_memberships(conn, party_pk, admitted(_party(row) if row else None, audiences))

    def parties_generation(self) -> int:
        s = t.settings
        with self._read() as conn:
            value = conn.execute(select(s.c.value).where(s.c.name == GENERATION_SETTING)).scalar()
        return 0 if value is None else int(value)

    def audience_members(self, audience_pk: int) -> list[int]:
        m = t.audience_members
        with self._read() as conn:
            return [int(p) for p in conn.execute(select(m.c.party_pk).where(m.c.audience_pk == audience_pk)
                                                 .order_by(m.c.party_pk)).scalars()]

    def ensure_audience(self, key: str, canonical: str, member_pks: Iterable[int], now_us: int,
                        generation: int | None = None) -> int:
        with self._write() as conn:
            return ensure_audience(conn, key, canonical, member_pks, now_us, generation)

    def objects_to_classify(self, after_pk: int, limit: int) -> list[tuple[int, int, str]]:
        o = t.objects
        mentions = or_(*(o.c.json_text.contains(n, autoescape=True) for n in CLASSIFY_NEEDLES))
        q = (select(o.c.pk, o.c.party_pk, o.c.json_text).where(o.c.pk > after_pk, mentions)
             .order_by(o.c.pk).limit(limit))
        with self._read() as conn:
            return [(int(r.pk), int(r.party_pk), r.json_text) for r in conn.execute(q)]

    def set_object_audiences(self, rows: Iterable[tuple[int, int, int | None]]) -> None:
        batch = [(int(pk), int(audience), None if pending is None else int(pending)) for pk, audience, pending in rows]
        with self._write() as conn:
            for i in range(0, len(batch), _CHUNK):
                _set_audiences(conn, batch[i:i + _CHUNK])

    def count_pending_audiences(self) -> int:
        o = t.objects
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(o).where(
                o.c.pending_audience_pk.is_not(None), o.c.pending_audience_pk != o.c.audience_pk)).scalar_one())

    def apply_pending_audiences(self) -> int:
        o = t.objects
        with self._write() as conn:
            changed = conn.execute(update(o).where(o.c.pending_audience_pk.is_not(None),
                                                   o.c.pending_audience_pk != o.c.audience_pk)
                                   .values(audience_pk=o.c.pending_audience_pk, pending_audience_pk=None)).rowcount
            conn.execute(update(o).where(o.c.pending_audience_pk.is_not(None)).values(pending_audience_pk=None))
        return int(changed)
