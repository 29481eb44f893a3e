"""Anonymous filing's tables (revision 0012): which collections allow it, the filings waiting
for their publication time, and what the hub keeps beside each anonymous report.

- ``anonymous_collections``: one row per collection that accepts anonymous filings.
- ``anonymous_filings``: a filing accepted and attested, waiting for ``publish_us`` (a random
  moment in the publication window after the one it was filed in); its objects as they will be
  published, and its report's record (below) until then. The row has no party and no time of
  filing: ``pk`` is random, not a sequence.
- ``anonymous_reports``: per published anonymous report, the commitment to its withdrawal
  secret (``sha256:<hex>``), the submitter record sealed to the oversight key (JSON text the hub
  cannot open), the ids of its objects that belong to it alone (what a withdrawal deletes), and
  whether it was withdrawn. No party, no time. Its rows are written when the report is
  published, in the shuffled order of a batch, so that neither a row id (SQLite) nor a row's
  place in the table (PostgreSQL) tells the order in which reports were filed.

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
    Column("report_id", String(300), nullable=False, unique=True),
    Column("commitment", String(80), nullable=False),
    Column("sealed_json", Text, nullable=False),
    Column("own_ids", Text, nullable=False),
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
class AnonymousReport:
    """What the hub keeps beside one anonymous report."""

    report_id: str
    collection_pk: int
    commitment: str
    sealed_json: str
    own_ids: tuple[str, ...]
    withdrawn: bool


@dataclass(frozen=True, slots=True)
class PendingFiling:
    """A filing waiting for its publication time, with its report's record."""

    pk: str
    publish_us: int
    objects_json: str
    report: AnonymousReport


class AnonymousStore(Protocol):
    """The anonymous filing part of :class:`hub.store.base.Store` (see the module text)."""

    def anonymous_collection_pks(self) -> set[int]:
        """The collections that accept anonymous filings."""
        ...

    def set_anonymous_collection(self, collection_pk: int, allowed: bool) -> None:
        """Allow or stop anonymous filings in a collection."""
        ...

    def add_anonymous_filing(self, conn: Any, filing: PendingFiling) -> None:
        """Record a filing through ``conn`` (the caller's transaction connection, from
        :meth:`anonymous_transaction`)."""
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

    def published_anonymous_filings(self, filings: Iterable[PendingFiling]) -> None:
        """Keep the records of published filings' reports (in the order given; one kept already
        is left as it is) and forget the filings."""
        ...

    def anonymous_report(self, report_id: str) -> AnonymousReport | None:
        """The record kept beside one anonymous report."""
        ...

    def pending_anonymous_report(self, report_id: str) -> PendingFiling | None:
        """The filing of a report not published yet."""
        ...

    def withdraw_anonymous_report(self, report_id: str) -> bool:
        """Mark a published report withdrawn, or drop its filing if it still waits; False if
        there is nothing to withdraw."""
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

    def add_anonymous_filing(self, conn: Any, filing: PendingFiling) -> None:
        report = filing.report
        conn.execute(insert(anonymous_filings).values(
            pk=filing.pk, collection_pk=report.collection_pk, publish_us=filing.publish_us,
            objects_json=filing.objects_json, report_id=report.report_id, commitment=report.commitment,
            sealed_json=report.sealed_json, own_ids="\n".join(report.own_ids)))

    def due_anonymous_filings(self, now_us: int) -> list[PendingFiling]:
        f = anonymous_filings
        with self._read() as conn:
            rows = conn.execute(select(f).where(f.c.publish_us <= now_us).order_by(f.c.pk)).all()
        return [_pending(r) for r in rows]

    def pending_anonymous_report(self, report_id: str) -> PendingFiling | None:
        f = anonymous_filings
        with self._read() as conn:
            row = conn.execute(select(f).where(f.c.report_id == report_id)).one_or_none()
        return None if row is None else _pending(row)

    def next_anonymous_publication(self) -> int | None:
        f = anonymous_filings
        with self._read() as conn:
            return conn.execute(select(f.c.publish_us).order_by(f.c.publish_us).limit(1)).scalar()

    def published_anonymous_filings(self, filings: Iterable[PendingFiling]) -> None:
        f, r = anonymous_filings, anonymous_reports
        with self._write() as conn:
            for filing in filings:
                report = filing.report
                if conn.execute(delete(f).where(f.c.pk == filing.pk)).rowcount == 0:
                    continue  # another process published it
                conn.execute(insert(r).values(
                    report_id=report.report_id, collection_pk=report.collection_pk, commitment=report.commitment,
                    sealed_json=report.sealed_json, own_ids="\n".join(report.own_ids), withdrawn=False))

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
            # A filing not yet published is never published.
            done += conn.execute(delete(f).where(f.c.report_id == report_id)).rowcount
        return bool(done)


def _pending(row: Any) -> PendingFiling:
    report = AnonymousReport(row.report_id, row.collection_pk, row.commitment, row.sealed_json,
                             tuple(i for i in row.own_ids.split("\n") if i), False)
    return PendingFiling(row.pk, row.publish_us, row.objects_json, report)
