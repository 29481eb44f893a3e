"""The audit trail's read records while the database cannot be written to (its file moved away
under a serving hub): the background flush says so once, says once that it works again, and no
record is lost; a hub closing with records it cannot append says how many."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from hub.services.audit import AuditService
from tests.harness import HubUnderTest


def _audit_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "abusehub.audit"]


def test_an_unavailable_database_is_logged_once_and_its_return_once_and_nothing_is_lost(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AuditService, "READ_FLUSH_S", 0.05)  # the background flush, every 50 ms
    caplog.set_level(logging.INFO, logger="abusehub.audit")
    with HubUnderTest.build(tmp_path) as h:
        audit = h.hub.audit
        db, away = tmp_path / "hub.db", tmp_path / "hub.db.away"
        os.rename(db, away)
        try:
            for i in range(5):
                audit.record_read("alice", "", query=f"while-away-{i}")
            rounds = 0
            deadline = time.monotonic() + 30
            while rounds < 20 and time.monotonic() < deadline:  # many attempts, in this thread and the flusher's
                audit._flush_logged()
                rounds += 1
                time.sleep(0.01)
            time.sleep(0.3)  # and a few rounds of the background flush
            with audit._flush_lock:  # between two flushes: none holds the records
                assert audit.pending == 5
            lines = _audit_lines(caplog)
            assert len(lines) == 1, [r.getMessage() for r in lines]
            (failing,) = lines
            assert failing.levelno == logging.WARNING and failing.exc_info is None
            message = failing.getMessage()
            assert "\n" not in message and "cannot append read records" in message
            assert "hub.db was moved or deleted" in message and "5 wait" in message
        finally:
            os.rename(away, db)
        deadline = time.monotonic() + 30
        while audit.pending and time.monotonic() < deadline:
            time.sleep(0.05)
        audit._flush_logged()
        lines = _audit_lines(caplog)
        assert [r.levelno for r in lines] == [logging.WARNING, logging.INFO], [r.getMessage() for r in lines]
        assert "again (5 waited)" in lines[1].getMessage() and lines[1].exc_info is None
        queries = [r.data.get("query") for r in audit.export() if r.kind == "read"]
        assert queries == [f"while-away-{i}" for i in range(5)]
        assert audit.verify().ok
        # Failing again later is a new state change: said again, once.
        os.rename(db, away)
        try:
            audit.record_read("alice", "", query="second-time")
            for _ in range(5):
                audit._flush_logged()
        finally:
            os.rename(away, db)
        assert [r.levelno for r in _audit_lines(caplog)] == [logging.WARNING, logging.INFO, logging.WARNING]


def test_closing_with_records_it_cannot_append_says_how_many(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="abusehub.audit")
    with HubUnderTest.build(tmp_path) as h:
        db, away = tmp_path / "hub.db", tmp_path / "hub.db.away"
        os.rename(db, away)
        try:
            h.hub.audit.record_read("alice", "", query="late")
            h.hub.audit._flush_logged()
            h.hub.audit.close()
        finally:
            os.rename(away, db)
        lines = _audit_lines(caplog)
        assert [r.levelno for r in lines] == [logging.WARNING, logging.ERROR], [r.getMessage() for r in lines]
        assert "could not append 1 read records to the audit trail before closing" in lines[1].getMessage()
        assert all(r.exc_info is None for r in lines)
