"""Anonymous filing's tables (revision 0012): which collections allow it, the filings waiting
for their publication time, and what the hub keeps beside each anonymous report.

- ``anonymous_collections``: one row per collection that accepts anonymous filings.
- ``anonymous_filings``: a filing accepted and attested, waiting for ``publish_us`` (a random
  moment within the publication window); its objects as they will be published. The row has no
  party and no time of filing: ``pk`` is random, not a sequence.
- ``anonymous_reports``: per anonymous report, the commitment to its withdrawal secret
  (``sha256:<hex>``), the submitter record sealed to the oversight key (JSON text the hub cannot
  open), the ids of its objects that belong to it alone (what a withdrawal deletes), and whether
  it was withdrawn. No party, no time.

Persistence only: what is published when, and who may withdraw, is decided by
:mod:`hub.services.anonymity`. :class:`AnonymousMixin` gives these methods to
:class:`hub.store.sql.SqlStore`; :class:`AnonymousStore` declares them for
:class:`hub.store.base.Store`.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from hub.store.schema import metadata

if TYPE_CHECKING:
    from sqlalchemy import Connection

__all__ = ["AnonymousMixin", "AnonymousReport", "AnonymousStore", "PendingFiling"]

anonymous_collections = Table(
    "anonymous_collections", metadata,
    Column("collection_pk", Integer, ForeignKey("collections.pk", ondelete="CASCADE"), primary_key=True),
)

anonymous_filings = Table(
    "anonymous_filings", metadata,
    Column("pk", String(36), primary_key=True),
    Column("collection_pk", Integer, ForeignKey("collections.pk", ondelete="CASCADE"), nullable=False),
    Column("publish_us", BigInteger, nullable=False),
    Column("objects_json", Text, nullable=False),
    Index("ix_anonymous_filings_publish", "publish_us"),
)

anonymous_reports = Table(
    "anonymous_reports", metadata,
    Column("report_id", String(300), primary_key=True),
    Column("collection_pk", Integer, ForeignKey("collections.pk", ondelete="CASCADE"), nullable=False),
    Column("commitment", String(80), nullable=False),
    Column("sealed_json", Text, nullable=False),
    Column("own_ids", Text, nullable=False),
    Column("withdrawn", Boolean, nullable=False),
)


@dataclass(frozen=True, slots=True)
class PendingFiling:
    """A filing waiting for its publication time."""

    pk: str
    collection_pk: int
    publish_us: int
    objects_json: str


@dataclass(frozen=True, slots=True)
class AnonymousReport:
    """What the hub keeps beside one anonymous report."""

    report_id: str
    collection_pk: int
    commitment: str
    sealed_json: str
    own_ids: tuple[str, ...]
    withdrawn: bool


class AnonymousStore(Protocol):
    """The anonymous filing part of :class:`hub.store.base.Store` (see the module text)."""

    def anonymous_collection_pks(self) -> set[int]:
        """The collections that accept anonymous filings."""
        ...

    def set_anonymous_collection(self, collection_pk: int, allowed: bool) -> None:
        """Allow or stop anonymous filings in a collection."""
        ...

    def add_anonymous_filing(self, conn: Any, filing: PendingFiling, report: AnonymousReport) -> None:
        """Record a filing and its report's record through ``conn`` (the caller's transaction
        connection, from :meth:`anonymous_transaction`)."""
        ...

    def anonymous_transaction(self) -> AbstractContextManager[Any]:
        """A write transaction for :meth:`add_anonymous_filing` and the caller's own writes."""
        ...

    def due_anonymous_filings(self, now_us: int) -> list[PendingFiling]:
        """The filings whose publication time has come, in random (``pk``) order."""
        ...

    def next_anonymous_publication(self) -> int | None:
        """The earliest publication time waiting, None if nothing waits."""
        ...

    def drop_anonymous_filings(self, pks: Iterable[str]) -> None:
        """Forget published filings."""
        ...

    def anonymous_report(self, report_id: str) -> AnonymousReport | None:
        """The record kept beside one anonymous report."""
        ...

    def withdraw_anonymous_report(self, report_id: str) -> bool:
        """Mark a report withdrawn and drop its filing if it still waits; False if it already was."""
        ...


class AnonymousMixin:
    """The methods of :class:`AnonymousStore` for :class:`hub.store.sql.SqlStore`."""

    if TYPE_CHECKING:  # provided by SqlStore
        def _read(self) -> AbstractContextManager[Connection]: ...

        def _write(self) -> AbstractContextManager[Connection]: ...

    def anonymous_collection_pks(self) -> set[int]:
        with self._read() as conn:
            return {row[0] for row in conn.execute(select(anonymous_collections.c.collection_pk))}

    def set_anonymous_collection(self, collection_pk: int, allowed: bool) -> None:
        c = anonymous_collections
        with self._write() as conn:
            conn.execute(delete(c).where(c.c.collection_pk == collection_pk))
            if allowed:
                conn.execute(insert(c).values(collection_pk=collection_pk))

    def anonymous_transaction(self) -> AbstractContextManager[Connection]:
        return self._write()

    def add_anonymous_filing(self, conn: Any, filing: PendingFiling, report: AnonymousReport) -> None:
        conn.execute(insert(anonymous_reports).values(
            report_id=report.report_id, collection_pk=report.collection_pk, commitment=report.commitment,
            sealed_json=report.sealed_json, own_ids="\n".join(report.own_ids), withdrawn=False))
        conn.execute(insert(anonymous_filings).values(
            pk=filing.pk, collection_pk=filing.collection_pk, publish_us=filing.publish_us,
            objects_json=filing.objects_json))

    def due_anonymous_filings(self, now_us: int) -> list[PendingFiling]:
        f = anonymous_filings
        with self._read() as conn:
            rows = conn.execute(select(f).where(f.c.publish_us <= now_us).order_by(f.c.pk)).all()
        return [PendingFiling(r.pk, r.collection_pk, r.publish_us, r.objects_json) for r in rows]

    def next_anonymous_publication(self) -> int | None:
        f = anonymous_filings
        with self._read() as conn:
            return conn.execute(select(f.c.publish_us).order_by(f.c.publish_us).limit(1)).scalar()

    def drop_anonymous_filings(self, pks: Iterable[str]) -> None:
        wanted = list(pks)
        if not wanted:
            return
        f = anonymous_filings
        with self._write() as conn:
            conn.execute(delete(f).where(f.c.pk.in_(wanted)))

    def anonymous_report(self, report_id: str) -> AnonymousReport | None:
        r = anonymous_reports
        with self._read() as conn:
            row = conn.execute(select(r).where(r.c.report_id == report_id)).one_or_none()
        if row is None:
            return None
        return AnonymousReport(row.report_id, row.collection_pk, row.commitment, row.sealed_json,
                               tuple(i for i in row.own_ids.split("\n") if i), bool(row.withdrawn))

    def withdraw_anonymous_report(self, report_id: str) -> bool:
        r, f = anonymous_reports, anonymous_filings
        with self._write() as conn:
            done = conn.execute(update(r).where(r.c.report_id == report_id, r.c.withdrawn.is_(False))
                                .values(withdrawn=True)).rowcount
            if done:
                # A filing not yet published is never published. Its objects name the report id.
                for row in conn.execute(select(f.c.pk, f.c.objects_json)).all():
                    if f'"{report_id}"' in row.objects_json:
                        conn.execute(delete(f).where(f.c.pk == row.pk))
        return bool(done)
