"""The store's web sessions (revision 0008), on each backend: kept by the hash of their id, ended
once and for good, "last seen" only moving forward, purged when long over; and the migration's
downgrade and upgrade."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from hub.store.sql import SqlStore
from tests.conftest import alembic_step
from tests.harness import open_test_store

NOW = 1_795_000_000_000_000
ID, OTHER = "a" * 64, "b" * 64
TOKEN_HASH, FINGERPRINT = "c" * 64, "d" * 64


def _party(store: SqlStore) -> int:
    return store.create_party("acme", "provider", "identity--8f0c9e8e-3c3c-4f2c-9d1e-0a1b2c3d4e5f", False, NOW).pk


def test_a_session_is_kept_by_its_hash_and_ends_once(store: SqlStore) -> None:
    party = _party(store)
    assert store.web_session(ID) is None
    assert store.create_web_session(ID, party, TOKEN_HASH, None, NOW)
    assert not store.create_web_session(ID, party, None, FINGERPRINT, NOW + 1)  # taken: nothing written
    row = store.web_session(ID)
    assert row is not None and row.live
    assert (row.party_pk, row.token_hash, row.cert_fingerprint, row.created_us, row.seen_us) == (
        party, TOKEN_HASH, None, NOW, NOW)
    assert store.touch_web_session(ID, NOW + 10)
    assert not store.touch_web_session(ID, NOW + 5)  # never back in time
    assert store.web_session(ID).seen_us == NOW + 10  # type: ignore[union-attr]
    assert store.end_web_session(ID, "signed-out", NOW + 20)
    assert not store.end_web_session(ID, "idle", NOW + 30)  # ended once: the first reason stays
    assert not store.touch_web_session(ID, NOW + 40)  # an ended session is not seen again
    row = store.web_session(ID)
    assert row is not None and not row.live
    assert (row.ended_us, row.ended_reason, row.seen_us) == (NOW + 20, "signed-out", NOW + 10)
    for unknown in (OTHER, "a\x00", ""):
        assert store.web_session(unknown) is None
        assert not store.touch_web_session(unknown, NOW) and not store.end_web_session(unknown, "x", NOW)


def test_sessions_long_over_are_purged(store: SqlStore) -> None:
    party = _party(store)
    store.create_web_session(ID, party, TOKEN_HASH, None, NOW)  # idle since NOW
    store.create_web_session(OTHER, party, None, FINGERPRINT, NOW)
    store.touch_web_session(OTHER, NOW + 100)
    assert store.purge_web_sessions(NOW) == 0
    assert store.purge_web_sessions(NOW + 50) == 1
    assert store.web_session(ID) is None and store.web_session(OTHER) is not None
    store.end_web_session(OTHER, "signed-out", NOW + 200)
    assert store.purge_web_sessions(NOW + 200) == 1 and store.web_session(OTHER) is None


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_revision_0008_adds_and_removes_the_table(backend: str, tmp_path: Path) -> None:
    with open_test_store(backend, tmp_path) as store:
        def tables() -> set[str]:
            with store.engine.connect() as conn:
                return set(inspect(conn).get_table_names())

        assert "web_sessions" in tables()
        party = _party(store)  # made by this code, which writes the columns of later revisions
        alembic_step(store, "0007", down=True)
        assert "web_sessions" not in tables()
        alembic_step(store, "0008")
        assert "web_sessions" in tables()
        assert store.create_web_session(ID, party, TOKEN_HASH, None, NOW)
