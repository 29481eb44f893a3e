"""The audit trail: every submission, grant, key change and read, hash-chained.

Records are appended by the services (a submission's record commits with its objects). Anyone
with database access can read the chain; nobody can edit, drop or reorder a record without
``abusehub audit verify`` naming the first record that no longer fits. Truncating the newest
records is only visible against a head hash kept elsewhere: ``verify`` prints the head for
operators to note down.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hub.common.errors import Unavailable
from hub.services.audit_spool import ReadSpool
from hub.services.clock import Clock
from hub.store.audit import GENESIS, AuditEntry, AuditRecord, record_hash
from hub.store.base import Store

log = logging.getLogger("abusehub.audit")


def _reason(exc: BaseException) -> str:
    """Why the database refused, in one line: the hub's own words, or the driver's first line
    (never the statement or its parameters, which SQLAlchemy appends)."""
    description = getattr(exc, "description", None)
    if isinstance(description, str):
        return description
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {lines[0]}" if lines else type(orig).__name__


@dataclass(frozen=True)
class ChainReport:
    """The outcome of checking the chain."""

    ok: bool
    records: int
    head: str
    broken_seq: int | None = None
    reason: str = ""


class AuditService:
    """Appends to the chain.

    Writes (submissions, grants, keys, tokens, deletes) are appended in the request's own
    transaction or before it answers: if that fails, the request fails. Reads are buffered and
    appended together at most a second later (``READ_FLUSH_S``), so polling does not turn every
    GET into a synchronous database write; a crash loses at most that second of read records.

    No read record is dropped for another's sake. Content with no canonical form is recorded
    as strings by the store (:func:`hub.store.audit.recordable`). If appending a batch fails,
    its records are tried one by one; a record that the database still refuses is appended with
    its content replaced by a note saying so (its kind, party, collection and time kept); if
    even that fails the database itself is failing, and the records not yet appended go back to
    the front of the buffer, in order, for the next flush (every ``READ_FLUSH_S`` seconds).

    While the database cannot be written to, the flush is tried every ``READ_FLUSH_S`` seconds
    and logged once when it starts failing (a warning) and once when it succeeds again (an info
    line naming how many records waited), never a line per attempt.

    Times: each read record carries the time of the read. Records are appended in order of
    those times within a batch, and the store clamps each record's ``at_us`` to be no earlier
    than the record before it (:meth:`hub.store.base.Store.append_audit`), so ``at_us`` never
    goes backwards along ``seq``; a read appended after a later write carries that write's time.

    With ``spool_reads`` (a hub with standbys, which serves reads while its primary is down),
    read records that cannot be appended go to the ``spool`` on disk
    (:class:`~hub.services.audit_spool.ReadSpool`) instead of staying in memory, and when it is
    full a read is refused (:class:`Unavailable`) before it is noted, so no record is ever
    dropped. Each flush appends what the spool holds first, with or without ``spool_reads`` (a
    hub whose standbys were configured away still appends what they left).
    """

    READ_FLUSH_S = 1.0
    READ_FLUSH_COUNT = 500

    def __init__(self, store: Store, clock: Clock, spool: ReadSpool | None = None, *,
                 spool_reads: bool = False) -> None:
        self.store = store
        self.clock = clock
        #: Drained by every flush (records another process left there); written only with ``spool_reads``.
        self.spool = spool
        self.spool_reads = spool_reads and spool is not None
        self._lock = threading.Lock()  # guards the buffer
        self._flush_lock = threading.Lock()  # one flush at a time, so batches keep their order
        self._reads: list[AuditEntry] = []
        self._flusher: threading.Thread | None = None
        self._closed = threading.Event()
        self._failing = False  # whether the last flush that had records failed (under _flush_lock)

    def record(self, event: str, party: str, collection: str = "", **data: Any) -> None:
        """Append one record in its own transaction (raises if it cannot be appended)."""
        self.store.append_audit([AuditEntry(event, party, collection, data)], self.clock())

    def record_read(self, party: str, collection: str, **data: Any) -> None:
        """Note a read; it reaches the chain within READ_FLUSH_S seconds. :class:`Unavailable`
        (the read is not to be served) when the chain cannot be written and the spool is full."""
        if self.spool_reads and self.spool is not None and self.spool.full:
            raise Unavailable("the audit trail cannot be written (the primary database does not answer) and "
                              "this server's spool of read records is full: reads are refused until it is back")
        entry = AuditEntry("read", party, collection, data, at_us=self.clock())
        with self._lock:
            self._reads.append(entry)
            full = len(self._reads) >= self.READ_FLUSH_COUNT
            if self._flusher is None:
                self._flusher = threading.Thread(target=self._flush_loop, name="audit-flush", daemon=True)
                self._flusher.start()
                atexit.register(self.close)
        if full:
            self._flush_logged()  # the read itself has been answered: a failure is retried later

    @property
    def pending(self) -> int:
        """How many read records wait in the buffer."""
        with self._lock:
            return len(self._reads)

    def flush(self) -> None:
        """Append the buffered read records now.

        Raises the database's error if it cannot be written to; the records not appended stay
        buffered, in order, ahead of any read noted since. The first failure after a success is
        logged (one line), and so is the first success after a failure; nothing in between.
        """
        with self._flush_lock:
            with self._lock:
                pending, self._reads = self._reads, []
            try:
                self._drain_spool()
            except Exception:
                with self._lock:
                    self._reads[:0] = pending
                self._to_spool()
                raise
            if not pending:
                return
            pending.sort(key=lambda e: e.at_us or 0)  # stable: ties keep the order they came in
            try:
                self._append_all(pending)
            except Exception as exc:
                self._to_spool()
                if not self._failing:
                    self._failing = True
                    log.warning("cannot append read records to the audit trail (%s): %d wait, tried again "
                                "every %g s", _reason(exc), self.pending, self.READ_FLUSH_S)
                raise
            if self._failing:
                self._failing = False
                log.info("read records are appended to the audit trail again (%d waited): none was lost",
                         len(pending))

    def _drain_spool(self) -> None:
        """Append what the spool holds (before anything buffered since: the older records first)."""
        if self.spool is not None:
            drained = self.spool.drain(lambda entries: self.store.append_audit(entries, self.clock()))
            if drained:
                log.info("%d read records held in the spool were appended to the audit trail", drained)

    def _to_spool(self) -> None:
        """Move the buffered records to the spool (when there is one): on disk, not in memory."""
        if not self.spool_reads or self.spool is None:
            return
        with self._lock:
            waiting, self._reads = self._reads, []
        try:
            self.spool.hold(waiting)
        except OSError as exc:
            with self._lock:
                self._reads[:0] = waiting
            log.error("cannot write the spool of read records (%s): they stay in memory", exc.strerror)

    def _append_all(self, pending: list[AuditEntry]) -> None:
        """Append ``pending`` together, or else one by one; on a failure the records not appended
        go back to the front of the buffer and the error is raised."""
        try:
            self.store.append_audit(pending, self.clock())
            return
        except Exception as exc:
            together = _reason(exc)
        for i, entry in enumerate(pending):
            try:
                self._append_one(entry)
            except Exception:
                with self._lock:
                    self._reads[:0] = pending[i:]
                raise
        log.warning("could not append %d read records together (%s); appended them one by one",
                    len(pending), together)

    def _append_one(self, entry: AuditEntry) -> None:
        """Append one record, or (if the database refuses its content) a note in its place; the
        database's error when it takes neither (it cannot be written to)."""
        try:
            self.store.append_audit([entry], self.clock())
            return
        except Exception as exc:
            reason = type(exc).__name__
        note = AuditEntry(entry.kind[:40], entry.party[:200], entry.collection[:36],
                          {"unrecorded": f"the record's content could not be stored ({reason})"},
                          at_us=entry.at_us)
        self.store.append_audit([note], self.clock())
        log.error("an audit record of kind %s could not be appended as made (%s): "
                  "a note was appended in its place", entry.kind[:40], reason)

    def _flush_logged(self) -> None:
        """:meth:`flush`, never raising (it logs when failures begin and end): the records stay
        buffered and the next round tries again."""
        with contextlib.suppress(Exception):
            self.flush()

    def _flush_loop(self) -> None:
        while not self._closed.wait(self.READ_FLUSH_S):
            self._flush_logged()

    def close(self) -> None:
        """Stop the background flush and append what is buffered (logged if that fails)."""
        self._closed.set()
        try:
            self.flush()
        except Exception as exc:
            log.error("could not append %d read records to the audit trail before closing (%s)",
                      self.pending, _reason(exc))

    def verify(self) -> ChainReport:
        """Recompute the chain from the first record; name the first one that does not fit."""
        self.flush()
        prev, expected_seq, count = GENESIS, 1, 0
        for rec in self.store.iter_audit():
            if rec.seq != expected_seq:
                return ChainReport(False, count, prev, rec.seq,
                                   f"record {expected_seq} is missing (next present is {rec.seq})")
            if rec.prev_hash != prev:
                return ChainReport(False, count, prev, rec.seq,
                                   "its prev_hash does not match the record before it")
            digest = record_hash(prev, rec.seq, rec.at_us, rec.kind, rec.party, rec.collection, rec.data)
            if digest != rec.hash:
                return ChainReport(False, count, prev, rec.seq,
                                   "its content does not match its hash: the record was changed")
            prev, expected_seq, count = rec.hash, expected_seq + 1, count + 1
        head_seq, head_hash = self.store.audit_head()
        if head_seq != count or head_hash != prev:
            return ChainReport(False, count, prev, count + 1 if head_seq > count else head_seq,
                               f"the chain ends at record {count} but the head says {head_seq}: records were removed")
        return ChainReport(True, count, prev)

    def export(self, since_us: int | None = None) -> Iterator[AuditRecord]:
        return self.store.iter_audit(since_us)
