"""The audit trail: every submission, grant, key change and read, hash-chained.

Records are appended by the services (a submission's record commits with its objects). Anyone
with database access can read the chain; nobody can edit, drop or reorder a record without
``abusehub audit verify`` naming the first record that no longer fits. Truncating the newest
records is only visible against a head hash kept elsewhere: ``verify`` prints the head for
operators to note down.
"""

from __future__ import annotations

import atexit
import threading
from dataclasses import dataclass
from typing import Any, Iterator

from hub.services.clock import Clock
from hub.store.audit import GENESIS, AuditEntry, AuditRecord, record_hash
from hub.store.base import Store


@dataclass(frozen=True)
class ChainReport:
    """The outcome of checking the chain."""

    ok: bool
    records: int
    head: str
    broken_seq: int | None = None
    reason: str = ""


class AuditService:
    """Appends to the chain. Reads are buffered and appended together at most a second later
    (``READ_FLUSH_S``), so polling does not turn every GET into a synchronous database write;
    a crash loses at most that second of read records, never a write's."""

    READ_FLUSH_S = 1.0
    READ_FLUSH_COUNT = 500

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._lock = threading.Lock()
        self._reads: list[AuditEntry] = []
        self._flusher: threading.Thread | None = None
        self._closed = threading.Event()

    def record(self, event: str, party: str, collection: str = "", **data: Any) -> None:
        """Append one record in its own transaction."""
        self.store.append_audit([AuditEntry(event, party, collection, data)], self.clock())

    def record_read(self, party: str, collection: str, **data: Any) -> None:
        """Note a read; it reaches the chain within READ_FLUSH_S seconds."""
        entry = AuditEntry("read", party, collection, data, at_us=self.clock())
        with self._lock:
            self._reads.append(entry)
            full = len(self._reads) >= self.READ_FLUSH_COUNT
            if self._flusher is None:
                self._flusher = threading.Thread(target=self._flush_loop, name="audit-flush", daemon=True)
                self._flusher.start()
                atexit.register(self.flush)
        if full:
            self.flush()

    def flush(self) -> None:
        """Append the buffered read records now."""
        with self._lock:
            pending, self._reads = self._reads, []
        if pending:
            self.store.append_audit(pending, self.clock())

    def _flush_loop(self) -> None:
        while not self._closed.wait(self.READ_FLUSH_S):
            try:
                self.flush()
            except Exception:  # the next round tries again; the records stay in order
                import logging

                logging.getLogger("abusehub.audit").exception("could not append read records")

    def close(self) -> None:
        self._closed.set()
        self.flush()

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
