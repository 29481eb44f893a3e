"""Lookups by object id and by search term: their answers on every backend, the plans SQLite
makes for them, and revision 0007 (the search terms' lookup index) on a database holding terms.

SQLite keeps no statistics unless asked, so its plans do not depend on how many rows a table
holds: the plan of an empty collection is the plan of a collection of millions, and a test can
hold it. PostgreSQL plans by statistics (a table of a few rows is read whole whatever its
indexes), so only its answers are checked here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import event, inspect

from hub.common.timestamps import parse_timestamp_us
from hub.stix.basics import check_basics
from hub.store import schema as t
from hub.store.ops import head_revision
from hub.store.records import NewVersion, ObjectFilter
from hub.store.sql import SqlStore
from tests.conftest import alembic_step
from tests.factories import indicator, ipv4, ts
from tests.harness import open_test_store

NOW = 1_795_000_000_000_000
PSEUDONYM = "hmac-sha256:k1:" + "b" * 64


def nv(obj: dict[str, Any], *terms: tuple[str, str]) -> NewVersion:
    sid, typ, vus = check_basics(obj)
    return NewVersion(sid, typ, vus, obj.get("modified") or obj.get("created"), "2.1",
                      orjson.dumps(obj).decode(), tuple(terms))


def _two_collections(store: SqlStore) -> tuple[int, int, int]:
    party = store.create_party("acme", "provider", "identity--8f0c9e8e-3c3c-4f2c-9d1e-0a1b2c3d4e5f", False, NOW)
    mine = store.create_collection("6f1c3d2e-0a4b-4c5d-8e9f-1a2b3c4d5e6f", "mine", "", None, "amber",
                                   False, False, False, NOW)
    theirs = store.create_collection("7f1c3d2e-0a4b-4c5d-8e9f-1a2b3c4d5e6f", "theirs", "", None, "amber",
                                     False, False, False, NOW)
    return mine.pk, theirs.pk, party.pk


# -- answers, on every backend


def test_ids_filter_answers_from_its_collection_with_every_other_filter(store: SqlStore) -> None:
    mine, theirs, ppk = _two_collections(store)
    shared = "indicator--31111111-2222-4333-8444-555555555555"
    sco = ipv4("192.0.2.7")
    others = [indicator() for _ in range(5)]
    # The shared object: versions 10 and 30 here, version 20 in the other collection, which also
    # holds the observable. Versions are added newest first: date_added and version disagree.
    store.add_versions(mine, ppk, [nv(indicator(id=shared, modified=ts(30)))], NOW)
    store.add_versions(theirs, ppk, [nv(indicator(id=shared, modified=ts(20))), nv(sco)], NOW)
    added = store.add_versions(mine, ppk, [nv(o) for o in others] + [nv(indicator(id=shared, modified=ts(10)))],
                               NOW + 10)

    def versions(cpk: int = mine, after: int | None = None, limit: int = 10, **kw: Any) -> list[tuple[str, str]]:
        page = store.query_objects(cpk, ObjectFilter(**kw), after, limit)
        return [(i.stix_id, i.version) for i in page.items]

    wanted = (shared, sco["id"], others[3]["id"], others[1]["id"])
    # Oldest date_added first, whatever the order of the ids asked for.
    assert versions(ids=wanted, versions=("all",)) == [
        (shared, ts(30)), (others[1]["id"], ts(0)), (others[3]["id"], ts(0)), (shared, ts(10))]
    assert versions(ids=wanted) == [(shared, ts(30)), (others[1]["id"], ts(0)), (others[3]["id"], ts(0))]
    assert versions(ids=wanted, versions=("first",)) == [(others[1]["id"], ts(0)), (others[3]["id"], ts(0)),
                                                         (shared, ts(10))]
    assert versions(ids=(shared,), versions=(), version_us=(parse_timestamp_us(ts(10)),)) == [(shared, ts(10))]
    # The other collection's versions and objects stay there.
    in_theirs = versions(theirs, ids=wanted, versions=("all",))
    assert [i for i, _ in in_theirs] == [shared, sco["id"]] and in_theirs[0] == (shared, ts(20))
    assert versions(ids=(sco["id"],)) == []
    # Type, spec_version and added_after apply with the ids.
    assert versions(ids=wanted, types=("ipv4-addr",)) == []
    assert versions(ids=wanted, spec_versions=("2.0",)) == []
    assert versions(ids=wanted, versions=("all",), added_after_us=added[0].date_added_us) == [
        (others[1]["id"], ts(0)), (others[3]["id"], ts(0)), (shared, ts(10))]
    # Keyset paging over an ids filter: every version once, in order.
    seen, after = [], None
    while True:
        page = store.query_objects(mine, ObjectFilter(ids=wanted, versions=("all",)), after, 1)
        seen += [(i.stix_id, i.version) for i in page.items]
        if not page.more:
            break
        after = page.items[-1].key
    assert seen == versions(ids=wanted, versions=("all",))
    # An id that can match nothing (a NUL) is no reason to refuse the others, and alone matches nothing.
    assert versions(ids=("indicator--\x00", shared)) == [(shared, ts(30))]
    assert versions(ids=("indicator--\x00",)) == []


def test_ids_filter_versions_served_as_stored(store: SqlStore) -> None:
    mine, _, ppk = _two_collections(store)
    obj = indicator()
    store.add_versions(mine, ppk, [nv(obj)], NOW)
    item = store.query_objects(mine, ObjectFilter(ids=(obj["id"],)), None, 10).items[0]
    assert orjson.loads(item.json_text) == obj and item.spec_version == "2.1"


def test_terms_found_only_in_the_collections_asked(store: SqlStore) -> None:
    mine, theirs, ppk = _two_collections(store)
    account = "user-account--41111111-2222-4333-8444-555555555555"
    a, b = indicator(), indicator()
    store.add_versions(mine, ppk, [nv(a, ("pseudonym", PSEUDONYM), ("ref", account))], NOW)
    store.add_versions(theirs, ppk, [nv(b, ("pseudonym", PSEUDONYM))], NOW)
    assert store.find_terms("pseudonym", [PSEUDONYM, "hmac-sha256:k1:" + "c" * 64], [mine]) == \
        [(mine, a["id"], PSEUDONYM)]
    assert store.find_terms("pseudonym", [PSEUDONYM], [mine, theirs]) == sorted(
        [(mine, a["id"], PSEUDONYM), (theirs, b["id"], PSEUDONYM)])
    assert store.find_terms("ref", [PSEUDONYM], [mine, theirs]) == []  # another kind of term
    assert store.find_terms("ref", [account], [theirs]) == []
    assert store.find_terms("ref", [account], [mine]) == [(mine, a["id"], account)]


# -- SQLite's plans


@contextmanager
def _statements(store: SqlStore) -> Iterator[list[tuple[str, Any]]]:
    """The SELECT statements the store runs inside the block, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", grab)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", grab)


