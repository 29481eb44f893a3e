"""Revision 0005 on a database that already holds parties, tokens and collections: everything
stays as it was (parties active, tokens valid, collections keep everything), on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert

from hub.store import schema as t
from tests.conftest import alembic_step, open_test_store


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_0005_keeps_existing_parties_active_and_collections_unbounded(backend: str, tmp_path: Path) -> None:
    with open_test_store(backend, tmp_path) as store:
        alembic_step(store, "0004", down=True)
        with store.engine.begin() as conn:
            # Rows as revision 0004 knew them: no lifecycle columns yet.
            conn.exec_driver_sql(
                "INSERT INTO parties (pk, name, kind, identity_id, operator, created_us) "
                "VALUES (1, 'acme', 'provider', 'identity--1', false, 1)")
            conn.exec_driver_sql(
                "INSERT INTO tokens (party_pk, token_hash, label, created_us) VALUES (1, 'h1', '', 1)")
            conn.exec_driver_sql(
                "INSERT INTO collections (pk, id, title, description, max_tlp, require_signatures, "
                "countersign, allow_personal_data, created_us, last_added_us) VALUES "
                "(1, 'c1', 'Reports', '', 'amber', false, false, false, 1, 0)")
        store.migrate()
        party = store.party_for_token("h1")
        assert party is not None and party.name == "acme"
        assert store.party_state(1).active
        assert store.collection_max_age(1) is None and store.retention_policies() == []
        assert store.list_certificates(1) == []
        with store.engine.begin() as conn:
            conn.execute(insert(t.party_certificates).values(
                party_pk=1, fingerprint="a" * 64, subject="CN=x", not_after_us=2, created_us=1))
        assert store.party_for_certificate("a" * 64) == party
