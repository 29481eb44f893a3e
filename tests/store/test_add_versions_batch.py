"""How ``add_versions`` stores an envelope, on both databases alike (SQLite: one executemany;
PostgreSQL: one COPY, its versions looked up by the unique index).

A database error while the versions are stored is SQLAlchemy's, as every other statement's is
(:mod:`hub.store.base`, "Errors"), and nothing of the transaction is left; the flags of first
and last version are the same after new versions come out of order, in one envelope or several.
"""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from hub.stix.basics import check_basics
from hub.store import schema as t
from hub.store.audit import AuditEntry
from hub.store.records import NewVersion, ObjectFilter, VersionSelector
from hub.store.sql import SqlStore
from tests.factories import indicator, ts

NOW = 1_795_000_000_000_000


def _nv(obj: dict) -> NewVersion:
    sid, typ, vus = check_basics(obj)
    return NewVersion(sid, typ, vus, obj.get("modified") or obj.get("created"), "2.1", orjson.dumps(obj).decode())


def _setup(store: SqlStore) -> tuple[int, int]:
    party = store.create_party("acme", "provider", "identity--8f0c9e8e-3c3c-4f2c-9d1e-0a1b2c3d4e5f", False, NOW)
    col = store.create_collection("c0ffee00-0000-4000-8000-000000000001", "Reports", "", None, "amber",
                                  False, False, False, NOW)
    return col.pk, party.pk


def test_a_failing_batch_raises_sqlalchemys_error_and_leaves_nothing(store: SqlStore) -> None:
    cpk, ppk = _setup(store)
    store.add_versions(cpk, ppk, [_nv(indicator()) for _ in range(3)], NOW)
    # The collection's counter set back: the next versions get date_added values already taken.
    with store.engine.begin() as conn:
        conn.execute(update(t.collections).where(t.collections.c.pk == cpk).values(last_added_us=0))
    head = store.audit_head()
    with pytest.raises(IntegrityError), store.transaction() as tx:
        tx.add_versions(cpk, ppk, [_nv(indicator()) for _ in range(3)], NOW)
        tx.append_audit([AuditEntry("submission", "acme", "c0")], NOW)
    assert store.count_objects(cpk) == 3
    assert store.audit_head() == head


def test_first_and_last_versions_out_of_order_in_one_envelope_and_several(store: SqlStore) -> None:
    cpk, ppk = _setup(store)
    one, two = indicator(), indicator()
    store.add_versions(cpk, ppk, [_nv(indicator(id=one["id"], modified=ts(20)))], NOW)
    store.add_versions(cpk, ppk, [_nv(indicator(id=one["id"], modified=ts(30))),
                                  _nv(indicator(id=one["id"], modified=ts(10))),
                                  _nv(indicator(id=two["id"], modified=ts(5))),
                                  _nv(indicator(id=two["id"], modified=ts(1)))], NOW + 1)

    def versions(selection: tuple[VersionSelector, ...]) -> list[tuple[str, str]]:
        page = store.query_objects(cpk, ObjectFilter(versions=selection), None, 100)
        return sorted((v.stix_id, v.version) for v in page.items)

    assert versions(("first",)) == sorted([(one["id"], ts(10)), (two["id"], ts(1))])
    assert versions(("last",)) == sorted([(one["id"], ts(30)), (two["id"], ts(5))])
    assert len(versions(("all",))) == 5