def _plan(store: SqlStore, call: Callable[[], object]) -> list[str]:
    """SQLite's plan (EXPLAIN QUERY PLAN) of the one SELECT ``call`` makes the store run."""
    with _statements(store) as seen:
        call()
    assert len(seen) == 1, seen
    statement, parameters = seen[0]
    with store.engine.connect() as conn:
        return [str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]


def test_sqlite_looks_objects_up_by_id_not_by_walking_the_collection(tmp_path: Path) -> None:
    with open_test_store("sqlite", tmp_path) as store:
        mine, _, ppk = _two_collections(store)
        objs = [indicator() for _ in range(20)]
        store.add_versions(mine, ppk, [nv(o) for o in objs], NOW)
        for flt in [
            ObjectFilter(ids=(objs[7]["id"],)),  # one object, as the report page reads its report
            ObjectFilter(ids=tuple(o["id"] for o in objs[:9])),  # a report's objects
            ObjectFilter(ids=tuple(o["id"] for o in objs[:3]), types=("marking-definition",)),  # ingest's
            ObjectFilter(ids=tuple(o["id"] for o in objs[:3]), versions=("all",), added_after_us=NOW),
        ]:
            plan = _plan(store, partial(store.query_objects, mine, flt, None, 1000))
            reads = [row for row in plan if row.startswith(("SCAN", "SEARCH"))]
            assert reads, plan
            # Every read of the objects table goes by primary key or by (collection, id): none
            # walks a collection's date_added index, none scans the table.
            assert all("PRIMARY KEY" in row or "stix_id=?" in row for row in reads), plan
        # Without ids, a page is read in date_added order from the index, unsorted.
        plan = _plan(store, lambda: store.query_objects(mine, ObjectFilter(), None, 25))
        assert not any("TEMP B-TREE" in row or row.startswith("SCAN") for row in plan), plan


