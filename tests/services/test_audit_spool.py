"""The read records' spool: while the database cannot be written to (here: its SQLite file moved
away, which the store refuses), read records go to disk; when the spool is full reads are
refused; when the database is back every record is appended, in order, the chain verifies and
the spool is empty. A file left by a process that has ended is appended too."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest

from hub.common.errors import Unavailable
from hub.services.audit import AuditService
from hub.services.audit_spool import ReadSpool
from hub.store.sql import SqlStore
from tests.harness import FrozenClock, open_test_store


def _reads(store: SqlStore) -> list[int]:
    return [r.data["n"] for r in store.iter_audit() if r.kind == "read"]


def test_reads_wait_on_disk_until_the_database_is_back(tmp_path: Path) -> None:
    with open_test_store("sqlite", tmp_path) as store:
        assert store.file is not None
        db, away = store.file.path, store.file.path.with_name("away.db")
        spool = ReadSpool(tmp_path / "read-spool", 100)
        audit = AuditService(store, FrozenClock(), spool, spool_reads=True)
        try:
            for n in range(3):
                audit.record_read("bob", "reports", n=n)
            audit.flush()
            assert _reads(store) == [0, 1, 2]

            db.rename(away)
            for n in range(3, 60):
                audit.record_read("bob", "reports", n=n)
            with pytest.raises(Unavailable):
                audit.flush()
            assert spool.held == 57 and audit.pending == 0  # on disk, not in memory
            for n in range(60, 103):
                audit.record_read("bob", "reports", n=n)
            with pytest.raises(Unavailable):
                audit.flush()
            assert spool.full
            with pytest.raises(Unavailable, match="spool of read records is full"):
                audit.record_read("bob", "reports", n=103)

            away.rename(db)
            audit.flush()
            assert _reads(store) == list(range(103))
            assert not list((tmp_path / "read-spool").glob("*.jsonl")) and not spool.full
            assert audit.verify().ok
            audit.record_read("bob", "reports", n=103)  # served again
        finally:
            if away.exists():
                away.rename(db)
            audit.close()


def test_a_spool_left_by_an_ended_process_is_appended(tmp_path: Path) -> None:
    folder = tmp_path / "read-spool"
    with open_test_store("sqlite", tmp_path) as store:
        leaving = ReadSpool(folder, 100)
        audit = AuditService(store, FrozenClock(), leaving, spool_reads=True)
        audit.record_read("gov", "reports", n=7)
        with audit._lock:  # what a process's failed flush leaves: its records on disk
            waiting, audit._reads = audit._reads, []
        leaving.hold(waiting)
        ended = next(pid for pid in range(os.getpid() + 50_000, 4_000_000) if not psutil.pid_exists(pid))
        leaving.path.rename(folder / f"{ended}.jsonl")
        busy = next(p.pid for p in psutil.process_iter() if p.pid != os.getpid())
        (folder / f"{busy}.jsonl").write_bytes(b'["read","gov","reports",{"n":8},1]\n')

        other = AuditService(store, FrozenClock(), ReadSpool(folder, 100))  # without spooling reads of its own
        other.flush()
        assert _reads(store) == [7]  # a live process's file is its own to append
        assert [p.name for p in folder.glob("*.jsonl")] == [f"{busy}.jsonl"]
        other.close()
        audit.close()
