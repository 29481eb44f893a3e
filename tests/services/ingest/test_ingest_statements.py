"""An envelope costs the same number of statements whatever the number of objects it holds.

Runs over the ``hub`` fixture (SQLite and PostgreSQL). Every statement the store's engine sends
is counted (SQLAlchemy's ``before_cursor_execute``: an ``executemany`` is one statement; the
``COPY`` that stores the versions on PostgreSQL is sent by the driver and is not counted). An
envelope of 100 objects must cost no more statements than one of 10: a statement per object,
anywhere in ingest (the "already stored?" lookup, the inserts, terms, audiences), fails it.
Counts, never time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from hub.services.access.auth import Principal
from hub.services.hub import Hub
from hub.store.records import Collection
from tests import factories as f
from tests.harness import FrozenClock

#: What an envelope may cost at most, in statements, on either store (today 13 on SQLite, 12
#: on PostgreSQL, whose transaction begins without a statement of its own).
MOST = 16


def _setup(hub: Hub) -> tuple[Principal, Collection]:
    _party, token = hub.admin.add_party("acme", "provider")
    col = hub.admin.add_collection("Indicators", alias="indicators")
    hub.admin.grant("acme", col.id, True, True)
    return hub.access.authenticate(token), col


@contextmanager
def _counted(hub: Hub) -> Iterator[list[str]]:
    sent: list[str] = []
    engine = hub.store.engine  # type: ignore[attr-defined]

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _submit(hub: Hub, principal: Principal, col: Collection, objects: list[dict[str, Any]]) -> list[str]:
    with _counted(hub) as sent:
        status = hub.ingest.submit(principal, col, {"objects": objects})
    assert not status.failures
    assert len(status.successes) == len(objects)
    return sent


def test_an_envelope_of_100_costs_the_statements_of_one_of_10(hub: Hub, clock: FrozenClock) -> None:
    principal, col = _setup(hub)
    _submit(hub, principal, col, [f.indicator() for _ in range(10)])  # caches warmed, chain started
    clock.advance(1)

    small = _submit(hub, principal, col, [f.indicator() for _ in range(10)])
    clock.advance(1)
    new = [f.indicator() for _ in range(100)]
    large = _submit(hub, principal, col, new)
    assert len(large) <= len(small), "\n".join(large)
    assert len(large) <= MOST, "\n".join(large)

    # Again, half of them already stored and half new versions of stored objects (the flags
    # of first and last version recomputed): still no statement per object.
    clock.advance(1)
    again = new[:50] + [f.indicator(id=o["id"], modified=f.ts(60)) for o in new[50:]]
    mixed = _submit(hub, principal, col, again)
    assert len(mixed) <= MOST + 1, "\n".join(mixed)  # + the flags' one UPDATE


def test_the_already_stored_lookup_reads_each_id_by_the_unique_index(hub: Hub, clock: FrozenClock) -> None:
    """On PostgreSQL, before the table has statistics (a fresh database: nothing ANALYZEd it),
    looking up 100 ids reads the rows of those ids, not the collection."""
    if hub.store.engine.dialect.name != "postgresql":  # type: ignore[attr-defined]
        pytest.skip("SQLite keeps the plain IN list, which uses the unique index (checked below)")
    from hub.store.sql import _STORED_VERSIONS_PG

    principal, col = _setup(hub)
    stored = []
    for _ in range(10):
        envelope = [f.indicator() for _ in range(100)]
        _submit(hub, principal, col, envelope)
        stored += [o["id"] for o in envelope]
        clock.advance(1)
    ids = stored[:50] + [f.indicator()["id"] for _ in range(50)]
    with hub.store.engine.connect() as conn:  # type: ignore[attr-defined]
        plan = "\n".join(r[0] for r in conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + _STORED_VERSIONS_PG, (ids, col.pk)))
        found = conn.exec_driver_sql(_STORED_VERSIONS_PG, (ids, col.pk)).all()
    assert {sid for sid, _ in found} == set(stored[:50])
    assert "uq_objects_collection_version" in plan, plan
    assert "ix_objects_collection_type_added" not in plan, plan


def test_sqlite_looks_ids_up_by_the_unique_index(hub: Hub) -> None:
    if hub.store.engine.dialect.name != "sqlite":  # type: ignore[attr-defined]
        pytest.skip("PostgreSQL looks ids up by unnest and LATERAL (checked above)")
    with hub.store.engine.connect() as conn:  # type: ignore[attr-defined]
        plan = " ".join(str(r[3]) for r in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT stix_id, version_us FROM objects "
            "WHERE collection_pk = ? AND stix_id IN (?, ?, ?)", (1, "a", "b", "c")))
    assert "(collection_pk=? AND stix_id=?)" in plan, plan