def test_sqlite_finds_terms_by_term_then_collection(tmp_path: Path) -> None:
    with open_test_store("sqlite", tmp_path) as store:
        mine, theirs, ppk = _two_collections(store)
        store.add_versions(mine, ppk, [nv(indicator(), ("pseudonym", PSEUDONYM))], NOW)
        for pks in ([mine], [mine, theirs]):
            plan = _plan(store, partial(store.find_terms, "pseudonym", [PSEUDONYM], pks))
            assert len(plan) == 1 and "COVERING INDEX ix_object_terms_lookup" in plan[0], plan
            assert "kind=? AND term=? AND collection_pk=?" in plan[0], plan


# -- revision 0007


def _revision(store: SqlStore) -> str:
    with store.engine.connect() as conn:
        return str(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar())


def _term_indexes(store: SqlStore) -> dict[str, list[str]]:
    with store.engine.connect() as conn:
        return {str(ix["name"]): [str(c) for c in ix["column_names"]]
                for ix in inspect(conn).get_indexes("object_terms")}


def _rows_of_0006(store: SqlStore, obj: dict[str, Any], terms: list[tuple[str, str]]) -> int:
    """A party, a collection holding ``obj`` indexed under ``terms``, with revision 0006's
    columns only; the collection's pk."""
    from sqlalchemy import insert

    sid, typ, vus = check_basics(obj)
    with store.engine.begin() as conn:
        ppk = conn.execute(insert(t.parties).values(
            name="acme", kind="provider", identity_id="identity--8f0c9e8e-3c3c-4f2c-9d1e-0a1b2c3d4e5f",
            operator=False, created_us=NOW)).inserted_primary_key[0]
        cpk = conn.execute(insert(t.collections).values(
            id="6f1c3d2e-0a4b-4c5d-8e9f-1a2b3c4d5e6f", title="mine", description="", alias=None,
            max_tlp="amber", require_signatures=False, countersign=False, allow_personal_data=False,
            created_us=NOW, last_added_us=NOW)).inserted_primary_key[0]
        conn.execute(insert(t.objects).values(
            collection_pk=cpk, date_added_us=NOW, stix_id=sid, type=typ, version_us=vus,
            version=obj["modified"], spec_version="2.1", is_latest=True, is_first=True, party_pk=ppk,
            json_text=orjson.dumps(obj).decode()))
        conn.execute(insert(t.object_terms), [dict(collection_pk=cpk, stix_id=sid, kind=k, term=v)
                                              for k, v in terms])
    return int(cpk)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_0007_replaces_the_term_index_and_keeps_the_terms(backend: str, tmp_path: Path) -> None:
    with open_test_store(backend, tmp_path) as store:
        assert head_revision() >= "0007"
        alembic_step(store, "0007", down=True)
        assert _revision(store) == "0007"
        declared = {str(ix.name): [c.name for c in ix.columns] for ix in t.object_terms.indexes}
        assert _term_indexes(store) == declared == {
            "ix_object_terms_lookup": ["kind", "term", "collection_pk", "stix_id"]}
        alembic_step(store, "0006", down=True)
        assert _term_indexes(store) == {"ix_object_terms_term": ["kind", "term"]}
        obj = indicator()
        # Written under revision 0006, as its code wrote them (this code writes columns of later
        # revisions): the terms must be found after the upgrade.
        mine = _rows_of_0006(store, obj, [("pseudonym", PSEUDONYM), ("ref", "user-account--x")])
        alembic_step(store, "0007")
        assert _revision(store) == "0007"
        assert _term_indexes(store) == declared
        assert store.find_terms("pseudonym", [PSEUDONYM], [mine]) == [(mine, obj["id"], PSEUDONYM)]
        assert store.find_terms("ref", ["user-account--x"], [mine]) == [(mine, obj["id"], "user-account--x")]
        # Down and up again: the downgrade restores revision 0006's index, the terms stay.
        alembic_step(store, "0006", down=True)
        assert _term_indexes(store) == {"ix_object_terms_term": ["kind", "term"]}
        assert store.find_terms("pseudonym", [PSEUDONYM], [mine]) == [(mine, obj["id"], PSEUDONYM)]
        alembic_step(store, "0007")
        assert _revision(store) == "0007" and _term_indexes(store) == declared
        # The later revisions leave the index alone.
        assert store.migrate() == head_revision() and _term_indexes(store) == declared
